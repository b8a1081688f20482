# build.mk (arm-m) - compiler flags, the preprocessed linker script and the
# kernel ELF that tools/layout.py merges with the programs (docs/mcu-port.md).
ARCH_CC      := arm-none-eabi-gcc
ARCH_LD      := arm-none-eabi-ld
# The core is the board's (board.toml cpu -> CONFIG_CPU, gcc's -mcpu name).
# The kernel never touches the FPU (entry.S saves the tasks' registers):
# soft-float keeps the compiler from using it. -Os: the kernel has 16 KiB
# (the hot path is -O2, ARCH_HOT_SRCS below).
ARCH_CPU     := $(patsubst "%",%,$(CONFIG_CPU))
ifeq ($(ARCH_CPU),)
$(error CONFIG_CPU is not set in $(O)/config.mk (board.toml cpu))
endif
ARCH_CFLAGS  := -mcpu=$(ARCH_CPU) -mthumb -mfloat-abi=soft -Os \
                -ffunction-sections -fdata-sections -fno-pic -fomit-frame-pointer
ARCH_LDFLAGS := -nostdlib -static --gc-sections -z noexecstack
ARCH_LDSCRIPT := $(O)/kernel/kernel.ld
ARCH_IMAGE   := $(O)/kernel.elf
KERNEL_ELF   := $(O)/kernel.elf
ARCH_LIBS    := $(shell $(ARCH_CC) -mcpu=$(ARCH_CPU) -mthumb -mfloat-abi=soft -print-libgcc-file-name)

$(O)/kernel/kernel.ld: arch/arm-m/kernel.ld.S $(O)/config.mk
	@mkdir -p $(dir $@)
	@$(ARCH_CC) -E -P -x c -include $(O)/include/generated/autoconf.h $< -o $@
# The IPC round trip (call + reply) runs through these: -O2 there buys ~20
# instructions per round trip for ~800 bytes of flash.
ARCH_HOT_SRCS := kernel/ipc.c kernel/sched.c kernel/syscall.c arch/arm-m/trap.c arch/arm-m/mpu.c
