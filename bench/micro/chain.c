/* chain.c: a realloc growth chain (family realloc/16-64K; micro.h): a 16-byte block
 * grown by doubling to 64 KiB, one realloc a step, then freed. */
#include "micro.h"

static const char *contract_chain(micro_target *t, uint64_t iterations)
{
    const hl_backend *b = t->backend;
    hl_heap *h = t->heap;
    bool linear = t->linear;
    for (uint64_t i = 0; i < iterations; i++) {
        hl_error e = HL_E_OK;
        size_t size = MICRO_CHAIN_FIRST;
        hl_addr a = b->alloc(h, (hl_layout){size, MICRO_ALIGN}, HL_CAP_NONE, &e);
        if (!a) return e == HL_E_OK ? "alloc returned no block" : hl_error_name(e);
        *micro_byte(b, h, linear, a) = 1;
        for (; size < MICRO_CHAIN_LAST; size *= 2) {
            hl_addr grown = b->realloc(h, a, (hl_layout){size, MICRO_ALIGN}, size * 2, &e);
            if (!grown) {
                b->free(h, a, (hl_layout){size, MICRO_ALIGN});
                return e == HL_E_OK ? "realloc returned no block" : hl_error_name(e);
            }
            a = grown;
            *micro_byte(b, h, linear, a) = 1;
        }
        b->free(h, a, (hl_layout){size, MICRO_ALIGN});
    }
    return NULL;
}

static const char *raw_chain(const micro_raw *r, uint64_t iterations)
{
    void *(*alloc)(size_t) = r->malloc;
    void *(*grow)(void *, size_t) = r->realloc;
    void (*release)(void *) = r->free;
    for (uint64_t i = 0; i < iterations; i++) {
        size_t size = MICRO_CHAIN_FIRST;
        unsigned char *p = alloc(size);
        if (!p) return "malloc returned NULL";
        *p = 1;
        for (; size < MICRO_CHAIN_LAST; size *= 2) {
            unsigned char *grown = grow(p, size * 2);
            if (!grown) {
                release(p);
                return "realloc returned NULL";
            }
            p = grown;
            *p = 1;
        }
        release(p);
    }
    return NULL;
}

const char *micro_chain(micro_target *t, uint64_t iterations)
{
    return t->backend ? contract_chain(t, iterations) : raw_chain(&t->raw, iterations);
}
