/* trace_binary.c: the binary form of a trace (traces/FORMAT.md): an 8-byte header
 * ("HLTRACE" + version byte 1), then records: metadata (0xFE), operations (kind
 * byte = position in HL_OP_KINDS, a flags byte, LEB128 fields), and an end record
 * (0xFF + the operation count).
 *
 * The reader trusts nothing: every read goes through a cursor that checks the bytes
 * left, every varint is at most 10 bytes and must fit 64 bits, every length is
 * bounded before it is used. The reader is fed the bytes a piece at a time
 * (trace_read.c): a record the piece ends inside comes again with the bytes after
 * it, and running out of bytes inside the file's last record is a cut tail (the
 * record is dropped, with a warning); anything malformed is an error naming the byte
 * offset of the record. */
#include "hl_trace.h"
#include "trace_form.h"

#include <stdarg.h>
#include <string.h>

#define RECORD_META 0xFEu
#define RECORD_END 0xFFu

#define FLAG_ALIGN 0x01u  /* alloc: align follows (absent: 1) */
#define FLAG_CAPS 0x02u   /* alloc: caps follow (absent: none) */
#define FLAG_THREAD 0x04u /* a thread id follows */
#define FLAG_FAIL 0x08u   /* an error name follows (length + bytes) */
#define FLAG_WRITE 0x10u  /* touch: a write (absent: a read) */
#define FLAG_KNOWN 0x1Fu

#define FAIL_NAME_MAX 32u

typedef enum { GOT, CUT, BAD } got;

typedef struct cursor {
    const unsigned char *bytes;
    size_t size, pos;
} cursor;

static got read_byte(cursor *c, unsigned *out)
{
    if (c->pos >= c->size) return CUT;
    *out = c->bytes[c->pos++];
    return GOT;
}

/* LEB128, at most 10 bytes; the 10th may only hold the top bit of a u64. */
static got read_varint(cursor *c, uint64_t *out)
{
    uint64_t value = 0;
    for (unsigned i = 0; i < 10; i++) {
        if (c->pos >= c->size) return CUT;
        unsigned byte = c->bytes[c->pos++];
        if (i == 9 && byte > 1) return BAD;
        value |= (uint64_t)(byte & 0x7f) << (7 * i);
        if (!(byte & 0x80)) {
            *out = value;
            return GOT;
        }
    }
    return BAD;
}

typedef struct binary_reader {
    hl_reader *in;         /* the read's state across pieces */
    uint64_t record;       /* byte offset in the file of the record being read */
    const char *kind_name; /* the operation being read, for messages, or NULL */
} binary_reader;

static int bad(binary_reader *r, hl_diag *diag, const char *fmt, ...)
{
    char what[460];
    va_list args;
    va_start(args, fmt);
    vsnprintf(what, sizeof what, fmt, args);
    va_end(args);
    const char *path = r->in->out->path;
    unsigned long long at = (unsigned long long)r->record;
    if (r->kind_name)
        snprintf(diag->message, sizeof diag->message, "%s: byte %llu: %s: %s", path, at, r->kind_name, what);
    else
        snprintf(diag->message, sizeof diag->message, "%s: byte %llu: %s", path, at, what);
    return -1;
}

/* Reads a varint field; *status is CUT/BAD when it could not. */
static got field(cursor *c, uint64_t *out, binary_reader *r, hl_diag *diag, const char *label, int *rc)
{
    got g = read_varint(c, out);
    if (g == BAD) *rc = bad(r, diag, "%s: varint longer than 10 bytes or past 64 bits", label);
    return g;
}

/* One operation record after its kind byte. GOT (op filled), CUT, or BAD (*rc, diag). */
static got read_op(cursor *c, hl_op_kind kind, hl_op *op, binary_reader *r, hl_diag *diag, int *rc)
{
    const hl_op_fields *fields = hl_op_fields_of(kind);
    unsigned flags;
    if (read_byte(c, &flags) == CUT) return CUT;
    if (flags & ~FLAG_KNOWN) {
        *rc = bad(r, diag, "unknown flag bits 0x%02x", flags & ~FLAG_KNOWN);
        return BAD;
    }
    if ((flags & (FLAG_ALIGN | FLAG_CAPS)) && kind != HL_OP_ALLOC) {
        *rc = bad(r, diag, "flag %s only applies to alloc", flags & FLAG_ALIGN ? "align" : "caps");
        return BAD;
    }
    if ((flags & FLAG_WRITE) && kind != HL_OP_TOUCH) {
        *rc = bad(r, diag, "flag write only applies to touch");
        return BAD;
    }
    memset(op, 0, sizeof *op);
    op->kind = (uint8_t)kind;
    op->align = 1;
    got g;
    for (unsigned f = 0; f < fields->count; f++) {
        uint64_t value = 0;
        hl_op_field which = (hl_op_field)fields->field[f];
        if (which == HL_FIELD_RW) {
            op->write = (flags & FLAG_WRITE) != 0;
            continue;
        }
        if ((g = field(c, &value, r, diag, fields->label[f], rc)) != GOT) return g;
        switch (which) {
        case HL_FIELD_ID: op->id = value; break;
        case HL_FIELD_SIZE: op->size = value; break;
        case HL_FIELD_ALIGN: op->align = value; break;
        case HL_FIELD_OFFSET: op->offset = value; break;
        case HL_FIELD_SCOPE:
            if (value > UINT32_MAX) {
                *rc = bad(r, diag, "scope id %llu does not fit in 32 bits", (unsigned long long)value);
                return BAD;
            }
            op->scope = (uint32_t)value;
            break;
        case HL_FIELD_RW: break;
        }
    }
    uint64_t value = 0;
    if (flags & FLAG_ALIGN) {
        if ((g = field(c, &value, r, diag, "align", rc)) != GOT) return g;
        op->align = value;
    }
    if (flags & FLAG_CAPS) {
        if ((g = field(c, &value, r, diag, "caps", rc)) != GOT) return g;
        if (value & ~(uint64_t)HL_CAP_ALL) {
            *rc = bad(r, diag, "caps 0x%llx has bits outside exec+dma", (unsigned long long)value);
            return BAD;
        }
        op->caps = (uint32_t)value;
    }
    if (flags & FLAG_THREAD) {
        if ((g = field(c, &value, r, diag, "thread id", rc)) != GOT) return g;
        if (value > UINT32_MAX) {
            *rc = bad(r, diag, "thread id %llu does not fit in 32 bits", (unsigned long long)value);
            return BAD;
        }
        op->has_thread = 1;
        op->thread = (uint32_t)value;
    }
    if (flags & FLAG_FAIL) {
        if ((g = field(c, &value, r, diag, "fail name length", rc)) != GOT) return g;
        if (value == 0 || value > FAIL_NAME_MAX) {
            *rc = bad(r, diag, "fail name length %llu is outside 1..%u", (unsigned long long)value, FAIL_NAME_MAX);
            return BAD;
        }
        if (c->size - c->pos < value) return CUT;
        char name[FAIL_NAME_MAX + 1];
        memcpy(name, c->bytes + c->pos, (size_t)value);
        name[value] = '\0';
        c->pos += (size_t)value;
        hl_error error = strlen(name) == value ? hl_error_from_name(name) : HL_E_COUNT;
        if (error == HL_E_OK || error >= HL_E_COUNT) {
            for (char *s = name; *s; s++)
                if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f) *s = '?';
            *rc = bad(r, diag, "fail=%s is not an error name", name);
            return BAD;
        }
        op->expect_fail = (uint8_t)error;
    }
    return GOT;
}

/* A metadata record after its code byte. */
static got read_meta(cursor *c, binary_reader *r, hl_diag *diag, int *rc)
{
    uint64_t key_length, value_length;
    got g;
    if ((g = field(c, &key_length, r, diag, "key length", rc)) != GOT) return g;
    if (key_length == 0 || key_length > HL_TRACE_META_KEY_MAX) {
        *rc = bad(r, diag, "metadata key length %llu is outside 1..%u", (unsigned long long)key_length,
                  HL_TRACE_META_KEY_MAX);
        return BAD;
    }
    if (c->size - c->pos < key_length) return CUT;
    const char *key = (const char *)c->bytes + c->pos;
    c->pos += (size_t)key_length;
    if ((g = field(c, &value_length, r, diag, "value length", rc)) != GOT) return g;
    if (value_length > HL_TRACE_META_VALUE_MAX) {
        *rc = bad(r, diag, "metadata value length %llu is over %u", (unsigned long long)value_length,
                  HL_TRACE_META_VALUE_MAX);
        return BAD;
    }
    if (c->size - c->pos < value_length) return CUT;
    const char *value = (const char *)c->bytes + c->pos;
    c->pos += (size_t)value_length;
    char problem[400];
    if (hl_trace_add_meta(r->in->out, key, (size_t)key_length, value, (size_t)value_length, problem,
                          sizeof problem) != 0) {
        *rc = bad(r, diag, "%s", problem);
        return BAD;
    }
    return GOT;
}

int hl_trace_feed_binary(hl_reader *in, const unsigned char *bytes, size_t size, bool last, size_t *used,
                         hl_diag *diag)
{
    binary_reader reader = {.in = in, .record = in->offset};
    binary_reader *r = &reader;
    *used = 0;
    cursor c = {bytes, size, 0};
    if (!in->started) {
        if (size < HL_TRACE_BINARY_HEADER) {
            if (!last) return 0;
            snprintf(diag->message, sizeof diag->message, "%s: cut inside its header (%zu of %u bytes)", in->out->path,
                     size, HL_TRACE_BINARY_HEADER);
            return -1;
        }
        if (memcmp(bytes, HL_TRACE_BINARY_MAGIC, HL_TRACE_BINARY_HEADER) != 0) {
            r->record = HL_TRACE_BINARY_HEADER - 1;
            return bad(r, diag, "unsupported binary trace version %u (this heaplab reads version 1)",
                       bytes[HL_TRACE_BINARY_HEADER - 1]);
        }
        in->started = true;
        in->out->form = HL_TRACE_BINARY;
        c.pos = HL_TRACE_BINARY_HEADER;
    }
    int rc = 0;
    size_t done = c.pos; /* the end of the last complete record */
    while (c.pos < size) {
        r->record = in->offset + c.pos;
        r->kind_name = NULL;
        if (in->seen_end) return bad(r, diag, "content after the end record");
        unsigned code = c.bytes[c.pos++];
        got g;
        if (code == RECORD_END) {
            uint64_t count;
            if ((g = field(&c, &count, r, diag, "operation count", &rc)) == BAD) return -1;
            if (g == CUT) break;
            if (count != in->ops)
                return bad(r, diag, "end record counts %llu operations, the trace holds %llu",
                           (unsigned long long)count, (unsigned long long)in->ops);
            in->seen_end = true;
        } else if (code == RECORD_META) {
            if (in->ops > 0) return bad(r, diag, "metadata record after the first operation");
            if ((g = read_meta(&c, r, diag, &rc)) == BAD) return -1;
            if (g == CUT) break;
        } else {
            if (code >= HL_OP_COUNT) return bad(r, diag, "unknown record code 0x%02x", code);
            r->kind_name = hl_op_name((hl_op_kind)code);
            hl_op op;
            if ((g = read_op(&c, (hl_op_kind)code, &op, r, diag, &rc)) == BAD) return -1;
            if (g == CUT) break;
            op.line = r->record;
            int took = in->sink->take(in->sink->context, in->out, &op, diag);
            if (took != 0) return in->stopped = took == HL_SINK_STOP, -1;
            in->ops++;
        }
        done = c.pos;
    }
    /* a record cut short: it comes again with the bytes after it, or is the cut tail */
    *used = last ? size : done;
    in->offset += *used;
    return 0;
}

/* ---------------------------------------------------------------- writer */

static unsigned char *put_varint(unsigned char *at, uint64_t value)
{
    while (value >= 0x80) {
        *at++ = (unsigned char)(value | 0x80);
        value >>= 7;
    }
    *at++ = (unsigned char)value;
    return at;
}

void hl_trace_binary_head(const hl_trace *trace, FILE *out)
{
    fwrite(HL_TRACE_BINARY_MAGIC, 1, HL_TRACE_BINARY_HEADER, out);
    unsigned char record[16], *at;
    for (size_t i = 0; i < trace->meta_count; i++) {
        size_t key_length = strlen(trace->meta[i].key), value_length = strlen(trace->meta[i].value);
        at = record;
        *at++ = RECORD_META;
        at = put_varint(at, key_length);
        fwrite(record, 1, (size_t)(at - record), out);
        fwrite(trace->meta[i].key, 1, key_length, out);
        at = put_varint(record, value_length);
        fwrite(record, 1, (size_t)(at - record), out);
        fwrite(trace->meta[i].value, 1, value_length, out);
    }
}

void hl_trace_binary_op(const hl_op *op, FILE *out)
{
    const hl_op_fields *fields = hl_op_fields_of((hl_op_kind)op->kind);
    unsigned flags = 0;
    if (op->kind == HL_OP_ALLOC && op->align != 1) flags |= FLAG_ALIGN;
    if (op->kind == HL_OP_ALLOC && op->caps) flags |= FLAG_CAPS;
    if (op->has_thread) flags |= FLAG_THREAD;
    if (op->expect_fail) flags |= FLAG_FAIL;
    if (op->kind == HL_OP_TOUCH && op->write) flags |= FLAG_WRITE;
    unsigned char record[128], *at = record;
    *at++ = op->kind;
    *at++ = (unsigned char)flags;
    for (unsigned f = 0; f < fields->count; f++) {
        switch ((hl_op_field)fields->field[f]) {
        case HL_FIELD_ID: at = put_varint(at, op->id); break;
        case HL_FIELD_SIZE: at = put_varint(at, op->size); break;
        case HL_FIELD_ALIGN: at = put_varint(at, op->align); break;
        case HL_FIELD_OFFSET: at = put_varint(at, op->offset); break;
        case HL_FIELD_SCOPE: at = put_varint(at, op->scope); break;
        case HL_FIELD_RW: break;
        }
    }
    if (flags & FLAG_ALIGN) at = put_varint(at, op->align);
    if (flags & FLAG_CAPS) at = put_varint(at, op->caps);
    if (flags & FLAG_THREAD) at = put_varint(at, op->thread);
    if (flags & FLAG_FAIL) {
        const char *name = hl_error_name((hl_error)op->expect_fail);
        size_t n = strlen(name);
        at = put_varint(at, n);
        memcpy(at, name, n);
        at += n;
    }
    fwrite(record, 1, (size_t)(at - record), out);
}

void hl_trace_binary_tail(uint64_t count, FILE *out)
{
    unsigned char record[16], *at = record;
    *at++ = RECORD_END;
    at = put_varint(at, count);
    fwrite(record, 1, (size_t)(at - record), out);
}
