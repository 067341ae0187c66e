/* target.c: the fuzz targets every front end drives: the built-in fuzzer's child, the
 * libFuzzer and AFL++ entry points and the corpus replayer (fuzz/drivers/). One input
 * in, a verdict out, in process: isolation (fork, time limits) is the front end's job.
 *
 *   diff    decode the bytes (hl_fuzz_decode) and run the stream on every backend in
 *           lockstep under the shadow model (hl_diff)
 *   decode  decode only: the bare target the others' exec/s is measured against
 *   parse   read the bytes as a trace file (text or binary form, zstd or not), check
 *           it, and when it is a valid trace, write it in the other form and read that
 *           back: the same operations must come back; then read the bytes as each
 *           import format: a trace that passes hl_trace_check or a clean error */
#include "hl_fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const kind_names[] = {"diff", "decode", "parse"};

int hl_fuzz_target_open(hl_fuzz_target *t, const char *kind, const char *backends, hl_diag *diag)
{
    memset(t, 0, sizeof *t);
    t->max_ops = HL_FUZZ_MAX_OPS;
    size_t k = 0;
    while (k < 3 && strcmp(kind, kind_names[k]) != 0) k++;
    if (k == 3) {
        snprintf(diag->message, sizeof diag->message, "unknown fuzz target '%s' (known: diff, decode, parse)", kind);
        return 2;
    }
    t->kind = (hl_fuzz_target_kind)k;
    if (t->kind != HL_FUZZ_TARGET_DIFF) return 0;
    if (hl_spec_parse_list(backends ? backends : HL_FUZZ_DEFAULT_BACKENDS, &t->specs, &t->count, diag) != 0) return 2;
    for (size_t i = 0; i < t->count; i++) { /* a spec that cannot make an instance fails here, not per input */
        if (t->specs[i].external) continue; /* probed in a child when parsed: its code stays out of here */
        hl_heap *heap = hl_spec_create(&t->specs[i], diag);
        if (!heap) return 2;
        hl_spec_destroy(&t->specs[i], heap);
    }
    return 0;
}

const char *hl_fuzz_target_name(const hl_fuzz_target *t) { return kind_names[t->kind]; }

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

static int parse(const uint8_t *data, size_t size, hl_diff_summary *s)
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

int hl_fuzz_target_run(const hl_fuzz_target *t, const uint8_t *data, size_t size, hl_diff_summary *s, uint32_t *kinds)
{
    memset(s, 0, sizeof *s);
    if (t->kind == HL_FUZZ_TARGET_PARSE) return parse(data, size, s);
    hl_trace trace;
    hl_fuzz_decode(data, size, t->max_ops, "fuzz-input", &trace);
    if (kinds)
        for (size_t i = 0; i < trace.count; i++) *kinds |= 1u << trace.ops[i].kind;
    int rc = t->kind == HL_FUZZ_TARGET_DIFF ? hl_diff_watched(t->specs, t->count, &trace, t->check_every, s, t->watch) : 0;
    if (t->kind == HL_FUZZ_TARGET_DECODE) s->ops = trace.count;
    hl_trace_free(&trace);
    return rc;
}

void hl_fuzz_target_report(const hl_diff_summary *s, FILE *out)
{
    if (s->setup_failed) {
        fprintf(out, "heaplab: %s\n", s->setup_error);
        return;
    }
    fprintf(out, "FINDING %s: operation %llu: %s: %s\n", s->backend, (unsigned long long)s->finding.index,
            hl_rule_name(s->finding.rule), s->finding.message);
}
