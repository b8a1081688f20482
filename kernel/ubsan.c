/*
 * ubsan.c - the runtime of UndefinedBehaviorSanitizer, for kernels built
 * with CONFIG_KERNEL_UBSAN: every report is fatal (a panic naming the
 * check and the source location). This file is built without -fsanitize.
 */
#include "kernel.h"

struct source_location {
    const char *file;
    uint32_t line, column;
};

/* Every handler's data starts with the source location. */
struct ubsan_data {
    struct source_location loc;
};

static _Noreturn void report(const char *what, void *data) {
    struct source_location *loc = &((struct ubsan_data *)data)->loc;
    panic("UBSan: %s at %s:%u:%u", what, loc->file, (unsigned)loc->line, (unsigned)loc->column);
}

#define HANDLER(name, what) \
    void __ubsan_handle_##name(void *data, ...); \
    void __ubsan_handle_##name(void *data, ...) { report(what, data); }

HANDLER(type_mismatch_v1, "misaligned or null pointer use")
HANDLER(add_overflow, "signed addition overflow")
HANDLER(sub_overflow, "signed subtraction overflow")
HANDLER(mul_overflow, "signed multiplication overflow")
HANDLER(negate_overflow, "signed negation overflow")
HANDLER(divrem_overflow, "division overflow or by zero")
HANDLER(shift_out_of_bounds, "shift out of bounds")
HANDLER(out_of_bounds, "array index out of bounds")
HANDLER(load_invalid_value, "load of an invalid value")
HANDLER(pointer_overflow, "pointer overflow")
HANDLER(nonnull_arg, "null passed as a nonnull argument")
HANDLER(nonnull_return_v1, "null returned from a nonnull function")
HANDLER(vla_bound_not_positive, "variable-length array bound not positive")
HANDLER(invalid_builtin, "invalid builtin use")
HANDLER(builtin_unreachable, "unreachable code reached")
HANDLER(missing_return, "missing return value")
HANDLER(alignment_assumption, "alignment assumption violated")
