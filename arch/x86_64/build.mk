# build.mk (x86_64) - compiler flags, linker script and the image QEMU boots.
ARCH_CC      := gcc
ARCH_LD      := ld
ARCH_CFLAGS  := -m64 -mno-red-zone -mno-mmx -mno-sse -mno-sse2 -mcmodel=small \
                -fno-pic -fno-pie
ARCH_LDFLAGS := -nostdlib -static -z max-page-size=0x1000 -no-pie -z noexecstack

# QEMU's multiboot loader takes 32-bit ELF only: same bytes, elf32 wrapper.
$(O)/nagi.img: $(O)/nagi.elf
	objcopy -O elf32-i386 $< $@

# The screen console's 8x16 font, generated from a PSF console font
# (tools/fontgen.py; Debian's console-setup-linux) and linked in.
X86_FONT_C := $(O)/include/generated/font8x16.c
X86_FONT_O := $(O)/kernel/font8x16.o
ARCH_LIBS  += $(X86_FONT_O)
$(KERNEL_ELF): $(X86_FONT_O)
$(X86_FONT_C): tools/fontgen.py
	@echo "  GEN     $@"
	@$(PYTHON) -m tools.fontgen --out $@
$(X86_FONT_O): $(X86_FONT_C)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(ARCH_CC) $(CFLAGS) -c $< -o $@
