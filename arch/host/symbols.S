/* symbols.S (host) - stand-ins for the symbols a port's linker script
 * defines: the kernel image is "two pages" long here. */
    .section .rodata
    .balign 4096
    .globl __kernel_start, __kernel_end
__kernel_start:
    .space 8192
__kernel_end:
    .section .note.GNU-stack,"",@progbits
