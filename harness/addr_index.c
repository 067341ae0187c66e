/* addr_index.c: see addr_index.h. */
#include "addr_index.h"

#include <stdio.h>
#include <string.h>

#define ADDR_CHUNK 64u

/* Starts, ends and entries in separate arrays: the rank of an address is a count
 * over the starts alone (512 bytes), a loop without branches whose loads are all
 * independent, so a cold chunk costs about one memory latency, where a binary
 * search's dependent probes paid one per cache line. */
struct addr_chunk {
    hl_addr starts[ADDR_CHUNK];
    hl_addr ends[ADDR_CHUNK];
    uint32_t entries[ADDR_CHUNK];
    uint32_t count;
};

static addr_item item_at(const addr_chunk *chunk, uint32_t i)
{
    addr_item item = {chunk->starts[i], chunk->ends[i], chunk->entries[i]};
    return item;
}

/* Moves items [from, count) by `by` places (+1: open a gap at from; -1: close one). */
static void shift(addr_chunk *chunk, uint32_t from, int by)
{
    uint32_t n = chunk->count - from;
    memmove(chunk->starts + from + by, chunk->starts + from, n * sizeof *chunk->starts);
    memmove(chunk->ends + from + by, chunk->ends + from, n * sizeof *chunk->ends);
    memmove(chunk->entries + from + by, chunk->entries + from, n * sizeof *chunk->entries);
}

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
    uint32_t r = 0;
    for (uint32_t i = 0; i < chunk->count; i++) r += chunk->starts[i] <= addr;
    return r;
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
    index->firsts[at] = chunk->count ? chunk->starts[0] : 0;
    index->count++;
}

bool addr_index_at(const addr_index *index, hl_addr addr, addr_item *found)
{
    if (!index->count) return false;
    const addr_chunk *chunk = index->chunks[chunk_for(index, addr)];
    uint32_t r = rank(chunk, addr);
    if (r == 0 || addr >= chunk->ends[r - 1]) return false;
    *found = item_at(chunk, r - 1);
    return true;
}

bool addr_index_insert(addr_index *index, addr_item item, uint32_t *other)
{
    if (!index->count) insert_chunk(index, 0, hl_mem_alloc(sizeof(addr_chunk)));
    uint32_t c = chunk_for(index, item.start);
    addr_chunk *chunk = index->chunks[c];
    uint32_t r = rank(chunk, item.start);
    /* the predecessor ends before us; the successor starts after our end */
    if (r && chunk->ends[r - 1] > item.start) return *other = chunk->entries[r - 1], false;
    if (r < chunk->count ? chunk->starts[r] < item.end
                         : c + 1 < index->count && index->chunks[c + 1]->starts[0] < item.end)
        return *other = r < chunk->count ? chunk->entries[r] : index->chunks[c + 1]->entries[0], false;
    if (chunk->count == ADDR_CHUNK) { /* split, then insert into the half it belongs to */
        addr_chunk *upper = hl_mem_alloc(sizeof(addr_chunk));
        uint32_t half = ADDR_CHUNK / 2;
        upper->count = half;
        memcpy(upper->starts, chunk->starts + half, half * sizeof *chunk->starts);
        memcpy(upper->ends, chunk->ends + half, half * sizeof *chunk->ends);
        memcpy(upper->entries, chunk->entries + half, half * sizeof *chunk->entries);
        chunk->count = half;
        insert_chunk(index, c + 1, upper);
        if (r > half) {
            chunk = upper;
            c++;
            r -= half;
        }
    }
    shift(chunk, r, +1);
    chunk->starts[r] = item.start;
    chunk->ends[r] = item.end;
    chunk->entries[r] = item.entry;
    chunk->count++;
    index->firsts[c] = chunk->starts[0];
    index->items++;
    return true;
}

void addr_index_remove(addr_index *index, hl_addr start)
{
    if (!index->count) return;
    uint32_t c = chunk_for(index, start);
    addr_chunk *chunk = index->chunks[c];
    uint32_t r = rank(chunk, start);
    if (r == 0 || chunk->starts[r - 1] != start) return;
    shift(chunk, r, -1);
    chunk->count--;
    index->items--;
    if (chunk->count) {
        index->firsts[c] = chunk->starts[0];
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
        if (chunk->count && index->firsts[c] != chunk->starts[0]) {
            snprintf(message, capacity, "address index: chunk %u's first address is stale", c);
            return false;
        }
        for (uint32_t i = 0; i < chunk->count; i++, seen++) {
            if ((seen && chunk->starts[i] < last_end) || chunk->ends[i] < chunk->starts[i]) {
                snprintf(message, capacity, "address index: items out of order or overlapping at chunk %u", c);
                return false;
            }
            last_end = chunk->ends[i];
        }
    }
    if (seen != index->items) {
        snprintf(message, capacity, "address index: %llu items counted, %llu held", (unsigned long long)index->items,
                 (unsigned long long)seen);
        return false;
    }
    return true;
}
