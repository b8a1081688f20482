/*
 * panic.c - the end of the line: print the cause, the registers and a
 * backtrace, then halt.
 */
#include <stdarg.h>
#include "task.h"

void vprintk(const char *fmt, va_list ap);

_Noreturn void panic(const char *fmt, ...) {
    static bool in_panic;
    va_list ap;

    if (in_panic)
        arch_halt();
    in_panic = true;
    printk("\nnagi: PANIC: ");
    va_start(ap, fmt);
    vprintk(fmt, ap);
    va_end(ap);
    printk("\n");
    if (current && current->tid)
        printk("current task: %d (%s)\n", current->tid, current->name);
    arch_dump_state();
    printk("nagi: system halted\n");
    arch_halt();
}
