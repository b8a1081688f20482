/* insn.c - a QEMU TCG plugin that counts executed guest instructions and
 * tells the count to whoever asks, at any moment, on a unix socket.
 *
 *   qemu-system-x86_64 ... -plugin build/<b>/insn_plugin.so,sock=/tmp/x.sock
 *
 * Each connection to the socket gets one line, the running count in
 * decimal ("123456\n"), and is closed (tools/netbench_client.py reads it).
 *
 * Profiling (tools/netprofile.py): with profile=PATH as well, every
 * translation block's executed instructions are also summed per (address
 * space, block address) -- the address space being CR3, read for blocks
 * at user addresses (>= USER_BASE) only -- and a second socket at PATH
 * takes one command per connection: "reset\n" clears the table, "dump
 * FILE\n" writes it to FILE as "cr3 vaddr instructions" lines; both
 * answer "ok\n". Reading CR3 makes QEMU sync registers: slow, so only
 * for profiles.
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
/* For profiles: registers (QEMU's gdbstub view; x86_64 has "cr3") and
 * glib's GArray/GByteArray, whose public layout is two fields. */
enum { QEMU_PLUGIN_CB_R_REGS = 1 };
typedef struct { char *data; unsigned len; } GArray;
typedef struct { uint8_t *data; unsigned len; } GByteArray;
struct qemu_plugin_register;
typedef struct {
    struct qemu_plugin_register *handle;
    const char *name;
    const char *feature;
} qemu_plugin_reg_descriptor;
typedef void (*qemu_plugin_vcpu_simple_cb_t)(qemu_plugin_id_t id, unsigned int vcpu_index);
void qemu_plugin_register_vcpu_init_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_simple_cb_t cb);
GArray *qemu_plugin_get_registers(void);
int qemu_plugin_read_register(struct qemu_plugin_register *handle, GByteArray *buf);
uint64_t qemu_plugin_tb_vaddr(const struct qemu_plugin_tb *tb);
GByteArray *g_byte_array_new(void);
GByteArray *g_byte_array_set_size(GByteArray *array, unsigned length);

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

/* ---- profiles ---- */
#define USER_BASE 0x8000000000ull   /* Nagi's tasks are linked here; its kernel is below */
#define SLOTS (1u << 20)
struct slot { uint64_t cr3, vaddr, insns; };
static struct slot *table;
static int profiling;
static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static struct qemu_plugin_register *cr3_reg;
static GByteArray *cr3_buf;
struct tbinfo { uint64_t vaddr; uint64_t n; };

static void vcpu_init(qemu_plugin_id_t id, unsigned int vcpu)
{
    (void)id, (void)vcpu;
    GArray *regs = qemu_plugin_get_registers();
    qemu_plugin_reg_descriptor *d = (qemu_plugin_reg_descriptor *)regs->data;
    for (unsigned i = 0; i < regs->len; i++)
        if (strcmp(d[i].name, "cr3") == 0)
            cr3_reg = d[i].handle;
    if (!cr3_buf)
        cr3_buf = g_byte_array_new();
}

static void profile_add(uint64_t cr3, uint64_t vaddr, uint64_t n)
{
    uint64_t h = (vaddr * 0x9E3779B97F4A7C15ull) ^ (cr3 * 0xC2B2AE3D27D4EB4Full);
    pthread_mutex_lock(&table_lock);
    for (uint32_t i = (uint32_t)(h >> 40) & (SLOTS - 1), tries = 0; tries < SLOTS;
         i = (i + 1) & (SLOTS - 1), tries++) {
        struct slot *s = &table[i];
        if (s->insns == 0 || (s->cr3 == cr3 && s->vaddr == vaddr)) {
            s->cr3 = cr3, s->vaddr = vaddr, s->insns += n;
            break;
        }
    }
    pthread_mutex_unlock(&table_lock);
}

static void tb_exec_profile(unsigned int vcpu, void *p)
{
    struct tbinfo *t = p;
    uint64_t cr3 = 0;
    if (t->vaddr >= USER_BASE && cr3_reg) {
        g_byte_array_set_size(cr3_buf, 0);
        if (qemu_plugin_read_register(cr3_reg, cr3_buf) >= 8)
            memcpy(&cr3, cr3_buf->data, 8);
    }
    tb_exec(vcpu, (void *)(uintptr_t)t->n);
    profile_add(cr3, t->vaddr, t->n);
}

static void tb_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
    (void)id;
    size_t n = qemu_plugin_tb_n_insns(tb);
    if (profiling) {
        struct tbinfo *t = malloc(sizeof *t);
        t->vaddr = qemu_plugin_tb_vaddr(tb), t->n = n;
        qemu_plugin_register_vcpu_tb_exec_cb(tb, tb_exec_profile,
            t->vaddr >= USER_BASE ? QEMU_PLUGIN_CB_R_REGS : QEMU_PLUGIN_CB_NO_REGS, t);
        return;
    }
    qemu_plugin_register_vcpu_tb_exec_cb(tb, tb_exec, QEMU_PLUGIN_CB_NO_REGS, (void *)(uintptr_t)n);
}

/* ---- the sockets ---- */
static int listen_fd = -1, profile_fd = -1;

static void profile_command(int c)
{
    char cmd[512];
    size_t len = 0;
    while (len < sizeof cmd - 1) {
        ssize_t n = read(c, cmd + len, sizeof cmd - 1 - len);
        if (n <= 0)
            break;
        len += (size_t)n;
        if (memchr(cmd, '\n', len))
            break;
    }
    cmd[len] = 0;
    char *nl = strchr(cmd, '\n');
    if (nl)
        *nl = 0;
    const char *answer = "error\n";
    if (strcmp(cmd, "reset") == 0) {
        pthread_mutex_lock(&table_lock);
        memset(table, 0, SLOTS * sizeof *table);
        pthread_mutex_unlock(&table_lock);
        answer = "ok\n";
    } else if (strncmp(cmd, "dump ", 5) == 0) {
        FILE *f = fopen(cmd + 5, "w");
        if (f) {
            pthread_mutex_lock(&table_lock);
            for (uint32_t i = 0; i < SLOTS; i++)
                if (table[i].insns)
                    fprintf(f, "%llx %llx %llu\n", (unsigned long long)table[i].cr3,
                            (unsigned long long)table[i].vaddr,
                            (unsigned long long)table[i].insns);
            pthread_mutex_unlock(&table_lock);
            fclose(f);
            answer = "ok\n";
        }
    }
    (void)!write(c, answer, strlen(answer));
}

static void *serve_profile(void *arg)
{
    (void)arg;
    for (;;) {
        int c = accept(profile_fd, NULL, NULL);
        if (c < 0) {
            if (errno == EINTR)
                continue;
            return NULL;
        }
        profile_command(c);
        close(c);
    }
}

static int listen_unix(const char *path)
{
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof a.sun_path)
        return -1;
    strcpy(a.sun_path, path);
    unlink(path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(fd, 8) < 0)
        return -1;
    return fd;
}

static int start_thread(void *(*fn)(void *))
{
    /* The thread must not take QEMU's signals (SIGIO, SIG_IPI). */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pthread_t t;
    int err = pthread_create(&t, NULL, fn, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (!err)
        pthread_detach(t);
    return err;
}

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
    const char *path = NULL, *profile = NULL;
    for (int i = 0; i < argc; i++) {
        if (strncmp(argv[i], "sock=", 5) == 0)
            path = argv[i] + 5;
        else if (strncmp(argv[i], "profile=", 8) == 0)
            profile = argv[i] + 8;
    }
    if (!path) {
        qemu_plugin_outs("insn plugin: needs sock=PATH\n");
        return -1;
    }
    listen_fd = listen_unix(path);
    if (listen_fd < 0) {
        qemu_plugin_outs("insn plugin: cannot listen on sock=PATH\n");
        return -1;
    }
    if (start_thread(serve)) {
        qemu_plugin_outs("insn plugin: cannot start its thread\n");
        return -1;
    }
    if (profile) {
        table = calloc(SLOTS, sizeof *table);
        profile_fd = listen_unix(profile);
        if (!table || profile_fd < 0 || start_thread(serve_profile)) {
            qemu_plugin_outs("insn plugin: cannot set up profile=PATH\n");
            return -1;
        }
        profiling = 1;
        qemu_plugin_register_vcpu_init_cb(id, vcpu_init);
    }
    qemu_plugin_register_vcpu_tb_trans_cb(id, tb_trans);
    return 0;
}
