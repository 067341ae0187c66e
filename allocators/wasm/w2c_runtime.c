/* w2c_runtime.c: heaplab's runtime for wasm2c modules (hl_w2c.h): wasm-rt.h's
 * functions over linear-memory sources, traps as a longjmp to the current call. */
#include "hl_w2c.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static _Thread_local hlw2c *current; /* the runtime of the call in progress on this thread */

hl_error hlw2c_open(hlw2c *rt, uint32_t max_pages, bool sparse, char *message, size_t capacity)
{
    hl_source_config config;
    hl_source_config_init(&config);
    config.kind = HL_SOURCE_LINEAR;
    config.max_pages = max_pages;
    config.sparse = sparse;
    hl_source source;
    hl_error e = hl_source_open(&source, &config, NULL, 0, 0, message, capacity);
    if (e != HL_E_OK) return e;
    memset(rt, 0, sizeof *rt);
    rt->source = source;
    return HL_E_OK;
}

void hlw2c_close(hlw2c *rt) { hl_source_close(&rt->source); }

void hlw2c_enter(hlw2c *rt)
{
    rt->outer = current;
    current = rt;
}

void hlw2c_leave(hlw2c *rt) { current = rt->outer; }

/* ---------------------------------------------------------------- wasm-rt.h */

static bool initialized;

void wasm_rt_init(void) { initialized = true; }
bool wasm_rt_is_initialized(void) { return initialized; }
void wasm_rt_free(void) {}

void hlw2c_init_once(void (*init_module)(void))
{
    static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    static void (*done[16])(void); /* the modules initialised so far (heaplab links a few) */
    static size_t ndone;
    pthread_mutex_lock(&lock);
    bool seen = false;
    for (size_t i = 0; i < ndone && !seen; i++) seen = done[i] == init_module;
    if (!seen) {
        wasm_rt_init();
        init_module();
        if (ndone < sizeof done / sizeof done[0]) done[ndone++] = init_module;
    }
    pthread_mutex_unlock(&lock);
}

WASM_RT_NO_RETURN void wasm_rt_trap(wasm_rt_trap_t trap)
{
    hlw2c *rt = current;
    if (!rt) { /* a module called outside HLW2C_CALL: a bug of heaplab's */
        fprintf(stderr, "heaplab: a wasm module trapped (%s) outside a call\n", hlw2c_trap_name(trap));
        abort();
    }
    rt->trap = trap;
    longjmp(rt->unwind, 1);
}

const char *hlw2c_trap_name(wasm_rt_trap_t trap)
{
    switch (trap) {
    case WASM_RT_TRAP_NONE: return "no trap";
    case WASM_RT_TRAP_OOB: return "out of bounds memory access";
    case WASM_RT_TRAP_INT_OVERFLOW: return "integer overflow";
    case WASM_RT_TRAP_DIV_BY_ZERO: return "integer divide by zero";
    case WASM_RT_TRAP_INVALID_CONVERSION: return "invalid conversion to integer";
    case WASM_RT_TRAP_UNREACHABLE: return "unreachable executed";
    case WASM_RT_TRAP_CALL_INDIRECT: return "invalid indirect call";
    case WASM_RT_TRAP_UNCAUGHT_EXCEPTION: return "uncaught exception";
    case WASM_RT_TRAP_EXHAUSTION: return "call stack exhausted";
    }
    return "unknown trap";
}

const char *wasm_rt_strerror(wasm_rt_trap_t trap) { return hlw2c_trap_name(trap); }

/* Function types, for call_indirect's check: equal signatures get equal indexes. */
#define MAX_TYPES 64
#define MAX_ARITY 16
static struct {
    uint32_t params, results;
    wasm_rt_type_t types[MAX_ARITY];
} types[MAX_TYPES];
static uint32_t ntypes;

uint32_t wasm_rt_register_func_type(uint32_t params, uint32_t results, ...)
{
    wasm_rt_type_t sig[MAX_ARITY] = {0};
    uint32_t n = params + results;
    if (n > MAX_ARITY) return UINT32_MAX; /* never equal to another: call_indirect to it traps */
    va_list ap;
    va_start(ap, results);
    for (uint32_t i = 0; i < n; i++) sig[i] = (wasm_rt_type_t)va_arg(ap, int);
    va_end(ap);
    for (uint32_t t = 0; t < ntypes; t++)
        if (types[t].params == params && types[t].results == results && memcmp(types[t].types, sig, sizeof sig) == 0)
            return t;
    if (ntypes == MAX_TYPES) return UINT32_MAX;
    types[ntypes].params = params;
    types[ntypes].results = results;
    memcpy(types[ntypes].types, sig, sizeof sig);
    return ntypes++;
}

/* Memories: the current call's runtime owns the one memory being made or grown. */
void wasm_rt_allocate_memory(wasm_rt_memory_t *memory, uint32_t initial_pages, uint32_t max_pages)
{
    hlw2c *rt = current;
    if (!rt || hl_source_commit(&rt->source, (size_t)initial_pages * HL_LINEAR_PAGE) != HL_E_OK)
        wasm_rt_trap(WASM_RT_TRAP_OOB); /* the instance cannot be made: its create reports it */
    memory->data = rt->source.host;
    memory->pages = initial_pages;
    memory->max_pages = max_pages;
    memory->size = initial_pages * HL_LINEAR_PAGE;
}

uint32_t wasm_rt_grow_memory(wasm_rt_memory_t *memory, uint32_t delta)
{
    hlw2c *rt = current;
    /* memory->size is a u32: 65535 pages at most (heaplab's cores never use the last) */
    uint32_t most = memory->max_pages < 65535u ? memory->max_pages : 65535u;
    if (!rt || rt->source.host != memory->data || memory->pages > most || delta > most - memory->pages) return UINT32_MAX;
    int64_t old = hl_source_grow_pages(&rt->source, delta);
    if (old < 0) return UINT32_MAX;
    memory->pages += delta;
    memory->size = memory->pages * HL_LINEAR_PAGE;
    return (uint32_t)old;
}

void wasm_rt_free_memory(wasm_rt_memory_t *memory) { (void)memory; }
