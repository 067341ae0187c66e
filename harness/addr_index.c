/* addr_index.c: see addr_index.h. */
#include "addr_index.h"

#include <stdio.h>
#include <string.h>

#define ADDR_CHUNK 64u

struct addr_chunk {
    uint32_t count;
    addr_item items[ADDR_CHUNK];
};

void addr_index_init(addr_index *index) { memset(index, 0, sizeof *index); }

void addr_index_free(addr_index *index)
{
    for (uint32_t c = 0; c < index->count; c++) hl_mem_free(index->chunks[c]);
    hl_mem_free(index->chunks);
    hl_mem_free(index->firsts);
    memset(index, 0, sizeof *index);
}

/* The last chunk whose first start is <= addr, or 0 when addr precedes them all. */
static uint32_t chunk_for(const addr_index *index, hl_addr addr)
{
    uint32_t lo = 0, hi = index->count; /* answer in [lo, hi) */
    while (hi - lo > 1) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (index->firsts[mid] <= addr) lo = mid;
        else hi = mid;
    }
    return lo;
}

/* The number of items of chunk whose start is <= addr. */
static uint32_t rank(const addr_chunk *chunk, hl_addr addr)
{
    uint32_t lo = 0, hi = chunk->count;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (chunk->items[mid].start <= addr) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

static void insert_chunk(addr_index *index, uint32_t at, addr_chunk *chunk)
{
    if (index->count == index->capacity) {
        index->capacity = index->capacity ? index->capacity * 2 : 16;
        index->chunks = hl_mem_realloc(index->chunks, index->capacity * sizeof *index->chunks);
        index->firsts = hl_mem_realloc(index->firsts, index->capacity * sizeof *index->firsts);
    }
    memmove(index->chunks + at + 1, index->chunks + at, (index->count - at) * sizeof *index->chunks);
    memmove(index->firsts + at + 1, index->firsts + at, (index->count - at) * sizeof *index->firsts);
    index->chunks[at] = chunk;
    index->firsts[at] = chunk->count ? chunk->items[0].start : 0;
    index->count++;
}

const addr_item *addr_index_at(const addr_index *index, hl_addr addr)
{
    if (!index->count) return NULL;
    const addr_chunk *chunk = index->chunks[chunk_for(index, addr)];
    uint32_t r = rank(chunk, addr);
    if (r == 0) return NULL;
    const addr_item *item = &chunk->items[r - 1];
    return addr < item->end ? item : NULL;
}

bool addr_index_insert(addr_index *index, addr_item item, uint32_t *other)
{
    if (!index->count) insert_chunk(index, 0, hl_mem_alloc(sizeof(addr_chunk)));
    uint32_t c = chunk_for(index, item.start);
    addr_chunk *chunk = index->chunks[c];
    uint32_t r = rank(chunk, item.start);
    /* the predecessor ends before us; the successor starts after our end */
    const addr_item *before = r ? &chunk->items[r - 1] : NULL;
    if (before && before->end > item.start) return *other = before->entry, false;
    const addr_item *after = r < chunk->count ? &chunk->items[r]
                             : c + 1 < index->count ? &index->chunks[c + 1]->items[0] : NULL;
    if (after && after->start < item.end) return *other = after->entry, false;
    if (chunk->count == ADDR_CHUNK) { /* split, then insert into the half it belongs to */
        addr_chunk *upper = hl_mem_alloc(sizeof(addr_chunk));
        upper->count = ADDR_CHUNK / 2;
        memcpy(upper->items, chunk->items + ADDR_CHUNK / 2, (ADDR_CHUNK / 2) * sizeof(addr_item));
        chunk->count = ADDR_CHUNK / 2;
        insert_chunk(index, c + 1, upper);
        if (r > ADDR_CHUNK / 2) {
            chunk = upper;
            c++;
            r -= ADDR_CHUNK / 2;
        }
    }
    memmove(chunk->items + r + 1, chunk->items + r, (chunk->count - r) * sizeof(addr_item));
    chunk->items[r] = item;
    chunk->count++;
    index->firsts[c] = chunk->items[0].start;
    index->items++;
    return true;
}

void addr_index_remove(addr_index *index, hl_addr start)
{
    if (!index->count) return;
    uint32_t c = chunk_for(index, start);
    addr_chunk *chunk = index->chunks[c];
    uint32_t r = rank(chunk, start);
    if (r == 0 || chunk->items[r - 1].start != start) return;
    r--;
    memmove(chunk->items + r, chunk->items + r + 1, (chunk->count - r - 1) * sizeof(addr_item));
    chunk->count--;
    index->items--;
    if (chunk->count) {
        index->firsts[c] = chunk->items[0].start;
    } else if (index->count > 1) {
        hl_mem_free(chunk);
        memmove(index->chunks + c, index->chunks + c + 1, (index->count - c - 1) * sizeof *index->chunks);
        memmove(index->firsts + c, index->firsts + c + 1, (index->count - c - 1) * sizeof *index->firsts);
        index->count--;
    }
}

bool addr_index_check(const addr_index *index, char *message, size_t capacity)
{
    uint64_t seen = 0;
    hl_addr last_end = 0;
    for (uint32_t c = 0; c < index->count; c++) {
        const addr_chunk *chunk = index->chunks[c];
        if (!chunk->count && index->count > 1) {
            snprintf(message, capacity, "address index: chunk %u is empty", c);
            return false;
        }
        if (chunk->count && index->firsts[c] != chunk->items[0].start) {
            snprintf(message, capacity, "address index: chunk %u's first address is stale", c);
            return false;
        }
        for (uint32_t i = 0; i < chunk->count; i++, seen++) {
            if (seen && chunk->items[i].start < last_end) {
                snprintf(message, capacity, "address index: items out of order or overlapping at chunk %u", c);
                return false;
            }
            last_end = chunk->items[i].end;
        }
    }
    if (seen != index->items) {
        snprintf(message, capacity, "address index: %llu items counted, %llu held", (unsigned long long)index->items,
                 (unsigned long long)seen);
        return false;
    }
    return true;
}
