/*
 * bootinfo.h (x86_64) - what the boot loader told the kernel, copied out
 * of its information structure (multiboot v1 or Multiboot2) before any
 * memory is handed out, and the pure parsers that do it (multiboot.c).
 * Pure: no hardware access, so the host unit tests run the same code
 * (arch/x86_64/tests/test_multiboot.c). Everything in the loader's
 * structure is treated as hostile: sizes are checked before they are
 * followed, and a problem ends the walk with bi->problem set.
 */
#ifndef NAGI_X86_64_BOOTINFO_H
#define NAGI_X86_64_BOOTINFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MB1_BOOT_MAGIC 0x2badb002u   /* eax from a multiboot (v1) loader */
#define MB2_BOOT_MAGIC 0x36d76289u   /* eax from a Multiboot2 loader */

#define BOOT_RAM_MAX   32            /* RAM ranges kept (merged, sorted) */
#define BOOT_RSDP_MAX  36            /* an ACPI 2.0 RSDP */
#define MB2_INFO_MAX   (1u << 20)    /* larger Multiboot2 info is refused */
#define BOOT_CMDLINE_MAX 128         /* kept of the command line, NUL included */

/* struct boot_fb.kind: the multiboot framebuffer types */
#define FB_NONE      0               /* no framebuffer told (or indexed colour) */
#define FB_RGB       1               /* linear, direct colour */
#define FB_EGA_TEXT  2               /* text mode: width x height characters */

struct boot_fb {
    uint64_t addr;                   /* physical address */
    uint32_t pitch;                  /* bytes per line (pixels or characters) */
    uint32_t width, height;          /* pixels (FB_RGB) or characters */
    uint8_t bpp, kind;
    uint8_t red_pos, red_size, green_pos, green_size, blue_pos, blue_size;
};

struct boot_range {
    uint64_t base, len;
};

struct boot_info {
    /* set by the caller before parsing: RAM outside [ram_floor,
     * ram_ceiling) is dropped (the kernel image, the low MiB; what the
     * kernel does not map) */
    uint64_t ram_floor, ram_ceiling;
    /* results */
    unsigned loader;                 /* 1: multiboot, 2: Multiboot2 */
    struct boot_range ram[BOOT_RAM_MAX];   /* sorted, disjoint, page-aligned */
    unsigned nram;
    bool ram_from_map;               /* from a memory map (not mem_upper) */
    struct boot_fb fb;
    uint8_t rsdp[BOOT_RSDP_MAX];     /* the loader's copy of the ACPI RSDP */
    unsigned rsdp_len;               /* 0: none given */
    char cmdline[BOOT_CMDLINE_MAX];  /* the kernel's command line (cut) */
    const char *problem;             /* the first thing found wrong, or NULL */
};

/* Reads len bytes of physical memory at paddr: a pointer, or NULL when
 * the range cannot be reached (the kernel: beyond its identity map). */
typedef const void *(*boot_phys_fn)(uint64_t paddr, size_t len);

/* Add one RAM range: clipped to [ram_floor, ram_ceiling), shrunk to whole
 * pages, merged with the ranges it overlaps or touches. */
void boot_add_ram(struct boot_info *bi, uint64_t base, uint64_t len);

/* Whether the command line holds word (a whole space-separated word). */
bool boot_cmdline_has(const struct boot_info *bi, const char *word);

/* Parse a multiboot v1 information structure at info_addr (memory map or
 * mem_upper, the framebuffer fields, the command line). 0, or -1 with bi->problem set (what
 * was parsed before the problem is kept). */
int mb1_parse(struct boot_info *bi, uint32_t info_addr, boot_phys_fn phys);

/* Parse a Multiboot2 information structure: avail bytes are readable at
 * info (its total_size beyond that is a problem; the walk stays inside).
 * Tags: 1 command line, 4 basic memory, 6 memory map, 8 framebuffer,
 * 14/15 ACPI RSDP. */
int mb2_parse(struct boot_info *bi, const uint8_t *info, size_t avail);

#endif
