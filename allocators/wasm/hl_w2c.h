/* hl_w2c.h: heaplab's own runtime for modules translated by wasm2c (Debian wabt
 * 1.0.32's wasm-rt.h interface), so a real .wasm module can be linked into heaplab as
 * a backend (wasm_module.c).
 *
 * Why not wabt's wasm-rt-impl.c: it keeps one global unwind target and call depth,
 * installs SIGSEGV/SIGBUS handlers (they clash with ASan and heaplab's fault catcher),
 * and either reserves 8 GiB per memory and aborts when that fails, or callocs and
 * reallocs the memory so that it moves when it grows. Here:
 *   - a memory is a linear-memory source (allocators/source): max_pages reserved once,
 *     committed 64 KiB page by page, never moved, its committed bytes the footprint;
 *   - every access is bounds-checked by the generated code (HLW2C_CONFIG below: no
 *     signal handler), and a trap unwinds with longjmp to the call that entered the
 *     module, on this thread only: traps never end the process;
 *   - nothing is global but the function-type table, filled once.
 * The modules heaplab runs do not recurse, so the call depth is not counted (a module
 * that recursed without bound would overflow the native stack).
 *
 * Use: include this header before the generated .c (it sets the configuration the
 * generated code is compiled with), and wrap every call into the module in HLW2C_CALL. */
#ifndef HL_W2C_H
#define HL_W2C_H

#define WASM_RT_MEMCHECK_SIGNAL_HANDLER 0 /* bounds checks in the generated code */
#define WASM_RT_USE_STACK_DEPTH_COUNT 0   /* see above */
#include <wasm-rt.h>

#include "hl_source.h"

/* One instance's runtime state: its memory's source and the unwind target of the
 * call in progress. Lives in the backend's instance. */
typedef struct hlw2c {
    hl_source source;      /* the linear memory, opened by hlw2c_open */
    jmp_buf unwind;        /* where a trap of the current call lands */
    wasm_rt_trap_t trap;   /* the last call's trap, WASM_RT_TRAP_NONE if it returned */
    struct hlw2c *outer;   /* the call this one is nested in (a module never calls back, but a host may nest) */
} hlw2c;

/* Opens rt's memory: a linear source of max_pages pages (1..65536), nothing committed
 * yet (the module's instantiate commits its initial pages); sparse as the source's
 * (HL_HINT_SPARSE). Returns OK, or INVALID_ARGUMENT / OUT_OF_MEMORY with why in
 * message (rt untouched). */
hl_error hlw2c_open(hlw2c *rt, uint32_t max_pages, bool sparse, char *message, size_t capacity);
/* Releases the memory (the module's own free releases nothing). */
void hlw2c_close(hlw2c *rt);

/* Makes rt the runtime of the calls this thread makes next, until hlw2c_leave; pairs
 * nest. The module's memory.grow and traps go to it. */
void hlw2c_enter(hlw2c *rt);
void hlw2c_leave(hlw2c *rt);

/* Initialises the runtime's global part and the module once per process (init_module
 * is the module's Z_..._init_module), thread-safely. */
void hlw2c_init_once(void (*init_module)(void));

/* What a trap was, in words ("out of bounds memory access", ...). */
const char *hlw2c_trap_name(wasm_rt_trap_t trap);

/* Runs `call` (an expression) into the module with rt as the runtime: `result` gets its
 * value, or `fallback` if it trapped (rt->trap says which trap). */
#define HLW2C_CALL(rt, result, fallback, call)                \
    do {                                                      \
        hlw2c_enter(rt);                                      \
        if (setjmp((rt)->unwind) == 0) {                      \
            (result) = (call);                                \
            (rt)->trap = WASM_RT_TRAP_NONE;                   \
        } else {                                              \
            (result) = (fallback);                            \
        }                                                     \
        hlw2c_leave(rt);                                      \
    } while (0)

#endif
