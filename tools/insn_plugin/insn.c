/* insn.c - a QEMU TCG plugin that counts executed guest instructions and
 * tells the count to whoever asks, at any moment, on a unix socket.
 *
 *   qemu-system-x86_64 ... -plugin build/<b>/insn_plugin.so,sock=/tmp/x.sock
 *
 * Each connection to the socket gets one line, the running count in
 * decimal ("123456\n"), and is closed (tools/insn_count.py reads it).
 * Counting: at translation, every translation block gets an execution
 * callback whose user data is its number of instructions; the callback
 * adds it to one counter. Halted (hlt) time executes nothing, so it costs
 * nothing -- unlike the -icount virtual clock, which warps forward while
 * the guest idles.
 *
 * No Debian package ships QEMU's qemu-plugin.h (qemu-system-x86 exports the
 * qemu_plugin_* symbols but not the header), so the few declarations this
 * plugin needs are written here by hand from QEMU's documentation of the
 * plugin API ("TCG Plugins" in QEMU's manual). QEMU checks
 * qemu_plugin_version against the API version it implements and refuses
 * the plugin with a message when it does not match (QEMU 10.0: 4). */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* ---- the plugin API, declared by hand (see above) ---- */
#define PLUGIN_EXPORT __attribute__((visibility("default")))
typedef uint64_t qemu_plugin_id_t;
struct qemu_info;                 /* opaque here: only passed through */
struct qemu_plugin_tb;            /* opaque */
enum qemu_plugin_cb_flags { QEMU_PLUGIN_CB_NO_REGS = 0 };
typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb);
typedef void (*qemu_plugin_vcpu_udata_cb_t)(unsigned int vcpu_index, void *userdata);
void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_tb_trans_cb_t cb);
void qemu_plugin_register_vcpu_tb_exec_cb(struct qemu_plugin_tb *tb, qemu_plugin_vcpu_udata_cb_t cb,
                                          enum qemu_plugin_cb_flags flags, void *userdata);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
void qemu_plugin_outs(const char *string);

#ifndef INSN_PLUGIN_API_VERSION
#define INSN_PLUGIN_API_VERSION 4
#endif
PLUGIN_EXPORT int qemu_plugin_version = INSN_PLUGIN_API_VERSION;

/* ---- counting ---- */
static uint64_t count;            /* guest instructions executed, all vCPUs */

static void tb_exec(unsigned int vcpu, void *n)
{
    (void)vcpu;
    __atomic_fetch_add(&count, (uint64_t)(uintptr_t)n, __ATOMIC_RELAXED);
}

static void tb_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
    (void)id;
    qemu_plugin_register_vcpu_tb_exec_cb(tb, tb_exec, QEMU_PLUGIN_CB_NO_REGS,
                                         (void *)(uintptr_t)qemu_plugin_tb_n_insns(tb));
}

/* ---- the reader's socket ---- */
static int listen_fd = -1;

static void *serve(void *arg)
{
    (void)arg;
    for (;;) {
        int c = accept(listen_fd, NULL, NULL);
        if (c < 0) {
            if (errno == EINTR)
                continue;
            return NULL;
        }
        char line[32];
        int n = snprintf(line, sizeof line, "%llu\n",
                         (unsigned long long)__atomic_load_n(&count, __ATOMIC_RELAXED));
        (void)!write(c, line, (size_t)n);
        close(c);
    }
}

PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const struct qemu_info *info,
                                      int argc, char **argv)
{
    (void)info;
    const char *path = NULL;
    for (int i = 0; i < argc; i++)
        if (strncmp(argv[i], "sock=", 5) == 0)
            path = argv[i] + 5;
    if (!path) {
        qemu_plugin_outs("insn plugin: needs sock=PATH\n");
        return -1;
    }
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof a.sun_path) {
        qemu_plugin_outs("insn plugin: socket path too long\n");
        return -1;
    }
    strcpy(a.sun_path, path);
    unlink(path);
    listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (listen_fd < 0 || bind(listen_fd, (struct sockaddr *)&a, sizeof a) < 0 ||
        listen(listen_fd, 8) < 0) {
        qemu_plugin_outs("insn plugin: cannot listen on the socket\n");
        return -1;
    }
    /* The thread must not take QEMU's signals (SIGIO, SIG_IPI). */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pthread_t t;
    int err = pthread_create(&t, NULL, serve, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (err) {
        qemu_plugin_outs("insn plugin: cannot start its thread\n");
        return -1;
    }
    pthread_detach(t);
    qemu_plugin_register_vcpu_tb_trans_cb(id, tb_trans);
    return 0;
}
