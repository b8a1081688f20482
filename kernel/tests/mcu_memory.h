/* mcu_memory.h (host tests) - the MCU memory map arm-m's regions.c checks
 * regions against when the host port links it (kernel/tests/Makefile
 * -includes this for that file only): 64 KiB of "flash" at 0x10000000 and
 * 64 KiB of "RAM" at 0x20000000, the first 16 KiB of each the kernel's.
 * test_tasktable.c maps host memory there. */
#define CONFIG_FLASH_BASE        0x10000000
#define CONFIG_FLASH_SIZE        0x10000
#define CONFIG_KERNEL_FLASH_SIZE 0x4000
#define CONFIG_RAM_BASE          0x20000000
#define CONFIG_RAM_SIZE          0x10000
#define CONFIG_KERNEL_RAM_SIZE   0x4000
