/*
 * kernel.h - what every kernel file needs: the arch contract, the ABI,
 * the configuration, printk/panic and a few helpers.
 */
#ifndef NAGI_KERNEL_H
#define NAGI_KERNEL_H

#include <arch.h>
#include "abi.h"          /* generated from kernel/abi.toml (tools/abigen.py) */

#define NULL_TID 0
#define PAGE_SIZE ARCH_PAGE_SIZE
#define ALIGN_DOWN(x, a) ((x) & ~((uintptr_t)(a) - 1))
#define ALIGN_UP(x, a) (((x) + (uintptr_t)(a) - 1) & ~((uintptr_t)(a) - 1))
#define IS_ALIGNED(x, a) (((x) & ((uintptr_t)(a) - 1)) == 0)
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define UNUSED __attribute__((unused))
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

/* lib.c */
void *memcpy(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strnlen(const char *s, size_t max);
void strlcpy_k(char *dst, const char *src, size_t size);
void printk(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* panic.c */
_Noreturn void panic(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
#define ASSERT(c) do { if (unlikely(!(c))) panic("assertion failed: %s (%s:%d)", #c, __FILE__, __LINE__); } while (0)

/* page.c: physical pages */
void page_add_range(uintptr_t base, size_t len);
uintptr_t page_alloc(void);           /* zeroed; 0 when none left */
void page_free(uintptr_t paddr);
size_t page_free_count(void);
size_t page_total_count(void);
bool page_is_ram(uintptr_t base, size_t len);   /* overlaps memory given to page_add_range */

/* timer.c */
extern volatile uint64_t ticks;
uint64_t uptime_ms(void);

#endif
