/* import.c: hl_import, the entry point of the importers of foreign allocation logs,
 * and what they share: line reading, numbers, messages, and the operations emitted by
 * address (each live address mapped to its block id, so the trace stays consistent
 * whatever the log holds). */
#include "importer.h"

#include <stdarg.h>
#include <string.h>

typedef struct format {
    const char *name;
    int (*run)(hl_importer *im);
} format;

static const format formats[] = {
    {"mtrace", hl_import_mtrace},
    {"malloclab", hl_import_malloclab},
    {"logalloc", hl_import_logalloc},
    {"valgrind", hl_import_valgrind},
};
#define FORMAT_COUNT (sizeof formats / sizeof formats[0])

static const format *format_named(const char *name)
{
    for (size_t i = 0; i < FORMAT_COUNT; i++)
        if (strcmp(formats[i].name, name) == 0) return &formats[i];
    return NULL;
}

bool hl_import_known(const char *name) { return format_named(name) != NULL; }

int hl_import(const char *format_name, const char *path, hl_trace *out, hl_diag *diag, hl_import_stats *stats)
{
    memset(out, 0, sizeof *out);
    memset(stats, 0, sizeof *stats);
    if (!format_named(format_name)) {
        snprintf(diag->message, sizeof diag->message, "unknown import format '%s' (known: %s)", format_name,
                 HL_IMPORT_FORMATS);
        return -1;
    }
    char *bytes;
    size_t size;
    if (hl_file_load(path, &bytes, &size, diag) != 0) return -1;
    int rc = hl_import_memory(format_name, path, bytes, size, out, diag, stats);
    hl_mem_free(bytes);
    return rc;
}

int hl_import_memory(const char *format_name, const char *path, const char *bytes, size_t size, hl_trace *out,
                     hl_diag *diag, hl_import_stats *stats)
{
    memset(out, 0, sizeof *out);
    memset(stats, 0, sizeof *stats);
    const format *f = format_named(format_name);
    if (!f) {
        snprintf(diag->message, sizeof diag->message, "unknown import format '%s' (known: %s)", format_name,
                 HL_IMPORT_FORMATS);
        return -1;
    }
    out->path = hl_mem_strdup(path);
    out->form = HL_TRACE_TEXT;
    char description[600];
    snprintf(description, sizeof description, "imported from %s (%s) by heaplab import", path, f->name);
    hl_trace_set_meta(out, "description", description);
    hl_trace_set_meta(out, "import.format", f->name);

    hl_importer im = {.path = path, .trace = out, .stats = stats, .diag = diag, .next = bytes,
                      .end = bytes + size, .next_id = 1};
    int rc = f->run(&im);
    /* a safety net: the rules above make every import consistent */
    if (rc == 0 && hl_trace_check(out, diag) != 0) rc = -1;
    hl_u64map_free(&im.live);
    hl_u64map_free(&im.unknown_seen);
    if (rc != 0) {
        hl_trace_free(out);
        memset(stats, 0, sizeof *stats);
        return -1;
    }
    stats->ops = out->count;
    stats->warnings = stats->unknown_frees + stats->unknown_reallocs + stats->live_again + stats->unknown_calls +
                      stats->unaddressed + (stats->cut_line != 0);
    if (stats->cut_line) {
        char line[40];
        snprintf(line, sizeof line, "line %llu", (unsigned long long)stats->cut_line);
        hl_trace_set_meta(out, "import.cut_tail", line);
        out->cut_tail = true;
    }
    return 0;
}

/* ---------------------------------------------------------------- reading */

bool hl_import_line(hl_importer *im, const char **s, const char **e)
{
    if (im->next >= im->end) return false;
    const char *start = im->next, *eol = memchr(start, '\n', (size_t)(im->end - start));
    const char *stop = eol ? eol : im->end;
    im->next = eol ? eol + 1 : im->end;
    im->unterminated = !eol;
    im->line++;
    while (stop > start && (stop[-1] == ' ' || stop[-1] == '\t' || stop[-1] == '\r')) stop--;
    *s = start;
    *e = stop;
    return true;
}

int hl_import_fail(hl_importer *im, const char *fmt, ...)
{
    char problem[480];
    va_list args;
    va_start(args, fmt);
    vsnprintf(problem, sizeof problem, fmt, args);
    va_end(args);
    snprintf(im->diag->message, sizeof im->diag->message, "%s:%llu: %s", im->path, (unsigned long long)im->line,
             problem);
    return -1;
}

int hl_import_cut(hl_importer *im, uint64_t line, const char *why)
{
    size_t count = im->trace->count;
    im->stats->cut_line = line;
    snprintf(im->stats->cut_warning.message, sizeof im->stats->cut_warning.message,
             "%s:%llu: warning: the log ends inside this record (%s): a cut tail, the record is left out; "
             "importing the %zu complete operation%s",
             im->path, (unsigned long long)line, why, count, count == 1 ? "" : "s");
    return 0;
}

void hl_import_unknown(hl_importer *im, const char *name, size_t length)
{
    hl_import_stats *stats = im->stats;
    uint64_t hash = 14695981039346656037ull; /* FNV-1a: one key per name */
    for (size_t i = 0; i < length; i++) hash = (hash ^ (unsigned char)name[i]) * 1099511628211ull;
    bool fresh;
    uint64_t *index = hl_u64map_put(&im->unknown_seen, hash, &fresh);
    stats->unknown_calls++;
    if (fresh) *index = stats->unknown_functions++;
    if (*index >= HL_IMPORT_UNKNOWN_NAMES) return; /* counted in unknown_calls only */
    if (fresh) {
        hl_shown shown = hl_show(name, length);
        snprintf(stats->unknown[*index].name, sizeof stats->unknown[*index].name, "%s", shown.text);
    }
    stats->unknown[*index].calls++;
}

const char *hl_import_skip_spaces(const char *s, const char *e)
{
    while (s < e && (*s == ' ' || *s == '\t')) s++;
    return s;
}

bool hl_import_token(const char **p, const char *e, const char **tok, size_t *len)
{
    const char *s = hl_import_skip_spaces(*p, e), *t = s;
    if (s == e) return *p = e, false;
    while (t < e && *t != ' ' && *t != '\t') t++;
    *tok = s;
    *len = (size_t)(t - s);
    *p = t;
    return true;
}

static int digit_value(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return 99;
}

bool hl_import_number(const char *s, size_t n, uint64_t *out)
{
    unsigned base = 10;
    if (n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
        n -= 2;
    }
    if (n == 0) return false;
    uint64_t value = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned d = (unsigned)digit_value(s[i]);
        if (d >= base) return false;
        if (value > (UINT64_MAX - d) / base) return false;
        value = value * base + d;
    }
    *out = value;
    return true;
}

bool hl_import_address(const char *s, size_t n, uint64_t *out)
{
    if (n == 5 && memcmp(s, "(nil)", 5) == 0) return *out = 0, true;
    return hl_import_number(s, n, out);
}

/* ---------------------------------------------------------------- operations */

void hl_import_push(hl_importer *im, hl_op_kind kind, uint64_t id, uint64_t size, uint64_t align, hl_error fail)
{
    hl_op op;
    memset(&op, 0, sizeof op);
    op.kind = (uint8_t)kind;
    op.id = id;
    op.size = size;
    op.align = align;
    op.expect_fail = (uint8_t)fail;
    op.has_thread = im->has_thread;
    op.thread = im->has_thread ? im->thread : 0;
    op.line = im->line;
    hl_trace_push(im->trace, &op);
}

void hl_import_alloc(hl_importer *im, uint64_t addr, uint64_t size, uint64_t align)
{
    uint64_t id = im->next_id++, earlier;
    if (addr == 0) {
        hl_import_push(im, HL_OP_ALLOC, id, size, align, HL_E_OUT_OF_MEMORY);
        return;
    }
    if (hl_u64map_find(&im->live, addr, &earlier)) im->stats->live_again++;
    *hl_u64map_put(&im->live, addr, NULL) = id;
    im->stats->blocks++;
    hl_import_push(im, HL_OP_ALLOC, id, size, align, HL_E_OK);
}

void hl_import_free(hl_importer *im, uint64_t addr)
{
    uint64_t id;
    if (addr == 0) return;
    if (!hl_u64map_find(&im->live, addr, &id)) {
        im->stats->unknown_frees++;
        return;
    }
    hl_u64map_remove(&im->live, addr);
    hl_import_push(im, HL_OP_FREE, id, 0, 1, HL_E_OK);
}

void hl_import_realloc(hl_importer *im, uint64_t old, uint64_t size, uint64_t new_addr)
{
    uint64_t id, other;
    if (old == 0) {
        hl_import_alloc(im, new_addr, size, 1);
        return;
    }
    if (size == 0 && new_addr == 0) {
        hl_import_free(im, old);
        return;
    }
    if (!hl_u64map_find(&im->live, old, &id)) {
        im->stats->unknown_reallocs++;
        hl_import_alloc(im, new_addr, size, 1);
        return;
    }
    if (new_addr == 0) {
        hl_import_push(im, HL_OP_REALLOC, id, size, 1, HL_E_OUT_OF_MEMORY);
        return;
    }
    hl_u64map_remove(&im->live, old);
    if (hl_u64map_find(&im->live, new_addr, &other)) im->stats->live_again++;
    *hl_u64map_put(&im->live, new_addr, NULL) = id;
    hl_import_push(im, HL_OP_REALLOC, id, size, 1, HL_E_OK);
}
