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
 * (reports/heaplab_report/merge.py).
 * Every route that writes DIR builds it beside its final name and renames it as a
 * whole (the report folder, below); while measuring, a first Ctrl-C (SIGINT, SIGTERM)
 * stops the runs and renders the pairs measured so far as a partial report, a second
 * ends at once (hl_isolate.h, "interruption"). */
#include "cli.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define PYTHON "/usr/bin/python3"

enum { REPORT_SHARED = HL_SHARE_SANDBOX | HL_SHARE_MAX_OPS | HL_SHARE_BACKENDS | HL_SHARE_QUIET | HL_PERMUTE }; /* --merge A B --out DIR */

static const hl_cli_shared report_defaults = {.backends = "all"};

enum { O_BASELINE = 256, O_REPEAT, O_OUT, O_FROM, O_COMPARE, O_THRESHOLD, O_SHARD, O_MERGE, O_MICRO, O_AS };

static const hl_cli_option report_own[] = {
    HL_OPTION("baseline", true, O_BASELINE,
              "  --baseline NAME     the backend speeds are shown relative to (default: libc)\n"),
    HL_OPTION("repeat", true, O_REPEAT,
              "  --repeat K          speed runs per pair (default 1); the report shows the\n"
              "                      median run and compare uses the spread as the noise level\n"),
    HL_OPTION("out", true, O_OUT,
              "  --out DIR           where the report goes: built beside it and renamed to DIR\n"
              "                      once complete; an earlier report there is replaced then\n"),
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
    HL_OPTION("as", true, O_AS,
              "  --as OLD=NEW        with --compare: A's backend labelled OLD is compared with B's\n"
              "                      labelled NEW (repeatable); pairs otherwise match by the\n"
              "                      trace's file name and the backend's label (name=, else a\n"
              "                      library's file name); no pair in common: exit 2\n"),
    HL_OPTION("shard", true, O_SHARD,
              "  --shard I/N         run shard I of N (1 <= I <= N): the traces sorted by path and\n"
              "                      dealt to N shards balanced by file size, each trace with all\n"
              "                      its backends and repeats; the document says which shard it is\n"),
    HL_OPTION("merge", false, O_MERGE,
              "  --merge DOC...      one report (and DIR/heaplab-results.json) from the shards'\n"
              "                      documents: refused (2) for different builds, a trace in two\n"
              "                      shards or a shard missing; exit 1 if a shard found a divergence\n"),
    HL_OPTION("ignore", true, 'I', HL_CLI_IGNORE_HELP),
    HL_OPTIONS_END};

void hl_help_report(FILE *out)
{
    fprintf(out,
            "usage: heaplab report [--backends LIST] [--baseline NAME] [--repeat K] [--micro FILE] --out DIR\n"
            "                      TRACE|DIR...\n"
            "       heaplab report --from RESULTS.json... --out DIR [--baseline NAME] [--micro FILE]\n"
            "       heaplab report --compare A.json B.json [--out DIR] [--threshold PCT] [--as OLD=NEW]\n"
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
            "input, or DIR could not be written (nothing is then left under DIR); 130 (SIGINT,\n"
            "Ctrl-C) or 143 (SIGTERM): interrupted. A first signal while measuring renders\n"
            "the pairs measured so far as a report marked partial; a second, or one at any\n"
            "other time, ends at once with nothing written.\n");
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
    if (hl_cli_tree_path("reports", "heaplab_report/__init__.py", out, capacity)) return;
    snprintf(out, capacity, "reports"); /* the working directory's, as a last resort */
}

/* Runs `python3 -m heaplab_report ARGS...` in a process group of its own (a Ctrl-C is
 * heaplab's to handle: while finishing a partial report the renderer goes on) that a
 * signal ending heaplab kills; returns its exit status (2 if it could not start, with
 * a message). */
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
        setpgid(0, 0);
        setenv("PYTHONPATH", dir, 1);
        execv(PYTHON, argv);
        fprintf(stderr, "heaplab report: cannot run %s: %s (make deps installs it)\n", PYTHON, strerror(errno));
        _exit(2);
    }
    hl_mem_free(argv);
    if (pid < 0) {
        fprintf(stderr, "heaplab report: cannot start %s: %s\n", PYTHON, strerror(errno));
        return HL_EXIT_USAGE;
    }
    setpgid(pid, pid); /* also from here: no race with a kill of the group */
    hl_interrupt_watch(pid);
    int status = 0;
    pid_t got;
    while ((got = waitpid(pid, &status, 0)) < 0 && errno == EINTR) {}
    hl_interrupt_unwatch(pid);
    if (got < 0) {
        fprintf(stderr, "heaplab report: cannot wait for %s: %s\n", PYTHON, strerror(errno));
        return HL_EXIT_USAGE;
    }
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    fprintf(stderr, "heaplab report: the renderer died (signal %d)\n", WTERMSIG(status));
    return HL_EXIT_USAGE;
}

/* ---------------------------------------------------------------- the report folder */

/* DIR is built beside its final name and renamed as a whole: everything goes into
 * ".NAME.tmp-PID-N" in DIR's parent (one filesystem, so the rename is atomic), which
 * becomes DIR only once complete. An earlier DIR (empty, or a report: it holds one of
 * the files a report writes) is exchanged with it atomically (renameat2
 * RENAME_EXCHANGE; where a filesystem has none, moved aside first) and then removed;
 * any other existing DIR is refused before anything runs, and so is a DIR holding one
 * of the inputs. A failure, or a signal that ends heaplab, removes the temporary
 * folder: nothing under DIR, an earlier report there as it was. The renderer writes
 * into the temporary folder told its final name (--renamed-to), so the pages name
 * DIR's paths. */
typedef struct folder {
    char final[PATH_MAX]; /* DIR as given, without trailing slashes */
    char temp[2 * PATH_MAX + 64]; /* parent + base + suffix: long enough for any snprintf below */
} folder;

static const char *const report_files[] = {"heaplab-results.json", "index.html", "report.md", "results.json",
                                           "compare.md", "compare.html"};

/* True when the existing folder at path is empty or holds a file a report writes. */
static bool replaceable(const char *path)
{
    for (size_t i = 0; i < sizeof report_files / sizeof report_files[0]; i++) {
        char probe[PATH_MAX + 32];
        snprintf(probe, sizeof probe, "%s/%s", path, report_files[i]);
        if (access(probe, F_OK) == 0) return true;
    }
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (!d) {
        if (fd >= 0) close(fd);
        return false;
    }
    bool empty = true;
    for (struct dirent *e; empty && (e = readdir(d));)
        empty = strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0;
    closedir(d);
    return empty;
}

/* Checks that DIR (out) can be replaced by a report built from inputs (the paths the
 * command reads; missing ones are the renderer's to name): 0, or 2 after a usage
 * message. */
static int folder_check(folder *f, const char *out, char **inputs, int input_count)
{
    memset(f, 0, sizeof *f);
    size_t n = strlen(out);
    while (n > 1 && out[n - 1] == '/') n--;
    if (n >= sizeof f->final) return hl_cli_usage_error("report", "--out %s: the path is too long", out);
    snprintf(f->final, sizeof f->final, "%.*s", (int)n, out);
    const char *base = strrchr(f->final, '/');
    base = base ? base + 1 : f->final;
    if (!*base || strcmp(base, ".") == 0 || strcmp(base, "..") == 0)
        return hl_cli_usage_error("report", "--out %s: name the report's own folder (it is built beside it and "
                                  "renamed into place), e.g. --out report", out);
    struct stat st;
    if (lstat(f->final, &st) != 0) return 0;
    if (S_ISLNK(st.st_mode))
        return hl_cli_usage_error("report", "--out %s is a symbolic link: name the folder itself", f->final);
    if (!S_ISDIR(st.st_mode))
        return hl_cli_usage_error("report", "--out %s exists and is not a folder", f->final);
    if (!replaceable(f->final))
        return hl_cli_usage_error("report", "--out %s exists and is not a report (it holds none of index.html, "
                                  "heaplab-results.json, compare.md...): the report replaces DIR as a whole, so "
                                  "name a new folder or empty that one", f->final);
    char root[PATH_MAX], input[PATH_MAX];
    if (!realpath(f->final, root)) return 0;
    size_t length = strlen(root);
    for (int i = 0; i < input_count; i++)
        if (inputs[i] && realpath(inputs[i], input) && strncmp(input, root, length) == 0 && input[length] == '/')
            return hl_cli_usage_error("report", "--out %s would overwrite %s (the report replaces DIR as a "
                                      "whole): write it to another folder", f->final, inputs[i]);
    return 0;
}

/* Makes DIR's parent (and its parents) and the temporary folder beside DIR, which a
 * signal ending heaplab removes: 0, or 2 after a message naming the path and why. */
static int folder_begin(folder *f)
{
    char parent[PATH_MAX]; /* "" for the working directory */
    const char *slash = strrchr(f->final, '/');
    snprintf(parent, sizeof parent, "%.*s", slash ? (int)(slash - f->final) + (slash == f->final) : 0, f->final);
    int made = *parent && strcmp(parent, "/") ? hl_make_folder(parent) : 0;
    if (made != 0) {
        fprintf(stderr, "heaplab report: %s: cannot create %s: %s (nothing written)\n", f->final, parent,
                strerror(made));
        return HL_EXIT_USAGE;
    }
    const char *base = slash ? slash + 1 : f->final;
    for (unsigned n = 0;; n++) {
        snprintf(f->temp, sizeof f->temp, "%s%s.%s.tmp-%ld-%u", parent, *parent && strcmp(parent, "/") ? "/" : "",
                 base, (long)getpid(), n);
        if (mkdir(f->temp, 0777) == 0) break;
        if (errno != EEXIST || n == 100) {
            fprintf(stderr, "heaplab report: %s: cannot create %s beside it: %s (nothing written)\n", f->final,
                    f->temp, strerror(errno));
            return HL_EXIT_USAGE;
        }
    }
    hl_interrupt_scratch(f->temp, f->final);
    return 0;
}

/* Removes the temporary folder and everything in it. */
static void folder_abort(folder *f)
{
    hl_interrupt_scratch(NULL, NULL);
    if (f->temp[0]) hl_remove_tree(f->temp);
    f->temp[0] = '\0';
}

/* Puts the complete temporary folder in place as DIR (signals held meanwhile: no
 * half-done swap): 0, or 2 after a message naming DIR and why, with the temporary
 * folder removed and an earlier DIR as it was. */
static int folder_commit(folder *f)
{
    sigset_t hold, before;
    sigemptyset(&hold);
    sigaddset(&hold, SIGINT);
    sigaddset(&hold, SIGTERM);
    sigprocmask(SIG_BLOCK, &hold, &before);
    int e = 0;
    if (rename(f->temp, f->final) != 0) { /* DIR is there (or the rename failed) */
        e = errno;
        if ((e == ENOTEMPTY || e == EEXIST) && renameat2(AT_FDCWD, f->temp, AT_FDCWD, f->final, RENAME_EXCHANGE) == 0)
            e = 0; /* the earlier report is now under the temporary name */
        else if (e == ENOTEMPTY || e == EEXIST) {
            char aside[sizeof f->temp + 8];
            snprintf(aside, sizeof aside, "%s.old", f->temp);
            e = 0;
            if (rename(f->final, aside) != 0) e = errno;
            else if (rename(f->temp, f->final) != 0) e = errno, rename(aside, f->final);
            else rename(aside, f->temp);
        }
    }
    if (e) fprintf(stderr, "heaplab report: %s: cannot rename %s to it: %s (nothing written)\n", f->final, f->temp,
                   strerror(e));
    folder_abort(f); /* on success, the earlier report */
    sigprocmask(SIG_SETMASK, &before, NULL);
    return e ? HL_EXIT_USAGE : 0;
}

/* The path under DIR of path under the temporary folder (path itself if not under it). */
static void as_final(const folder *f, const char *path, char *out, size_t capacity)
{
    size_t n = strlen(f->temp);
    if (strncmp(path, f->temp, n) == 0 && path[n] == '/') snprintf(out, capacity, "%s%s", f->final, path + n);
    else snprintf(out, capacity, "%s", path);
}

/* Runs the renderer's COMMAND (render, merge, compare) writing into the temporary
 * folder for DIR, with args after --out; then puts the folder in place when the
 * renderer succeeded (exit 0, or 1: a divergence or a regression) or removes it.
 * Returns the renderer's status, or 2 when the folder could not be put in place. */
static int render_into(folder *f, const char *command, char **args, int count)
{
    char **all = hl_mem_alloc(sizeof *all * (size_t)(count + 6));
    int n = 0;
    all[n++] = (char *)command;
    all[n++] = "--out";
    all[n++] = f->temp;
    all[n++] = "--renamed-to";
    all[n++] = f->final;
    for (int i = 0; i < count; i++) all[n++] = args[i];
    int rc = run_python(all, n);
    hl_mem_free(all);
    if (rc != HL_EXIT_CLEAN && rc != HL_EXIT_FINDING) {
        folder_abort(f);
        return rc;
    }
    return folder_commit(f) ? HL_EXIT_USAGE : rc;
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
    hl_ignores *ignores;       /* --ignore: known findings, listed as ignored, not divergences */
} report_options;

/* whole or not at all (hl_outfile_write): a full disk leaves no truncated document;
 * the message names the path the document was meant to have (shown) */
static int write_file(const char *path, const char *shown, const char *text)
{
    int e = hl_outfile_write(path, text, strlen(text));
    if (e) {
        fprintf(stderr, "heaplab report: %s: cannot write: %s (nothing written)\n", shown, strerror(e));
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

/* What measure leaves: the exit status of the runs (0 clean, 1 a divergence, 2 bad
 * input or a document not written) and how many pairs were measured; when a signal
 * stopped the runs (hl_interrupted), the document is marked partial and lists the
 * pairs not measured. */
typedef struct measured {
    int status;
    size_t pairs, pairs_measured;
} measured;

/* Lists every pair from pair number `from` (trace t, backend b in run order) on as not measured. */
static void not_measured(hl_results *results, char **paths, size_t path_count, const hl_spec *specs,
                         size_t spec_count, size_t from)
{
    for (size_t i = from; i < path_count * spec_count; i++)
        hl_results_not_measured(results, paths[i / spec_count], specs[i % spec_count].label);
}

static measured measure(const report_options *o, const hl_spec *specs, size_t spec_count, char **paths,
                        size_t path_count, uint64_t bytes, const folder *f)
{
    /* every operation runs once per backend in each pass: checking, latency, fragmentation, K speed */
    progress p = {isatty(2) && !o->quiet, hl_clock_now_ns(), bytes * spec_count * (3 + o->repeat), 0, 0, 0, 0,
                  path_count * spec_count, NULL, NULL, NULL};
    measured m = {HL_EXIT_CLEAN, path_count * spec_count, 0};
    hl_diag diag;
    char findings[sizeof f->temp + 32], document[sizeof f->temp + 32], shown[PATH_MAX + 32];
    snprintf(findings, sizeof findings, "%s/findings", f->temp);
    snprintf(document, sizeof document, "%s/heaplab-results.json", f->temp);
    snprintf(shown, sizeof shown, "%s/heaplab-results.json", f->final);
    hl_results *results = hl_results_new();
    if (o->shard)
        hl_results_shard(results, o->shard->index, o->shard->count, paths, path_count, o->shard->all,
                         o->shard->all_count);
    static hl_run_summary checked, timed, measured_run; /* large: kept off the stack */
    hl_speed *speeds = hl_mem_alloc(sizeof *speeds * o->repeat); /* a pair's speed runs, kept until it is whole */
    size_t divergent = 0, ignored = 0;
    hl_interrupt_graceful(true); /* a first signal stops the runs: what is measured is rendered */
    for (size_t t = 0; t < path_count && !hl_interrupted(); t++) {
        hl_trace trace;
        int unreadable = hl_cli_stream_trace(paths[t], false, &trace);
        if (unreadable) {
            m.status = unreadable;
            break;
        }
        struct stat st;
        p.weight = stat(paths[t], &st) == 0 && st.st_size > 0 ? (uint64_t)st.st_size : 0;
        p.ops = trace.count;
        hl_cli_plan plan = {.trace = &trace, .isolate = true, .timeout = 10};
        for (size_t b = 0; b < spec_count && !hl_interrupted(); b++) {
            p.pair++;
            p.backend = specs[b].label;
            p.trace = paths[t];
            hl_run_options shadowed = {.shadow = true, .check_every = HL_CHECK_PACED, .timeout_seconds = 10};
            hl_run_options latency = {.latency = true, .timeout_seconds = 10};
            hl_run_options plain = {.timeout_seconds = 10};
            if (pass(&specs[b], &trace, shadowed, "checking", &p, &checked) == 2 ||
                pass(&specs[b], &trace, latency, "latency", &p, &timed) == 2 ||
                pass(&specs[b], &trace, plain, "fragmentation", &p, &measured_run) == 2) {
                m.status = HL_EXIT_USAGE;
                break;
            }
            if (hl_interrupted()) break;
            char repro[600] = "", repro_shown[PATH_MAX + 600] = "";
            checked.ignored = checked.found && hl_ignored(o->ignores, checked.finding.rule, &specs[b]);
            if (checked.ignored) { /* a known finding: listed and counted, no reproducer */
                if (p.on) fprintf(stderr, "\r\033[K");
                hl_trace held;
                const hl_trace *source = hl_cli_finding_trace(&trace, &checked.finding, &held, &diag);
                fprintf(stderr, "ignored ");
                hl_finding_print(stderr, checked.backend, paths[t], source, source != NULL, &checked.finding);
                hl_trace_free(&held);
                ignored++;
            } else if (checked.found) {
                if (p.on) fprintf(stderr, "\r\033[K");
                hl_trace held;
                const hl_trace *source = hl_cli_finding_trace(&trace, &checked.finding, &held, &diag);
                if (!source) {
                    fprintf(stderr, "heaplab: %s\n", diag.message);
                    m.status = HL_EXIT_USAGE;
                    break;
                }
                hl_finding_print(stderr, checked.backend, paths[t], source, true, &checked.finding);
                if (hl_repro_write(&specs[b], 1, specs[b].label, source, &checked.finding, shadowed.check_every,
                                   shadowed.timeout_seconds, findings, repro, sizeof repro, &diag) != 0) {
                    fprintf(stderr, "heaplab: could not write the reproducer: %s\n", diag.message);
                    repro[0] = '\0';
                }
                hl_trace_free(&held);
                as_final(f, repro, repro_shown, sizeof repro_shown);
            }
            measured_run.latency = timed.latency;
            bool ended = checked.found && (checked.finding.rule == HL_RULE_CRASH || checked.finding.rule == HL_RULE_HANG);
            for (unsigned k = 0; k < o->repeat && !hl_interrupted(); k++) {
                char name[48];
                snprintf(name, sizeof name, "speed %u/%u", k + 1, o->repeat);
                p.pass = name;
                show(&p, 0);
                const hl_null_cost *null_cost;
                const hl_plan *compiled = ended ? NULL : hl_cli_plan_get(&plan, &null_cost, &diag);
                if (ended) {
                    measured_run.speed_on = false; /* it would crash or hang again */
                } else if (!compiled) {
                    fprintf(stderr, "%sheaplab: %s\n", p.on ? "\r\033[K" : "", diag.message);
                    m.status = HL_EXIT_USAGE;
                    break;
                } else {
                    hl_speed_into(&specs[b], compiled, true, 10, null_cost, &measured_run);
                }
                p.done += p.weight;
                speeds[k] = measured_run.speed;
            }
            hl_cli_plan_drop(&plan); /* the next checking run does not hold it */
            if (m.status != HL_EXIT_CLEAN) break;
            if (hl_interrupted()) { /* a pair is measured whole or not at all */
                if (repro[0]) unlink(repro);
                break;
            }
            if (checked.found && !checked.ignored) divergent++;
            measured_run.found = checked.found;
            measured_run.ignored = checked.ignored;
            measured_run.finding = checked.finding;
            measured_run.detections = checked.detections;
            memcpy(measured_run.detected, checked.detected, sizeof measured_run.detected);
            for (unsigned k = 0; k < o->repeat; k++) {
                measured_run.speed = speeds[k];
                if (!ended && !measured_run.speed.ran && !o->quiet)
                    fprintf(stderr, "%sheaplab report: %s on %s: speed not measured: %s\n", p.on ? "\r\033[K" : "",
                            specs[b].label, paths[t], measured_run.speed.error);
                hl_results_add(results, &measured_run, repro[0] ? repro_shown : NULL);
            }
            m.pairs_measured++;
        }
        hl_cli_plan_drop(&plan);
        hl_trace_free(&trace);
        if (m.status != HL_EXIT_CLEAN) break;
    }
    hl_mem_free(speeds);
    if (p.on) fprintf(stderr, "\r\033[K");
    int signal = hl_interrupted();
    if (m.status == HL_EXIT_CLEAN && signal && m.pairs_measured < m.pairs) {
        char reason[64];
        snprintf(reason, sizeof reason, "interrupted by %s", signal == SIGINT ? "SIGINT" : "SIGTERM");
        hl_results_partial(results, reason);
        not_measured(results, paths, path_count, specs, spec_count, m.pairs_measured);
        fprintf(stderr, "heaplab report: %s: %zu of %zu pairs measured in %.1f s, %zu divergent%s\n", reason,
                m.pairs_measured, m.pairs, (double)(hl_clock_now_ns() - p.start_ns) / 1e9, divergent,
                m.pairs_measured ? "; rendering them as a partial report (interrupt again to stop at once, writing "
                                   "nothing)"
                                 : ": nothing to report");
    }
    if (m.status == HL_EXIT_CLEAN && (m.pairs_measured || !signal)) { /* an empty shard's document too */
        char *text = hl_results_json(results);
        if (write_file(document, shown, text) != 0) m.status = HL_EXIT_USAGE;
        hl_mem_free(text);
    }
    hl_results_free(results);
    if (m.status != HL_EXIT_CLEAN) return m;
    if (m.pairs_measured == m.pairs)
        fprintf(stderr, "heaplab report: %zu traces x %zu backends measured in %.1f s, %zu divergent%s\n", path_count,
                spec_count, (double)(hl_clock_now_ns() - p.start_ns) / 1e9, divergent,
                ignored ? " (and findings ignored: --ignore)" : "");
    m.status = divergent ? HL_EXIT_FINDING : HL_EXIT_CLEAN;
    return m;
}

typedef struct report_settings {
    report_options o;
    const char *threshold;
    const char *as[16]; /* --as OLD=NEW, passed to the renderer */
    int as_count;
    const char *micro; /* --micro FILE: a Google Benchmark JSON file, or NULL */
    char **from;
    int from_count;
    bool compare;
    bool merge;
    hl_cli_shard shard;
    hl_ignores ignores;
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
    case O_AS:
        if (r->as_count == 16) return hl_cli_usage_error("report", "--as: at most 16 pairs of labels");
        r->as[r->as_count++] = arg;
        break;
    case O_SHARD: return hl_cli_shard_parse("report", arg, &r->shard);
    case O_MERGE: r->merge = true; break;
    case O_MICRO: r->micro = arg; break;
    case 'I': return hl_cli_ignore("report", &r->ignores, arg);
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
    if (r->compare || r->from_count || r->threshold || r->as_count)
        return hl_cli_usage_error("report", "--%s goes with neither --compare nor --from",
                                  r->merge ? "merge" : "shard");
    if (!r->merge) return -1;
    if (!o->out) return hl_cli_usage_error("report", "--merge writes a report: --out DIR is required");
    if (optind >= argc) return hl_cli_usage_error("report", "--merge takes the shards' results documents");
    folder f;
    int refused = folder_check(&f, o->out, argv + optind, argc - optind);
    if (refused || (refused = folder_begin(&f))) return refused;
    char **args = hl_mem_alloc(sizeof *args * (size_t)(argc + 8));
    int n = 0;
    if (o->baseline) args[n++] = "--baseline", args[n++] = (char *)o->baseline;
    for (int i = optind; i < argc; i++) args[n++] = argv[i];
    int rc = render_into(&f, "merge", args, n);
    hl_mem_free(args);
    if (rc == HL_EXIT_CLEAN || rc == HL_EXIT_FINDING) printf("report: %s/index.html\n", f.final);
    return rc;
}

/* The paths a report reads besides traces (--from, --micro): those DIR must not hold. */
static int inputs_of(const report_settings *r, char **argv, int argc, char **out)
{
    int n = 0;
    for (int i = 0; i < r->from_count; i++) out[n++] = r->from[i];
    if (r->micro) out[n++] = (char *)r->micro;
    for (int i = optind; i < argc; i++) out[n++] = argv[i];
    return n;
}

int hl_cmd_report(int argc, char **argv)
{
    hl_cli_shared shared = report_defaults;
    report_settings r = {.o = {"all", NULL, NULL, 1, false, NULL, NULL}, .from = hl_mem_alloc(sizeof(char *) * (size_t)argc)};
    int parsed = hl_cli_parse("report", argc, argv, REPORT_SHARED, &shared, report_own, report_option, &r);
    if (parsed) return parsed;
    report_options o = r.o;
    o.ignores = &r.ignores;
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
    char **inputs = hl_mem_alloc(sizeof *inputs * (size_t)(argc + 2));
    int input_count = inputs_of(&r, argv, argc, inputs);
    folder f;
    if (compare) {
        if (r.micro) return hl_cli_usage_error("report", "--micro goes with a report, not --compare");
        if (argc - optind != 2 || from_count)
            return hl_cli_usage_error("report", "--compare takes two results documents: A.json B.json");
        if (!o.out) args[n++] = "compare"; /* a table on stdout, no folder */
        if (threshold) args[n++] = "--threshold", args[n++] = (char *)threshold;
        for (int i = 0; i < r.as_count; i++) args[n++] = "--as", args[n++] = (char *)r.as[i];
        args[n++] = argv[optind];
        args[n++] = argv[optind + 1];
        if (!o.out) return run_python(args, n);
        int refused = folder_check(&f, o.out, inputs, input_count);
        if (refused || (refused = folder_begin(&f))) return refused;
        return render_into(&f, "compare", args, n);
    }
    if (threshold) return hl_cli_usage_error("report", "--threshold goes with --compare");
    if (r.as_count) return hl_cli_usage_error("report", "--as goes with --compare");
    if (!o.out) return hl_cli_usage_error("report", "--out DIR is required");
    if (from_count && optind < argc) return hl_cli_usage_error("report", "give traces or --from documents, not both");
    if (!from_count && optind >= argc) return hl_cli_usage_error("report", "no trace or directory given");
    if (from_count > 64) return hl_cli_usage_error("report", "at most 64 --from documents");
    int refused = folder_check(&f, o.out, inputs, input_count);
    if (refused) return refused;
    measured m = {HL_EXIT_CLEAN, 0, 0};
    char document[sizeof f.temp + 32];
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
        hl_spec *specs;
        size_t spec_count;
        int bad = hl_cli_backends(o.backends, &specs, &spec_count);
        if (bad) return bad;
        if (r.micro) { /* a bad FILE stops the run before any measuring or writing */
            char *check[] = {"micro", (char *)r.micro};
            int checked = run_python(check, 2);
            if (checked != 0) return checked;
        }
        if ((refused = folder_begin(&f))) return refused;
        m = measure(&o, specs, spec_count, paths, path_count, bytes, &f);
        if (m.status == HL_EXIT_USAGE || (hl_interrupted() && !m.pairs_measured)) {
            folder_abort(&f);
            return hl_interrupted() ? 128 + hl_interrupted() : m.status;
        }
        snprintf(document, sizeof document, "%s/heaplab-results.json", f.temp);
    } else if ((refused = folder_begin(&f))) {
        return refused;
    }
    if (o.baseline) args[n++] = "--baseline", args[n++] = (char *)o.baseline;
    if (r.micro) args[n++] = "--micro", args[n++] = (char *)r.micro;
    if (from_count)
        for (int i = 0; i < from_count; i++) args[n++] = from[i];
    else
        args[n++] = document;
    int rendered = render_into(&f, "render", args, n);
    int signal = hl_interrupted();
    if (rendered == HL_EXIT_CLEAN && signal && m.pairs_measured < m.pairs)
        printf("report: %s/index.html (partial: %zu of %zu pairs measured, interrupted by %s)\n", f.final,
               m.pairs_measured, m.pairs, signal == SIGINT ? "SIGINT" : "SIGTERM");
    else if (rendered == HL_EXIT_CLEAN)
        printf("report: %s/index.html\n", f.final);
    if (signal) return 128 + signal; /* whatever was written: the command was interrupted */
    return rendered != 0 ? rendered : m.status;
}
