/* trace_write.c: writing a trace, whole (hl_trace_write) or an operation at a time
 * (hl_trace_writer: convert streams a trace of any length through it). The file is
 * written whole or not at all (core/outfile.c: a temporary name, renamed when
 * complete), in either form (trace_text.c, trace_binary.c), compressed as it goes
 * when its name ends in `.zst` (trace_zstd.c). */
#include "hl_trace.h"
#include "trace_form.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>

bool hl_op_writable(const hl_op *op)
{
    return op->kind < HL_OP_COUNT && op->expect_fail < HL_E_COUNT &&
           !(op->kind == HL_OP_ALLOC && (op->caps & ~HL_CAP_ALL));
}

static int meta_writable(const hl_trace *trace, hl_diag *diag)
{
    const char *path = trace->path ? trace->path : "(trace)";
    for (size_t i = 0; i < trace->meta_count; i++) {
        const hl_meta *m = &trace->meta[i];
        size_t key_length = strlen(m->key);
        bool ok = key_length > 0 && key_length <= HL_TRACE_META_KEY_MAX &&
                  strlen(m->value) <= HL_TRACE_META_VALUE_MAX && !strpbrk(m->value, "\r\n");
        for (size_t k = 0; ok && k < key_length; k++) ok = hl_trace_meta_key_byte((unsigned char)m->key[k]);
        if (!ok) return hl_trace_fail(diag, "%s: metadata entry %zu ('%.40s') cannot be written", path, i, m->key);
    }
    return 0;
}

static int op_unwritable(const char *path, size_t i, const hl_op *op, hl_diag *diag)
{
    if (op->kind >= HL_OP_COUNT)
        return hl_trace_fail(diag, "%s: operation %zu has kind %u, outside the operation table", path, i, op->kind);
    if (op->expect_fail >= HL_E_COUNT)
        return hl_trace_fail(diag, "%s: operation %zu (%s) has fail code %u, outside the error table", path, i,
                    hl_op_name((hl_op_kind)op->kind), op->expect_fail);
    return hl_trace_fail(diag, "%s: operation %zu (alloc) has caps 0x%x, outside exec+dma", path, i, op->caps);
}

int hl_trace_check_writable(const hl_trace *trace, hl_diag *diag)
{
    if (meta_writable(trace, diag) != 0) return -1;
    for (size_t i = 0; i < trace->count; i++)
        if (!hl_op_writable(&trace->ops[i]))
            return op_unwritable(trace->path ? trace->path : "(trace)", i, &trace->ops[i], diag);
    return 0;
}

/* ---------------------------------------------------------------- a trace at a time */

struct hl_trace_writer {
    hl_outfile file;
    FILE *out;         /* file.f, or a compressing FILE over it */
    hl_trace_form form;
    bool headed;       /* the magic and metadata are out */
    uint64_t count;
};

int hl_trace_writer_open(hl_trace_writer **writer, const char *path, hl_trace_form form, hl_diag *diag)
{
    hl_trace_writer *w = hl_mem_alloc(sizeof *w);
    memset(w, 0, sizeof *w);
    w->form = form;
    int e = hl_outfile_open(&w->file, path, form == HL_TRACE_BINARY ? "wb" : "w");
    if (e) {
        hl_mem_free(w);
        return hl_trace_fail(diag, "%s: cannot write: %s (nothing written)", path, strerror(e));
    }
    size_t n = strlen(path);
    w->out = w->file.f;
    if (n > 4 && strcmp(path + n - 4, ".zst") == 0 && !(w->out = hl_zstd_writer(w->file.f))) {
        e = errno;
        hl_outfile_abort(&w->file);
        hl_mem_free(w);
        return hl_trace_fail(diag, "%s: cannot compress: %s (nothing written)", path, strerror(e));
    }
    *writer = w;
    return 0;
}

static void head(hl_trace_writer *w, const hl_trace *trace)
{
    if (w->headed) return;
    w->headed = true;
    if (w->form == HL_TRACE_BINARY) hl_trace_binary_head(trace, w->out);
    else hl_trace_text_head(trace, w->out);
}

static int take(void *context, const hl_trace *trace, const hl_op *op, hl_diag *diag)
{
    hl_trace_writer *w = context;
    if (!w->headed && meta_writable(trace, diag) != 0) return -1;
    if (!hl_op_writable(op)) return op_unwritable(w->file.path, (size_t)w->count, op, diag);
    head(w, trace);
    if (w->form == HL_TRACE_BINARY) hl_trace_binary_op(op, w->out);
    else hl_trace_text_op(op, w->out);
    w->count++;
    return 0;
}

hl_op_sink hl_trace_writer_sink(hl_trace_writer *writer) { return (hl_op_sink){take, writer}; }

int hl_trace_writer_commit(hl_trace_writer *w, const hl_trace *trace, hl_diag *diag)
{
    const char *path = w->file.path; /* the caller's string: it outlives w */
    if (!w->headed && meta_writable(trace, diag) != 0) return hl_trace_writer_abort(w), -1;
    head(w, trace);
    if (w->form == HL_TRACE_BINARY) hl_trace_binary_tail(w->count, w->out);
    else hl_trace_text_tail(w->count, w->out);
    int e = 0;
    if (w->out != w->file.f && fclose(w->out) != 0) e = errno ? errno : EIO; /* ends the frame */
    w->out = NULL;
    if (e) hl_outfile_abort(&w->file);
    else e = hl_outfile_commit(&w->file);
    hl_mem_free(w);
    return e ? hl_trace_fail(diag, "%s: cannot write: %s (nothing written)", path, strerror(e)) : 0;
}

void hl_trace_writer_abort(hl_trace_writer *w)
{
    if (!w) return;
    if (w->out && w->out != w->file.f) fclose(w->out);
    hl_outfile_abort(&w->file);
    hl_mem_free(w);
}

/* ---------------------------------------------------------------- a whole trace */

/* The whole trace in form onto out: the magic and metadata, each operation, the end. */
static int write_stream(const hl_trace *trace, hl_trace_form form, FILE *out)
{
    if (hl_trace_check_writable(trace, NULL) != 0) return -1;
    bool binary = form == HL_TRACE_BINARY;
    if (binary) hl_trace_binary_head(trace, out);
    else hl_trace_text_head(trace, out);
    for (size_t i = 0; i < trace->count; i++) {
        if (binary) hl_trace_binary_op(&trace->ops[i], out);
        else hl_trace_text_op(&trace->ops[i], out);
    }
    if (binary) hl_trace_binary_tail(trace->count, out);
    else hl_trace_text_tail(trace->count, out);
    return fflush(out) != 0 || ferror(out) ? -1 : 0;
}

int hl_trace_write_text_stream(const hl_trace *trace, FILE *out) { return write_stream(trace, HL_TRACE_TEXT, out); }

int hl_trace_write_binary_stream(const hl_trace *trace, FILE *out)
{
    return write_stream(trace, HL_TRACE_BINARY, out);
}

int hl_trace_write(const hl_trace *trace, hl_trace_form form, const char *path, hl_diag *diag)
{
    if (hl_trace_check_writable(trace, diag) != 0) return -1;
    hl_trace_writer *w;
    if (hl_trace_writer_open(&w, path, form, diag) != 0) return -1;
    hl_op_sink sink = hl_trace_writer_sink(w);
    for (size_t i = 0; i < trace->count; i++) sink.take(w, trace, &trace->ops[i], diag);
    return hl_trace_writer_commit(w, trace, diag);
}
