/* idmap.c: a block id -> 32-bit position map (hl_core.h): the trace checker's view
 * and the measure plan's slots. Small ids index a direct array, which grows by
 * doubling (its new pages stay untouched until an id lands there); larger ids hash. */
#include "hl_core.h"

bool hl_idmap_find(const hl_idmap *map, uint64_t id, uint32_t *position)
{
    if (id < HL_IDMAP_DENSE) {
        if (id >= map->dense_capacity || !map->dense[id]) return false;
        *position = map->dense[id] - 1;
        return true;
    }
    uint64_t at;
    if (!hl_u64map_find(&map->sparse, id, &at)) return false;
    *position = (uint32_t)at;
    return true;
}

void hl_idmap_set(hl_idmap *map, uint64_t id, uint32_t position)
{
    if (id >= HL_IDMAP_DENSE) {
        *hl_u64map_put(&map->sparse, id, NULL) = position;
        return;
    }
    if (id >= map->dense_capacity) {
        uint64_t capacity = map->dense_capacity ? map->dense_capacity : 4096;
        while (capacity <= id) capacity *= 2;
        map->dense = hl_mem_realloc(map->dense, capacity * sizeof *map->dense); /* new slots are zero */
        map->dense_capacity = capacity;
    }
    map->dense[id] = position + 1;
}

void hl_idmap_free(hl_idmap *map)
{
    hl_mem_free(map->dense);
    hl_u64map_free(&map->sparse);
    *map = (hl_idmap){0};
}
