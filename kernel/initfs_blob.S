/* initfs_blob.S - the initfs bundle (built by tools/) linked into the image. */
.section .rodata.initfs, "a"
.balign 16
.global initfs_start, initfs_end
initfs_start:
.incbin INITFS_PATH
initfs_end:
.balign 16
