/*
 * test_regions.c - the arm-m address-space model (arch/arm-m/regions.c)
 * on the host: which regions a task may get, their MPU encoding (RBAR,
 * RASR as the ARMv7-M ARM B3.5 defines them), device grants, and which
 * addresses count as user memory for the kernel's copies.
 */
#include <string.h>
#include "armv7m.h"
#include "test.h"

struct arch_vm *arm_mpu_loaded;

#define FLASH_T 0x08008000u
#define RAM_T   0x20004000u

static uint32_t rasr(struct arch_vm *vm, int i) { return vm->r[i].rasr; }
static uint32_t rbar(struct arch_vm *vm, int i) { return vm->r[i].rbar; }

TEST(regions_empty_space_has_every_region_disabled) {
    struct arch_vm vm;
    memset(&vm, 0xff, sizeof(vm));
    CHECK_EQ(arch_vm_init(&vm), 0);
    for (int i = 0; i < ARM_TASK_REGIONS; i++) {
        CHECK_EQ(rasr(&vm, i), 0);
        CHECK_EQ(rbar(&vm, i), (1u << 4) | (unsigned)i);   /* VALID | REGION */
    }
}

TEST(regions_flash_and_ram_encoding) {
    struct arch_vm vm;
    arch_vm_init(&vm);
    CHECK_EQ(arch_vm_add_region(&vm, FLASH_T, 0x8000, VM_EXEC), 0);
    CHECK_EQ(arch_vm_add_region(&vm, RAM_T, 0x4000, VM_WRITE | VM_KSTACK_LOW), 0);
    CHECK_EQ(rbar(&vm, 0), FLASH_T | 0x10 | 0);
    /* AP=110 read-only, C, SIZE=log2(32K)-1=14, enabled, executable */
    CHECK_EQ(rasr(&vm, 0), (6u << 24) | (1u << 17) | (14u << 1) | 1u);
    CHECK_EQ(rbar(&vm, 1), RAM_T | 0x10 | 1);
    /* XN, AP=011, S C B, SRD bit 0, SIZE=13 */
    CHECK_EQ(rasr(&vm, 1), (1u << 28) | (3u << 24) | (7u << 16) | (1u << 8) | (13u << 1) | 1u);
    uint32_t b, s;
    CHECK(arm_vm_ram(&vm, &b, &s));
    CHECK_EQ(b, RAM_T);
    CHECK_EQ(s, 0x4000);
}

TEST(regions_refuses_what_the_mpu_cannot_express_or_the_kernel_owns) {
    struct arch_vm vm;
    arch_vm_init(&vm);
    CHECK_EQ(arch_vm_add_region(&vm, FLASH_T, 0x3000, VM_EXEC), -E_INVAL);     /* not 2^n */
    CHECK_EQ(arch_vm_add_region(&vm, FLASH_T + 0x1000, 0x8000, VM_EXEC), -E_INVAL); /* misaligned */
    CHECK_EQ(arch_vm_add_region(&vm, FLASH_T, 16, VM_EXEC), -E_INVAL);         /* < 32 */
    CHECK_EQ(arch_vm_add_region(&vm, 0x08000000, 0x4000, VM_EXEC), -E_INVAL);  /* kernel flash */
    CHECK_EQ(arch_vm_add_region(&vm, 0x080f0000, 0x20000, VM_EXEC), -E_INVAL); /* past flash */
    CHECK_EQ(arch_vm_add_region(&vm, FLASH_T, 0x8000, VM_EXEC | VM_WRITE), -E_INVAL);
    CHECK_EQ(arch_vm_add_region(&vm, 0x20000000, 0x1000, VM_WRITE), -E_INVAL); /* kernel RAM */
    CHECK_EQ(arch_vm_add_region(&vm, 0x20010000, 0x10000, VM_WRITE), -E_INVAL); /* past RAM */
    CHECK_EQ(arch_vm_add_region(&vm, RAM_T, 128, VM_WRITE | VM_KSTACK_LOW), -E_INVAL);
    CHECK_EQ(arch_vm_add_region(&vm, FLASH_T, 0x1000, VM_WRITE), -E_INVAL);    /* flash as RAM */
    for (int i = 0; i < ARM_TASK_REGIONS; i++)
        CHECK_EQ(rasr(&vm, i), 0);
    CHECK_EQ(arch_vm_add_region(&vm, RAM_T, 0x4000, VM_WRITE), 0);
    CHECK_EQ(arch_vm_add_region(&vm, RAM_T + 0x4000, 0x4000, VM_WRITE), -E_NOMEM); /* one RAM region */
}

TEST(regions_device_grants) {
    struct arch_vm vm;
    arch_vm_init(&vm);
    CHECK_EQ(arch_mmio_grant(&vm, 0x48000000, 0x1000), 0);
    CHECK_EQ(rbar(&vm, 2), 0x48000000u | 0x10 | 2);
    /* XN, AP=011, S B (shareable device), SIZE=11 */
    CHECK_EQ(rasr(&vm, 2), (1u << 28) | (3u << 24) | (1u << 18) | (1u << 16) | (11u << 1) | 1u);
    CHECK_EQ(arch_mmio_grant(&vm, 0x48000000, 0x1000), 0);        /* again: no new slot */
    CHECK_EQ(rasr(&vm, 3), 0);
    CHECK_EQ(arch_mmio_grant(&vm, 0x40010000, 0x800), 0);
    CHECK_EQ(arch_mmio_grant(&vm, 0x40021000, 0x400), 0);
    CHECK_EQ(arch_mmio_grant(&vm, 0x40013800, 0x400), -E_NOMEM);   /* three per task */
    CHECK_EQ(arch_mmio_grant(&vm, 0x20000000, 0x400), -E_PERM);    /* RAM is not a device */
    CHECK_EQ(arch_mmio_grant(&vm, 0xe000e000, 0x1000), -E_PERM);   /* the PPB stays the kernel's */
    CHECK_EQ(arch_mmio_grant(&vm, 0x5ffff000, 0x2000), -E_INVAL);  /* misaligned */
    CHECK_EQ(arch_mmio_grant(&vm, 0x40000000, 0x30000000), -E_INVAL);
    CHECK_EQ(arch_mmio_grant(&vm, 0x40000000, 0x40000000), -E_PERM); /* runs past 0x6000_0000 */
}

TEST(regions_user_memory_for_the_kernel) {
    struct arch_vm vm;
    uintptr_t pa;
    unsigned attrs;
    arch_vm_init(&vm);
    arch_vm_add_region(&vm, FLASH_T, 0x8000, VM_EXEC);
    arch_vm_add_region(&vm, RAM_T, 0x4000, VM_WRITE | VM_KSTACK_LOW);
    arch_mmio_grant(&vm, 0x48000000, 0x1000);
    CHECK_EQ(arch_vm_lookup(&vm, RAM_T + 0x800, &pa, &attrs), 0);      /* first user byte */
    CHECK_EQ(pa, RAM_T + 0x800);
    CHECK_EQ(attrs, VM_USER | VM_WRITE);
    CHECK_EQ(arch_vm_lookup(&vm, RAM_T + 0x3fff, &pa, &attrs), 0);
    CHECK_EQ(arch_vm_lookup(&vm, RAM_T, &pa, &attrs), -E_FAULT);       /* kernel stack */
    CHECK_EQ(arch_vm_lookup(&vm, RAM_T + 0x7ff, &pa, &attrs), -E_FAULT);
    CHECK_EQ(arch_vm_lookup(&vm, RAM_T + 0x4000, &pa, &attrs), -E_FAULT); /* past the region */
    CHECK_EQ(arch_vm_lookup(&vm, FLASH_T + 4, &pa, &attrs), 0);
    CHECK_EQ(attrs, VM_USER | VM_EXEC);
    CHECK_EQ(arch_vm_lookup(&vm, 0x48000000, &pa, &attrs), -E_FAULT);  /* devices: never */
    CHECK_EQ(arch_vm_lookup(&vm, 0x20000000, &pa, &attrs), -E_FAULT);  /* the kernel's */
    CHECK_EQ(arch_vm_map(&vm, RAM_T, RAM_T, VM_WRITE), -E_NOTSUP);
    arch_vm_destroy(&vm, NULL);
    CHECK_EQ(arch_vm_lookup(&vm, RAM_T + 0x800, &pa, &attrs), -E_FAULT);
}

TEST(regions_changing_the_loaded_space_forces_a_reload) {
    struct arch_vm vm;
    arch_vm_init(&vm);
    arm_mpu_loaded = &vm;
    arch_mmio_grant(&vm, 0x48000000, 0x1000);
    CHECK(arm_mpu_loaded == NULL);
    arm_mpu_loaded = &vm;
    arch_vm_destroy(&vm, NULL);
    CHECK(arm_mpu_loaded == NULL);
}
