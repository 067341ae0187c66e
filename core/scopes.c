/* scopes.c: which level an open scope is at, by its trace id, in O(1) (hl_core.h
 * "open scopes"). A map from scope id to the innermost open level with that id; each
 * level remembers the level its id was at before it (outer), so closing the inner of
 * two levels with one id finds the outer again without a scan. Levels close innermost
 * first, so the map always names the innermost open level of each id. */
#include "hl_core.h"

void hl_scopes_push(hl_scopes *s, uint32_t scope_id)
{
    if (s->depth + 1 >= s->capacity) {
        s->capacity = s->capacity ? 2 * s->capacity : 16;
        s->id = hl_mem_realloc(s->id, s->capacity * sizeof *s->id);
        s->outer = hl_mem_realloc(s->outer, s->capacity * sizeof *s->outer);
    }
    uint32_t level = ++s->depth;
    uint64_t *at = hl_u64map_put(&s->level_of, scope_id, NULL);
    s->id[level] = scope_id;
    s->outer[level] = (uint32_t)*at; /* 0 when the id was not open */
    *at = level;
}

uint32_t hl_scopes_level(const hl_scopes *s, uint32_t scope_id)
{
    uint64_t level;
    return hl_u64map_find(&s->level_of, scope_id, &level) ? (uint32_t)level : 0;
}

void hl_scopes_close_from(hl_scopes *s, uint32_t level)
{
    for (uint32_t l = s->depth; l > 0 && l >= level; l--) {
        if (s->outer[l]) *hl_u64map_put(&s->level_of, s->id[l], NULL) = s->outer[l];
        else hl_u64map_remove(&s->level_of, s->id[l]);
    }
    if (level <= s->depth) s->depth = level ? level - 1 : 0;
}

void hl_scopes_free(hl_scopes *s)
{
    hl_u64map_free(&s->level_of);
    hl_mem_free(s->id);
    hl_mem_free(s->outer);
    *s = (hl_scopes){0};
}
