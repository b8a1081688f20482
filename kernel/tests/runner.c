/*
 * runner.c - runs every registered test in a forked child (fresh kernel
 * globals each time, a 10 s alarm against hangs) and prints one line per
 * test, then "N passed, M failed" as the last line. Exit status 1 if any
 * test failed. Arguments: substrings; only tests whose name contains one
 * of them run.
 */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "test.h"

#define MAX_TESTS 512

static struct { const char *name, *file; void (*fn)(void); } tests[MAX_TESTS];
static int ntests;
static int failures;        /* in the child: failed checks of this test */
static const char *running;

void test_register(const char *name, const char *file, void (*fn)(void)) {
    if (ntests == MAX_TESTS) {
        fprintf(stderr, "too many tests (raise MAX_TESTS)\n");
        exit(2);
    }
    tests[ntests].name = name;
    tests[ntests].file = file;
    tests[ntests].fn = fn;
    ntests++;
}

void test_fail(const char *file, int line, const char *fmt, ...) {
    va_list ap;
    printf("  %s:%d: %s: ", file, line, running);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    fflush(stdout);
    failures++;
}

_Noreturn void test_abort(void) {
    fflush(stdout);
    _exit(1);
}

static int selected(const char *name, int argc, char **argv) {
    if (argc < 2)
        return 1;
    for (int i = 1; i < argc; i++)
        if (strstr(name, argv[i]))
            return 1;
    return 0;
}

static int run_one(int i) {
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        exit(2);
    }
    if (pid == 0) {
        alarm(10);
        running = tests[i].name;
        tests[i].fn();
        fflush(stdout);
        _exit(failures ? 1 : 0);
    }
    int status;
    if (waitpid(pid, &status, 0) < 0) {
        perror("waitpid");
        exit(2);
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        printf("ok    %s\n", tests[i].name);
        return 1;
    }
    if (WIFSIGNALED(status))
        printf("FAIL  %s (%s: killed by signal %d%s)\n", tests[i].name,
               tests[i].file, WTERMSIG(status),
               WTERMSIG(status) == SIGALRM ? ", timeout" : "");
    else
        printf("FAIL  %s (%s)\n", tests[i].name, tests[i].file);
    return 0;
}

int main(int argc, char **argv) {
    int passed = 0, failed = 0;
    setvbuf(stdout, NULL, _IOLBF, 0);
    for (int i = 0; i < ntests; i++) {
        if (!selected(tests[i].name, argc, argv))
            continue;
        if (run_one(i))
            passed++;
        else
            failed++;
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
