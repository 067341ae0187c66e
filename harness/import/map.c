/* map.c: the importers' u64 -> u64 map (a live address to its block id; malloclab's
 * live ids). Open addressing with linear probing and backward-shift deletion, so no
 * tombstones pile up over a long log; kept at most half full. */
#include "importer.h"

static size_t slot_of(const hl_import_map *map, uint64_t key)
{
    uint64_t h = key * 0x9e3779b97f4a7c15ull;
    return (size_t)(h ^ (h >> 29)) & (map->capacity - 1);
}

static size_t find_slot(const hl_import_map *map, uint64_t key)
{
    size_t i = slot_of(map, key);
    while (map->keys[i] != 0 && map->keys[i] != key) i = (i + 1) & (map->capacity - 1);
    return i;
}

static void grow(hl_import_map *map)
{
    hl_import_map bigger = {.capacity = map->capacity ? map->capacity * 2 : 64};
    bigger.keys = hl_mem_alloc(bigger.capacity * sizeof *bigger.keys);
    bigger.values = hl_mem_alloc(bigger.capacity * sizeof *bigger.values);
    for (size_t i = 0; i < map->capacity; i++)
        if (map->keys[i]) hl_import_map_put(&bigger, map->keys[i], map->values[i]);
    hl_import_map_free(map);
    *map = bigger;
}

bool hl_import_map_find(const hl_import_map *map, uint64_t key, uint64_t *value)
{
    if (map->capacity == 0 || key == 0) return false;
    size_t i = find_slot(map, key);
    if (map->keys[i] == 0) return false;
    *value = map->values[i];
    return true;
}

void hl_import_map_put(hl_import_map *map, uint64_t key, uint64_t value)
{
    if ((map->count + 1) * 2 > map->capacity) grow(map);
    size_t i = find_slot(map, key);
    if (map->keys[i] == 0) map->count++;
    map->keys[i] = key;
    map->values[i] = value;
}

bool hl_import_map_remove(hl_import_map *map, uint64_t key)
{
    if (map->capacity == 0 || key == 0) return false;
    size_t mask = map->capacity - 1, hole = find_slot(map, key);
    if (map->keys[hole] == 0) return false;
    /* shift back every later entry of the run that may move into the hole */
    for (size_t j = (hole + 1) & mask; map->keys[j] != 0; j = (j + 1) & mask) {
        size_t home = slot_of(map, map->keys[j]);
        bool stays = hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
        if (stays) continue;
        map->keys[hole] = map->keys[j];
        map->values[hole] = map->values[j];
        hole = j;
    }
    map->keys[hole] = 0;
    map->values[hole] = 0;
    map->count--;
    return true;
}

void hl_import_map_free(hl_import_map *map)
{
    hl_mem_free(map->keys);
    hl_mem_free(map->values);
    *map = (hl_import_map){0};
}
