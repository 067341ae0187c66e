/* decode.c: bytes -> a valid operation stream (the format: hl_fuzz.h). */
#include "model.h"

#include <string.h>

typedef struct reader {
    const uint8_t *at, *end;
} reader;

static bool more(const reader *r) { return r->at < r->end; }
static uint8_t byte(reader *r) { return r->at < r->end ? *r->at++ : 0; }

static uint64_t varint(reader *r)
{
    uint64_t value = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
        uint8_t b = byte(r);
        value |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) break;
    }
    return value;
}

/* Sizes written out in full stay below 256 MiB (larger ones read modulo 256 MiB + 1):
 * an overcommitting malloc serves 15 GB lazily, and writing its pattern would take the
 * run minutes. The edge 2^40 (which nothing can serve) stays reachable. */
#define FZ_MAX_VARINT_SIZE (256ull << 20)

static uint64_t size_of(reader *r)
{
    uint8_t s = byte(r);
    return s < FZ_EDGES ? fz_edges[s] : s == 255 ? varint(r) % (FZ_MAX_VARINT_SIZE + 1) : (uint64_t)(s - FZ_EDGES);
}

static uint64_t align_of(reader *r)
{
    uint8_t a = byte(r);
    return a <= 16 ? (uint64_t)1 << a : a == 255 ? varint(r) : 16;
}

/* fail= goes only on alloc and realloc: a recorded-failed enter_scope or promote that
 * succeeds when replayed leaves the backend's scopes apart from the trace's, which
 * the executor does not reconcile yet (issue 10's notes). */
static bool may_fail(hl_op_kind kind)
{
    return kind == HL_OP_ALLOC || kind == HL_OP_REALLOC || kind == HL_OP_SCOPE_ENTER || kind == HL_OP_PROMOTE;
}

static const hl_op_kind kinds[16] = {
    HL_OP_ALLOC,       HL_OP_ALLOC,      HL_OP_ALLOC, HL_OP_FREE,     HL_OP_FREE,      HL_OP_REALLOC,
    HL_OP_TOUCH,       HL_OP_USABLE,     HL_OP_SCOPE_ENTER, HL_OP_SCOPE_EXIT, HL_OP_PROMOTE, HL_OP_FREE_ALL,
    HL_OP_DOUBLE_FREE, HL_OP_COUNT,      HL_OP_ALLOC, HL_OP_FREE};
static const hl_op_kind misuses[6] = {HL_OP_DOUBLE_FREE, HL_OP_FREE_INVALID, HL_OP_FREE_LAYOUT,
                                      HL_OP_OVERFLOW,    HL_OP_UNDERFLOW,    HL_OP_AFTER_FREE};

/* Forms one operation from the bytes; false if it cannot be formed (dropped). */
static bool form(reader *r, fz_model *m, hl_op_kind kind, hl_op *op, uint64_t *scratch)
{
    op->kind = (uint8_t)kind;
    switch (kind) {
    case HL_OP_ALLOC:
        op->id = m->next_id;
        op->size = size_of(r);
        op->align = align_of(r);
        op->caps = byte(r) & HL_CAP_ALL;
        return true;
    case HL_OP_FREE:
    case HL_OP_USABLE:
    case HL_OP_REALLOC:
    case HL_OP_TOUCH:
    case HL_OP_FREE_LAYOUT:
    case HL_OP_OVERFLOW:
    case HL_OP_UNDERFLOW: {
        uint64_t k = varint(r);
        if (!m->live_count) return false;
        op->id = m->live[k % m->live_count];
        const fz_block *b = &m->blocks[op->id];
        if (kind == HL_OP_REALLOC) op->size = size_of(r);
        if (kind == HL_OP_TOUCH) {
            op->offset = varint(r) % (b->size + 1);
            op->size = varint(r) % (b->size - op->offset + 1);
            op->write = byte(r) & 1;
        }
        if (kind == HL_OP_FREE_LAYOUT) {
            op->size = size_of(r);
            op->align = align_of(r);
            if (op->size == b->size && op->align == b->align) op->size++;
        }
        if (kind == HL_OP_OVERFLOW || kind == HL_OP_UNDERFLOW) op->offset = varint(r);
        return true;
    }
    case HL_OP_SCOPE_ENTER:
        op->scope = m->next_scope;
        return true;
    case HL_OP_SCOPE_EXIT:
    case HL_OP_PROMOTE: {
        uint64_t k = varint(r);
        if (!m->depth) return false;
        uint32_t level = m->depth - (uint32_t)(k % m->depth);
        op->scope = m->scopes[level];
        if (kind == HL_OP_SCOPE_EXIT) return true;
        uint64_t pick = varint(r), n = varint(r);
        size_t count = fz_live_from(m, level, scratch);
        if (!count) return false;
        op->id = scratch[pick % count];
        op->size = n % (m->blocks[op->id].size + 1);
        return true;
    }
    case HL_OP_FREE_ALL:
        return true;
    case HL_OP_DOUBLE_FREE:
    case HL_OP_AFTER_FREE: {
        uint64_t k = varint(r);
        if (!m->freed_count) return false;
        op->id = m->freed[k % m->freed_count];
        if (kind == HL_OP_DOUBLE_FREE) return true;
        uint64_t size = m->blocks[op->id].size, offset = varint(r);
        if (!size) return false;
        op->offset = offset % size;
        return true;
    }
    case HL_OP_FREE_INVALID: {
        uint64_t k = varint(r), offset = varint(r);
        if (m->next_id == 1) return false;
        op->id = 1 + k % (m->next_id - 1);
        op->offset = offset ? offset : 1;
        return true;
    }
    default:
        return false;
    }
}

void hl_fuzz_decode(const uint8_t *bytes, size_t size, size_t max_ops, const char *name, hl_trace *out)
{
    memset(out, 0, sizeof *out);
    out->path = hl_mem_strdup(name ? name : "fuzz-input");
    out->form = HL_TRACE_BINARY;
    reader r = {bytes, bytes + size};
    fz_model m;
    fz_init(&m);
    uint64_t *scratch = NULL;
    size_t scratch_cap = 0;
    hl_error fail = HL_E_OK;
    uint32_t thread = 0;
    bool has_thread = false;
    while (more(&r) && out->count < max_ops) {
        uint64_t at = (uint64_t)(r.at - bytes);
        uint8_t c = byte(&r);
        hl_op_kind kind = kinds[c % 16];
        if (c % 16 == 13) { /* annotate the next operation */
            uint8_t e = byte(&r);
            uint64_t t = varint(&r);
            fail = e % HL_E_COUNT;
            has_thread = t != 0;
            thread = has_thread ? (uint32_t)(t - 1) : 0;
            continue;
        }
        if (c % 16 == 12) kind = misuses[byte(&r) % 6];
        if (m.live_count + 1 > scratch_cap) {
            scratch_cap = (m.live_count + 1) * 2;
            scratch = hl_mem_realloc(scratch, scratch_cap * sizeof *scratch);
        }
        hl_op op;
        memset(&op, 0, sizeof op);
        bool formed = form(&r, &m, kind, &op, scratch);
        if (formed) {
            op.line = at; /* a byte offset, as in a binary trace */
            op.expect_fail = (uint8_t)(may_fail(kind) ? fail : HL_E_OK);
            op.has_thread = has_thread;
            op.thread = thread;
            fz_apply(&m, &op);
            hl_trace_push(out, &op);
        }
        fail = HL_E_OK;
        has_thread = false;
        thread = 0;
    }
    hl_mem_free(scratch);
    fz_free(&m);
}
