/* scope.c: a scope of MICRO_SCOPE_BLOCKS blocks (family scope/64; micro.h). Contract
 * targets enter a scope, allocate into it and exit it; raw peers, which have no
 * scopes, make the same mallocs and free each block. */
#include "micro.h"

static uint16_t sizes[MICRO_SCOPE_BLOCKS];

void micro_scope_prepare(void) { micro_random_sizes(sizes, MICRO_SCOPE_BLOCKS, 3); }

static const char *contract_scope(micro_target *t, const uint16_t *size, uint64_t iterations)
{
    const hl_backend *b = t->backend;
    hl_heap *h = t->heap;
    bool linear = t->linear;
    for (uint64_t i = 0; i < iterations; i++) {
        hl_scope scope;
        hl_error e = b->enter_scope(h, &scope);
        if (e != HL_E_OK) return hl_error_name(e);
        for (int j = 0; j < MICRO_SCOPE_BLOCKS; j++) {
            hl_addr a = b->alloc(h, (hl_layout){size[j], MICRO_ALIGN}, HL_CAP_NONE, &e);
            if (!a) return e == HL_E_OK ? "alloc returned no block" : hl_error_name(e);
            *micro_byte(b, h, linear, a) = 1;
        }
        e = b->exit_scope(h, scope);
        if (e != HL_E_OK) return hl_error_name(e);
    }
    return NULL;
}

static const char *raw_scope(const micro_raw *r, const uint16_t *size, uint64_t iterations)
{
    void *(*alloc)(size_t) = r->malloc;
    void (*release)(void *) = r->free;
    unsigned char *blocks[MICRO_SCOPE_BLOCKS];
    for (uint64_t i = 0; i < iterations; i++) {
        for (int j = 0; j < MICRO_SCOPE_BLOCKS; j++) {
            unsigned char *p = alloc(size[j]);
            if (!p) return "malloc returned NULL";
            *p = 1;
            blocks[j] = p;
        }
        for (int j = 0; j < MICRO_SCOPE_BLOCKS; j++) release(blocks[j]);
    }
    return NULL;
}

const char *micro_scope(micro_target *t, uint64_t iterations)
{
    return t->backend ? contract_scope(t, sizes, iterations) : raw_scope(&t->raw, sizes, iterations);
}
