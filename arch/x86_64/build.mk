# build.mk (x86_64) - compiler flags, linker script and the image QEMU boots.
ARCH_CC      := gcc
ARCH_LD      := ld
ARCH_CFLAGS  := -m64 -mno-red-zone -mno-mmx -mno-sse -mno-sse2 -mcmodel=small \
                -fno-pic -fno-pie
ARCH_LDFLAGS := -nostdlib -static -z max-page-size=0x1000 -no-pie -z noexecstack

# QEMU's multiboot loader takes 32-bit ELF only: same bytes, elf32 wrapper.
$(O)/nagi.img: $(O)/nagi.elf
	objcopy -O elf32-i386 $< $@
