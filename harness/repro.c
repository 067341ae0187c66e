/* repro.c: a reproducer trace for a finding. Until a shrinker exists (fuzz/), the
 * reproducer is the prefix of the trace up to the failing operation, restricted to
 * the block ids the finding names: their operations, plus every scope and free_all
 * operation (a promote of another block becomes a scope_exit of its scope). An
 * allocator's state depends on blocks the finding does not name (a free list's
 * order, a bump pointer), so the restricted prefix is replayed before it is kept;
 * if it no longer shows the same rule, the whole prefix is written instead. */
#include "hl_harness.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static bool names_block(hl_op_kind kind)
{
    return kind != HL_OP_SCOPE_ENTER && kind != HL_OP_SCOPE_EXIT && kind != HL_OP_FREE_ALL;
}

/* The prefix [0, end) of trace, keeping only operations on ids in keep[] (all if
 * keep_count is 0). */
static void build_prefix(const hl_trace *trace, size_t end, const uint64_t *keep, size_t keep_count,
                         hl_trace *out)
{
    memset(out, 0, sizeof *out);
    out->path = hl_mem_strdup(trace->path);
    out->form = HL_TRACE_TEXT;
    for (size_t i = 0; i < trace->meta_count; i++) hl_trace_set_meta(out, trace->meta[i].key, trace->meta[i].value);
    for (size_t i = 0; i < end; i++) {
        hl_op op = trace->ops[i];
        if (keep_count && names_block((hl_op_kind)op.kind)) {
            bool kept = false;
            for (size_t k = 0; k < keep_count; k++) kept |= keep[k] == op.id;
            if (!kept) {
                if (op.kind != HL_OP_PROMOTE) continue;
                op.kind = HL_OP_SCOPE_EXIT; /* same scopes close; the block was not needed */
                op.id = op.size = 0;
                op.expect_fail = HL_E_OK;
            }
        }
        hl_trace_push(out, &op);
    }
}

/* Does candidate show the same rule at its last operation? */
static bool reproduces(const hl_spec *spec, const hl_trace *candidate, const hl_run_summary *summary,
                       const hl_run_options *options)
{
    hl_diag diag;
    if (hl_trace_check(candidate, &diag) != 0) return false;
    hl_run_options again = *options;
    again.progress = NULL;
    again.isolate = options->isolate || summary->finding.rule == HL_RULE_CRASH ||
                    summary->finding.rule == HL_RULE_HANG;
    hl_run_summary result;
    if (hl_run(spec, candidate, &again, &result) != 1) return false;
    return result.finding.rule == summary->finding.rule;
}

static void safe_name(char *out, size_t capacity, const char *text)
{
    size_t n = 0;
    for (; *text && n + 1 < capacity; text++)
        out[n++] = ((*text >= 'a' && *text <= 'z') || (*text >= 'A' && *text <= 'Z') ||
                    (*text >= '0' && *text <= '9') || *text == '-' || *text == '.')
                       ? *text
                       : '_';
    out[n] = '\0';
}

int hl_repro_write(const hl_spec *spec, const hl_trace *trace, const hl_run_summary *summary,
                   const hl_run_options *options, const char *dir, char *path, size_t capacity,
                   hl_diag *diag)
{
    const hl_finding *finding = &summary->finding;
    size_t end = finding->index < trace->count ? (size_t)finding->index + 1 : trace->count;
    hl_trace candidate;
    bool restricted = false;
    if (finding->index < trace->count && names_block((hl_op_kind)trace->ops[finding->index].kind)) {
        uint64_t keep[2] = {trace->ops[finding->index].id, finding->other_id};
        build_prefix(trace, end, keep, finding->has_other ? 2 : 1, &candidate);
        restricted = reproduces(spec, &candidate, summary, options);
        if (!restricted) hl_trace_free(&candidate);
    }
    if (!restricted) build_prefix(trace, end, NULL, 0, &candidate);

    char number[32], source[460];
    hl_trace_set_meta(&candidate, "heaplab.backend", spec->text);
    hl_trace_set_meta(&candidate, "heaplab.rule", hl_rule_name(finding->rule));
    snprintf(number, sizeof number, "%zu", candidate.count ? candidate.count - 1 : 0);
    hl_trace_set_meta(&candidate, "heaplab.index", number);
    snprintf(source, sizeof source, "%s:%" PRIu64 " (operation %" PRIu64 ")", trace->path, finding->line,
             finding->index);
    hl_trace_set_meta(&candidate, "heaplab.source", source);
    hl_trace_set_meta(&candidate, "heaplab.restricted", restricted ? "yes" : "no (whole prefix)");

    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        snprintf(diag->message, sizeof diag->message, "%s: cannot create the findings directory: %s", dir,
                 strerror(errno));
        hl_trace_free(&candidate);
        return -1;
    }
    const char *base = strrchr(trace->path, '/');
    base = base ? base + 1 : trace->path;
    char base_name[160], backend_name[120];
    safe_name(base_name, sizeof base_name, base);
    char *dot = strstr(base_name, ".trace");
    if (dot) *dot = '\0';
    safe_name(backend_name, sizeof backend_name, spec->text);
    snprintf(path, capacity, "%s/%s.%s.%s.trace", dir, base_name, backend_name, hl_rule_name(finding->rule));
    int rc = hl_trace_write(&candidate, HL_TRACE_TEXT, path, diag);
    hl_trace_free(&candidate);
    return rc;
}
