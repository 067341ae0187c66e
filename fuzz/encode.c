/* encode.c: a trace -> bytes that hl_fuzz_decode turns back into it (ids renumbered
 * 1, 2, 3... in order of first use). It walks the trace through the same model as the
 * decoder and writes, for each operation, the bytes that make the decoder form it. */
#include "model.h"

#include <string.h>

typedef struct writer {
    uint8_t *bytes;
    size_t count, capacity;
} writer;

static void put(writer *w, uint8_t b)
{
    if (w->count == w->capacity) {
        w->capacity = w->capacity ? w->capacity * 2 : 256;
        w->bytes = hl_mem_realloc(w->bytes, w->capacity);
    }
    w->bytes[w->count++] = b;
}

static void put_varint(writer *w, uint64_t v)
{
    do {
        uint8_t b = v & 0x7f;
        v >>= 7;
        put(w, (uint8_t)(b | (v ? 0x80 : 0)));
    } while (v);
}

static void put_size(writer *w, uint64_t size)
{
    for (uint8_t i = 0; i < FZ_EDGES; i++)
        if (fz_edges[i] == size) return put(w, i);
    put(w, 255);
    put_varint(w, size);
}

static void put_align(writer *w, uint64_t align)
{
    for (uint8_t a = 0; a <= 16; a++)
        if (((uint64_t)1 << a) == align) return put(w, a);
    put(w, 255);
    put_varint(w, align);
}

/* trace id -> model id (0 for an id never bound) */
static uint64_t lookup(const hl_u64map *map, uint64_t key)
{
    uint64_t value = 0;
    hl_u64map_find(map, key, &value);
    return value;
}
static void bind(hl_u64map *map, uint64_t key, uint64_t value) { *hl_u64map_put(map, key, NULL) = value; }

static uint8_t opcode(hl_op_kind kind)
{
    switch (kind) {
    case HL_OP_ALLOC: return 0;
    case HL_OP_FREE: return 3;
    case HL_OP_REALLOC: return 5;
    case HL_OP_TOUCH: return 6;
    case HL_OP_USABLE: return 7;
    case HL_OP_SCOPE_ENTER: return 8;
    case HL_OP_SCOPE_EXIT: return 9;
    case HL_OP_PROMOTE: return 10;
    case HL_OP_FREE_ALL: return 11;
    default: return 12;
    }
}

static uint8_t misuse_of(hl_op_kind kind)
{
    static const hl_op_kind order[6] = {HL_OP_DOUBLE_FREE, HL_OP_FREE_INVALID, HL_OP_FREE_LAYOUT,
                                        HL_OP_OVERFLOW,    HL_OP_UNDERFLOW,    HL_OP_AFTER_FREE};
    for (uint8_t i = 0; i < 6; i++)
        if (order[i] == kind) return i;
    return 0;
}

uint8_t *hl_fuzz_encode(const hl_trace *trace, size_t *size)
{
    writer w = {NULL, 0, 0};
    fz_model m;
    fz_init(&m);
    hl_u64map blocks = {0}, scopes = {0};
    uint64_t *scratch = hl_mem_alloc((trace->count + 1) * sizeof *scratch);
    for (size_t i = 0; i < trace->count; i++) {
        hl_op op = trace->ops[i];
        hl_op_kind kind = (hl_op_kind)op.kind;
        if (op.expect_fail != HL_E_OK || op.has_thread) {
            put(&w, 13);
            put(&w, op.expect_fail);
            put_varint(&w, op.has_thread ? (uint64_t)op.thread + 1 : 0);
        }
        put(&w, opcode(kind));
        if (opcode(kind) == 12) put(&w, misuse_of(kind));
        if (kind == HL_OP_ALLOC) {
            bind(&blocks, op.id, m.next_id);
            op.id = m.next_id;
        } else if (kind == HL_OP_SCOPE_ENTER) {
            bind(&scopes, op.scope, m.next_scope);
            op.scope = m.next_scope;
        } else {
            if (kind != HL_OP_FREE_ALL && kind != HL_OP_SCOPE_EXIT) op.id = lookup(&blocks, op.id);
            if (kind == HL_OP_SCOPE_EXIT || kind == HL_OP_PROMOTE) op.scope = (uint32_t)lookup(&scopes, op.scope);
        }
        const fz_block *b = op.id && op.id < m.next_id ? &m.blocks[op.id] : NULL;
        switch (kind) {
        case HL_OP_ALLOC:
            put_size(&w, op.size);
            put_align(&w, op.align);
            put(&w, (uint8_t)(op.caps & HL_CAP_ALL));
            break;
        case HL_OP_FREE:
        case HL_OP_USABLE:
            put_varint(&w, b->live_at);
            break;
        case HL_OP_REALLOC:
            put_varint(&w, b->live_at);
            put_size(&w, op.size);
            break;
        case HL_OP_TOUCH:
            put_varint(&w, b->live_at);
            put_varint(&w, op.offset);
            put_varint(&w, op.size);
            put(&w, op.write);
            break;
        case HL_OP_SCOPE_EXIT:
        case HL_OP_PROMOTE: {
            uint32_t level = fz_level(&m, op.scope);
            put_varint(&w, m.depth - level);
            if (kind == HL_OP_SCOPE_EXIT) break;
            size_t count = fz_live_from(&m, level, scratch), at = 0;
            while (at < count && scratch[at] != op.id) at++;
            put_varint(&w, at);
            put_varint(&w, op.size);
            break;
        }
        case HL_OP_FREE_LAYOUT:
            put_varint(&w, b->live_at);
            put_size(&w, op.size);
            put_align(&w, op.align);
            break;
        case HL_OP_OVERFLOW:
        case HL_OP_UNDERFLOW:
            put_varint(&w, b->live_at);
            put_varint(&w, op.offset);
            break;
        case HL_OP_DOUBLE_FREE:
        case HL_OP_AFTER_FREE:
            put_varint(&w, b->freed_at);
            if (kind == HL_OP_AFTER_FREE) put_varint(&w, op.offset);
            break;
        case HL_OP_FREE_INVALID:
            put_varint(&w, op.id - 1);
            put_varint(&w, op.offset);
            break;
        default:
            break;
        }
        fz_apply(&m, &op);
    }
    hl_mem_free(scratch);
    hl_u64map_free(&blocks);
    hl_u64map_free(&scopes);
    fz_free(&m);
    *size = w.count;
    return w.bytes ? w.bytes : hl_mem_alloc(1);
}
