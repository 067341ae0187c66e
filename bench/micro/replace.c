/* replace.c: random replacement in a live set (families replace/10k, replace/1M;
 * micro.h). The set, its random slot indices and its sizes are made outside the
 * clock; each timed iteration frees one slot's block and puts a new one of a
 * pre-drawn size there. The indices and sizes run in a cycle at least as long as the
 * set (so every slot is visited) and the position in it carries over between runs. */
#include "micro.h"

#include <stdio.h>

/* a live block: its address (a host pointer for raw peers) and its size, which a
 * contract free needs (raw peers carry it too, so both touch the same memory) */
typedef struct slot {
    hl_addr block;
    size_t size;
} slot;

struct micro_live_set {
    micro_target *t;
    uint32_t n;
    slot *slots;
    uint32_t *index; /* cycle of random slots */
    uint16_t *size;  /* cycle of random sizes */
    size_t cycle;    /* a power of two, >= n */
    uint64_t at;     /* position in the cycle */
};

static size_t cycle_for(uint32_t n)
{
    size_t c = 65536;
    while (c < n) c *= 2;
    return c;
}

static hl_addr make(micro_target *t, size_t size, hl_error *e)
{
    if (!t->backend) return (hl_addr)t->raw.malloc(size);
    return t->backend->alloc(t->heap, (hl_layout){size, MICRO_ALIGN}, HL_CAP_NONE, e);
}

static void drop(micro_target *t, hl_addr block, size_t size)
{
    if (!t->backend) return t->raw.free((void *)block);
    t->backend->free(t->heap, block, (hl_layout){size, MICRO_ALIGN});
}

static void release(micro_live_set *s, uint32_t filled)
{
    for (uint32_t i = 0; i < filled; i++) drop(s->t, s->slots[i].block, s->slots[i].size);
    micro_unmap(s->slots, (size_t)s->n * sizeof(slot));
    micro_unmap(s->index, s->cycle * sizeof(uint32_t));
    micro_unmap(s->size, s->cycle * sizeof(uint16_t));
    micro_unmap(s, sizeof *s);
}

micro_live_set *micro_replace_prepare(micro_target *t, uint32_t n, const char **why)
{
    static char reason[160];
    micro_live_set *s = micro_map(sizeof *s);
    if (!s) return *why = "no memory for the live set", NULL;
    *s = (micro_live_set){t, n, micro_map((size_t)n * sizeof(slot)), NULL, NULL, cycle_for(n), 0};
    s->index = micro_map(s->cycle * sizeof(uint32_t));
    s->size = micro_map(s->cycle * sizeof(uint16_t));
    if (!s->slots || !s->index || !s->size) return release(s, 0), *why = "no memory for the live set", NULL;
    micro_random_indices(s->index, s->cycle, n, 1);
    micro_random_sizes(s->size, s->cycle, 2);
    uint16_t *first = micro_map(n * sizeof(uint16_t));
    if (!first) return release(s, 0), *why = "no memory for the live set", NULL;
    micro_random_sizes(first, n, 4);
    for (uint32_t i = 0; i < n; i++) {
        hl_error e = HL_E_OK;
        hl_addr a = make(t, first[i], &e);
        if (!a) {
            snprintf(reason, sizeof reason, "the live set stopped at %u of %u blocks: %s", i, n,
                     e == HL_E_OK ? "no block" : hl_error_name(e));
            micro_unmap(first, n * sizeof(uint16_t));
            release(s, i);
            return *why = reason, NULL;
        }
        s->slots[i] = (slot){a, first[i]};
    }
    micro_unmap(first, n * sizeof(uint16_t));
    /* warm up: every slot replaced once on average before the clock starts (after a
     * fill of 1M blocks jemalloc needs about 500k replacements to settle: 10 us each
     * at first, under 100 ns after) */
    const char *stopped = micro_replace(s, n);
    if (stopped) {
        snprintf(reason, sizeof reason, "warming the live set up: %s", stopped);
        release(s, n);
        return *why = reason, NULL;
    }
    return s;
}

static const char *contract_replace(micro_live_set *s, uint64_t iterations)
{
    const hl_backend *b = s->t->backend;
    hl_heap *h = s->t->heap;
    bool linear = s->t->linear;
    slot *slots = s->slots;
    const uint32_t *index = s->index;
    const uint16_t *sizes = s->size;
    uint64_t at = s->at, mask = s->cycle - 1;
    for (uint64_t i = 0; i < iterations; i++, at++) {
        slot *victim = &slots[index[at & mask]];
        b->free(h, victim->block, (hl_layout){victim->size, MICRO_ALIGN});
        size_t size = sizes[at & mask];
        hl_error e = HL_E_OK;
        hl_addr a = b->alloc(h, (hl_layout){size, MICRO_ALIGN}, HL_CAP_NONE, &e);
        if (!a) { /* the slot stays empty: freeing block 0 is a no-op */
            victim->block = 0, victim->size = 0;
            s->at = at + 1;
            return e == HL_E_OK ? "alloc returned no block" : hl_error_name(e);
        }
        *micro_byte(b, h, linear, a) = 1;
        *victim = (slot){a, size};
    }
    s->at = at;
    return NULL;
}

static const char *raw_replace(micro_live_set *s, uint64_t iterations)
{
    void *(*alloc)(size_t) = s->t->raw.malloc;
    void (*free_block)(void *) = s->t->raw.free;
    slot *slots = s->slots;
    const uint32_t *index = s->index;
    const uint16_t *sizes = s->size;
    uint64_t at = s->at, mask = s->cycle - 1;
    for (uint64_t i = 0; i < iterations; i++, at++) {
        slot *victim = &slots[index[at & mask]];
        free_block((void *)victim->block);
        size_t size = sizes[at & mask];
        unsigned char *p = alloc(size);
        if (!p) {
            victim->block = 0, victim->size = 0;
            s->at = at + 1;
            return "malloc returned NULL";
        }
        *p = 1;
        *victim = (slot){(hl_addr)p, size};
    }
    s->at = at;
    return NULL;
}

const char *micro_replace(micro_live_set *s, uint64_t iterations)
{
    return s->t->backend ? contract_replace(s, iterations) : raw_replace(s, iterations);
}

void micro_replace_release(micro_live_set *s)
{
    if (s) release(s, s->n);
}
