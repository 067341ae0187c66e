/* u64map.c: heaplab's one u64 -> u64 map (hl_core.h): the trace checker's ids, the
 * importers' live addresses, the threaded runner's threads and ids, the fuzz
 * encoder's ids. Open addressing with linear probing on a Fibonacci hash, a used
 * byte per slot (so every key value is allowed), backward-shift deletion. */
#include "hl_core.h"

static size_t home(const hl_u64map *map, uint64_t key)
{
    uint64_t h = key * 0x9e3779b97f4a7c15ull;
    return (size_t)(h ^ (h >> 29)) & (map->capacity - 1);
}

/* The slot holding key, or the free slot where it would go (capacity > 0). */
static size_t slot_of(const hl_u64map *map, uint64_t key)
{
    size_t i = home(map, key);
    while (map->used[i] && map->keys[i] != key) i = (i + 1) & (map->capacity - 1);
    return i;
}

static void resize(hl_u64map *map, size_t capacity)
{
    hl_u64map bigger = {.capacity = capacity};
    bigger.keys = hl_mem_alloc(capacity * sizeof *bigger.keys);
    bigger.values = hl_mem_alloc(capacity * sizeof *bigger.values);
    bigger.used = hl_mem_alloc(capacity);
    for (size_t i = 0; i < map->capacity; i++) {
        if (!map->used[i]) continue;
        size_t at = slot_of(&bigger, map->keys[i]);
        bigger.used[at] = 1;
        bigger.keys[at] = map->keys[i];
        bigger.values[at] = map->values[i];
    }
    bigger.count = map->count;
    hl_u64map_free(map);
    *map = bigger;
}

void hl_u64map_reserve(hl_u64map *map, size_t entries)
{
    size_t capacity = map->capacity ? map->capacity : 64;
    while (capacity / 2 < entries) capacity *= 2;
    if (capacity != map->capacity) resize(map, capacity);
}

bool hl_u64map_find(const hl_u64map *map, uint64_t key, uint64_t *value)
{
    if (map->capacity == 0) return false;
    size_t i = slot_of(map, key);
    if (!map->used[i]) return false;
    if (value) *value = map->values[i];
    return true;
}

uint64_t *hl_u64map_put(hl_u64map *map, uint64_t key, bool *fresh)
{
    if ((map->count + 1) * 2 > map->capacity) resize(map, map->capacity ? map->capacity * 2 : 64);
    size_t i = slot_of(map, key);
    bool added = !map->used[i];
    if (added) {
        map->used[i] = 1;
        map->keys[i] = key;
        map->values[i] = 0;
        map->count++;
    }
    if (fresh) *fresh = added;
    return &map->values[i];
}

bool hl_u64map_remove(hl_u64map *map, uint64_t key)
{
    if (map->capacity == 0) return false;
    size_t mask = map->capacity - 1, hole = slot_of(map, key);
    if (!map->used[hole]) return false;
    /* shift back every later entry of the run that may move into the hole */
    for (size_t j = (hole + 1) & mask; map->used[j]; j = (j + 1) & mask) {
        size_t h = home(map, map->keys[j]);
        bool stays = hole <= j ? (hole < h && h <= j) : (hole < h || h <= j);
        if (stays) continue;
        map->keys[hole] = map->keys[j];
        map->values[hole] = map->values[j];
        hole = j;
    }
    map->used[hole] = 0;
    map->keys[hole] = 0;
    map->values[hole] = 0;
    map->count--;
    return true;
}

void hl_u64map_free(hl_u64map *map)
{
    hl_mem_free(map->keys);
    hl_mem_free(map->values);
    hl_mem_free(map->used);
    *map = (hl_u64map){0};
}
