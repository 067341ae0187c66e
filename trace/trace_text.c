/* trace_text.c: the text form of a trace (traces/FORMAT.md): one line per
 * operation, `#@key=value` metadata before the first operation, `#` comments, an
 * `end` line last.
 *
 * The reader is fed the bytes a piece at a time (trace_read.c) and parses the
 * complete lines of each piece in place (nothing is copied per line), never past its
 * end; an incomplete last line comes again with the bytes after it. A line that does
 * not parse is an error, except the file's last line when it has no newline and no
 * end marker came before it: that line was cut short (a cut tail), so it is dropped
 * with a warning. */
#include "hl_trace.h"
#include "trace_form.h"

#include <stdarg.h>
#include <string.h>

typedef hl_reader text_reader;

static int problem(text_reader *r, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    vsnprintf(r->problem, sizeof r->problem, fmt, args);
    va_end(args);
    return -1;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* The next token of [*p, end) into tok/len; false at the line's end or a `#`. */
static bool next_token(const char **p, const char *end, const char **tok, size_t *len)
{
    const char *s = *p;
    while (s < end && is_space(*s)) s++;
    if (s == end || *s == '#') {
        *p = end;
        return false;
    }
    const char *t = s;
    while (t < end && !is_space(*t)) t++;
    *tok = s;
    *len = (size_t)(t - s);
    *p = t;
    return true;
}

static bool token_is(const char *tok, size_t len, const char *word)
{
    return strlen(word) == len && memcmp(tok, word, len) == 0;
}

/* The closest keyword to an unknown word (edit distance <= 2), or NULL. */
static const char *suggest(const char *word, size_t n)
{
    if (n > 20) return NULL;
    const char *best = NULL;
    unsigned best_distance = 3;
    for (unsigned k = 0; k < HL_OP_COUNT; k++) {
        const char *name = hl_op_name((hl_op_kind)k);
        size_t m = strlen(name);
        unsigned row[24];
        for (size_t j = 0; j <= m; j++) row[j] = (unsigned)j;
        for (size_t i = 1; i <= n; i++) {
            unsigned diagonal = row[0];
            row[0] = (unsigned)i;
            for (size_t j = 1; j <= m; j++) {
                unsigned up = row[j];
                unsigned cost = diagonal + (word[i - 1] != name[j - 1]);
                unsigned best_here = up + 1 < row[j - 1] + 1 ? up + 1 : row[j - 1] + 1;
                row[j] = cost < best_here ? cost : best_here;
                diagonal = up;
            }
        }
        if (row[m] < best_distance) {
            best_distance = row[m];
            best = name;
        }
    }
    return best;
}

/* ---------------------------------------------------------------- operation lines */

static int number_problem(text_reader *r, const char *kind, const char *label, const char *tok, size_t len,
                          hl_number result, unsigned bits)
{
    if (result == HL_NUMBER_BAD)
        return problem(r, "%s: %s '%s' is not a number", kind, label, hl_show(tok, len).text);
    return problem(r, "%s: %s %s does not fit in %u bits", kind, label, hl_show(tok, len).text, bits);
}

static int parse_u32(text_reader *r, const char *kind, const char *label, const char *tok, size_t len,
                     uint32_t *out)
{
    uint64_t value = 0;
    hl_number result = hl_parse_number(tok, len, false, &value);
    if (result == HL_NUMBER_OK && value > UINT32_MAX) result = HL_NUMBER_TOO_LARGE;
    if (result != HL_NUMBER_OK) return number_problem(r, kind, label, tok, len, result, 32);
    *out = (uint32_t)value;
    return 0;
}

static int parse_u64(text_reader *r, const char *kind, const char *label, const char *tok, size_t len,
                     bool suffixes, uint64_t *out)
{
    hl_number result = hl_parse_number(tok, len, suffixes, out);
    return result == HL_NUMBER_OK ? 0 : number_problem(r, kind, label, tok, len, result, 64);
}

static int parse_field(text_reader *r, const char *kind, hl_op_field field, const char *label, const char *tok,
                       size_t len, hl_op *op)
{
    switch (field) {
    case HL_FIELD_ID: return parse_u64(r, kind, label, tok, len, false, &op->id);
    case HL_FIELD_SIZE: return parse_u64(r, kind, label, tok, len, true, &op->size);
    case HL_FIELD_ALIGN: return parse_u64(r, kind, label, tok, len, true, &op->align);
    case HL_FIELD_OFFSET: return parse_u64(r, kind, label, tok, len, true, &op->offset);
    case HL_FIELD_SCOPE: return parse_u32(r, kind, "scope id", tok, len, &op->scope);
    case HL_FIELD_RW:
        if (token_is(tok, len, "r") || token_is(tok, len, "w")) {
            op->write = tok[0] == 'w';
            return 0;
        }
        return problem(r, "%s: access '%s' is neither r nor w", kind, hl_show(tok, len).text);
    }
    return problem(r, "%s: bad field table", kind);
}

enum { ANNOTATION_ALIGN = 1, ANNOTATION_CAPS = 2, ANNOTATION_FAIL = 4, ANNOTATION_THREAD = 8 };

static int parse_annotation(text_reader *r, hl_op_kind kind, const char *tok, size_t len, const char *eq,
                            unsigned *seen, hl_op *op)
{
    const char *name = hl_op_name(kind);
    const char *key = tok, *value = eq + 1;
    size_t key_length = (size_t)(eq - tok), value_length = len - key_length - 1;
    unsigned bit = token_is(key, key_length, "align")  ? ANNOTATION_ALIGN
                   : token_is(key, key_length, "caps") ? ANNOTATION_CAPS
                   : token_is(key, key_length, "fail") ? ANNOTATION_FAIL
                   : token_is(key, key_length, "t")    ? ANNOTATION_THREAD
                                                       : 0;
    if (!bit) return problem(r, "unknown annotation '%s' (known: align=, caps=, fail=, t=)", hl_show(tok, len).text);
    if (*seen & bit) return problem(r, "%s: annotation %.*s= is given twice", name, (int)key_length, key);
    *seen |= bit;
    if ((bit == ANNOTATION_ALIGN || bit == ANNOTATION_CAPS) && kind != HL_OP_ALLOC)
        return problem(r, "%s: annotation '%s' only applies to alloc", name, hl_show(tok, len).text);
    switch (bit) {
    case ANNOTATION_ALIGN:
        return parse_u64(r, name, "align", value, value_length, true, &op->align);
    case ANNOTATION_CAPS:
        if (token_is(value, value_length, "none")) op->caps = HL_CAP_NONE;
        else if (token_is(value, value_length, "exec")) op->caps = HL_CAP_EXEC;
        else if (token_is(value, value_length, "dma")) op->caps = HL_CAP_DMA;
        else if (token_is(value, value_length, "exec+dma") || token_is(value, value_length, "dma+exec"))
            op->caps = HL_CAP_EXEC | HL_CAP_DMA;
        else
            return problem(r, "%s: caps=%s is not exec, dma, exec+dma or none", name,
                           hl_show(value, value_length).text);
        return 0;
    case ANNOTATION_FAIL: {
        char buffer[40];
        hl_error error = HL_E_COUNT;
        if (value_length < sizeof buffer && !memchr(value, '\0', value_length)) {
            memcpy(buffer, value, value_length);
            buffer[value_length] = '\0';
            error = hl_error_from_name(buffer);
        }
        if (error == HL_E_OK)
            return problem(r, "%s: fail=OK is not a failure (leave fail= out for an operation that succeeded)", name);
        if (error >= HL_E_COUNT) {
            char names[300];
            size_t used = 0;
            for (unsigned e = 1; e < HL_E_COUNT && used < sizeof names; e++)
                used += (size_t)snprintf(names + used, sizeof names - used, "%s%s", e > 1 ? ", " : "",
                                         hl_error_name((hl_error)e));
            return problem(r, "%s: fail=%s is not an error name (one of %s)", name, hl_show(value, value_length).text,
                           names);
        }
        op->expect_fail = (uint8_t)error;
        return 0;
    }
    default: {
        uint64_t thread = 0;
        hl_number result = hl_parse_number(value, value_length, false, &thread);
        if (result == HL_NUMBER_BAD)
            return problem(r, "%s: t=%s: thread id is not a number", name, hl_show(value, value_length).text);
        if (result == HL_NUMBER_TOO_LARGE || thread > UINT32_MAX)
            return problem(r, "%s: thread id %s does not fit in 32 bits", name, hl_show(value, value_length).text);
        op->has_thread = 1;
        op->thread = (uint32_t)thread;
        return 0;
    }
    }
}

/* Parses the operation on [p, end), whose first token is the keyword tok. */
static int parse_op(text_reader *r, const char *tok, size_t len, const char *p, const char *end, hl_op *op)
{
    hl_op_kind kind = hl_op_from_name(tok, len);
    if (kind == HL_OP_COUNT) {
        const char *near = suggest(tok, len);
        if (near) return problem(r, "unknown operation '%s' (did you mean '%s'?)", hl_show(tok, len).text, near);
        return problem(r, "unknown operation '%s'", hl_show(tok, len).text);
    }
    const hl_op_fields *fields = hl_op_fields_of(kind);
    const char *name = hl_op_name(kind);
    memset(op, 0, sizeof *op);
    op->kind = (uint8_t)kind;
    op->align = 1;
    unsigned given = 0, seen = 0;
    while (next_token(&p, end, &tok, &len)) {
        const char *eq = memchr(tok, '=', len);
        if (eq) {
            if (parse_annotation(r, kind, tok, len, eq, &seen, op) != 0) return -1;
            continue;
        }
        if (given == fields->count)
            return problem(r, "%s: extra field '%s' (usage: %s)", name, hl_show(tok, len).text, fields->usage);
        if (parse_field(r, name, (hl_op_field)fields->field[given], fields->label[given], tok, len, op) != 0)
            return -1;
        given++;
    }
    if (given < fields->count)
        return problem(r, "%s: missing field %s (usage: %s)", name, fields->label[given], fields->usage);
    return 0;
}

/* ---------------------------------------------------------------- reader */

/* A metadata line is `#@KEY=VALUE` with KEY of key bytes; key/value set if so. */
static bool metadata_line(const char *s, const char *end, const char **key, size_t *key_length,
                          const char **value, size_t *value_length)
{
    if (end - s < 3 || s[0] != '#' || s[1] != '@') return false;
    const char *k = s + 2, *t = k;
    while (t < end && hl_trace_meta_key_byte((unsigned char)*t)) t++;
    if (t == k || t == end || *t != '=') return false;
    *key = k;
    *key_length = (size_t)(t - k);
    *value = t + 1;
    *value_length = (size_t)(end - t - 1);
    return true;
}

static int read_fail(text_reader *r, hl_diag *diag, uint64_t line)
{
    snprintf(diag->message, sizeof diag->message, "%s:%llu: %s", r->out->path, (unsigned long long)line, r->problem);
    return -1;
}

/* Line 1: the magic, exactly. */
static int check_magic(text_reader *r, const char *bytes, const char *line_end, hl_diag *diag)
{
    if (line_end > bytes && line_end[-1] == '\r') line_end--;
    size_t magic_length = strlen(HL_TRACE_TEXT_MAGIC), prefix_length = strlen(HL_TRACE_TEXT_PREFIX);
    if ((size_t)(line_end - bytes) == magic_length && memcmp(bytes, HL_TRACE_TEXT_MAGIC, magic_length) == 0) return 0;
    const char *version = bytes + prefix_length;
    uint64_t number;
    if ((size_t)(line_end - bytes) > prefix_length && memcmp(bytes, HL_TRACE_TEXT_PREFIX, prefix_length) == 0 &&
        hl_parse_number(version, (size_t)(line_end - version), false, &number) != HL_NUMBER_BAD)
        problem(r, "unsupported trace version '%s' (this heaplab reads version 1)",
                hl_show(version, (size_t)(line_end - version)).text);
    else
        problem(r, "first line must be exactly '%s', not '%s'", HL_TRACE_TEXT_MAGIC,
                hl_show(bytes, (size_t)(line_end - bytes)).text);
    return read_fail(r, diag, 1);
}

/* One line's content (no line break): metadata, a comment, the end marker or an
 * operation. 0, or -1 with r->problem. */
static int parse_line(text_reader *r, const char *s, const char *content_end, hl_diag *diag, bool *may_be_cut)
{
    *may_be_cut = true;
    if (content_end > s && content_end[-1] == '\r') content_end--;
    while (s < content_end && is_space(*s)) s++;
    if (s == content_end) return 0; /* blank */
    const char *key, *value;
    size_t key_length, value_length;
    bool metadata = metadata_line(s, content_end, &key, &key_length, &value, &value_length);
    if (!metadata && s[0] == '#') return 0; /* comment */
    if (r->seen_end) {
        *may_be_cut = false; /* not a cut tail: an error wherever it stands */
        return problem(r, "content after the end marker (line %llu)", (unsigned long long)r->end_line);
    }
    if (metadata) {
        if (r->ops > 0)
            return problem(r, "metadata '#@%s=...' after the first operation (metadata goes before the operations)",
                           hl_show(key, key_length).text);
        return hl_trace_add_meta(r->out, key, key_length, value, value_length, r->problem, sizeof r->problem);
    }
    const char *tok = s, *cursor = s;
    size_t len = 0;
    next_token(&cursor, content_end, &tok, &len); /* true: the line is not blank */
    if (token_is(tok, len, "end")) {
        const char *extra;
        if (next_token(&cursor, content_end, &extra, &len))
            return problem(r, "end: extra field '%s' (the end marker is the word end alone)", hl_show(extra, len).text);
        r->seen_end = true;
        r->end_line = r->line;
        return 0;
    }
    hl_op op;
    if (parse_op(r, tok, len, cursor, content_end, &op) != 0) return -1;
    op.line = r->line;
    *may_be_cut = false; /* a sink's refusal is final, never a cut tail */
    int took = r->sink->take(r->sink->context, r->out, &op, diag);
    if (took != 0) return r->stopped = took == HL_SINK_STOP, 1;
    r->ops++;
    return 0;
}

int hl_trace_feed_text(text_reader *r, const char *bytes, size_t size, bool last, size_t *used, hl_diag *diag)
{
    const char *p = bytes, *end = bytes + size;
    *used = 0;
    if (!r->started) {
        const char *eol = memchr(bytes, '\n', size);
        if (!eol && !last) return 0; /* the first line is not complete yet */
        if (check_magic(r, bytes, eol ? eol : end, diag) != 0) return -1;
        r->started = true;
        r->out->form = HL_TRACE_TEXT;
        r->line = 1;
        p = eol ? eol + 1 : end;
    }
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol && !last) break; /* an incomplete line: it comes again with what follows */
        r->line++;
        bool cut_short = false;
        int rc = parse_line(r, p, eol ? eol : end, diag, &cut_short);
        if (rc == 1) return -1; /* the sink said why */
        if (rc != 0) {
            if (!eol && cut_short) { /* the last line was cut short: a cut tail */
                p = end;
                break;
            }
            return read_fail(r, diag, r->line);
        }
        p = eol ? eol + 1 : end;
    }
    *used = (size_t)(p - bytes);
    return 0;
}

/* ---------------------------------------------------------------- writer */

static char *put_text(char *at, const char *text)
{
    size_t n = strlen(text);
    memcpy(at, text, n);
    return at + n;
}

static char *put_u64(char *at, uint64_t value)
{
    char digits[20];
    int n = 0;
    do digits[n++] = (char)('0' + value % 10);
    while ((value /= 10) != 0);
    while (n) *at++ = digits[--n];
    return at;
}

void hl_trace_text_head(const hl_trace *trace, FILE *out)
{
    fputs(HL_TRACE_TEXT_MAGIC "\n", out);
    for (size_t i = 0; i < trace->meta_count; i++)
        fprintf(out, "#@%s=%s\n", trace->meta[i].key, trace->meta[i].value);
}

void hl_trace_text_op(const hl_op *op, FILE *out)
{
    static const char *const caps_names[] = {"none", "exec", "dma", "exec+dma"};
    const hl_op_fields *fields = hl_op_fields_of((hl_op_kind)op->kind);
    char line[256], *at = put_text(line, hl_op_name((hl_op_kind)op->kind));
    for (unsigned f = 0; f < fields->count; f++) {
        *at++ = ' ';
        switch ((hl_op_field)fields->field[f]) {
        case HL_FIELD_ID: at = put_u64(at, op->id); break;
        case HL_FIELD_SIZE: at = put_u64(at, op->size); break;
        case HL_FIELD_ALIGN: at = put_u64(at, op->align); break;
        case HL_FIELD_OFFSET: at = put_u64(at, op->offset); break;
        case HL_FIELD_SCOPE: at = put_u64(at, op->scope); break;
        case HL_FIELD_RW: *at++ = op->write ? 'w' : 'r'; break;
        }
    }
    if (op->kind == HL_OP_ALLOC && op->align != 1) at = put_u64(put_text(at, " align="), op->align);
    if (op->kind == HL_OP_ALLOC && op->caps) at = put_text(put_text(at, " caps="), caps_names[op->caps & 3]);
    if (op->has_thread) at = put_u64(put_text(at, " t="), op->thread);
    if (op->expect_fail) at = put_text(put_text(at, " fail="), hl_error_name((hl_error)op->expect_fail));
    *at++ = '\n';
    fwrite(line, 1, (size_t)(at - line), out);
}

void hl_trace_text_tail(uint64_t count, FILE *out)
{
    (void)count;
    fputs("end\n", out);
}
