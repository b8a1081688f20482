/*
 * kernel.ld.S (arm-m) - the kernel's flash and RAM reservations, exactly
 * CONFIG_KERNEL_FLASH_SIZE and CONFIG_KERNEL_RAM_SIZE (docs/mcu-port.md):
 * a kernel that outgrows them fails to link, naming the region. Run
 * through the C preprocessor with the generated autoconf.h.
 */
ENTRY(arm_reset)

MEMORY
{
    KFLASH (rx)  : ORIGIN = CONFIG_FLASH_BASE, LENGTH = CONFIG_KERNEL_FLASH_SIZE
    KRAM   (rwx) : ORIGIN = CONFIG_RAM_BASE,   LENGTH = CONFIG_KERNEL_RAM_SIZE
}

SECTIONS
{
    .text : {
        KEEP(*(.vectors))
        *(.text .text.*)
        *(.rodata .rodata.*)
        . = ALIGN(4);
    } > KFLASH

    /* The boot and idle stack: not zeroed at reset (the reset code runs on
     * it). __kernel_start..__kernel_end: the kernel's RAM (KS_MEM_INFO). */
    .stack (NOLOAD) : {
        __kernel_start = .;
        . = ALIGN(8);
        *(.bss.sched_idle_stack)
    } > KRAM

    .data : {
        . = ALIGN(4);
        __data_start = .;
        *(.data .data.*)
        . = ALIGN(4);
        __data_end = .;
    } > KRAM AT > KFLASH
    __data_load = LOADADDR(.data);

    .bss (NOLOAD) : {
        . = ALIGN(4);
        __bss_start = .;
        *(.bss .bss.*)
        *(COMMON)
        . = ALIGN(4);
        __bss_end = .;
    } > KRAM
    __kernel_end = .;

    /DISCARD/ : {
        *(.ARM.exidx* .ARM.extab* .comment .note* .eh_frame*)
    }
}
