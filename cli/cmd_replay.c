/* cmd_replay.c: `heaplab replay`: every trace on every backend, each under the shadow
 * model (unless --no-shadow), isolated (hl_isolate) unless --in-process; a summary table or a results
 * document; a reproducer for each finding. */
#include "cli.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { REPLAY_SHARED = HL_SHARE_SANDBOX | HL_SHARE_MAX_OPS | HL_SHARE_BACKENDS | HL_SHARE_CHECK_EVERY | HL_SHARE_TIMEOUT | HL_SHARE_JSON | HL_SHARE_QUIET };

static const hl_cli_shared replay_defaults = {.check_every = HL_CHECK_PACED, .timeout = 10};

static const hl_cli_option replay_options[] = {
    HL_OPTION("no-shadow", false, 'n', "  --no-shadow         run without the shadow model (throughput only)\n"),
    HL_OPTION("in-process", false, 'P',
     "  --in-process        run each backend inside heaplab itself (for a debugger);\n"
     "                      by default each run is isolated in a forked child, so a\n"
     "                      crash, a hang or an exit of the backend's process is a\n"
     "                      finding naming the operation (--isolate: the default)\n"),
    HL_OPTION("isolate", false, 'i', NULL),
    HL_OPTION("latency", false, 'L',
     "  --latency           time every backend call (fenced cycle counter, the timer's\n"
     "                      own cost measured and subtracted) into a histogram per\n"
     "                      operation kind: count, mean, p50 ... p99.9, max; runs\n"
     "                      without the shadow model (implies --no-shadow)\n"),
    HL_OPTION("threads", false, 'T',
     "  --threads           replay a trace of several threads (t=) on real threads, one\n"
     "                      per trace thread (at most 64), on backends that declare\n"
     "                      thread safety; each thread keeps its order and a free from\n"
     "                      another thread waits for its alloc. Default, and always on\n"
     "                      other backends: serialised in the trace's order\n"),
    HL_OPTION("findings", true, 'f', "  --findings DIR      where reproducer traces go (heaplab-findings)\n"),
    HL_OPTION("ignore", true, 'I', HL_CLI_IGNORE_HELP),
    HL_OPTION("no-speed", false, 'S',
     "  --no-speed          no timed run: ops/s is measured by a run of its own (the\n"
     "                      measure path: a pre-decoded loop with nothing but the\n"
     "                      backend's calls), after a clean checking run, without\n"
     "                      --threads or --latency; this skips it\n"),
    HL_OPTIONS_END};

void hl_help_replay(FILE *out)
{
    fprintf(out,
            "usage: heaplab replay --backends LIST [options] TRACE|DIR...\n"
            "       heaplab replay [options] FINDING.trace...\n"
            "\n"
            "Replays each trace on a fresh instance of each backend. The shadow model checks\n"
            "every operation against the contract and stops a run at its first divergence,\n"
            "writing a reproducer trace. Directories are searched for trace files (by magic);\n"
            "each trace is read and checked when its turn comes. Without --backends, the\n"
            "traces must be reproducers heaplab wrote (replay, report, diff): each runs on\n"
            "the backends its metadata names, as a diff when its rule is a difference.\n"
            "\n");
    hl_cli_print_options(out, REPLAY_SHARED, &replay_defaults, replay_options);
    fprintf(out, "\nexit status: 0 every run clean, 1 a divergence or crash, 2 bad usage or input.\n");
}

typedef struct replay_settings {
    hl_run_options options;
    const char *findings;
    bool speed;
    hl_ignores ignores;
} replay_settings;

static int replay_option(void *context, int key, const char *arg)
{
    replay_settings *r = context;
    switch (key) {
    case 'n': r->options.shadow = false; break;
    case 'i': r->options.isolate = true; break;
    case 'P': r->options.isolate = false; break;
    case 'T': r->options.threads = true; break;
    case 'L': r->options.latency = true; break;
    case 'f': r->findings = arg; break;
    case 'I': return hl_cli_ignore("replay", &r->ignores, arg);
    case 'S': r->speed = false; break;
    }
    return 0;
}

static void show_progress(void *context, uint64_t done, uint64_t total)
{
    const hl_run_summary *summary = context;
    fprintf(stderr, "\r  %s on %s: %" PRIu64 "/%" PRIu64 " operations (%.0f%%)   ", summary->backend,
            summary->trace, done, total, total ? 100.0 * (double)done / (double)total : 100.0);
}

static void human_bytes(char *out, size_t capacity, uint64_t bytes)
{
    static const char units[] = "BKMGT";
    double value = (double)bytes;
    int unit = 0;
    while (value >= 1024 && unit < 4) value /= 1024, unit++;
    if (unit == 0) snprintf(out, capacity, "%" PRIu64 "B", bytes);
    else snprintf(out, capacity, "%.1f%c", value, units[unit]);
}

/* Column widths of the table: known before any run (the specs and the paths). */
typedef struct widths {
    int backend, trace;
} widths;

static void print_row(const hl_run_summary *s, widths w, bool ignored)
{
    char live[32], footprint[32], speed[32], result[48];
    human_bytes(live, sizeof live, s->fragmentation.peak_live_bytes);
    if (s->footprint_unknown) snprintf(footprint, sizeof footprint, "n/m");
    else human_bytes(footprint, sizeof footprint, s->fragmentation.peak_footprint_bytes);
    double ns = s->speed_on ? hl_speed_ns_per_op(&s->speed) : 0;
    if (ns > 0) snprintf(speed, sizeof speed, "%.2fM", 1e3 / ns);
    else snprintf(speed, sizeof speed, "%s", s->speed_on && s->speed.ran ? "too short" : "-");
    if (s->found) snprintf(result, sizeof result, "%s%s", ignored ? "ignored:" : "", hl_rule_name(s->finding.rule));
    else if (s->stream_ended) snprintf(result, sizeof result, "ended@%" PRIu64, s->ended_at);
    else snprintf(result, sizeof result, "clean");
    printf("%-*s %-*s %9" PRIu64 " %8" PRIu64 " %-18s %10s %10s %9s\n", w.backend, s->backend, w.trace, s->trace, s->ops,
           s->skipped, result, live, footprint, speed);
}

static void print_latency(const hl_run_summary *s)
{
    const hl_latency *lat = &s->latency;
    printf("  latency (ns; the counter steps by %.1f ns; timer overhead %.1f ns subtracted):\n",
           (double)lat->overhead.step_ticks * lat->ns_per_tick, (double)lat->overhead.median_ticks * lat->ns_per_tick);
    printf("  %-12s %10s %9s %8s %8s %8s %8s %10s\n", "kind", "count", "mean", "p50", "p90", "p99", "p99.9", "max");
    for (int k = 0; k < HL_LATENCY_KINDS; k++) {
        const hl_histogram *h = &lat->kind[k];
        if (!h->count) continue;
        printf("  %-12s %10" PRIu64 " %9.1f %8" PRIu64 " %8" PRIu64 " %8" PRIu64 " %8" PRIu64 " %10" PRIu64 "\n",
               hl_latency_kind_name(k), h->count, hl_histogram_mean(h), hl_histogram_percentile(h, 50),
               hl_histogram_percentile(h, 90), hl_histogram_percentile(h, 99), hl_histogram_percentile(h, 99.9), h->max);
    }
}

static void print_finding(const hl_trace *trace, const hl_run_summary *s, const char *repro)
{
    hl_finding_print(stderr, s->backend, s->trace, trace, true, &s->finding);
    if (repro) fprintf(stderr, "  reproducer: %s\n", repro);
}

/* Each misuse the backend caught as it declared: a pass, shown so a user sees what
 * the detection named (block, offset, kind). */
static void print_detections(const hl_trace *trace, const hl_run_summary *s)
{
    const char *sep = trace->form == HL_TRACE_TEXT ? ":" : ": byte ";
    uint64_t shown = s->detections < HL_DETECTIONS_KEPT ? s->detections : HL_DETECTIONS_KEPT;
    for (uint64_t i = 0; i < shown; i++) {
        const hl_detection *d = &s->detected[i];
        fprintf(stderr, "detected %s: %s%s%" PRIu64 ": operation %" PRIu64 " (%s): %s of block id %" PRIu64, s->backend,
                s->trace, sep, d->line, d->index,
                hl_op_name((hl_op_kind)d->op_kind),
                hl_error_name(d->kind), d->block);
        if (d->kind == HL_E_OVERFLOW || d->kind == HL_E_UNDERFLOW || d->kind == HL_E_USE_AFTER_FREE)
            fprintf(stderr, " at offset %" PRId64, d->offset);
        fprintf(stderr, "\n");
    }
    if (s->detections > shown)
        fprintf(stderr, "detected %s: ... and %" PRIu64 " more\n", s->backend, s->detections - shown);
}

int hl_cmd_replay(int argc, char **argv)
{
    hl_cli_shared shared = replay_defaults;
    replay_settings r = {{.shadow = true, .isolate = true}, "heaplab-findings", true, {0}};
    int parsed = hl_cli_parse("replay", argc, argv, REPLAY_SHARED, &shared, replay_options, replay_option, &r);
    if (parsed) return parsed;
    hl_run_options options = r.options;
    options.check_every = shared.check_every;
    options.timeout_seconds = shared.timeout;
    const char *backends = shared.backends, *findings = r.findings;
    bool json = shared.json, quiet = shared.quiet;
    if (options.latency) options.shadow = false; /* the shadow's work would sit between the timed calls */
    if (optind >= argc) return hl_cli_usage_error("replay", "no trace or directory given");

    hl_diag diag;
    char **paths;
    size_t path_count;
    int rc = hl_cli_collect_traces(argv + optind, argc - optind, &paths, &path_count, NULL);
    if (rc != 0) return rc;
    hl_rule rule = HL_RULE_COUNT;
    char *named = NULL;
    if (!backends) { /* a reproducer heaplab wrote: the backends it was written for */
        uint64_t period = options.check_every; /* the finding's own, unless --check-every says */
        rc = hl_cli_finding_backends("replay", paths, path_count, &named, &rule, &period);
        if (!shared.check_given) options.check_every = shared.check_every = period;
        if (rc != 0) return rc;
        backends = named;
    }
    hl_spec *specs;
    size_t spec_count;
    int bad = hl_cli_backends(backends, &specs, &spec_count);
    if (bad) return bad;
    if (named && hl_rule_is_difference(rule) && spec_count >= 2) /* it ran as a diff: again */
        return hl_cli_diff_traces(specs, spec_count, paths, path_count, shared.check_every, shared.timeout, findings,
                                  &r.ignores);

    bool progress = isatty(2) && !quiet;
    widths w = {7, 5};
    for (size_t b = 0; b < spec_count; b++)
        if ((int)strlen(specs[b].label) > w.backend) w.backend = (int)strlen(specs[b].label);
    for (size_t t = 0; t < path_count; t++)
        if ((int)strlen(paths[t]) > w.trace) w.trace = (int)strlen(paths[t]);
    hl_results *results = json ? hl_results_new() : NULL;
    size_t runs = 0, clean = 0, divergent = 0, ignored = 0;
    bool header = !json && !quiet; /* printed once the first trace has been read */
    for (size_t t = 0; t < path_count; t++) {
        /* the measure path: a plan compiled for each timed run, heaplab's own cost on it once */
        bool timed = r.speed && !options.threads && !options.latency;
        hl_trace trace;
        int unreadable = hl_cli_stream_trace(paths[t], options.threads, &trace);
        if (unreadable) return unreadable;
        if (header)
            printf("%-*s %-*s %9s %8s %-18s %10s %10s %9s\n", w.backend, "backend", w.trace, "trace", "ops", "skipped",
                   "result", "peak live", "footprint", "ops/s");
        header = false;
        hl_cli_plan plan = {.trace = &trace, .isolate = options.isolate, .timeout = options.timeout_seconds};
        for (size_t b = 0; b < spec_count; b++) {
            hl_run_summary summary;
            hl_run_options run_options = options;
            run_options.isolate |= specs[b].external; /* a library from outside: its crash is a finding */
            if (progress) {
                run_options.progress.report = show_progress;
                run_options.progress.context = &summary;
            }
            int run_rc = hl_run(&specs[b], &trace, &run_options, &summary);
            if (progress && trace.count >= 65536) fprintf(stderr, "\r%70s\r", "");
            if (run_rc == 2) {
                fprintf(stderr, "heaplab: %s\n", summary.setup_error);
                return HL_EXIT_USAGE;
            }
            runs++;
            if (!quiet) print_detections(&trace, &summary);
            if (options.threads && !quiet && summary.trace_threads > 1)
                fprintf(stderr, summary.threads ? "threads %s: %s on %u threads\n"
                                                : "threads %s: %s serialised: the backend does not declare thread safety\n",
                        summary.backend, summary.trace, summary.threads);
            char repro[600] = "";
            bool ignore = summary.found && hl_ignored(&r.ignores, summary.finding.rule, &specs[b]);
            summary.ignored = ignore; /* the results document lists it as ignored */
            if (ignore) { /* a known finding: listed and counted, no reproducer, not divergent */
                ignored++;
                hl_trace held;
                const hl_trace *source = hl_cli_finding_trace(&trace, &summary.finding, &held, &diag);
                fprintf(stderr, "ignored ");
                hl_finding_print(stderr, summary.backend, summary.trace, source, source != NULL, &summary.finding);
                hl_trace_free(&held);
            } else if (summary.found) {
                divergent++;
                hl_cli_written written;
                if (hl_cli_write_finding(&specs[b], &trace, &summary, options.shadow, options.check_every,
                                         options.timeout_seconds, &r.ignores, findings, &written, &diag) != 0) {
                    fprintf(stderr, "heaplab: %s\n", diag.message);
                    return HL_EXIT_USAGE;
                }
                snprintf(repro, sizeof repro, "%s", written.repro);
                print_finding(written.shown, &summary, repro[0] ? repro : NULL);
                hl_cli_written_free(&written);
            } else {
                clean++;
                if (timed) {
                    const hl_null_cost *null_cost;
                    const hl_plan *compiled = hl_cli_plan_get(&plan, &null_cost, &diag);
                    if (!compiled) {
                        fprintf(stderr, "heaplab: %s\n", diag.message);
                        return HL_EXIT_USAGE;
                    }
                    hl_speed_into(&specs[b], compiled, run_options.isolate, options.timeout_seconds, null_cost, &summary);
                    hl_cli_plan_drop(&plan); /* the next checking run does not hold it */
                }
            }
            if (results) hl_results_add(results, &summary, repro[0] ? repro : NULL);
            else if (!quiet) {
                print_row(&summary, w, ignore);
                if (summary.latency.on) print_latency(&summary);
            }
        }
        hl_trace_free(&trace);
    }
    if (results) {
        char *text = hl_results_json(results);
        printf("%s\n", text);
        hl_mem_free(text);
        hl_results_free(results);
    } else {
        printf("%zu runs: %zu clean, %zu divergent", runs, clean, divergent);
        if (ignored) printf(", %zu ignored", ignored);
        printf("\n");
    }
    return divergent ? HL_EXIT_FINDING : HL_EXIT_CLEAN;
}
