/* repro.c: a reproducer trace for a finding. Until a shrinker exists (fuzz/), the
 * reproducer is the prefix of the trace up to the failing operation, restricted to
 * the block ids it depends on: the ids the finding names, plus those of the other
 * ids without which the rule no longer shows. An allocator's state depends on blocks
 * the finding does not name (a free list's order, a bump pointer), so dependence is
 * found by replaying: first with only the named ids, then by dropping the other ids
 * in halving chunks and keeping each drop that still reproduces the same rule
 * (delta debugging over block ids), within a budget of replays and seconds. Every
 * scope and free_all operation stays (a promote of a dropped block becomes a
 * scope_exit of its scope). */
#include "hl_check.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/stat.h>

#define REPRO_MAX_REPLAYS 120
#define REPRO_MAX_SECONDS 5.0

/* The block ids of the prefix that the finding does not name, sorted, each with a
 * dropped flag. Ids not in it (the named ones) are always kept. */
typedef struct id_set {
    uint64_t *ids;
    uint8_t *dropped; /* 0 kept, 1 dropped, 2 dropped on trial */
    size_t count;
} id_set;

static int by_id(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static bool is_kept(const id_set *set, uint64_t id)
{
    size_t lo = 0, hi = set->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (set->ids[mid] < id) lo = mid + 1;
        else hi = mid;
    }
    return lo == set->count || set->ids[lo] != id || !set->dropped[lo];
}

static bool names_block(hl_op_kind kind)
{
    return kind != HL_OP_SCOPE_ENTER && kind != HL_OP_SCOPE_EXIT && kind != HL_OP_FREE_ALL;
}

/* The prefix [0, end) of trace without the operations of dropped ids (set may be
 * NULL: the whole prefix). */
static void build_prefix(const hl_trace *trace, size_t end, const id_set *set, hl_trace *out)
{
    memset(out, 0, sizeof *out);
    out->path = hl_mem_strdup(trace->path);
    out->form = HL_TRACE_TEXT;
    for (size_t i = 0; i < trace->meta_count; i++) hl_trace_set_meta(out, trace->meta[i].key, trace->meta[i].value);
    for (size_t i = 0; i < end; i++) {
        hl_op op = trace->ops[i];
        if (set && names_block((hl_op_kind)op.kind) && !is_kept(set, op.id)) {
            if (op.kind != HL_OP_PROMOTE) continue;
            op.kind = HL_OP_SCOPE_EXIT; /* same scopes close; the block was not needed */
            op.id = op.size = 0;
            op.expect_fail = HL_E_OK;
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
    again.progress = (hl_progress){0};
    again.isolate = options->isolate || spec->external || summary->finding.rule == HL_RULE_CRASH ||
                    summary->finding.rule == HL_RULE_HANG; /* code from outside never runs here */
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
    char restricted[96] = "no (whole prefix)";
    id_set set = {0};
    if (finding->index < trace->count && names_block((hl_op_kind)trace->ops[finding->index].kind)) {
        uint64_t named = trace->ops[finding->index].id;
        set.ids = hl_mem_alloc((end + 1) * sizeof *set.ids);
        for (size_t i = 0; i < end; i++) {
            uint64_t id = trace->ops[i].id;
            if (names_block((hl_op_kind)trace->ops[i].kind) && id != named && !(finding->has_other && id == finding->other_id))
                set.ids[set.count++] = id;
        }
        qsort(set.ids, set.count, sizeof *set.ids, by_id);
        size_t unique = 0;
        for (size_t i = 0; i < set.count; i++)
            if (!unique || set.ids[unique - 1] != set.ids[i]) set.ids[unique++] = set.ids[i];
        set.count = unique;
        set.dropped = hl_mem_alloc(set.count + 1);
        uint64_t t0 = hl_clock_now_ns();
        int replays = 0;
        /* all others at once, then halving chunks; a hang costs a timeout per replay */
        int budget = finding->rule == HL_RULE_HANG ? 1 : REPRO_MAX_REPLAYS;
        for (size_t chunk = set.count; chunk >= 1 && replays < budget; chunk /= 2) {
            for (size_t start = 0; start < set.count && replays < budget; start += chunk) {
                if ((double)(hl_clock_now_ns() - t0) / 1e9 > REPRO_MAX_SECONDS)
                    break;
                size_t stop = start + chunk < set.count ? start + chunk : set.count, newly = 0;
                for (size_t i = start; i < stop; i++)
                    if (!set.dropped[i]) set.dropped[i] = 2, newly++; /* 2: tentatively */
                if (!newly) continue;
                build_prefix(trace, end, &set, &candidate);
                bool same = reproduces(spec, &candidate, summary, options);
                replays++;
                hl_trace_free(&candidate);
                for (size_t i = start; i < stop; i++)
                    if (set.dropped[i] == 2) set.dropped[i] = same ? 1 : 0;
            }
            if (chunk == 1) break;
        }
        size_t kept = 0;
        for (size_t i = 0; i < set.count; i++) kept += !set.dropped[i];
        if (kept < set.count)
            snprintf(restricted, sizeof restricted, "yes (%zu of the %zu other block ids kept, %d replays)", kept,
                     set.count, replays);
    }
    build_prefix(trace, end, set.count ? &set : NULL, &candidate);
    hl_mem_free(set.ids);
    hl_mem_free(set.dropped);

    char number[32], source[460];
    hl_trace_set_meta(&candidate, "heaplab.backend", spec->text);
    hl_trace_set_meta(&candidate, "heaplab.rule", hl_rule_name(finding->rule));
    snprintf(number, sizeof number, "%zu", candidate.count ? candidate.count - 1 : 0);
    hl_trace_set_meta(&candidate, "heaplab.index", number);
    snprintf(source, sizeof source, "%s:%" PRIu64 " (operation %" PRIu64 ")", trace->path, finding->line,
             finding->index);
    hl_trace_set_meta(&candidate, "heaplab.source", source);
    hl_trace_set_meta(&candidate, "heaplab.restricted", restricted);

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
