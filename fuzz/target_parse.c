/* target_parse.c: the parse target: read the bytes as a trace file (text or binary
 * form, zstd or not) and check it; when it is a valid trace, write it in the other
 * form and read that back: the same operations must come back; then read the bytes
 * as each import format: a trace that passes hl_trace_check or a clean error. A
 * crash, a leak or a sanitizer report is what the engine looks for. */
#include "hl_fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int same_ops(const hl_trace *a, const hl_trace *b)
{
    if (a->count != b->count) return 0;
    for (size_t i = 0; i < a->count; i++) {
        hl_op x = a->ops[i], y = b->ops[i];
        x.line = y.line = 0; /* positions differ between the forms */
        if (memcmp(&x, &y, sizeof x) != 0) return 0;
    }
    return 1;
}

/* Each importer on the bytes: its trace must be consistent (hl_import checks that
 * itself and answers -1; a crash or a leak is what the fuzzer looks for). */
static int import_all(const uint8_t *data, size_t size, hl_diff_summary *s)
{
    static const char *const formats[] = {"mtrace", "malloclab", "logalloc", "valgrind"};
    for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++) {
        hl_trace trace;
        hl_diag diag;
        hl_import_stats stats;
        if (hl_import_memory(formats[i], "fuzz-input", (const char *)data, size, &trace, &diag, &stats) != 0) continue;
        bool consistent = hl_trace_check(&trace, &diag) == 0;
        hl_trace_free(&trace);
        if (consistent) continue;
        s->found = true;
        s->finding.rule = HL_RULE_OUTCOME_DIFFERS;
        snprintf(s->backend, sizeof s->backend, "the %s importer", formats[i]);
        snprintf(s->finding.message, sizeof s->finding.message, "an import is not consistent: %.500s", diag.message);
        return 1;
    }
    return 0;
}

int hl_fuzz_target_parse(const uint8_t *data, size_t size, hl_diff_summary *s)
{
    hl_trace trace, again;
    hl_diag diag, warning;
    if (hl_trace_read_memory("fuzz-input", data, size, &trace, &diag, &warning) != 0) /* a clean error */
        return import_all(data, size, s);
    int rc = 0;
    if (hl_trace_check(&trace, &diag) == 0) {
        char *text = NULL;
        size_t length = 0;
        FILE *out = open_memstream(&text, &length);
        int written = out ? (trace.form == HL_TRACE_TEXT ? hl_trace_write_binary_stream(&trace, out)
                                                         : hl_trace_write_text_stream(&trace, out))
                          : -1;
        if (out) fclose(out);
        if (written == 0 && hl_trace_read_memory("fuzz-input (converted)", text, length, &again, &diag, &warning) != 0) {
            snprintf(s->finding.message, sizeof s->finding.message, "a valid trace written in the other form does not read back: %.500s",
                     diag.message);
            rc = 1;
        } else if (written == 0) {
            if (!same_ops(&trace, &again)) {
                snprintf(s->finding.message, sizeof s->finding.message,
                         "a valid trace written in the other form reads back different operations");
                rc = 1;
            }
            hl_trace_free(&again);
        }
        free(text);
    }
    hl_trace_free(&trace);
    if (rc) {
        s->found = true;
        s->finding.rule = HL_RULE_OUTCOME_DIFFERS;
        snprintf(s->backend, sizeof s->backend, "the trace readers");
    }
    return rc ? rc : import_all(data, size, s);
}
