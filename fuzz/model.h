/* model.h: the stream model the decoder and the encoder share (internal to fuzz/):
 * which ids are live, freed or never served, in which scope, in which order. Both
 * apply the same operations in the same way, so a pick (an index into the live or
 * freed list) means the same block to both. Ids are 1, 2, 3... */
#ifndef HL_FUZZ_MODEL_H
#define HL_FUZZ_MODEL_H

#include "hl_fuzz.h"

enum { FZ_NEVER = 0, FZ_LIVE, FZ_FREED };

typedef struct fz_block {
    uint64_t size, align;
    uint32_t level;
    uint8_t state;
    size_t live_at;  /* its index in live[] while live */
    size_t freed_at; /* its index in freed[] once freed */
} fz_block;

typedef struct fz_model {
    fz_block *blocks;          /* [id], id 0 unused */
    uint64_t next_id, block_cap;
    uint64_t *live, *freed;
    size_t live_count, live_cap, freed_count, freed_cap;
    uint32_t *scopes;          /* [level] = scope id, levels 1..depth */
    uint32_t depth, scope_cap, next_scope;
} fz_model;

void fz_init(fz_model *m);
void fz_free(fz_model *m);
/* Applies a formed, consistent operation (ids and scope ids already the model's). */
void fz_apply(fz_model *m, const hl_op *op);
/* The level of an open scope id (0 if not open). */
uint32_t fz_level(const fz_model *m, uint32_t scope);
/* Live blocks at level >= level, in live-list order, into out (count returned). */
size_t fz_live_from(const fz_model *m, uint32_t level, uint64_t *out);

/* The edge sizes of the size byte, and the canonical opcode of each kind. */
#define FZ_EDGES 48
extern const uint64_t fz_edges[FZ_EDGES];

#endif
