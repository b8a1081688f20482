/* autoconf.h (arm-m region tests) - a b-l475e-iot01a-like memory map,
 * standing in for the generated header. */
#define CONFIG_BOARD "arm-m-tests"
#define CONFIG_ARCH "arm-m"
#define CONFIG_ARCH_ARM_M 1
#define CONFIG_TICK_HZ 100
#define CONFIG_TIMESLICE_MS 20
#define CONFIG_MAX_TASKS 8
#define CONFIG_MAX_CHANNELS 32
#define CONFIG_TASK_CHANNELS 12
#define CONFIG_FLASH_BASE 0x08000000
#define CONFIG_FLASH_SIZE 0x100000
#define CONFIG_RAM_BASE 0x20000000
#define CONFIG_RAM_SIZE 0x18000
#define CONFIG_KERNEL_FLASH_SIZE 0x4000
#define CONFIG_KERNEL_RAM_SIZE 0x1000
#define CONFIG_TASK_TABLE_ADDR 0x08004000
#define CONFIG_IRQ_COUNT 82
#define CONFIG_CPU_HZ 4000000
