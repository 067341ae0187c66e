/* results.c: the results document, built with cJSON (Debian's libcjson) on heaplab's
 * private arena. Schema (version HL_RESULTS_SCHEMA_VERSION):
 *   {schema_version, machine: {hostname, os, release, arch, cpus, cpu_model},
 *    build: {heaplab, id (hl_build_id), contract_version, compiler, flags, sanitized, optimized},
 *    shard?: {index, count, traces, all_traces} (hl_results_shard),
 *    partial?: {reason, not_measured: [{trace, backend}]} (hl_results_partial),
 *    results: [{backend, backend_version, trace, ops, sent, skipped, failures, divergences,
 *               peak_live_bytes, peak_live_blocks, peak_footprint_bytes,
 *               final_footprint_bytes, elapsed_ns, backend_ns, ops_per_sec, threads
 *               (real threads used; 0 serialised), trace_threads, detections,
 *               detected (the first detections: index, line, kind, block, offset),
 *               latency (null unless replay --latency): {timer, kinds: {KIND: {count,
 *               mean_ns, min_ns, p50_ns ... max_ns, buckets}}}, fragmentation: {comparable,
 *               the four J&W ratios, internal ratios, their byte counts, timeline},
 *               stream_ended?: {at, reason}, finding?: {rule, index, line, message,
 *               reproducer}}]}
 * reports/schema/results.schema.json is the full description; a test validates
 * real output against it. */
#include "hl_measure.h"

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>


struct hl_results {
    cJSON *root;
    cJSON *list;
};

bool hl_build_sanitized(void)
{
#if defined(__SANITIZE_ADDRESS__)
    return true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
    return true;
#else
    return false;
#endif
#else
    return false;
#endif
}

static void *json_alloc(size_t size) { return hl_mem_alloc(size); }

hl_results *hl_results_new(void)
{
    cJSON_Hooks hooks = {json_alloc, hl_mem_free};
    cJSON_InitHooks(&hooks);
    hl_results *results = hl_mem_alloc(sizeof *results);
    results->root = cJSON_CreateObject();
    cJSON_AddNumberToObject(results->root, "schema_version", HL_RESULTS_SCHEMA_VERSION);

    cJSON *machine = cJSON_AddObjectToObject(results->root, "machine");
    struct utsname names;
    char host[256] = "?";
    gethostname(host, sizeof host - 1);
    cJSON_AddStringToObject(machine, "hostname", host);
    if (uname(&names) == 0) {
        cJSON_AddStringToObject(machine, "os", names.sysname);
        cJSON_AddStringToObject(machine, "release", names.release);
        cJSON_AddStringToObject(machine, "arch", names.machine);
    }
    cJSON_AddNumberToObject(machine, "cpus", (double)sysconf(_SC_NPROCESSORS_ONLN));
    char model[256] = "";
    FILE *cpuinfo = fopen("/proc/cpuinfo", "r");
    char line[512];
    while (cpuinfo && !model[0] && fgets(line, sizeof line, cpuinfo)) {
        char *colon = strchr(line, ':');
        if (strncmp(line, "model name", 10) == 0 && colon) {
            colon += strspn(colon + 1, " \t") + 1;
            snprintf(model, sizeof model, "%.*s", (int)strcspn(colon, "\n"), colon);
        }
    }
    if (cpuinfo) fclose(cpuinfo);
    cJSON_AddStringToObject(machine, "cpu_model", model[0] ? model : "unknown");

    cJSON *build = cJSON_AddObjectToObject(results->root, "build");
    cJSON_AddStringToObject(build, "heaplab", HL_VERSION);
    cJSON_AddStringToObject(build, "id", hl_build_id());
    cJSON_AddNumberToObject(build, "contract_version", HL_CONTRACT_VERSION);
#ifdef __clang__
    cJSON_AddStringToObject(build, "compiler", "clang " __clang_version__);
#else
    cJSON_AddStringToObject(build, "compiler", "gcc " __VERSION__);
#endif
#ifdef HL_BUILD_FLAGS
    cJSON_AddStringToObject(build, "flags", HL_BUILD_FLAGS);
#endif
    cJSON_AddBoolToObject(build, "sanitized", hl_build_sanitized());
#ifdef __OPTIMIZE__
    cJSON_AddBoolToObject(build, "optimized", 1);
#else
    cJSON_AddBoolToObject(build, "optimized", 0);
#endif
    results->list = cJSON_AddArrayToObject(results->root, "results");
    return results;
}

static cJSON *numbers(const uint64_t *values, size_t count, size_t stride)
{
    cJSON *list = cJSON_CreateArray();
    for (size_t i = 0; i < count; i++)
        cJSON_AddItemToArray(list, cJSON_CreateNumber((double)*(const uint64_t *)((const char *)values + i * stride)));
    return list;
}

static void add_number_or_null(cJSON *o, const char *key, double value)
{
    if (value > 0) cJSON_AddNumberToObject(o, key, value);
    else cJSON_AddNullToObject(o, key);
}

/* "speed": the measure path's timed run (null when none was made) */
static void add_speed(cJSON *r, const hl_run_summary *s)
{
    if (!s->speed_on) {
        cJSON_AddNullToObject(r, "speed");
        return;
    }
    const hl_speed *v = &s->speed;
    cJSON *o = cJSON_AddObjectToObject(r, "speed");
    cJSON_AddBoolToObject(o, "measured", v->measured);
    add_number_or_null(o, "ns_per_op", hl_speed_ns_per_op(v));
    add_number_or_null(o, "null_ns_per_op", s->null_ns_per_op);
    add_number_or_null(o, "cold_ns_per_op", hl_speed_cold_ns_per_op(v));
    cJSON_AddNumberToObject(o, "timed_ns", (double)v->timed_ns);
    cJSON_AddNumberToObject(o, "cold_ns", (double)v->cold_ns);
    cJSON_AddNumberToObject(o, "min_timed_ns", HL_SPEED_MIN_NS);
    cJSON_AddNumberToObject(o, "min_steps", HL_SPEED_MIN_STEPS);
    cJSON_AddNumberToObject(o, "steps", (double)v->steps);
    cJSON_AddNumberToObject(o, "calls", (double)v->calls);
    cJSON_AddNumberToObject(o, "skipped", (double)v->skipped);
    cJSON_AddNumberToObject(o, "failed", (double)v->failed);
    cJSON_AddNumberToObject(o, "not_run", (double)v->not_run);
    cJSON *hints = cJSON_AddArrayToObject(o, "hints");
    if (v->hints & HL_HINT_ONE_THREAD) cJSON_AddItemToArray(hints, cJSON_CreateString("ONE_THREAD"));
    if (v->hints & HL_HINT_CALLER_FREES) cJSON_AddItemToArray(hints, cJSON_CreateString("CALLER_FREES"));
    if (v->hints & HL_HINT_NO_STATS) cJSON_AddItemToArray(hints, cJSON_CreateString("NO_STATS"));
    /* "direct": the allocator's own entry points (hl_info.direct); "table": the contract's */
    cJSON_AddStringToObject(o, "entry", v->direct ? "direct" : "table");
    if (v->error[0]) cJSON_AddStringToObject(o, "error", v->error);
}

static void add_latency(cJSON *r, const hl_latency *lat)
{
    if (!lat->on) {
        cJSON_AddNullToObject(r, "latency"); /* not timed: replay --latency times calls */
        return;
    }
    cJSON *l = cJSON_AddObjectToObject(r, "latency");
    cJSON *timer = cJSON_AddObjectToObject(l, "timer");
#if defined(__x86_64__)
    cJSON_AddStringToObject(timer, "source", "rdtsc");
#else
    cJSON_AddStringToObject(timer, "source", "clock_gettime");
#endif
    cJSON_AddNumberToObject(timer, "tick_ns", lat->ns_per_tick);
    cJSON_AddNumberToObject(timer, "resolution_ns", (double)lat->overhead.step_ticks * lat->ns_per_tick);
    cJSON_AddNumberToObject(timer, "overhead_ns", (double)lat->overhead.median_ticks * lat->ns_per_tick);
    cJSON_AddNumberToObject(timer, "overhead_min_ns", (double)lat->overhead.min_ticks * lat->ns_per_tick);
    cJSON_AddNumberToObject(timer, "overhead_p99_ns", (double)lat->overhead.p99_ticks * lat->ns_per_tick);
    cJSON *kinds = cJSON_AddObjectToObject(l, "kinds");
    for (int k = 0; k < HL_LATENCY_KINDS; k++) {
        const hl_histogram *h = &lat->kind[k];
        if (!h->count) continue;
        cJSON *o = cJSON_AddObjectToObject(kinds, hl_latency_kind_name(k));
        cJSON_AddNumberToObject(o, "count", (double)h->count);
        cJSON_AddNumberToObject(o, "mean_ns", hl_histogram_mean(h));
        cJSON_AddNumberToObject(o, "min_ns", (double)h->min);
        static const struct { const char *key; double at; } cuts[] = {
            {"p50_ns", 50}, {"p90_ns", 90}, {"p99_ns", 99}, {"p999_ns", 99.9}};
        for (size_t c = 0; c < sizeof cuts / sizeof cuts[0]; c++)
            cJSON_AddNumberToObject(o, cuts[c].key, (double)hl_histogram_percentile(h, cuts[c].at));
        cJSON_AddNumberToObject(o, "max_ns", (double)h->max);
        cJSON *buckets = cJSON_AddArrayToObject(o, "buckets"); /* [low_ns, high_ns, count], non-empty only */
        for (size_t i = 0; i < HL_HIST_BUCKETS; i++) {
            if (!h->bucket[i]) continue;
            uint64_t row[3] = {hl_histogram_bucket_low(i), hl_histogram_bucket_high(i), h->bucket[i]};
            if (i == HL_HIST_BUCKETS - 1) row[1] = h->max; /* the last bucket holds everything above */
            cJSON_AddItemToArray(buckets, numbers(row, 3, sizeof row[0]));
        }
    }
}

static void add_fragmentation(cJSON *r, const hl_fragmentation *f, bool footprint_unknown)
{
    if (!f->on || footprint_unknown) { /* every measure divides a footprint */
        cJSON_AddNullToObject(r, "fragmentation");
        return;
    }
    cJSON *o = cJSON_AddObjectToObject(r, "fragmentation");
    cJSON_AddBoolToObject(o, "comparable", !hl_build_sanitized()); /* sanitizers change footprints */
    cJSON_AddNumberToObject(o, "time_average", f->time_average);
    cJSON_AddNumberToObject(o, "at_peak_live", f->at_peak_live);
    if (f->at_peak_footprint_na) cJSON_AddNullToObject(o, "at_peak_footprint"); /* nothing live then */
    else cJSON_AddNumberToObject(o, "at_peak_footprint", f->at_peak_footprint);
    cJSON_AddNumberToObject(o, "peak_to_peak", f->peak_to_peak);
    cJSON_AddNumberToObject(o, "internal_average", f->internal_average);
    cJSON_AddNumberToObject(o, "internal_at_peak_live", f->internal_at_peak_live);
    static const struct { const char *key; size_t at; } counts[] = {
        {"peak_live_bytes", offsetof(hl_fragmentation, peak_live_bytes)},
        {"peak_footprint_bytes", offsetof(hl_fragmentation, peak_footprint_bytes)},
        {"live_at_peak_live", offsetof(hl_fragmentation, live_at_peak_live)},
        {"footprint_at_peak_live", offsetof(hl_fragmentation, footprint_at_peak_live)},
        {"usable_at_peak_live", offsetof(hl_fragmentation, usable_at_peak_live)},
        {"live_at_peak_footprint", offsetof(hl_fragmentation, live_at_peak_footprint)},
        {"footprint_at_peak_footprint", offsetof(hl_fragmentation, footprint_at_peak_footprint)},
        {"backend_peak_footprint", offsetof(hl_fragmentation, backend_peak_footprint)},
        {"footprint_reads", offsetof(hl_fragmentation, footprint_reads)},
        {"every", offsetof(hl_fragmentation, every)}};
    for (size_t c = 0; c < sizeof counts / sizeof counts[0]; c++)
        cJSON_AddNumberToObject(o, counts[c].key, (double)*(const uint64_t *)((const char *)f + counts[c].at));
    cJSON *t = cJSON_AddObjectToObject(o, "timeline"); /* columns, one entry per point */
    cJSON_AddItemToObject(t, "op", numbers(&f->timeline[0].op, f->points, sizeof f->timeline[0]));
    cJSON_AddItemToObject(t, "live_bytes", numbers(&f->timeline[0].live_bytes, f->points, sizeof f->timeline[0]));
    cJSON_AddItemToObject(t, "footprint_bytes",
                          numbers(&f->timeline[0].footprint_bytes, f->points, sizeof f->timeline[0]));
}

void hl_results_add(hl_results *results, const hl_run_summary *s, const char *repro)
{
    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "backend", s->backend);
    cJSON_AddStringToObject(r, "backend_version", s->backend_version);
    cJSON_AddStringToObject(r, "trace", s->trace);
    cJSON_AddNumberToObject(r, "ops", (double)s->ops);
    cJSON_AddNumberToObject(r, "sent", (double)s->sent);
    cJSON_AddNumberToObject(r, "skipped", (double)s->skipped);
    cJSON_AddNumberToObject(r, "failures", (double)s->failures);
    cJSON_AddNumberToObject(r, "divergences", s->found && !s->ignored ? 1 : 0);
    cJSON_AddNumberToObject(r, "detections", (double)s->detections);
    if (s->detections) {
        cJSON *list = cJSON_AddArrayToObject(r, "detected");
        uint64_t n = s->detections < HL_DETECTIONS_KEPT ? s->detections : HL_DETECTIONS_KEPT;
        for (uint64_t i = 0; i < n; i++) {
            cJSON *d = cJSON_CreateObject();
            cJSON_AddNumberToObject(d, "index", (double)s->detected[i].index);
            cJSON_AddNumberToObject(d, "line", (double)s->detected[i].line);
            cJSON_AddStringToObject(d, "kind", hl_error_name(s->detected[i].kind));
            cJSON_AddNumberToObject(d, "block", (double)s->detected[i].block);
            cJSON_AddNumberToObject(d, "offset", (double)s->detected[i].offset);
            cJSON_AddItemToArray(list, d);
        }
    }
    cJSON_AddNumberToObject(r, "peak_live_bytes", (double)s->fragmentation.peak_live_bytes);
    cJSON_AddNumberToObject(r, "peak_live_blocks", (double)s->fragmentation.peak_live_blocks);
    if (s->footprint_unknown) { /* not measured: never the live bytes in its place */
        cJSON_AddNullToObject(r, "peak_footprint_bytes");
        cJSON_AddNullToObject(r, "final_footprint_bytes");
    } else {
        cJSON_AddNumberToObject(r, "peak_footprint_bytes", (double)s->fragmentation.peak_footprint_bytes);
        cJSON_AddNumberToObject(r, "final_footprint_bytes", (double)s->fragmentation.final_footprint_bytes);
    }
    if (s->rss_peak_bytes) { /* isolated runs only */
        cJSON_AddNumberToObject(r, "rss_start_bytes", (double)s->rss_start_bytes);
        cJSON_AddNumberToObject(r, "rss_peak_bytes", (double)s->rss_peak_bytes);
    }
    cJSON_AddNumberToObject(r, "elapsed_ns", (double)s->elapsed_ns);
    if (s->backend_timed) cJSON_AddNumberToObject(r, "backend_ns", (double)s->backend_ns);
    else cJSON_AddNullToObject(r, "backend_ns"); /* not measured under the shadow */
    /* speed comes from the measure path only: null where it did not measure */
    double ns = s->speed_on ? hl_speed_ns_per_op(&s->speed) : 0;
    if (ns > 0) cJSON_AddNumberToObject(r, "ops_per_sec", 1e9 / ns);
    else cJSON_AddNullToObject(r, "ops_per_sec");
    add_speed(r, s);
    cJSON_AddNumberToObject(r, "threads", s->threads);
    cJSON_AddNumberToObject(r, "trace_threads", s->trace_threads);
    add_latency(r, &s->latency);
    add_fragmentation(r, &s->fragmentation, s->footprint_unknown);
    if (s->stream_ended) {
        cJSON *ended = cJSON_AddObjectToObject(r, "stream_ended");
        cJSON_AddNumberToObject(ended, "at", (double)s->ended_at);
        cJSON_AddStringToObject(ended, "reason", s->ended_reason);
    }
    if (s->found) {
        cJSON *f = cJSON_AddObjectToObject(r, "finding");
        cJSON_AddStringToObject(f, "rule", hl_rule_name(s->finding.rule));
        cJSON_AddNumberToObject(f, "index", (double)s->finding.index);
        cJSON_AddNumberToObject(f, "line", (double)s->finding.line);
        cJSON_AddStringToObject(f, "message", s->finding.message);
        if (repro) cJSON_AddStringToObject(f, "reproducer", repro);
        else cJSON_AddNullToObject(f, "reproducer");
        if (s->ignored) cJSON_AddTrueToObject(f, "ignored"); /* known (--ignore): not a divergence */
    }
    cJSON_AddItemToArray(results->list, r);
}

static cJSON *strings(char *const *list, size_t count)
{
    cJSON *array = cJSON_CreateArray();
    for (size_t i = 0; i < count; i++) cJSON_AddItemToArray(array, cJSON_CreateString(list[i]));
    return array;
}

void hl_results_shard(hl_results *results, unsigned index, unsigned count, char *const *traces, size_t trace_count,
                      char *const *all, size_t all_count)
{
    cJSON *shard = cJSON_CreateObject();
    cJSON_AddNumberToObject(shard, "index", index);
    cJSON_AddNumberToObject(shard, "count", count);
    cJSON_AddItemToObject(shard, "traces", strings(traces, trace_count));
    cJSON_AddItemToObject(shard, "all_traces", strings(all, all_count));
    cJSON *list = cJSON_DetachItemFromObject(results->root, "results"); /* the shard goes before the results */
    cJSON_AddItemToObject(results->root, "shard", shard);
    cJSON_AddItemToObject(results->root, "results", list);
}

void hl_results_partial(hl_results *results, const char *reason)
{
    cJSON *partial = cJSON_GetObjectItemCaseSensitive(results->root, "partial");
    if (partial) {
        cJSON_ReplaceItemInObjectCaseSensitive(partial, "reason", cJSON_CreateString(reason));
        return;
    }
    partial = cJSON_CreateObject();
    cJSON_AddStringToObject(partial, "reason", reason);
    cJSON_AddItemToObject(partial, "not_measured", cJSON_CreateArray());
    cJSON *list = cJSON_DetachItemFromObject(results->root, "results"); /* it goes before the results */
    cJSON_AddItemToObject(results->root, "partial", partial);
    cJSON_AddItemToObject(results->root, "results", list);
}

void hl_results_not_measured(hl_results *results, const char *trace, const char *backend)
{
    cJSON *partial = cJSON_GetObjectItemCaseSensitive(results->root, "partial");
    if (!partial) return;
    cJSON *pair = cJSON_CreateObject();
    cJSON_AddStringToObject(pair, "trace", trace);
    cJSON_AddStringToObject(pair, "backend", backend);
    cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(partial, "not_measured"), pair);
}

char *hl_results_json(hl_results *results) { return cJSON_Print(results->root); }

void hl_results_free(hl_results *results)
{
    if (!results) return;
    cJSON_Delete(results->root);
    hl_mem_free(results);
}
