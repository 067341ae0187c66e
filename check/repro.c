/* repro.c: a reproducer trace for a run's finding (replay, report): the trace
 * minimised by heaplab's one minimiser (hl_shrink, shrink.c) with a budget, so that
 * writing it stays quick: the prefix up to the failing operation, restricted to the
 * block ids the finding depends on, then fewer operations while the budget lasts
 * (at most 120 runs or 5 seconds; a HANG costs a timeout a run, so it gets none).
 * Sizes and alignments stay as recorded. When the minimiser cannot show the finding
 * again on its own (a threaded run's interleaving), the whole prefix is written. */
#include "hl_check.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/stat.h>

#define REPRO_MAX_RUNS 120
#define REPRO_MAX_SECONDS 5.0

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

bool hl_rule_is_difference(hl_rule rule) { return rule == HL_RULE_OUTCOME_DIFFERS || rule == HL_RULE_OFFSET_DIFFERS; }

void hl_repro_label(hl_trace *trace, const hl_spec *specs, size_t count, hl_rule rule, uint64_t index,
                    const char *source, uint64_t check_every)
{
    char text[2048] = "";
    for (size_t k = 0, n = 0; k < count && n < sizeof text; k++)
        n += (size_t)snprintf(text + n, sizeof text - n, "%s%s", k ? "," : "", specs[k].text);
    hl_trace_set_meta(trace, "heaplab.backend", text);
    hl_trace_set_meta(trace, "heaplab.rule", hl_rule_name(rule));
    snprintf(text, sizeof text, "%" PRIu64, index);
    hl_trace_set_meta(trace, "heaplab.index", text);
    hl_trace_set_meta(trace, "heaplab.source", source);
    hl_repro_set_check_every(trace, check_every);
}

void hl_repro_set_check_every(hl_trace *trace, uint64_t check_every)
{
    char text[32];
    hl_trace_set_meta(trace, "heaplab.check_every", hl_check_every_name(check_every, text, sizeof text));
}

int hl_repro_write(const hl_spec *specs, size_t count, const char *label, const hl_trace *trace,
                   const hl_finding *finding, uint64_t check_every, double timeout, const char *dir, char *path,
                   size_t capacity, hl_diag *diag)
{
    size_t end = finding->index < trace->count ? (size_t)finding->index + 1 : trace->count;
    hl_trace prefix = {.path = trace->path, .form = HL_TRACE_TEXT, .ops = trace->ops, .count = end, .capacity = end};
    hl_shrink_options o = {.check_every = check_every,
                           .timeout = timeout,
                           .max_runs = finding->rule == HL_RULE_HANG ? 1 : REPRO_MAX_RUNS,
                           .max_seconds = REPRO_MAX_SECONDS,
                           .keep_values = true,
                           .want_rule = true,
                           .rule = finding->rule};
    hl_shrink_result r;
    hl_trace small, candidate;
    char restricted[120] = "no (whole prefix)";
    memset(&candidate, 0, sizeof candidate);
    candidate.path = hl_mem_strdup(trace->path);
    candidate.form = HL_TRACE_TEXT;
    for (size_t i = 0; i < trace->meta_count; i++) hl_trace_set_meta(&candidate, trace->meta[i].key, trace->meta[i].value);
    if (hl_shrink(specs, count, &prefix, &o, &small, &r) == 0) {
        for (size_t i = 0; i < small.count; i++) hl_trace_push(&candidate, &small.ops[i]);
        hl_trace_free(&small);
        if (r.ids_dropped)
            snprintf(restricted, sizeof restricted, "yes (%zu of the %zu other block ids kept, %llu replays)",
                     r.ids_before - r.ids_dropped, r.ids_before, (unsigned long long)r.runs);
    } else {
        for (size_t i = 0; i < end; i++) hl_trace_push(&candidate, &trace->ops[i]);
    }

    char source[460];
    snprintf(source, sizeof source, "%s:%" PRIu64 " (operation %" PRIu64 ")", trace->path, finding->line,
             finding->index);
    hl_repro_label(&candidate, specs, count, finding->rule, candidate.count ? candidate.count - 1 : 0, source,
                   check_every);
    hl_trace_set_meta(&candidate, "heaplab.restricted", restricted);

    int made = hl_make_folder(dir);
    if (made != 0) {
        snprintf(diag->message, sizeof diag->message, "%s: cannot create the findings directory: %s", dir,
                 strerror(made));
        hl_trace_free(&candidate);
        return -1;
    }
    const char *base = strrchr(trace->path, '/');
    base = base ? base + 1 : trace->path;
    char base_name[160], backend_name[120];
    safe_name(base_name, sizeof base_name, base);
    char *dot = strstr(base_name, ".trace");
    if (dot) *dot = '\0';
    safe_name(backend_name, sizeof backend_name, label);
    snprintf(path, capacity, "%s/%s.%s.%s.trace", dir, base_name, backend_name, hl_rule_name(finding->rule));
    int rc = hl_trace_write(&candidate, HL_TRACE_TEXT, path, diag);
    hl_trace_free(&candidate);
    return rc;
}
