/* pair.c: the alloc + free pair (families pair/SIZE and aligned/4K; micro.h). */
#include "micro.h"

static const char *failed(hl_error e)
{
    return e == HL_E_OK ? "alloc returned no block" : hl_error_name(e);
}

static const char *contract_pair(micro_target *t, hl_layout layout, uint64_t iterations)
{
    const hl_backend *b = t->backend;
    hl_heap *h = t->heap;
    bool linear = t->linear;
    for (uint64_t i = 0; i < iterations; i++) {
        hl_error e = HL_E_OK;
        hl_addr a = b->alloc(h, layout, HL_CAP_NONE, &e);
        if (!a) return failed(e);
        *micro_byte(b, h, linear, a) = 1;
        b->free(h, a, layout);
    }
    return NULL;
}

static const char *raw_pair(const micro_raw *r, size_t size, uint64_t iterations)
{
    void *(*alloc)(size_t) = r->malloc;
    void (*release)(void *) = r->free;
    for (uint64_t i = 0; i < iterations; i++) {
        unsigned char *p = alloc(size);
        if (!p) return "malloc returned NULL";
        *p = 1;
        release(p);
    }
    return NULL;
}

static const char *raw_aligned_pair(const micro_raw *r, size_t size, size_t align, uint64_t iterations)
{
    void *(*alloc)(size_t, size_t) = r->aligned;
    void (*release)(void *) = r->free;
    for (uint64_t i = 0; i < iterations; i++) {
        unsigned char *p = alloc(align, size);
        if (!p) return "aligned allocation returned NULL";
        *p = 1;
        release(p);
    }
    return NULL;
}

const char *micro_pair(micro_target *t, size_t size, size_t align, uint64_t iterations)
{
    if (t->backend) return contract_pair(t, (hl_layout){size, align}, iterations);
    if (align > 16) return raw_aligned_pair(&t->raw, size, align, iterations);
    return raw_pair(&t->raw, size, iterations);
}
