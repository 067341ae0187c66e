/* model.c: see model.h. */
#include "model.h"

#include <string.h>

const uint64_t fz_edges[FZ_EDGES] = {
    0,    1,    2,    3,    4,    7,     8,     9,     15,    16,      17,       24,
    31,   32,   33,   48,   63,   64,    65,    96,    127,   128,     129,      255,
    256,  257,  511,  512,  513,  1023,  1024,  1025,  2047,  2048,    4095,     4096,
    4097, 8191, 8192, 8193, 16384, 65535, 65536, 65537, 1u << 20, 16u << 20, 1ull << 40, 100};

void fz_init(fz_model *m)
{
    memset(m, 0, sizeof *m);
    m->next_id = 1;
    m->next_scope = 1;
}

void fz_free(fz_model *m)
{
    hl_mem_free(m->blocks);
    hl_mem_free(m->live);
    hl_mem_free(m->freed);
    hl_mem_free(m->scopes);
    memset(m, 0, sizeof *m);
}

static void *grow(void *array, size_t *capacity, size_t want, size_t size)
{
    if (want <= *capacity) return array;
    size_t fresh = *capacity ? *capacity : 64;
    while (fresh < want) fresh *= 2;
    *capacity = fresh;
    return hl_mem_realloc(array, fresh * size);
}

static void kill(fz_model *m, uint64_t id)
{
    fz_block *b = &m->blocks[id];
    uint64_t last = m->live[--m->live_count];
    m->live[b->live_at] = last;
    m->blocks[last].live_at = b->live_at;
    b->state = FZ_FREED;
    b->freed_at = m->freed_count;
    m->freed = grow(m->freed, &m->freed_cap, m->freed_count + 1, sizeof *m->freed);
    m->freed[m->freed_count++] = id;
}

/* Frees the live blocks at levels >= level, scanning the live list from its end. */
static void close_from(fz_model *m, uint32_t level)
{
    for (size_t i = m->live_count; i-- > 0;)
        if (m->blocks[m->live[i]].level >= level) kill(m, m->live[i]);
    m->depth = level ? level - 1 : 0;
}

uint32_t fz_level(const fz_model *m, uint32_t scope)
{
    for (uint32_t l = m->depth; l > 0; l--)
        if (m->scopes[l] == scope) return l;
    return 0;
}

size_t fz_live_from(const fz_model *m, uint32_t level, uint64_t *out)
{
    size_t n = 0;
    for (size_t i = 0; i < m->live_count; i++)
        if (m->blocks[m->live[i]].level >= level) out[n++] = m->live[i];
    return n;
}

void fz_apply(fz_model *m, const hl_op *op)
{
    bool failed = op->expect_fail != HL_E_OK;
    switch ((hl_op_kind)op->kind) {
    case HL_OP_ALLOC: {
        size_t capacity = (size_t)m->block_cap;
        m->blocks = grow(m->blocks, &capacity, (size_t)m->next_id + 1, sizeof *m->blocks);
        m->block_cap = capacity;
        fz_block *b = &m->blocks[m->next_id];
        *b = (fz_block){op->size, op->align, m->depth, failed ? FZ_NEVER : FZ_LIVE, m->live_count, 0};
        if (!failed) {
            m->live = grow(m->live, &m->live_cap, m->live_count + 1, sizeof *m->live);
            m->live[m->live_count++] = m->next_id;
        }
        m->next_id++;
        return;
    }
    case HL_OP_FREE:
        return kill(m, op->id);
    case HL_OP_REALLOC:
        if (!failed) m->blocks[op->id].size = op->size;
        return;
    case HL_OP_SCOPE_ENTER:
        m->next_scope++;
        if (failed) return;
        {
            size_t capacity = m->scope_cap;
            m->scopes = grow(m->scopes, &capacity, m->depth + 2, sizeof *m->scopes);
            m->scope_cap = (uint32_t)capacity;
        }
        m->scopes[++m->depth] = op->scope;
        return;
    case HL_OP_SCOPE_EXIT:
        return close_from(m, fz_level(m, op->scope));
    case HL_OP_PROMOTE: {
        if (failed) return;
        uint32_t level = fz_level(m, op->scope);
        m->blocks[op->id].level = level - 1;
        close_from(m, level);
        m->blocks[op->id].size = op->size;
        return;
    }
    case HL_OP_FREE_ALL:
        return close_from(m, 0);
    default:
        return; /* touch, usable and the misuse kinds change nothing */
    }
}
