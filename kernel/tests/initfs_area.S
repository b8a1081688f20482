/* initfs_area.S - a writable stand-in for kernel/initfs_blob.S: the tests
 * write initfs bundles (good and malformed) into these 256 KiB. The kernel
 * sees initfs_end - initfs_start as the bundle size; unused bytes are 0. */
    .bss
    .balign 16
    .globl initfs_start, initfs_end
initfs_start:
    .space 262144
initfs_end:
    .section .note.GNU-stack,"",@progbits
