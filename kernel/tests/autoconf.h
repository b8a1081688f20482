/* autoconf.h (host tests) - written by hand, standing in for the header
 * Kconfig generates under build/<board>/include/generated/. */
#define CONFIG_BOARD "host"
#define CONFIG_ARCH "host"
#define CONFIG_TICK_HZ 100
#define CONFIG_TIMESLICE_MS 20
#define CONFIG_MAX_TASKS 32
#define CONFIG_MAX_CHANNELS 256
#define CONFIG_TASK_CHANNELS 64
#define CONFIG_DEBUG_COMMANDS 1
