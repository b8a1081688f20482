/*
 * regions.c (arm-m) - address spaces as MPU regions. The kernel runs with
 * the privileged default map; a task sees only its regions: 0 its flash
 * (read-only, executable), 1 its RAM (read-write, never executable, the
 * lowest eighth - its kernel stack - disabled), 2.. device registers
 * granted by KS_MMIO (device memory, never executable). Pure bookkeeping
 * (mpu.c loads the result), so it is unit-tested on the host
 * (arch/arm-m/tests/test_regions.c).
 */
#include "armv7m.h"

#define REGION_FLASH 0
#define REGION_RAM   1
#define REGION_MMIO  2

#define USER_FLASH_BASE (CONFIG_FLASH_BASE + CONFIG_KERNEL_FLASH_SIZE)
#define USER_FLASH_END  (CONFIG_FLASH_BASE + CONFIG_FLASH_SIZE)
#define USER_RAM_BASE   (CONFIG_RAM_BASE + CONFIG_KERNEL_RAM_SIZE)
#define USER_RAM_END    (CONFIG_RAM_BASE + CONFIG_RAM_SIZE)
#define DEVICE_BASE     0x40000000u
#define DEVICE_END      0x60000000u

static void clear(struct arch_vm *vm) {
    for (unsigned i = 0; i < ARM_TASK_REGIONS; i++) {
        vm->r[i].rbar = RBAR_VALID | i;
        vm->r[i].rasr = 0;
    }
    if (arm_mpu_loaded == vm)
        arm_mpu_loaded = NULL;
}

int arch_vm_init(struct arch_vm *vm) {
    clear(vm);
    return 0;
}

void arch_vm_destroy(struct arch_vm *vm, void (*free_page)(uintptr_t) UNUSED) {
    clear(vm);
}

static bool shape_ok(uint32_t base, uint32_t size) {
    return size >= MPU_MIN_REGION && (size & (size - 1)) == 0 &&
           (base & (size - 1)) == 0;
}

static bool within(uint32_t base, uint32_t size, uint32_t lo, uint32_t hi) {
    return base >= lo && base < hi && size <= hi - base;
}

static uint32_t size_field(uint32_t size) {
    return (uint32_t)(31 - __builtin_clz(size) - 1) << RASR_SIZE_SHIFT;
}

static void set(struct arch_vm *vm, unsigned i, uint32_t base, uint32_t rasr) {
    vm->r[i].rbar = base | RBAR_VALID | i;
    vm->r[i].rasr = rasr;
    if (arm_mpu_loaded == vm)
        arm_mpu_loaded = NULL;       /* reload on the way to user mode */
}

int arch_vm_add_region(struct arch_vm *vm, uintptr_t base, size_t size,
                       unsigned attrs) {
    if (!shape_ok(base, size))
        return -E_INVAL;
    if (attrs & VM_EXEC) {
        if ((attrs & VM_WRITE) || !within(base, size, USER_FLASH_BASE, USER_FLASH_END))
            return -E_INVAL;
        if (vm->r[REGION_FLASH].rasr)
            return -E_NOMEM;
        set(vm, REGION_FLASH, base, RASR_AP_RO | RASR_C | size_field(size) | RASR_ENABLE);
        return 0;
    }
    if (!within(base, size, USER_RAM_BASE, USER_RAM_END) ||
        ((attrs & VM_KSTACK_LOW) && size < MPU_MIN_SRD_REGION))
        return -E_INVAL;
    if (vm->r[REGION_RAM].rasr)
        return -E_NOMEM;
    set(vm, REGION_RAM, base, RASR_XN | RASR_AP_RW | RASR_S | RASR_C | RASR_B |
        ((attrs & VM_KSTACK_LOW) ? RASR_SRD0 : 0) | size_field(size) | RASR_ENABLE);
    return 0;
}

int arch_mmio_grant(struct arch_vm *vm, uintptr_t base, size_t size) {
    if (!shape_ok(base, size))
        return -E_INVAL;
    if (!within(base, size, DEVICE_BASE, DEVICE_END))
        return -E_PERM;
    uint32_t rasr = RASR_XN | RASR_AP_RW | RASR_S | RASR_B | size_field(size) | RASR_ENABLE;
    for (unsigned i = REGION_MMIO; i < ARM_TASK_REGIONS; i++)
        if (vm->r[i].rasr == rasr && (vm->r[i].rbar & RBAR_ADDR) == base)
            return 0;                /* granted already */
    for (unsigned i = REGION_MMIO; i < ARM_TASK_REGIONS; i++) {
        if (!vm->r[i].rasr) {
            set(vm, i, base, rasr);
            return 0;
        }
    }
    return -E_NOMEM;
}

static bool region(struct arch_vm *vm, unsigned i, uint32_t *base, uint32_t *size) {
    if (!(vm->r[i].rasr & RASR_ENABLE))
        return false;
    *base = vm->r[i].rbar & RBAR_ADDR;
    *size = 2u << ((vm->r[i].rasr >> RASR_SIZE_SHIFT) & RASR_SIZE_MASK);
    return true;
}

bool arm_vm_ram(struct arch_vm *vm, uint32_t *base, uint32_t *size) {
    return region(vm, REGION_RAM, base, size);
}

/* User memory the kernel may copy from or to: the flash region (read) and
 * the RAM region but its kernel stack; never device registers. */
int arch_vm_lookup(struct arch_vm *vm, uintptr_t vaddr, uintptr_t *paddr,
                   unsigned *attrs) {
    uint32_t b, s;
    if (region(vm, REGION_RAM, &b, &s) && vaddr >= b + s / 8 && vaddr - b < s) {
        *paddr = vaddr;
        *attrs = VM_USER | VM_WRITE;
        return 0;
    }
    if (region(vm, REGION_FLASH, &b, &s) && vaddr >= b && vaddr - b < s) {
        *paddr = vaddr;
        *attrs = VM_USER | VM_EXEC;
        return 0;
    }
    return -E_FAULT;
}

int arch_vm_map(struct arch_vm *vm UNUSED, uintptr_t vaddr UNUSED,
                uintptr_t paddr UNUSED, unsigned attrs UNUSED) {
    return -E_NOTSUP;
}

uintptr_t arch_vm_unmap(struct arch_vm *vm UNUSED, uintptr_t vaddr UNUSED) {
    return 0;
}

void *arch_phys_to_virt(uintptr_t paddr) {
    return (void *)paddr;
}
