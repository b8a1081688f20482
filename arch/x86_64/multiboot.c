/*
 * multiboot.c (x86_64) - the multiboot v1 and Multiboot2 information
 * parsers (bootinfo.h). Pure: the kernel (boot.c) and the host unit tests
 * compile this file.
 *
 * Multiboot2 information (Multiboot2 spec 3.6), tags 8-byte aligned:
 *
 *   +0 total_size u32 | +4 reserved u32 | tag | tag | ... | end tag (0, 8)
 *   a tag:  +0 type u32 | +4 size u32 (header included, padding not) | data
 *
 * multiboot v1 (spec 3.3): a fixed structure whose flags say which fields
 * are valid; the memory map is elsewhere, entries led by their own size.
 */
#include "bootinfo.h"

#define PAGE 4096ull

#define MB1_INFO_SIZE     116        /* up to the framebuffer colour info */
#define MB1_F_MEMORY      (1u << 0)  /* mem_lower, mem_upper */
#define MB1_F_CMDLINE     (1u << 2)  /* cmdline */
#define MB1_F_MMAP        (1u << 6)  /* mmap_length, mmap_addr */
#define MB1_F_FRAMEBUFFER (1u << 12) /* framebuffer_* */
#define MB1_MMAP_ENTRY    20         /* base, len, type (after the size) */
#define MB_MMAP_RAM       1          /* usable RAM, in both versions */
#define MB_UPPER_BASE     0x100000ull   /* mem_upper counts KiB from 1 MiB */

#define MB2_TAG_END       0
#define MB2_TAG_CMDLINE   1
#define MB2_TAG_MEMINFO   4
#define MB2_TAG_MMAP      6
#define MB2_TAG_FB        8
#define MB2_TAG_ACPI_OLD  14
#define MB2_TAG_ACPI_NEW  15
#define MB2_MMAP_ENTRY    24         /* base u64, len u64, type u32, reserved */
#define MB2_FB_COMMON     31         /* tag header + addr .. type (+1 reserved) */
#define MB2_FB_RGB        38         /* + the six colour bytes */

static uint32_t rd32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static uint64_t rd64(const uint8_t *p) {
    return rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

static int problem(struct boot_info *bi, const char *what) {
    if (!bi->problem)
        bi->problem = what;
    return -1;
}

void boot_add_ram(struct boot_info *bi, uint64_t base, uint64_t len) {
    uint64_t end = base + len;

    if (end < base)                         /* wraps: up to the top */
        end = ~0ull;
    if (base < bi->ram_floor)
        base = bi->ram_floor;
    if (end > bi->ram_ceiling)
        end = bi->ram_ceiling;
    base = (base + PAGE - 1) & ~(PAGE - 1);
    end &= ~(PAGE - 1);
    if (base >= end)
        return;
    /* Swallow every range this one overlaps or touches. */
    for (unsigned i = 0; i < bi->nram;) {
        struct boot_range *r = &bi->ram[i];
        if (r->base <= end && base <= r->base + r->len) {
            if (r->base < base)
                base = r->base;
            if (r->base + r->len > end)
                end = r->base + r->len;
            bi->ram[i] = bi->ram[--bi->nram];
            continue;
        }
        i++;
    }
    if (bi->nram == BOOT_RAM_MAX) {
        problem(bi, "more RAM ranges than the kernel keeps: some ignored");
        return;
    }
    unsigned at = bi->nram++;
    while (at > 0 && bi->ram[at - 1].base > base) {
        bi->ram[at] = bi->ram[at - 1];
        at--;
    }
    bi->ram[at].base = base;
    bi->ram[at].len = end - base;
}

/* Keep up to n bytes of a command line (stops at a NUL). */
static void keep_cmdline(struct boot_info *bi, const uint8_t *p, size_t n) {
    size_t i = 0;
    for (; i < n && i + 1 < BOOT_CMDLINE_MAX && p[i]; i++)
        bi->cmdline[i] = (char)p[i];
    bi->cmdline[i] = '\0';
}

bool boot_cmdline_has(const struct boot_info *bi, const char *word) {
    const char *c = bi->cmdline;
    size_t n = 0;
    while (word[n])
        n++;
    while (*c) {
        while (*c == ' ')
            c++;
        size_t len = 0;
        while (c[len] && c[len] != ' ')
            len++;
        bool same = len == n;
        for (size_t i = 0; same && i < n; i++)
            same = c[i] == word[i];
        if (same && n)
            return true;
        c += len;
    }
    return false;
}

/* The framebuffer description shared by both versions: p points at addr
 * (u64), then pitch, width, height (u32), bpp, type (u8); for FB_RGB the
 * six colour position/size bytes are at p + rgb_at (v1: 22; Multiboot2:
 * 24, after a reserved u16), when has_rgb says they were given. */
static void read_fb(struct boot_info *bi, const uint8_t *p, unsigned rgb_at,
                    bool has_rgb) {
    struct boot_fb fb = {
        .addr = rd64(p), .pitch = rd32(p + 8), .width = rd32(p + 12),
        .height = rd32(p + 16), .bpp = p[20], .kind = p[21],
    };
    if (fb.kind == FB_RGB) {
        if (!has_rgb) {
            problem(bi, "framebuffer description too short");
            return;
        }
        const uint8_t *c = p + rgb_at;
        fb.red_pos = c[0], fb.red_size = c[1];
        fb.green_pos = c[2], fb.green_size = c[3];
        fb.blue_pos = c[4], fb.blue_size = c[5];
    } else if (fb.kind != FB_EGA_TEXT) {
        problem(bi, "indexed-colour framebuffer not supported");
        return;
    }
    if (fb.width == 0 || fb.height == 0 || fb.pitch == 0) {
        problem(bi, "framebuffer of size zero");
        return;
    }
    bi->fb = fb;
}

int mb1_parse(struct boot_info *bi, uint32_t info_addr, boot_phys_fn phys) {
    const uint8_t *info = phys(info_addr, MB1_INFO_SIZE);

    bi->loader = 1;
    if (!info)
        return problem(bi, "multiboot information out of reach");
    uint32_t flags = rd32(info);
    if (flags & MB1_F_CMDLINE) {
        const uint8_t *cmd = phys(rd32(info + 16), BOOT_CMDLINE_MAX);
        if (cmd)
            keep_cmdline(bi, cmd, BOOT_CMDLINE_MAX);
    }
    if (flags & MB1_F_MMAP) {
        uint32_t len = rd32(info + 44), addr = rd32(info + 48);
        const uint8_t *map = phys(addr, len);
        if (!map)
            return problem(bi, "multiboot memory map out of reach");
        bi->ram_from_map = true;
        for (uint32_t off = 0; off < len;) {
            if (len - off < 4 + MB1_MMAP_ENTRY)
                return problem(bi, "multiboot memory map entry cut short");
            uint32_t size = rd32(map + off);
            if (size < MB1_MMAP_ENTRY || size > len - off - 4)
                return problem(bi, "multiboot memory map entry of a bad size");
            if (rd32(map + off + 20) == MB_MMAP_RAM)
                boot_add_ram(bi, rd64(map + off + 4), rd64(map + off + 12));
            off += 4 + size;                /* size excludes itself */
        }
    } else if (flags & MB1_F_MEMORY) {
        boot_add_ram(bi, MB_UPPER_BASE, (uint64_t)rd32(info + 8) * 1024);
    } else {
        problem(bi, "multiboot information has no memory size");
    }
    if (flags & MB1_F_FRAMEBUFFER)
        read_fb(bi, info + 88, 22, true);
    return bi->problem ? -1 : 0;
}

/* Tag 6: entry_size, entry_version, then entries of entry_size bytes. */
static int mb2_mmap(struct boot_info *bi, const uint8_t *tag, uint32_t size) {
    if (size < 16)
        return problem(bi, "Multiboot2 memory map tag too short");
    uint32_t esize = rd32(tag + 8);
    if (esize < MB2_MMAP_ENTRY)
        return problem(bi, "Multiboot2 memory map entries of a bad size");
    bi->ram_from_map = true;
    for (uint32_t off = 16; size - off >= esize; off += esize)
        if (rd32(tag + off + 16) == MB_MMAP_RAM)
            boot_add_ram(bi, rd64(tag + off), rd64(tag + off + 8));
    return 0;
}

int mb2_parse(struct boot_info *bi, const uint8_t *info, size_t avail) {
    bi->loader = 2;
    if (!info || avail < 8)
        return problem(bi, "Multiboot2 information out of reach");
    size_t total = rd32(info);
    if (total < 8)
        return problem(bi, "Multiboot2 information of a bad size");
    if (total > avail) {
        problem(bi, "Multiboot2 information larger than readable: cut");
        total = avail;
    }
    bool meminfo = false, ended = false;
    uint64_t upper_kib = 0;
    for (size_t off = 8; off + 8 <= total;) {
        const uint8_t *tag = info + off;
        uint32_t type = rd32(tag), size = rd32(tag + 4);
        if (size < 8 || size > total - off) {
            problem(bi, "Multiboot2 tag runs past the end: walk stopped");
            break;
        }
        if (type == MB2_TAG_END) {
            ended = true;
            break;
        }
        switch (type) {
        case MB2_TAG_CMDLINE:
            keep_cmdline(bi, tag + 8, size - 8);
            break;
        case MB2_TAG_MEMINFO:
            if (size >= 16) {
                meminfo = true;
                upper_kib = rd32(tag + 12);
            }
            break;
        case MB2_TAG_MMAP:
            mb2_mmap(bi, tag, size);
            break;
        case MB2_TAG_FB:
            if (size < MB2_FB_COMMON)
                problem(bi, "Multiboot2 framebuffer tag too short");
            else
                read_fb(bi, tag + 8, 24, size >= MB2_FB_RGB);
            break;
        case MB2_TAG_ACPI_OLD:
        case MB2_TAG_ACPI_NEW: {
            size_t n = size - 8 < BOOT_RSDP_MAX ? size - 8 : BOOT_RSDP_MAX;
            if (type == MB2_TAG_ACPI_OLD && bi->rsdp_len)
                break;                      /* the new one wins */
            for (size_t i = 0; i < n; i++)
                bi->rsdp[i] = tag[8 + i];
            bi->rsdp_len = (unsigned)n;
            break;
        }
        default:
            break;
        }
        off += ((size_t)size + 7) & ~(size_t)7;
    }
    if (!ended)
        problem(bi, "Multiboot2 information has no end tag");
    if (!bi->ram_from_map && meminfo)
        boot_add_ram(bi, MB_UPPER_BASE, upper_kib * 1024);
    if (!bi->ram_from_map && !meminfo)
        problem(bi, "Multiboot2 information has no memory map");
    return bi->problem ? -1 : 0;
}
