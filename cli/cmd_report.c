/* cmd_report.c: `heaplab report`: the measurements of every trace on every backend,
 * rendered by the Python report package (reports/heaplab_report). Per (trace,
 * backend), each in a forked child (--isolate: a crash is a finding, and every run
 * starts from an allocator that holds nothing):
 *   1. a checking run under the shadow model: divergences and their reproducers;
 *   2. a latency run (--latency's fenced per-call timing);
 *   3. a fragmentation run (no shadow, no per-call fences): the footprint timeline,
 *      fragmentation, peak figures;
 *   4. K speed runs (--repeat K) of the measure path (measure/speed.c): ops/s.
 * Per trace, the measure path also runs once over the null backend: heaplab's own
 * cost per operation, shown next to each backend's.
 * One results document (DIR/heaplab-results.json) gets K entries per pair: each a
 * speed run, with the fragmentation run's figures, the latency run's histograms and
 * the checking run's finding.
 * Then `python3 -m heaplab_report render` writes DIR/index.html and DIR/report.md.
 * --micro FILE hands a Google Benchmark JSON file (build/bench-micro's) to the
 * renderer, which folds it into the document (its "micro" section) and shows it as a
 * table; before measuring, `heaplab_report micro FILE` checks it, so a bad file stops
 * the run before anything is written.
 * --from renders saved documents; --compare compares two. --shard I/N runs one slice
 * of the traces (shard.c) and marks the document as that shard; --merge checks shard
 * documents (one build, no trace twice, every shard) and renders them as one
 * (reports/heaplab_report/merge.py). */
#include "cli.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define PYTHON "/usr/bin/python3"

enum { REPORT_SHARED = HL_SHARE_MAX_OPS | HL_SHARE_BACKENDS | HL_SHARE_QUIET | HL_PERMUTE }; /* --merge A B --out DIR */

static const hl_cli_shared report_defaults = {.backends = "all"};

enum { O_BASELINE = 256, O_REPEAT, O_OUT, O_FROM, O_COMPARE, O_THRESHOLD, O_SHARD, O_MERGE, O_MICRO };

static const hl_cli_option report_own[] = {
    HL_OPTION("baseline", true, O_BASELINE,
              "  --baseline NAME     the backend speeds are shown relative to (default: libc)\n"),
    HL_OPTION("repeat", true, O_REPEAT,
              "  --repeat K          speed runs per pair (default 1); the report shows the\n"
              "                      median run and compare uses the spread as the noise level\n"),
    HL_OPTION("out", true, O_OUT, "  --out DIR           where the report goes (created)\n"),
    HL_OPTION("from", true, O_FROM,
              "  --from FILE         render saved results documents instead of running (repeatable)\n"),
    HL_OPTION("micro", true, O_MICRO,
              "  --micro FILE        fold the micro-benchmarks of FILE (build/bench-micro's\n"
              "                      --benchmark_format=json output) into the results document\n"
              "                      (its \"micro\" section, DIR/heaplab-results.json) and show them\n"
              "                      as a table; with --from, the document re-rendered gets them\n"),
    HL_OPTION("compare", false, O_COMPARE,
              "  --compare A B       what changed from results document A to B; exit 1 if\n"
              "                      something got slower or larger beyond the noise\n"),
    HL_OPTION("threshold", true, O_THRESHOLD,
              "  --threshold PCT     with --compare: the smallest change flagged (default 10)\n"),
    HL_OPTION("shard", true, O_SHARD,
              "  --shard I/N         run shard I of N (1 <= I <= N): the traces sorted by path and\n"
              "                      dealt to N shards balanced by file size, each trace with all\n"
              "                      its backends and repeats; the document says which shard it is\n"),
    HL_OPTION("merge", false, O_MERGE,
              "  --merge DOC...      one report (and DIR/heaplab-results.json) from the shards'\n"
              "                      documents: refused (2) for different builds, a trace in two\n"
              "                      shards or a shard missing; exit 1 if a shard found a divergence\n"),
    HL_OPTIONS_END};

void hl_help_report(FILE *out)
{
    fprintf(out,
            "usage: heaplab report [--backends LIST] [--baseline NAME] [--repeat K] [--micro FILE] --out DIR\n"
            "                      TRACE|DIR...\n"
            "       heaplab report --from RESULTS.json... --out DIR [--baseline NAME] [--micro FILE]\n"
            "       heaplab report --compare A.json B.json [--out DIR] [--threshold PCT]\n"
            "       heaplab report --shard I/N [--backends LIST] ... --out DIR TRACE|DIR...\n"
            "       heaplab report --merge SHARD.json... --out DIR [--baseline NAME]\n"
            "\n"
            "Measures every trace on every backend and writes a report: DIR/index.html\n"
            "(self-contained, plots embedded), DIR/report.md with DIR/plots/, and the\n"
            "results document it was made from (DIR/heaplab-results.json). Each pair runs\n"
            "in a forked child: once under the shadow model (divergences, reproducers in\n"
            "DIR/findings), once with per-call latency timing, once for fragmentation, and\n"
            "K times on the measure path for speed (a pre-decoded loop with nothing but the\n"
            "backend's calls; heaplab's own cost per operation is measured beside it on a\n"
            "backend that does no work). The rendering is the Python package reports/heaplab_report\n"
            "(/usr/bin/python3 with Debian's matplotlib and jsonschema).\n"
            "\n"
            "--micro FILE adds Google Benchmark's figures of the micro-benchmarks (make\n"
            "bench-quick writes build/bench-micro.json) to the document and the report: one\n"
            "row per family, one column per target, ns per iteration, and each reference\n"
            "backend's time over the fastest raw malloc's. A missing FILE, one that is not\n"
            "JSON or not a Google Benchmark document: exit status 2, nothing written.\n"
            "\n"
            "Default backends: all.\n"
            "\n");
    hl_cli_print_options(out, REPORT_SHARED, &report_defaults, report_own);
    fprintf(out,
            "\n"
            "exit status: 0 report written, every run clean; 1 a divergence or crash was\n"
            "found (the report lists it) or --compare flagged a regression; 2 bad usage or\n"
            "input.\n");
}

/* ---------------------------------------------------------------- the renderer */

/* The reports/ folder of the source tree this binary was built in: the first
 * ancestor of the binary's directory (build/, build/asan/, ...) that holds
 * reports/heaplab_report; or $HEAPLAB_REPORTS. */
static void package_dir(char *out, size_t capacity)
{
    const char *given = getenv("HEAPLAB_REPORTS");
    if (given && *given) {
        snprintf(out, capacity, "%s", given);
        return;
    }
    char dir[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", dir, sizeof dir - 1);
    dir[n > 0 ? n : 0] = '\0';
    for (int up = 0; up < 4; up++) {
        char *slash = strrchr(dir, '/');
        if (!slash) break;
        *slash = '\0';
        snprintf(out, capacity, "%s/reports", dir);
        char probe[PATH_MAX + 64];
        snprintf(probe, sizeof probe, "%s/heaplab_report/__init__.py", out);
        if (access(probe, R_OK) == 0) return;
    }
    snprintf(out, capacity, "reports"); /* the working directory's, as a last resort */
}

/* Runs `python3 -m heaplab_report ARGS...`; returns its exit status (2 if it could
 * not start, with a message). */
static int run_python(char **args, int count)
{
    char dir[PATH_MAX + 32];
    package_dir(dir, sizeof dir);
    char **argv = hl_mem_alloc(sizeof *argv * (size_t)(count + 4));
    argv[0] = PYTHON;
    argv[1] = "-m";
    argv[2] = "heaplab_report";
    for (int i = 0; i < count; i++) argv[3 + i] = args[i];
    argv[3 + count] = NULL;
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid == 0) {
        setenv("PYTHONPATH", dir, 1);
        execv(PYTHON, argv);
        fprintf(stderr, "heaplab report: cannot run %s: %s (make deps installs it)\n", PYTHON, strerror(errno));
        _exit(2);
    }
    hl_mem_free(argv);
    int status = 0;
    if (pid < 0 || waitpid(pid, &status, 0) < 0) {
        fprintf(stderr, "heaplab report: cannot start %s: %s\n", PYTHON, strerror(errno));
        return HL_EXIT_USAGE;
    }
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    fprintf(stderr, "heaplab report: the renderer died (signal %d)\n", WTERMSIG(status));
    return HL_EXIT_USAGE;
}

/* ---------------------------------------------------------------- progress */

/* Work is counted in trace-file bytes (a trace is read only when its turn comes, so
 * operation counts are not known ahead): a run of a trace weighs its file's size, a
 * run part-way the same share of it as of its operations. */
typedef struct progress {
    bool on;
    uint64_t start_ns;
    uint64_t total;       /* bytes over every run of every pair */
    uint64_t done;        /* of the runs finished */
    uint64_t weight;      /* the current trace's bytes */
    uint64_t ops;         /* and operations */
    size_t pair, pairs;
    const char *backend, *trace, *pass;
} progress;

static void show(progress *p, uint64_t within)
{
    if (!p->on) return;
    double elapsed = (double)(hl_clock_now_ns() - p->start_ns) / 1e9;
    uint64_t done = p->done + (p->ops ? (uint64_t)((double)p->weight * (double)within / (double)p->ops) : 0);
    char left[48] = "";
    if (done > 0 && elapsed > 0.5) {
        double rest = elapsed * (double)(p->total - (done < p->total ? done : p->total)) / (double)done;
        snprintf(left, sizeof left, ", about %.0fm%02.0fs left", (double)(int)(rest / 60), rest - 60 * (int)(rest / 60));
    }
    fprintf(stderr, "\r\033[K  [%zu/%zu] %s on %s: %s (%.0f%% of all runs%s)", p->pair, p->pairs, p->backend, p->trace,
            p->pass, p->total ? 100.0 * (double)done / (double)p->total : 100.0, left);
}

static void on_progress(void *context, uint64_t done, uint64_t total)
{
    (void)total;
    show(context, done);
}

/* ---------------------------------------------------------------- the runs */

typedef struct report_options {
    const char *backends, *baseline, *out;
    unsigned repeat;
    bool quiet;
    const hl_cli_shard *shard; /* --shard: the document says which; NULL: not sharded */
} report_options;

static int make_dir(const char *path)
{
    char buffer[PATH_MAX];
    snprintf(buffer, sizeof buffer, "%s", path);
    for (char *p = buffer + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        mkdir(buffer, 0777);
        *p = '/';
    }
    if (mkdir(buffer, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "heaplab report: cannot create %s: %s\n", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* whole or not at all (hl_outfile_write): a full disk leaves no truncated document */
static int write_file(const char *path, const char *text)
{
    int e = hl_outfile_write(path, text, strlen(text));
    if (e) {
        fprintf(stderr, "heaplab report: %s: cannot write: %s (nothing written)\n", path, strerror(e));
        return -1;
    }
    return 0;
}

/* One pass of one pair: returns hl_run's status, with a usage message on 2. */
static int pass(const hl_spec *spec, const hl_trace *trace, hl_run_options options, const char *name, progress *p,
                hl_run_summary *summary)
{
    p->pass = name;
    show(p, 0);
    options.isolate = true;
    if (p->on) {
        options.progress.report = on_progress;
        options.progress.context = p;
    }
    int rc = hl_run(spec, trace, &options, summary);
    p->done += p->weight;
    if (rc == 2) fprintf(stderr, "%sheaplab: %s\n", p->on ? "\n" : "", summary->setup_error);
    return rc;
}

static int measure(const report_options *o, char **paths, size_t path_count, uint64_t bytes, const char *document)
{
    hl_spec *specs;
    size_t spec_count;
    int bad = hl_cli_backends(o->backends, &specs, &spec_count);
    if (bad) return bad;
    hl_diag diag;
    /* every operation runs once per backend in each pass: checking, latency, fragmentation, K speed */
    progress p = {isatty(2) && !o->quiet, hl_clock_now_ns(), bytes * spec_count * (3 + o->repeat), 0, 0, 0, 0,
                  path_count * spec_count, NULL, NULL, NULL};
    char findings[PATH_MAX + 16];
    snprintf(findings, sizeof findings, "%s/findings", o->out);
    hl_results *results = hl_results_new();
    if (o->shard)
        hl_results_shard(results, o->shard->index, o->shard->count, paths, path_count, o->shard->all,
                         o->shard->all_count);
    static hl_run_summary checked, timed, measured; /* large: kept off the stack */
    size_t divergent = 0;
    for (size_t t = 0; t < path_count; t++) {
        hl_trace trace;
        int unreadable = hl_cli_read_trace(paths[t], &trace);
        if (unreadable) return unreadable;
        struct stat st;
        p.weight = stat(paths[t], &st) == 0 && st.st_size > 0 ? (uint64_t)st.st_size : 0;
        p.ops = trace.count;
        hl_plan plan;
        hl_plan_build(&trace, &plan);
        hl_null_cost null_cost = hl_speed_null_cost(&plan, true, 10);
        for (size_t b = 0; b < spec_count; b++) {
            p.pair++;
            p.backend = specs[b].label;
            p.trace = paths[t];
            hl_run_options shadowed = {.shadow = true, .check_every = HL_CHECK_PACED, .timeout_seconds = 10};
            hl_run_options latency = {.latency = true, .timeout_seconds = 10};
            hl_run_options plain = {.timeout_seconds = 10};
            if (pass(&specs[b], &trace, shadowed, "checking", &p, &checked) == 2 ||
                pass(&specs[b], &trace, latency, "latency", &p, &timed) == 2 ||
                pass(&specs[b], &trace, plain, "fragmentation", &p, &measured) == 2)
                return HL_EXIT_USAGE;
            char repro[600] = "";
            if (checked.found) {
                divergent++;
                if (p.on) fprintf(stderr, "\r\033[K");
                hl_finding_print(stderr, checked.backend, paths[t], &trace, true, &checked.finding);
                if (hl_repro_write(&specs[b], &trace, &checked, &shadowed, findings, repro, sizeof repro, &diag) != 0) {
                    fprintf(stderr, "heaplab: could not write the reproducer: %s\n", diag.message);
                    repro[0] = '\0';
                }
            }
            measured.latency = timed.latency;
            for (unsigned k = 0; k < o->repeat; k++) {
                char name[48];
                snprintf(name, sizeof name, "speed %u/%u", k + 1, o->repeat);
                p.pass = name;
                show(&p, 0);
                bool ended = checked.found && (checked.finding.rule == HL_RULE_CRASH || checked.finding.rule == HL_RULE_HANG);
                if (ended) measured.speed_on = false; /* it would crash or hang again */
                else hl_speed_into(&specs[b], &plan, true, 10, &null_cost, &measured);
                p.done += p.weight;
                if (!ended && !measured.speed.ran && !o->quiet)
                    fprintf(stderr, "%sheaplab report: %s on %s: speed not measured: %s\n", p.on ? "\r\033[K" : "",
                            specs[b].label, paths[t], measured.speed.error);
                measured.found = checked.found;
                measured.finding = checked.finding;
                measured.detections = checked.detections;
                memcpy(measured.detected, checked.detected, sizeof measured.detected);
                hl_results_add(results, &measured, repro[0] ? repro : NULL);
            }
        }
        hl_plan_free(&plan);
        hl_trace_free(&trace);
    }
    if (p.on) fprintf(stderr, "\r\033[K");
    char *text = hl_results_json(results);
    int rc = write_file(document, text);
    hl_mem_free(text);
    hl_results_free(results);
    if (rc != 0) return HL_EXIT_USAGE;
    fprintf(stderr, "heaplab report: %zu traces x %zu backends measured in %.1f s, %zu divergent\n", path_count,
            spec_count, (double)(hl_clock_now_ns() - p.start_ns) / 1e9, divergent);
    return divergent ? HL_EXIT_FINDING : HL_EXIT_CLEAN;
}

typedef struct report_settings {
    report_options o;
    const char *threshold;
    const char *micro; /* --micro FILE: a Google Benchmark JSON file, or NULL */
    char **from;
    int from_count;
    bool compare;
    bool merge;
    hl_cli_shard shard;
} report_settings;

static int report_option(void *context, int key, const char *arg)
{
    report_settings *r = context;
    char *end = NULL;
    switch (key) {
    case O_BASELINE: r->o.baseline = arg; break;
    case O_OUT: r->o.out = arg; break;
    case O_FROM: r->from[r->from_count++] = (char *)arg; break;
    case O_COMPARE: r->compare = true; break;
    case O_THRESHOLD: r->threshold = arg; break;
    case O_SHARD: return hl_cli_shard_parse("report", arg, &r->shard);
    case O_MERGE: r->merge = true; break;
    case O_MICRO: r->micro = arg; break;
    case O_REPEAT: {
        unsigned long k = strtoul(arg, &end, 10);
        if (!end || *end || k < 1 || k > 100)
            return hl_cli_usage_error("report", "--repeat '%s' is not a count from 1 to 100", arg);
        r->o.repeat = (unsigned)k;
        break;
    }
    }
    return 0;
}

/* --merge (rendered by the Python package) and --shard's usage rules: returns the exit
 * status of a merge or of a usage error, or -1 to go on (a shard is measured like a
 * whole run, on its slice of the traces). */
static int shards(const report_settings *r, const report_options *o, int argc, char **argv)
{
    if (r->merge && r->shard.count) return hl_cli_usage_error("report", "--merge and --shard do not go together");
    if (r->micro)
        return hl_cli_usage_error("report", "--micro goes with a report of traces or --from documents, not --%s",
                                  r->merge ? "merge" : "shard");
    if (r->compare || r->from_count || r->threshold)
        return hl_cli_usage_error("report", "--%s goes with neither --compare nor --from",
                                  r->merge ? "merge" : "shard");
    if (!r->merge) return -1;
    if (!o->out) return hl_cli_usage_error("report", "--merge writes a report: --out DIR is required");
    if (optind >= argc) return hl_cli_usage_error("report", "--merge takes the shards' results documents");
    char **args = hl_mem_alloc(sizeof *args * (size_t)(argc + 8));
    int n = 0;
    args[n++] = "merge";
    args[n++] = "--out";
    args[n++] = (char *)o->out;
    if (o->baseline) args[n++] = "--baseline", args[n++] = (char *)o->baseline;
    for (int i = optind; i < argc; i++) args[n++] = argv[i];
    int rc = run_python(args, n);
    hl_mem_free(args);
    return rc;
}

int hl_cmd_report(int argc, char **argv)
{
    hl_cli_shared shared = report_defaults;
    report_settings r = {{"all", NULL, NULL, 1, false, NULL}, NULL, NULL, hl_mem_alloc(sizeof(char *) * (size_t)argc),
                         0, false, false, {0}};
    int parsed = hl_cli_parse("report", argc, argv, REPORT_SHARED, &shared, report_own, report_option, &r);
    if (parsed) return parsed;
    report_options o = r.o;
    o.backends = shared.backends;
    o.quiet = shared.quiet;
    const char *threshold = r.threshold;
    char **from = r.from;
    int from_count = r.from_count;
    bool compare = r.compare;
    char *args[16 + 64];
    int n = 0;
    if (r.merge || r.shard.count) {
        int refused = shards(&r, &o, argc, argv);
        if (refused >= 0) return refused;
    }
    if (compare) {
        if (r.micro) return hl_cli_usage_error("report", "--micro goes with a report, not --compare");
        if (argc - optind != 2 || from_count)
            return hl_cli_usage_error("report", "--compare takes two results documents: A.json B.json");
        args[n++] = "compare";
        if (threshold) args[n++] = "--threshold", args[n++] = (char *)threshold;
        if (o.out) args[n++] = "--out", args[n++] = (char *)o.out;
        args[n++] = argv[optind];
        args[n++] = argv[optind + 1];
        return run_python(args, n);
    }
    if (threshold) return hl_cli_usage_error("report", "--threshold goes with --compare");
    if (!o.out) return hl_cli_usage_error("report", "--out DIR is required");
    if (from_count && optind < argc) return hl_cli_usage_error("report", "give traces or --from documents, not both");
    if (!from_count && optind >= argc) return hl_cli_usage_error("report", "no trace or directory given");
    if (from_count > 64) return hl_cli_usage_error("report", "at most 64 --from documents");
    int measured = HL_EXIT_CLEAN;
    char document[PATH_MAX + 32];
    if (!from_count) {
        char **paths;
        size_t path_count;
        uint64_t bytes;
        int rc = hl_cli_collect_traces(argv + optind, argc - optind, &paths, &path_count, &bytes);
        if (rc != 0) return rc;
        if (r.shard.count) {
            hl_cli_shard_select(&r.shard, paths, path_count);
            fprintf(stderr, "heaplab report: shard %u/%u runs %zu of the %zu traces\n", r.shard.index, r.shard.count,
                    r.shard.mine_count, r.shard.all_count);
            paths = r.shard.mine, path_count = r.shard.mine_count, bytes = r.shard.bytes;
            o.shard = &r.shard;
        }
        if (r.micro) { /* a bad FILE stops the run before any measuring or writing */
            char *check[] = {"micro", (char *)r.micro};
            int checked = run_python(check, 2);
            if (checked != 0) return checked;
        }
        if (make_dir(o.out) != 0) return HL_EXIT_USAGE;
        snprintf(document, sizeof document, "%s/heaplab-results.json", o.out);
        measured = measure(&o, paths, path_count, bytes, document);
        if (measured == HL_EXIT_USAGE) return measured;
    }
    args[n++] = "render";
    args[n++] = "--out";
    args[n++] = (char *)o.out;
    if (o.baseline) args[n++] = "--baseline", args[n++] = (char *)o.baseline;
    if (r.micro) args[n++] = "--micro", args[n++] = (char *)r.micro;
    if (from_count)
        for (int i = 0; i < from_count; i++) args[n++] = from[i];
    else
        args[n++] = document;
    int rendered = run_python(args, n);
    return rendered != 0 ? rendered : measured;
}
