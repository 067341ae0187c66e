/* replay.c: one (backend, trace) checking run: a fresh instance, an executor with the
 * shadow model, the fragmentation observer (the run's figures) and, with --latency,
 * the latency one, every operation stepped once, then the teardown (the leftover
 * blocks freed in id order). The isolated form runs the same thing through
 * hl_isolate, so a backend that crashes, hangs or ends the process becomes a CRASH
 * or HANG finding at the operation (or teardown block) it was in, never the end of
 * heaplab. The first finding in operation order wins: a teardown crash is reported
 * only when the stream and its final checks found nothing. */
#include "hl_check.h"
#include "hl_lanes.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>


static void name_run(const hl_spec *spec, const hl_trace *trace, hl_run_summary *summary)
{
    memset(summary, 0, sizeof *summary);
    snprintf(summary->backend, sizeof summary->backend, "%s", spec->label);
    snprintf(summary->trace, sizeof summary->trace, "%s", trace->path ? trace->path : "-");
}

/* A streamed trace (hl_trace.streamed) is read from its file again, a window at a
 * time: the run holds STREAM_WINDOW operations, whatever the trace's length. The
 * last STREAM_AHEAD of a window wait for the next one, so prefetch sees ahead. */
#define STREAM_WINDOW 4096u
#define STREAM_AHEAD 64u

typedef struct streamer {
    hl_lanes *lanes;
    const hl_progress *progress;
    uint64_t total;
    hl_op *window;
    size_t held;
    uint64_t first;   /* stream index of window[0] */
    int rc;           /* the run's answer so far (hl_lanes_run's) */
    uint64_t at;
    uint8_t at_kind;  /* the kind of operation `at` */
    size_t stopped;
} streamer;

/* Steps the window's first `steps` operations and keeps the rest at its start. */
static void stream_steps(streamer *s, size_t steps)
{
    s->rc = hl_lanes_run_window(s->lanes, s->window, s->held, steps, s->first, s->total, NULL, s->progress, &s->at,
                                &s->stopped);
    s->at_kind = s->window[s->at - s->first].kind;
    memmove(s->window, s->window + steps, (s->held - steps) * sizeof *s->window);
    s->held -= steps;
    s->first += steps;
}

static int stream_take(void *context, const hl_trace *trace, const hl_op *op, hl_diag *diag)
{
    (void)trace, (void)diag;
    streamer *s = context;
    s->window[s->held++] = *op;
    if (s->held == STREAM_WINDOW) stream_steps(s, STREAM_WINDOW - STREAM_AHEAD);
    return s->rc ? HL_SINK_STOP : 0; /* a stop or an end: the run is over */
}

/* Runs the lanes over the trace's file. Returns hl_lanes_run's answer, or -1 with
 * diag when the file cannot be read again as it was read first. */
static int stream_run(hl_lanes *lanes, const hl_trace *trace, const hl_progress *progress, uint64_t *at,
                      uint8_t *at_kind, hl_diag *diag)
{
    streamer s = {.lanes = lanes, .progress = progress, .total = trace->count,
                  .window = hl_mem_alloc(STREAM_WINDOW * sizeof(hl_op))};
    hl_op_sink sink = {stream_take, &s};
    int read = hl_trace_rescan(trace, &sink, diag);
    if (read == 0 && !s.rc && s.held) stream_steps(&s, s.held);
    hl_mem_free(s.window);
    *at = s.at;
    *at_kind = s.at_kind;
    return read != 0 ? -1 : s.rc;
}

static int run_here(const hl_spec *spec, const hl_trace *trace, const hl_run_options *options,
                    hl_run_summary *summary, hl_watch *watch)
{
    hl_diag diag;
    uint32_t trace_threads = trace->streamed ? trace->threads : (uint32_t)hl_threads_count(trace->ops, trace->count);
    /* one thread at a time unless it may run on real threads (--threads, a trace of
     * several); and without scopes or free_all, the executor's teardown frees every
     * block the run leaves, so an adapter over malloc need not track its blocks */
    bool may_thread = options->threads && trace_threads > 1;
    bool scoped = trace->scoped;
    for (size_t i = 0; !trace->streamed && i < trace->count && !scoped; i++)
        scoped = hl_op_scoped((hl_op_kind)trace->ops[i].kind);
    uint32_t hints = (may_thread ? 0 : HL_HINT_ONE_THREAD) | (scoped ? 0 : HL_HINT_CALLER_FREES);
    hl_lanes *lanes = hl_lanes_open(spec, 1, trace->ops, trace->count, false, hints, watch, &diag);
    if (!lanes) {
        summary->setup_failed = true;
        snprintf(summary->setup_error, sizeof summary->setup_error, "%s", diag.message);
        return 2;
    }
    if (trace->streamed) hl_exec_reserve(hl_lanes_at(lanes, 0)->exec, trace->allocs, trace->max_id);
    hl_exec *exec = hl_lanes_at(lanes, 0)->exec;
    const hl_info *info = hl_exec_info(exec);
    summary->footprint_unknown = (info->features & HL_FEATURE_FOOTPRINT_UNKNOWN) != 0;
    summary->features = info->features, summary->misuse = info->misuse;
    if (info->backend_class == HL_CLASS_REFERENCE || !info->source)
        snprintf(summary->backend_version, sizeof summary->backend_version, "heaplab %s", HL_VERSION);
    else
        snprintf(summary->backend_version, sizeof summary->backend_version, "%s", info->source);
    hl_shadow *shadow = NULL;
    if (options->shadow) {
        shadow = hl_shadow_new(options->check_every);
        hl_observer observer = hl_shadow_observer(shadow);
        hl_exec_observe(exec, &observer);
    }
    else hl_exec_write_patterns(exec, false); /* nobody would read them */
    hl_exec_time_calls(exec, options->latency ? HL_TIMING_FENCED : options->shadow ? HL_TIMING_OFF : HL_TIMING_PLAIN);
    summary->backend_timed = !options->shadow;
    hl_observer fragmentation = hl_fragmentation_observer(&summary->fragmentation, trace->count);
    hl_exec_observe(exec, &fragmentation);
    if (options->latency) {
        hl_latency_init(&summary->latency);
        hl_observer latency = hl_latency_observer(&summary->latency);
        hl_exec_observe(exec, &latency);
    }

    summary->trace_threads = trace_threads;
    bool threaded = options->threads && summary->trace_threads > 1 && !trace->streamed &&
                    (hl_exec_info(exec)->features & HL_FEATURE_THREAD_SAFE);
    uint64_t start = hl_clock_now_ns();
    int rc = 0;
    uint64_t at = 0;
    if (threaded) {
        hl_watch_phase(watch, HL_PHASE_STREAM);
        summary->threads = summary->trace_threads < HL_THREADS_MAX ? summary->trace_threads : HL_THREADS_MAX;
        rc = hl_threads_run(exec, trace->ops, trace->count, summary->threads, &options->progress, &at, &diag);
        if (rc < 0) {
            summary->setup_failed = true;
            snprintf(summary->setup_error, sizeof summary->setup_error, "%s", diag.message);
            rc = 0;
        }
    } else if (trace->streamed) {
        uint8_t kind = 0;
        rc = stream_run(lanes, trace, &options->progress, &at, &kind, &diag);
        if (rc < 0) {
            summary->setup_failed = true;
            snprintf(summary->setup_error, sizeof summary->setup_error, "%s", diag.message);
            hl_lanes_close(lanes);
            return 2;
        }
        if (rc == 2) snprintf(summary->ended_reason, sizeof summary->ended_reason,
                                            "%s failed here; the rest of the trace cannot follow",
                                            hl_op_name((hl_op_kind)kind));
    } else {
        size_t stopped;
        rc = hl_lanes_run(lanes, trace->ops, trace->count, NULL, &options->progress, &at, &stopped);
        if (rc == 2)
            snprintf(summary->ended_reason, sizeof summary->ended_reason,
                     "%s failed here; the rest of the trace cannot follow", hl_op_name((hl_op_kind)trace->ops[at].kind));
    }
    if (rc == 2) {
        summary->stream_ended = true;
        summary->ended_at = at;
    }
    size_t lane_found;
    hl_lanes_finish(lanes, trace->count, &lane_found);
    summary->elapsed_ns = hl_clock_now_ns() - start;

    const hl_exec_counts *counts = hl_exec_counts_of(exec);
    summary->ops = counts->ops;
    summary->sent = counts->sent;
    summary->skipped = counts->skipped;
    summary->failures = counts->failures;
    summary->backend_ns = (uint64_t)((double)counts->elapsed_ticks * hl_clock_ns_per_tick());
    if (shadow) {
        const hl_detection *kept;
        summary->detections = hl_shadow_detections(shadow, &kept);
        uint64_t n = summary->detections < HL_DETECTIONS_KEPT ? summary->detections : HL_DETECTIONS_KEPT;
        memcpy(summary->detected, kept, n * sizeof *kept);
    }
    if (shadow && hl_shadow_finding(shadow)) {
        summary->found = true;
        summary->finding = *hl_shadow_finding(shadow);
    }
    uint64_t failed_id = 0;
    hl_error failed;
    size_t lane_failed;
    if (hl_lanes_teardown(lanes, &lane_failed, &failed_id, &failed) && shadow && !summary->found) {
        summary->found = true;
        summary->finding = (hl_finding){.rule = HL_RULE_WRONG_ERROR, .index = trace->count, .teardown = true,
                                        .teardown_id = failed_id};
        snprintf(summary->finding.message, sizeof summary->finding.message,
                 "teardown: free of block id %llu, live, answered %s", (unsigned long long)failed_id,
                 hl_error_name(failed));
    }
    hl_lanes_close(lanes);
    hl_shadow_free(shadow);
    return summary->setup_failed ? 2 : summary->found ? 1 : 0;
}

/* The process's resident set now (/proc/self/statm), in bytes; 0 if unknown. */
static uint64_t resident_bytes(void)
{
    unsigned long long pages = 0, resident = 0;
    FILE *statm = fopen("/proc/self/statm", "r");
    if (!statm) return 0;
    if (fscanf(statm, "%llu %llu", &pages, &resident) != 2) resident = 0;
    fclose(statm);
    return (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE);
}

typedef struct line_search {
    uint64_t index, seen, line;
} line_search;

static int line_take(void *context, const hl_trace *trace, const hl_op *op, hl_diag *diag)
{
    (void)trace, (void)diag;
    line_search *l = context;
    if (l->seen++ < l->index) return 0;
    l->line = op->line;
    return HL_SINK_STOP;
}

/* The source line (byte offset) of operation index, 0 past the end (or if the file no
 * longer holds it); a streamed trace is read again up to it. */
static uint64_t line_of(const hl_trace *trace, uint64_t index)
{
    if (index >= trace->count) return 0;
    if (!trace->streamed) return trace->ops[index].line;
    line_search l = {index, 0, 0};
    hl_op_sink sink = {line_take, &l};
    hl_diag diag;
    return hl_trace_rescan(trace, &sink, &diag) == 0 ? l.line : 0;
}

typedef struct isolated_run {
    const hl_spec *spec;
    const hl_trace *trace;
    const hl_run_options *options;
} isolated_run;

typedef struct answer {
    int rc;
    hl_run_summary summary;
} answer;

static int child_run(void *context, hl_watch *watch, void *result)
{
    isolated_run *r = context;
    answer *a = result;
    hl_run_options child = *r->options;
    child.progress.count = &watch->completed;
    child.progress.report = NULL; /* the parent shows progress */
    uint64_t rss_start = resident_bytes();
    a->rc = run_here(r->spec, r->trace, &child, &a->summary, watch);
    struct rusage usage;
    if (getrusage(RUSAGE_SELF, &usage) == 0) {
        a->summary.rss_start_bytes = rss_start;
        a->summary.rss_peak_bytes = (uint64_t)usage.ru_maxrss * 1024;
    }
    return a->rc;
}

typedef struct ticker {
    const hl_run_options *options;
    uint64_t total;
} ticker;

static void tick(void *context, const hl_watch *watch)
{
    ticker *t = context;
    t->options->progress.report(t->options->progress.context, watch->completed, t->total);
}

static int run_isolated(const hl_spec *spec, const hl_trace *trace, const hl_run_options *options,
                        hl_run_summary *summary)
{
    isolated_run r = {spec, trace, options};
    answer *a = hl_mem_alloc(sizeof *a);
    ticker t = {options, trace->count};
    hl_isolation iso = {.timeout = options->timeout_seconds, .tick = options->progress.report ? tick : NULL, .context = &t};
    hl_isolated out;
    hl_isolate(child_run, &r, a, sizeof *a, &iso, &out);
    int rc;
    if (out.end == HL_ISOLATED_FAILED) {
        summary->setup_failed = true;
        snprintf(summary->setup_error, sizeof summary->setup_error, "%s", out.error);
        rc = 2;
    } else if (out.end == HL_ISOLATED_RETURNED) {
        *summary = a->summary;
        rc = a->rc;
    } else if (out.published && a->summary.found) { /* an earlier finding wins over the teardown */
        *summary = a->summary;
        rc = 1;
    } else {
        if (out.published) *summary = a->summary; /* the figures are complete; teardown died */
        else summary->ops = out.watch.op;
        hl_isolated_finding(&out, spec->label, options->timeout_seconds, &summary->finding);
        summary->found = true;
        uint64_t index = summary->finding.index;
        summary->finding.line = line_of(trace, index);
        rc = 1;
    }
    hl_mem_free(a);
    return rc;
}

int hl_run(const hl_spec *spec, const hl_trace *trace, const hl_run_options *options, hl_run_summary *summary)
{
    name_run(spec, trace, summary);
    hl_clock_ns_per_tick(); /* calibrated once, here, not inside a timed loop or in each child */
    int rc = options->isolate ? run_isolated(spec, trace, options, summary)
                              : run_here(spec, trace, options, summary, NULL);
    /* the run's names are the front end's, whatever the child wrote */
    snprintf(summary->backend, sizeof summary->backend, "%s", spec->label);
    snprintf(summary->trace, sizeof summary->trace, "%s", trace->path ? trace->path : "-");
    return rc;
}
