/*
 * syscall.c - the system call table and the checks on user pointers.
 */
#include "channel.h"

/* Copy len bytes from user address uaddr of t, checking every page is a
 * mapped user page. 0 or -E_FAULT (nothing is trusted before the check). */
static long copy_from_user(struct task *t, void *dst, uintptr_t uaddr, size_t len) {
    uint8_t *out = dst;
    if (uaddr + len < uaddr)
        return -E_FAULT;
    while (len) {
        uintptr_t paddr;
        unsigned attrs;
        if (arch_vm_lookup(&t->vm, uaddr, &paddr, &attrs) < 0 || !(attrs & VM_USER))
            return -E_FAULT;
        size_t n = MIN(len, PAGE_SIZE - (uaddr & (PAGE_SIZE - 1)));
        memcpy(out, arch_phys_to_virt(paddr), n);
        out += n;
        uaddr += n;
        len -= n;
    }
    return 0;
}

/* At most 256 bytes, checked in full before any is printed; copied in
 * small pieces so that kernel stacks can stay small. DEBUG_WRITE_SCREEN:
 * to the screen only (the caller wrote them to the UART itself). */
__attribute__((noinline)) static long sys_debug_write(uintptr_t uaddr, size_t len,
                                                      unsigned long flags) {
    char buf[32];
    if (len > 256)
        return -E_TOOBIG;
    if (flags & ~(unsigned long)DEBUG_WRITE_SCREEN)
        return -E_INVAL;
    for (size_t off = 0; off < len; off += sizeof(buf))
        if (copy_from_user(current, buf, uaddr + off, MIN(sizeof(buf), len - off)) < 0)
            return -E_FAULT;
    for (size_t off = 0; off < len; off += sizeof(buf)) {
        size_t n = MIN(sizeof(buf), len - off);
        copy_from_user(current, buf, uaddr + off, n);
        for (size_t i = 0; i < n; i++) {
            if (flags)
                arch_screen_putc(buf[i]);
            else
                arch_console_putc(buf[i]);
        }
    }
    return (long)len;
}

long kernel_syscall(long a0, long a1, long a2, long a3 UNUSED,
                    long a4 UNUSED, long nr) {
    if (likely(nr == SYS_IPC))          /* the common case, ahead of the table */
        return sys_ipc(a0, a1);
    switch (nr) {
    case SYS_NOP:         return 0;
    case SYS_IPC:         return sys_ipc(a0, a1);
    case SYS_OPEN:        return channel_open(current);
    case SYS_CLOSE:       return channel_close(current, a0);
    case SYS_LINK:        return channel_link(current, a0, a1);
    case SYS_TRANSFER:    return channel_transfer(current, a0, a1);
    case SYS_NOTIFY:      return sys_notify(a0, (uint64_t)a1);
    case SYS_DEBUG_WRITE: return sys_debug_write((uintptr_t)a0, (size_t)a1, (unsigned long)a2);
    case SYS_CLOCK:       return (long)arch_cycles();
    default:              return -E_NOSYS;
    }
}
