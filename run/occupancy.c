/* occupancy.c: see occupancy.h. */
#include "occupancy.h"

#include <string.h>

#define OCC_REGION_SHIFT 22 /* 4 MiB of address space per bitmap */

static uint64_t mix(uint64_t x)
{
    x ^= x >> 31;
    x *= 0x9e3779b97f4a7c15ULL;
    x ^= x >> 29;
    return x;
}

void occ_init(occupancy *occ, unsigned granule_log2)
{
    memset(occ, 0, sizeof *occ);
    occ->granule_log2 = granule_log2;
    occ->mask = 16 - 1;
    occ->slots = hl_mem_alloc((occ->mask + 1) * sizeof *occ->slots);
}

void occ_free(occupancy *occ)
{
    for (uint32_t i = 0; i <= occ->mask; i++) hl_mem_free(occ->slots[i].bits);
    for (uint32_t i = 0; i < occ->spare_count; i++) hl_mem_free(occ->spare[i]);
    hl_mem_free(occ->spare);
    hl_mem_free(occ->slots);
    memset(occ, 0, sizeof *occ);
}

static size_t region_words(const occupancy *occ)
{
    return ((size_t)1 << (OCC_REGION_SHIFT - occ->granule_log2)) / 64;
}

static uint64_t region_granules(const occupancy *occ) { return (uint64_t)1 << (OCC_REGION_SHIFT - occ->granule_log2); }

static occ_region *slot_of(const occupancy *occ, uint64_t number)
{
    uint32_t i = (uint32_t)mix(number) & occ->mask;
    while (occ->slots[i].used && occ->slots[i].number != number) i = (i + 1) & occ->mask;
    return &occ->slots[i];
}

/* The region `number`; made (empty, no bitmap) if `create`, else NULL when absent. */
static occ_region *region(occupancy *occ, uint64_t number, bool create)
{
    if (occ->last && occ->last->number == number) return occ->last;
    occ_region *slot = slot_of(occ, number);
    if (!slot->used) {
        if (!create) return NULL;
        if ((occ->used + 1) * 2 > occ->mask + 1) {
            occ_region *old = occ->slots;
            uint32_t old_count = occ->mask + 1;
            occ->mask = occ->mask * 2 + 1;
            occ->slots = hl_mem_alloc((occ->mask + 1) * sizeof *occ->slots);
            memset(occ->slots, 0, (occ->mask + 1) * sizeof *occ->slots);
            for (uint32_t i = 0; i < old_count; i++)
                if (old[i].used) *slot_of(occ, old[i].number) = old[i];
            hl_mem_free(old);
            slot = slot_of(occ, number);
        }
        memset(slot, 0, sizeof *slot);
        slot->number = number;
        slot->used = true;
        slot->dirty_lo = UINT32_MAX;
        occ->used++;
    }
    occ->last = slot;
    return slot;
}

/* The region's bitmap, made when it has none: all clear, or all set if it was full. */
static uint64_t *bitmap(occupancy *occ, occ_region *r)
{
    if (!r->bits) {
        if (occ->spare_count && !r->full) { /* all clear already */
            r->bits = occ->spare[--occ->spare_count];
            return r->bits;
        }
        r->bits = hl_mem_alloc(region_words(occ) * sizeof(uint64_t));
        memset(r->bits, r->full ? 0xff : 0, region_words(occ) * sizeof(uint64_t));
        if (r->full) r->dirty_lo = 0, r->dirty_hi = (uint32_t)region_words(occ);
        r->full = false;
    }
    return r->bits;
}

/* What to do with the bits [lo, hi) of one bitmap. */
typedef enum { OCC_ANY, OCC_ALL, OCC_SET, OCC_CLEAR } occ_verb;

/* Applies verb to the whole words [first, end) of bits: the body of a big block,
 * where nearly every word is all clear or all set, so the bit count is rarely needed. */
static bool apply_words(occ_region *r, uint64_t *bits, uint64_t first, uint64_t end, occ_verb verb)
{
    switch (verb) {
    case OCC_ANY:
        for (uint64_t i = first; i < end; i++)
            if (bits[i]) return true;
        return false;
    case OCC_ALL:
        for (uint64_t i = first; i < end; i++)
            if (bits[i] != ~0ull) return false;
        return true;
    case OCC_SET:
        for (uint64_t i = first; i < end; i++) {
            uint64_t w = bits[i];
            r->set += w ? (uint64_t)(64 - __builtin_popcountll(w)) : 64;
            bits[i] = ~0ull;
        }
        return true;
    case OCC_CLEAR:
        for (uint64_t i = first; i < end; i++) {
            uint64_t w = bits[i];
            r->set -= w == ~0ull ? 64 : (uint64_t)__builtin_popcountll(w);
            bits[i] = 0;
        }
        return true;
    }
    return true;
}

/* Applies verb to bits [lo, hi) of r's bitmap: for ANY, true if one is set; for ALL,
 * true if all are; SET and CLEAR return true and count the change in r->set. */
static bool apply(occ_region *r, uint64_t *bits, uint64_t lo, uint64_t hi, occ_verb verb)
{
    while (lo < hi) {
        uint64_t word = lo / 64, first = lo % 64;
        if (!first && hi - lo >= 64) {
            uint64_t end = word + (hi - lo) / 64;
            bool answer = apply_words(r, bits, word, end, verb);
            if (verb == OCC_ANY ? answer : !answer) return answer;
            lo = end * 64;
            continue;
        }
        uint64_t n = hi - lo < 64 - first ? hi - lo : 64 - first;
        uint64_t mask = (n == 64 ? ~0ull : ((1ull << n) - 1)) << first;
        uint64_t w = bits[word];
        switch (verb) {
        case OCC_ANY:
            if (w & mask) return true;
            break;
        case OCC_ALL:
            if ((w & mask) != mask) return false;
            break;
        case OCC_SET:
            r->set += (uint64_t)__builtin_popcountll(mask & ~w);
            bits[word] = w | mask;
            break;
        case OCC_CLEAR:
            r->set -= (uint64_t)__builtin_popcountll(mask & w);
            bits[word] = w & ~mask;
            break;
        }
        lo += n;
    }
    return verb != OCC_ANY;
}

/* Clears r's bitmap (if it has one) where bits may be set: the words marked since the
 * last wipe, not the whole 32 KiB, so a region that held a few blocks is cheap to reset. */
static void wipe(occ_region *r)
{
    if (r->bits && r->dirty_hi > r->dirty_lo)
        memset(r->bits + r->dirty_lo, 0, (size_t)(r->dirty_hi - r->dirty_lo) * sizeof(uint64_t));
    r->dirty_lo = UINT32_MAX;
    r->dirty_hi = 0;
}

/* Applies verb to granules [lo, hi) of region r (which may be NULL: absent). */
static bool in_region(occupancy *occ, occ_region *r, uint64_t lo, uint64_t hi, occ_verb verb)
{
    uint64_t all = region_granules(occ);
    if (!r || (!r->bits && !r->full)) { /* all clear */
        if (verb == OCC_ANY || verb == OCC_ALL) return false;
        if (verb == OCC_CLEAR) return true;
    } else if (r->full) {
        if (verb != OCC_CLEAR) return true; /* ANY, ALL; SET changes nothing */
    }
    if (verb == OCC_SET && lo == 0 && hi == all) { /* covered whole: a flag, no bitmap */
        occ->set += all - r->set;
        hl_mem_free(r->bits);
        r->bits = NULL;
        r->set = all;
        r->full = true;
        return true;
    }
    if (verb == OCC_CLEAR && lo == 0 && hi == all) {
        occ->set -= r->set;
        if (r->set) wipe(r);
        r->set = 0;
        r->full = false;
        return true;
    }
    uint64_t before = r->set;
    if (verb == OCC_SET) { /* the words it may set */
        if (lo / 64 < r->dirty_lo) r->dirty_lo = (uint32_t)(lo / 64);
        if ((hi + 63) / 64 > r->dirty_hi) r->dirty_hi = (uint32_t)((hi + 63) / 64);
    }
    bool answer = apply(r, bitmap(occ, r), lo, hi, verb);
    occ->set = occ->set + r->set - before;
    return answer;
}

/* Walks the regions [start, end) spans (end > start; end 0 means the top). */
static bool walk(occupancy *occ, hl_addr start, hl_addr end, occ_verb verb)
{
    uint64_t last = (uint64_t)end - 1; /* inclusive: end may wrap to 0 at the top */
    uint64_t a = start;
    for (;;) {
        uint64_t number = a >> OCC_REGION_SHIFT, base = number << OCC_REGION_SHIFT;
        uint64_t top = base + (((uint64_t)1 << OCC_REGION_SHIFT) - 1); /* inclusive */
        uint64_t b = last < top ? last : top;
        occ_region *r = region(occ, number, verb == OCC_SET);
        uint64_t lo = (a - base) >> occ->granule_log2, hi = ((b - base) >> occ->granule_log2) + 1;
        bool answer = in_region(occ, r, lo, hi, verb);
        if (verb == OCC_ANY && answer) return true;
        if (verb == OCC_ALL && !answer) return false;
        if (b == last) return verb != OCC_ANY;
        a = b + 1;
    }
}

bool occ_any(occupancy *occ, hl_addr start, hl_addr end) { return end != start && walk(occ, start, end, OCC_ANY); }
bool occ_all(occupancy *occ, hl_addr start, hl_addr end) { return end == start || walk(occ, start, end, OCC_ALL); }

void occ_mark(occupancy *occ, hl_addr start, hl_addr end, bool on)
{
    if (end != start) walk(occ, start, end, on ? OCC_SET : OCC_CLEAR);
}

uint64_t occ_granules(const occupancy *occ, hl_addr start, hl_addr end)
{
    if (end == start) return 0;
    return (((uint64_t)end - 1) >> occ->granule_log2) - ((uint64_t)start >> occ->granule_log2) + 1;
}

size_t occ_bytes(const occupancy *occ)
{
    size_t bytes = (size_t)(occ->mask + 1) * sizeof *occ->slots;
    for (uint32_t i = 0; i <= occ->mask; i++)
        if (occ->slots[i].bits) bytes += region_words(occ) * sizeof(uint64_t);
    return bytes;
}

void occ_clear(occupancy *occ)
{
    if (!occ->used) return;
    for (uint32_t i = 0; i <= occ->mask; i++) {
        occ_region *r = &occ->slots[i];
        if (!r->used) continue;
        if (r->bits) {
            if (r->set) wipe(r);
            if (occ->spare_count == occ->spare_cap) {
                occ->spare_cap = occ->spare_cap ? 2 * occ->spare_cap : 8;
                occ->spare = hl_mem_realloc(occ->spare, occ->spare_cap * sizeof *occ->spare);
            }
            occ->spare[occ->spare_count++] = r->bits;
        }
        memset(r, 0, sizeof *r);
    }
    occ->used = 0;
    occ->last = NULL;
    occ->set = 0;
}
