/* cmd_vet.c: `heaplab vet SPEC`: an allocator vetted in one command, with a verdict.
 * Every step runs the allocator's code in forked children (a crash, a hang or an exit
 * is a FAIL naming the step and the operation, never the end of heaplab): it loads;
 * the conformance traces (check/conformance.c), one per property; differential
 * fuzzing against glibc's malloc; the shipped real traces and the user's; a threaded
 * replay where it declares thread safety; its speed and memory beside the peers
 * (vet_measure.c). Each property is a row: PASS, FAIL with the rule and a reproducer,
 * NOT CHECKED with why, or MEASURED (figures, judged only under --budget). */
#include "cli.h"
#include "hl_fuzz.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static const char *const status_names[] = {"PASS", "FAIL", "NOT CHECKED", "MEASURED"};
typedef hl_vet_row row;
#define ROW_PASS HL_VET_PASS
#define ROW_FAIL HL_VET_FAIL
#define ROW_NOT_CHECKED HL_VET_NOT_CHECKED

#define MAX_ROWS 24
#define MAX_TRACES 64

typedef struct vet {
    hl_spec spec;
    const char *out;      /* the folder reproducers and fuzz findings go to */
    double fuzz_seconds, timeout;
    uint64_t seed;        /* the fuzzing's (--seed, default 1: a vet is repeatable) */
    hl_ignores ignores;
    bool json, quiet, measure, shipped;
    hl_vet_budget budget;
    const char *traces[MAX_TRACES]; /* --traces */
    int trace_count;
    char real[PATH_MAX];            /* the shipped real traces */
    char *paths[MAX_TRACES + 1];    /* what traces and the measuring run: real (unless --no-shipped), --traces */
    int path_count;
    row rows[MAX_ROWS];
    size_t count;
    char unconfined[200]; /* a library that ran NOT SANDBOXED: why (the verdict says so) */
    char ignored[600];    /* findings --ignore let pass since the last row: named in the next */
} vet;

enum { O_TIME = 256, O_TRACES, O_OUT, O_IGNORE, O_BUDGET, O_NO_SPEED, O_NO_SHIPPED, O_SEED };

static const hl_cli_option vet_options[] = {
    HL_OPTION("time", true, O_TIME,
              "  --time DURATION     how long the differential fuzzing runs: 30, 30s, 5m (default\n"
              "                      30s; 0 skips it)\n"),
    HL_OPTION("seed", true, O_SEED, "  --seed N            the fuzzing's seed (default 1: a vet is repeatable)\n"),
    HL_OPTION("traces", true, O_TRACES,
              "  --traces PATH       your traces too (a file or a folder; repeatable), replayed\n"
              "                      under the shadow model beside the shipped real ones\n"),
    HL_OPTION("no-shipped", false, O_NO_SHIPPED,
              "  --no-shipped        not the shipped real traces: --traces only\n"),
    HL_OPTION("budget", true, O_BUDGET,
              "  --budget LIMITS     judge speed and memory: speed=1.2x:glibc (at least 1/1.2 of\n"
              "                      glibc's ops/s), frag=1.1x:best (peak footprint over peak live\n"
              "                      at most 1.1 times the best peer's); peers glibc, jemalloc,\n"
              "                      mimalloc, tcmalloc, best\n"),
    HL_OPTION("no-speed", false, O_NO_SPEED, "  --no-speed          skip the report beside the peers (speed, memory)\n"),
    HL_OPTION("out", true, O_OUT,
              "  --out DIR           reproducers, fuzz findings and the report go here (heaplab-vet)\n"),
    HL_OPTION("ignore", true, O_IGNORE, HL_CLI_IGNORE_HELP),
    HL_OPTIONS_END};

enum { VET_SHARED = HL_SHARE_SANDBOX | HL_SHARE_JSON | HL_SHARE_QUIET | HL_SHARE_TIMEOUT | HL_PERMUTE };
static const hl_cli_shared vet_defaults = {.timeout = 10};

void hl_help_vet(FILE *out)
{
    fprintf(out,
            "usage: heaplab vet SPEC [--time DURATION] [--traces PATH]... [--out DIR] [--json]\n"
            "\n"
            "Vets one allocator (SPEC: " HL_SPEC_LIBRARY_FORMS ",\n"
            "or a built-in backend) and gives a verdict, one row per property:\n"
            "  loads        its library loads and an instance is made and destroyed\n"
            "  alignment, sizes, realloc, scopes, misuse, caps\n"
            "               the conformance traces, under the shadow model (misuse and caps\n"
            "               where it declares them)\n"
            "  check        its own heap check after every operation of those traces, where it\n"
            "               has one (a library: PREFIXcheck)\n"
            "  oom          a built-in under a 1 MiB memory cap (source=static or linear):\n"
            "               asked for twice that, refused with the heap unchanged, and serving\n"
            "               again once everything is freed\n"
            "  fuzz         differential fuzzing against glibc's malloc for --time\n"
            "  traces       the shipped real traces (Python, gcc, git, perl, sqlite) and yours\n"
            "  threads      a threaded trace on real threads, where it declares thread safety\n"
            "  speed, memory  `heaplab report` of it beside glibc, jemalloc, mimalloc and\n"
            "               tcmalloc on the same traces (under --out): its ops/s over each\n"
            "               peer's, and peak footprint over peak live bytes; MEASURED, not\n"
            "               judged, unless --budget sets limits\n"
            "  sandbox      a library ran under heaplab's seccomp filter and made no call it\n"
            "               refuses (writing or creating files, sockets, exec, fork, signals\n"
            "               to other processes, ptrace); NOT CHECKED (NOT SANDBOXED) with\n"
            "               --no-sandbox, where seccomp is unavailable, or for a built-in\n"
            "               backend (heaplab's own code)\n"
            "Each row is PASS, FAIL (the rule, the operation and a reproducer under --out),\n"
            "NOT CHECKED (why) or MEASURED. The verdict is PASS when no row fails. Every step runs the\n"
            "allocator in forked children: a crash, a hang or an exit is a FAIL.\n"
            "\n");
    hl_cli_print_options(out, VET_SHARED, &vet_defaults, vet_options);
    fprintf(out, "\nexit status: 0 PASS, 1 FAIL, 2 bad usage.\n");
}

static row *add_row(vet *v, const char *property, hl_vet_status status, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static row *add_row(vet *v, const char *property, hl_vet_status status, const char *fmt, ...)
{
    row *r = &v->rows[v->count < MAX_ROWS - 1 ? v->count++ : v->count];
    memset(r, 0, sizeof *r);
    snprintf(r->property, sizeof r->property, "%s", property);
    r->status = status;
    va_list args;
    va_start(args, fmt);
    vsnprintf(r->detail, sizeof r->detail, fmt, args);
    va_end(args);
    if (v->ignored[0]) { /* a row that passed over a known finding says which */
        size_t used = strlen(r->detail);
        snprintf(r->detail + used, sizeof r->detail - used, "; ignored (--ignore): %s", v->ignored);
        v->ignored[0] = '\0';
    }
    if (!v->quiet && !v->json) fprintf(stderr, "vet: %-10s %s\n", property, status_names[status]);
    return r;
}

/* A FAIL row from a run's finding, its reproducer written under --out. */
static void failed_run_on(vet *v, const hl_spec *spec, const char *property, const hl_trace *trace,
                          uint64_t check_every, hl_run_summary *s)
{
    hl_cli_written written;
    hl_diag diag;
    bool wrote = hl_cli_write_finding(spec, trace, s, true, check_every, v->timeout, &v->ignores, v->out,
                                      &written, &diag) == 0;
    row *r = add_row(v, property, ROW_FAIL, "%s: operation %" PRIu64 " of %s: %s", hl_rule_name(s->finding.rule),
                     s->finding.index, s->trace, s->finding.message);
    snprintf(r->rule, sizeof r->rule, "%s", hl_rule_name(s->finding.rule));
    if (wrote) snprintf(r->repro, sizeof r->repro, "%s", written.repro), hl_cli_written_free(&written);
}

static void failed_run(vet *v, const char *property, const hl_trace *trace, uint64_t check_every, hl_run_summary *s)
{
    failed_run_on(v, &v->spec, property, trace, check_every, s);
}

/* True when a run found something --ignore does not cover; an ignored finding is
 * noted for the next row instead. */
static bool unignored_finding(vet *v, int rc, const hl_run_summary *s)
{
    if (rc != 1 || !s->found) return false;
    if (!hl_ignored(&v->ignores, s->finding.rule, &v->spec)) return true;
    size_t used = strlen(v->ignored);
    if (used < sizeof v->ignored - 1)
        snprintf(v->ignored + used, sizeof v->ignored - used, "%s%s at operation %" PRIu64 " of %.120s", used ? ", " : "",
                 hl_rule_name(s->finding.rule), s->finding.index, s->trace);
    return false;
}

/* Runs trace under the shadow model in a child: 0 clean (*s filled), 1 a FAIL row
 * added, 2 the instance could not be made (a FAIL row too: it loaded before). */
static int checked_run(vet *v, const char *property, const hl_trace *trace, bool threads, hl_run_summary *s)
{
    hl_run_options o = {.shadow = true, .check_every = HL_CHECK_PACED, .isolate = true, .threads = threads,
                        .timeout_seconds = v->timeout};
    int rc = hl_run(&v->spec, trace, &o, s);
    if (rc == 2) {
        add_row(v, property, ROW_FAIL, "no instance could be made: %s", s->setup_error);
        return 2;
    }
    if (unignored_finding(v, rc, s)) {
        failed_run(v, property, trace, HL_CHECK_PACED, s);
        return 1;
    }
    return 0;
}

static void conformance(vet *v)
{
    for (size_t i = 0; i < hl_conformance_count(); i++) {
        hl_conformance c;
        hl_diag diag;
        if (hl_conformance_trace(i, &c, &diag) != 0) {
            add_row(v, "conformance", ROW_NOT_CHECKED, "heaplab's own trace did not read: %s", diag.message);
            continue;
        }
        hl_run_summary s;
        if (checked_run(v, c.property, &c.trace, false, &s) == 0) {
            bool misuse = strcmp(c.property, "misuse") == 0, caps = strcmp(c.property, "caps") == 0;
            if (misuse && !s.misuse)
                add_row(v, c.property, ROW_NOT_CHECKED, "it declares no misuse detection (%" PRIu64
                        " operations skipped)", s.skipped);
            else if (caps && !(s.features & (HL_FEATURE_CAP_EXEC | HL_FEATURE_CAP_DMA)))
                add_row(v, c.property, ROW_NOT_CHECKED, "it declares neither EXEC nor DMA blocks (refused, as "
                        "the contract allows)");
            else if (misuse)
                add_row(v, c.property, ROW_PASS, "%s; %" PRIu64 " misuses detected as declared, %" PRIu64
                        " not declared (skipped)", c.what, s.detections, s.skipped);
            else
                add_row(v, c.property, ROW_PASS, "%s (%" PRIu64 " operations, %" PRIu64 " refused as allowed)", c.what,
                        s.sent, s.failures);
        }
        hl_trace_free(&c.trace);
    }
}

static void fuzz(vet *v)
{
    if (v->fuzz_seconds <= 0) {
        add_row(v, "fuzz", ROW_NOT_CHECKED, "--time 0");
        return;
    }
    hl_spec pair[2] = {v->spec};
    hl_diag diag;
    if (hl_spec_parse_unprobed("libc", &pair[1], &diag) != 0) {
        add_row(v, "fuzz", ROW_NOT_CHECKED, "%s", diag.message);
        return;
    }
    char findings[PATH_MAX];
    snprintf(findings, sizeof findings, "%s/fuzz", v->out);
    hl_fuzz_options o = {.seed = v->seed, .seconds = v->fuzz_seconds, .max_len = 1024, .max_ops = HL_FUZZ_MAX_OPS,
                         .hang_seconds = v->timeout, .findings = findings, .ignores = &v->ignores,
                         .fresh_every = HL_FUZZ_FRESH_EVERY};
    hl_fuzz_result r;
    int rc = hl_fuzz_run(pair, 2, &o, &r);
    if (rc == 2) {
        add_row(v, "fuzz", ROW_FAIL, "the fuzzer could not set up its instances (message above)");
        return;
    }
    if (rc == 1) {
        row *failure = add_row(v, "fuzz", ROW_FAIL, "%s on %s: operation %" PRIu64 " of input %" PRIu64 ": %s",
                           hl_rule_name(r.first.rule), r.first_backend, r.first.index, r.execs, r.first.message);
        snprintf(failure->rule, sizeof failure->rule, "%s", hl_rule_name(r.first.rule));
        snprintf(failure->repro, sizeof failure->repro, "%s", r.first_trace);
        return;
    }
    if (r.ignored)
        snprintf(v->ignored, sizeof v->ignored, "%" PRIu64 " findings on inputs that ended there", r.ignored);
    add_row(v, "fuzz", ROW_PASS, "%" PRIu64 " inputs in %.0f s against glibc's malloc, no finding", r.execs, r.seconds);
}

/* The shipped real traces (traces/real of the source tree) and --traces. */
static void traces(vet *v)
{
    if (!v->path_count) {
        add_row(v, "traces", ROW_NOT_CHECKED, "no traces: %s; give --traces",
                v->shipped ? "the shipped ones are not beside this binary" : "--no-shipped");
        return;
    }
    char **files;
    size_t count;
    hl_diag diag;
    if (hl_trace_collect((const char *const *)v->paths, (size_t)v->path_count, &files, &count, &diag) != 0) {
        add_row(v, "traces", ROW_NOT_CHECKED, "%s", diag.message);
        return;
    }
    uint64_t ops = 0;
    size_t failed = SIZE_MAX; /* the row of the first trace with a finding; every trace still runs */
    for (size_t i = 0; i < count; i++) {
        hl_trace trace;
        hl_diag warning;
        if (hl_trace_read(files[i], &trace, &diag, &warning) != 0 || hl_trace_check(&trace, &diag) != 0) {
            add_row(v, "traces", ROW_NOT_CHECKED, "%s", diag.message);
            return;
        }
        hl_run_summary s;
        size_t before = v->count;
        int rc = checked_run(v, "traces", &trace, false, &s);
        ops += trace.count;
        hl_trace_free(&trace);
        if (!rc || v->count == before) continue;
        if (failed == SIZE_MAX) {
            failed = before;
            continue;
        }
        /* a later trace's finding: named in the first one's row, its reproducer written too */
        row later = v->rows[before], *first = &v->rows[failed];
        size_t used = strlen(first->detail);
        snprintf(first->detail + used, sizeof first->detail - used, "; also %s on %s%s%s",
                 later.rule[0] ? later.rule : "FAIL", s.trace, later.repro[0] ? ", reproducer " : "", later.repro);
        v->count = before;
    }
    if (failed == SIZE_MAX)
        add_row(v, "traces", ROW_PASS, "%zu traces, %" PRIu64 " operations, under the shadow model", count, ops);
}

static void threads(vet *v, uint32_t features)
{
    if (!(features & HL_FEATURE_THREAD_SAFE)) {
        add_row(v, "threads", ROW_NOT_CHECKED, "it does not declare thread safety (a library: thread_safe=1)");
        return;
    }
    char dir[PATH_MAX], path[PATH_MAX + 32];
    if (!hl_cli_tree_path("traces", "threads.trace", dir, sizeof dir)) {
        add_row(v, "threads", ROW_NOT_CHECKED, "traces/threads.trace is not beside this binary");
        return;
    }
    snprintf(path, sizeof path, "%s/threads.trace", dir);
    hl_trace trace;
    hl_diag diag, warning;
    if (hl_trace_read(path, &trace, &diag, &warning) != 0) {
        add_row(v, "threads", ROW_NOT_CHECKED, "%s", diag.message);
        return;
    }
    hl_run_summary s;
    if (checked_run(v, "threads", &trace, true, &s) == 0)
        add_row(v, "threads", ROW_PASS, "%s on %u threads, cross-thread frees included", path, s.threads);
    hl_trace_free(&trace);
}

/* What an instance declares (HL_FEATURE_*), read in a child: an empty run's summary. */
/* What an instance declares (features, and a library's describe source, which lists
 * the hooks it exports): an empty trace run in a child. */
static void declarations(const vet *v, hl_run_summary *s)
{
    hl_trace empty = {.path = "vet-declarations"};
    hl_run_options o = {.isolate = true, .timeout_seconds = v->timeout};
    if (hl_run(&v->spec, &empty, &o, s) != 0) memset(s, 0, sizeof *s);
}

/* The value of the spec's option key, or NULL. */
static const char *option(const hl_spec *spec, const char *key)
{
    for (size_t i = 0; i < spec->option_count; i++)
        if (strcmp(spec->options[i].key, key) == 0) return spec->options[i].value;
    return NULL;
}

/* check: the backend's own heap walk after every operation of the conformance traces.
 * A contract plugin and a built-in always have one; a malloc-style library only when
 * it exports PREFIXcheck (its describe source then lists "check"). */
static void heap_check(vet *v, const hl_run_summary *declared)
{
    const char *prefix = option(&v->spec, "prefix");
    bool library = v->spec.external && !v->spec.path && prefix;
    if (library && !strstr(declared->backend_version, "check")) {
        add_row(v, "check", ROW_NOT_CHECKED, "it exports no %scheck (a walk of its heap, called after every operation "
                "when it is there)", prefix);
        return;
    }
    uint64_t checked = 0;
    for (size_t i = 0; i < hl_conformance_count(); i++) {
        hl_conformance c;
        hl_diag diag;
        if (hl_conformance_trace(i, &c, &diag) != 0) continue; /* its own row said so */
        hl_run_options o = {.shadow = true, .check_every = 1, .isolate = true, .timeout_seconds = v->timeout};
        hl_run_summary s;
        int rc = hl_run(&v->spec, &c.trace, &o, &s);
        bool failed = unignored_finding(v, rc, &s);
        if (failed) failed_run(v, "check", &c.trace, 1, &s);
        else checked += s.sent;
        hl_trace_free(&c.trace);
        if (failed || rc == 2) {
            if (rc == 2) add_row(v, "check", ROW_FAIL, "no instance could be made: %s", s.setup_error);
            return;
        }
    }
    add_row(v, "check", ROW_PASS, "its own heap check after each of %" PRIu64 " operations of the conformance traces: "
            "nothing broken", checked);
}

/* oom: the backend under a memory cap heaplab gives it (a built-in's source=: a
 * static buffer, or a linear memory of 16 pages; wasm's max_pages=), asked for twice
 * the cap, then for a quarter of it again after every block was freed
 * (hl_conformance_oom). The refusals are judged (the shadow model: the heap unchanged
 * by each); whether freed memory comes back is shown, not judged (the contract does
 * not ask for reuse: bins never reuses its big blocks, by design). A library maps its
 * own memory: there is nothing heaplab can cap. */
#define OOM_CAP ((size_t)1 << 20)
static void oom(vet *v)
{
    if (v->spec.external) {
        add_row(v, "oom", ROW_NOT_CHECKED, "a library takes its memory from the system itself: heaplab has no cap to "
                "give it (a built-in's source=static:size= or source=linear:max_pages=)");
        return;
    }
    static const char *const caps[] = {"source=static:size=1M", "source=linear:max_pages=16", "max_pages=16"};
    hl_conformance c;
    hl_diag diag;
    if (hl_conformance_oom(OOM_CAP, &c, &diag) != 0) {
        add_row(v, "oom", ROW_NOT_CHECKED, "heaplab's own trace did not read: %s", diag.message);
        return;
    }
    uint64_t asked = 2 * OOM_CAP / HL_CONFORMANCE_OOM_BLOCK, again = OOM_CAP / 4 / HL_CONFORMANCE_OOM_BLOCK;
    bool ran = false;
    for (size_t i = 0; i < sizeof caps / sizeof *caps && !ran; i++) {
        char text[1200];
        snprintf(text, sizeof text, "%s:%s", v->spec.text, caps[i]);
        hl_spec capped;
        if (hl_spec_parse_unprobed(text, &capped, &diag) != 0) continue;
        hl_run_options o = {.shadow = true, .check_every = HL_CHECK_PACED, .isolate = true,
                            .timeout_seconds = v->timeout};
        hl_run_summary s;
        int rc = hl_run(&capped, &c.trace, &o, &s);
        if (rc == 2) continue; /* it takes no such source */
        ran = true;
        if (unignored_finding(v, rc, &s)) {
            failed_run_on(v, &capped, "oom", &c.trace, HL_CHECK_PACED, &s);
            break;
        }
        uint64_t refused = s.skipped, lost = s.failures >= s.skipped ? s.failures - s.skipped : 0;
        if (refused == 0) {
            add_row(v, "oom", ROW_NOT_CHECKED, "under %s it served all %" PRIu64 " blocks of 4 KiB (twice the cap): "
                    "the cap never bit", caps[i], asked);
        } else {
            add_row(v, "oom", ROW_PASS, "under %s: %" PRIu64 " of %" PRIu64 " blocks of 4 KiB served, %" PRIu64
                    " refused with the heap unchanged; after every one was freed, %" PRIu64 " of %" PRIu64
                    " served again%s", caps[i], asked - refused, asked, refused, again - lost, again,
                    lost ? " (its freed memory did not come back under the cap: shown, not judged, as the contract "
                           "does not ask for reuse)" : "");
        }
    }
    if (!ran)
        add_row(v, "oom", ROW_NOT_CHECKED, "it takes no source=static:size=, source=linear:max_pages= or "
                "max_pages=: heaplab cannot cap its memory");
    hl_trace_free(&c.trace);
}

/* speed and memory beside the peers (vet_measure.c) */
static void measure(vet *v)
{
    if (!v->measure || !v->path_count) {
        add_row(v, "speed", ROW_NOT_CHECKED, "%s", v->measure ? "no traces to measure on" : "--no-speed");
        add_row(v, "memory", ROW_NOT_CHECKED, "%s", v->measure ? "no traces to measure on" : "--no-speed");
        return;
    }
    hl_vet_row rows[2];
    hl_vet_measure(&v->spec, v->paths, v->path_count, v->out, &v->budget, v->quiet || v->json, rows);
    for (int i = 0; i < 2; i++) {
        row *r = add_row(v, rows[i].property, rows[i].status, "%s", rows[i].detail);
        snprintf(r->report, sizeof r->report, "%s", rows[i].report);
    }
}

static void print_verdict(const vet *v, bool pass)
{
    if (v->json) {
        cJSON *doc = cJSON_CreateObject(), *list = cJSON_AddArrayToObject(doc, "rows");
        cJSON_AddStringToObject(doc, "backend", v->spec.text);
        cJSON_AddStringToObject(doc, "label", v->spec.label);
        cJSON_AddStringToObject(doc, "verdict", pass ? "PASS" : "FAIL");
        /* true: its code ran under the filter; false: NOT SANDBOXED (why); null: built in */
        if (!v->spec.external) cJSON_AddNullToObject(doc, "sandboxed");
        else cJSON_AddBoolToObject(doc, "sandboxed", !v->unconfined[0]);
        if (v->unconfined[0]) cJSON_AddStringToObject(doc, "not_sandboxed", v->unconfined);
        for (size_t i = 0; i < v->count; i++) {
            const row *r = &v->rows[i];
            cJSON *item = cJSON_CreateObject();
            cJSON_AddStringToObject(item, "property", r->property);
            cJSON_AddStringToObject(item, "status", status_names[r->status]);
            cJSON_AddStringToObject(item, "detail", r->detail);
            if (r->rule[0]) cJSON_AddStringToObject(item, "rule", r->rule);
            if (r->repro[0]) cJSON_AddStringToObject(item, "reproducer", r->repro);
            if (r->report[0]) cJSON_AddStringToObject(item, "report", r->report);
            cJSON_AddItemToArray(list, item);
        }
        char *text = cJSON_Print(doc);
        printf("%s\n", text);
        free(text);
        cJSON_Delete(doc);
        return;
    }
    printf("heaplab vet %s\n\n%-10s %-11s %s\n", v->spec.text, "property", "result", "detail");
    for (size_t i = 0; i < v->count; i++) {
        const row *r = &v->rows[i];
        printf("%-10s %-11s %s\n", r->property, status_names[r->status], r->detail);
        if (r->repro[0]) printf("%-10s %-11s reproducer: %s (heaplab replay %s)\n", "", "", r->repro, r->repro);
        if (r->report[0] && (i + 1 == v->count || strcmp(v->rows[i + 1].report, r->report) != 0))
            printf("%-10s %-11s the report beside the peers: %s\n", "", "", r->report);
    }
    printf("\nverdict: %s%s%s%s\n", pass ? "PASS" : "FAIL", v->unconfined[0] ? " (NOT SANDBOXED: " : "", v->unconfined,
           v->unconfined[0] ? ")" : "");
}

static int vet_option(void *context, int key, const char *arg)
{
    vet *v = context;
    switch (key) {
    case O_TIME:
        if (!hl_cli_duration(arg, &v->fuzz_seconds))
            return hl_cli_usage_error("vet", "--time '%s' is not a duration (30, 30s, 5m, 1h)", arg);
        break;
    case O_TRACES:
        if (v->trace_count == MAX_TRACES) return hl_cli_usage_error("vet", "--traces: at most %d", MAX_TRACES);
        v->traces[v->trace_count++] = arg;
        break;
    case O_OUT: v->out = arg; break;
    case O_NO_SPEED: v->measure = false; break;
    case O_SEED:
        if (!hl_parse_size(arg, &v->seed)) return hl_cli_usage_error("vet", "--seed '%s' is not a number", arg);
        break;
    case O_NO_SHIPPED: v->shipped = false; break;
    case O_BUDGET: return hl_vet_budget_parse(arg, &v->budget);
    case O_IGNORE: return hl_cli_ignore("vet", &v->ignores, arg);
    }
    return 0;
}

/* The sandbox row: how every child that ran the library's code was confined, and
 * whether a row above failed because it made a call the filter refuses. */
static void sandbox(vet *v)
{
    if (!v->spec.external) {
        add_row(v, "sandbox", ROW_NOT_CHECKED, "a built-in backend: heaplab's own code, not sandboxed");
        return;
    }
    char why[200]; /* as the loads row's probe ran it (every later child runs it the same way) */
    hl_sandbox_why(v->spec.sandbox, v->spec.sandbox_errno, why, sizeof why);
    if (v->spec.sandbox != HL_SANDBOX_ON) {
        add_row(v, "sandbox", ROW_NOT_CHECKED, "NOT SANDBOXED (%s): its code ran unconfined, free to write files and "
                "signal processes", why);
        snprintf(v->unconfined, sizeof v->unconfined, "%s", why);
        return;
    }
    for (size_t i = 0; i < v->count; i++)
        if (strcmp(v->rows[i].rule, "SANDBOX") == 0) {
            row *r = add_row(v, "sandbox", ROW_FAIL, "SANDBOX in the %s row: %s", v->rows[i].property,
                             v->rows[i].detail);
            snprintf(r->rule, sizeof r->rule, "SANDBOX");
            snprintf(r->repro, sizeof r->repro, "%s", v->rows[i].repro);
            return;
        }
    add_row(v, "sandbox", ROW_PASS, "every run of its code was under a seccomp filter; it opened no file for "
            "writing, made no socket, process or program, signalled no other process");
}

int hl_cmd_vet(int argc, char **argv)
{
    hl_cli_shared shared = vet_defaults;
    static vet v;
    memset(&v, 0, sizeof v);
    v.out = "heaplab-vet";
    v.fuzz_seconds = 30;
    v.seed = 1;
    v.measure = v.shipped = true;
    int parsed = hl_cli_parse("vet", argc, argv, VET_SHARED, &shared, vet_options, vet_option, &v);
    if (parsed) return parsed;
    if (argc - optind != 1) return hl_cli_usage_error("vet", "expected one backend to vet (heaplab vet SPEC)");
    v.json = shared.json, v.quiet = shared.quiet, v.timeout = shared.timeout;
    hl_diag diag;
    if (hl_spec_parse_unprobed(argv[optind], &v.spec, &diag) != 0) return hl_cli_input_error(&diag);
    for (int i = 0; i < v.trace_count; i++) { /* bad input before anything runs */
        char **files;
        size_t count;
        if (hl_trace_collect(&v.traces[i], 1, &files, &count, &diag) != 0) return hl_cli_input_error(&diag);
    }
    if (v.shipped && hl_cli_tree_path("traces/real", "README.md", v.real, sizeof v.real))
        v.paths[v.path_count++] = v.real;
    for (int i = 0; i < v.trace_count; i++) v.paths[v.path_count++] = (char *)v.traces[i];
    int made = hl_make_folder(v.out);
    if (made) return fprintf(stderr, "heaplab: %s: cannot create it: %s\n", v.out, strerror(made)), HL_EXIT_USAGE;
    /* loads: its code makes and destroys an instance in a child */
    if (hl_spec_probe(&v.spec, &diag) != 0) {
        row *r = add_row(&v, "loads", ROW_FAIL, "%s", diag.message);
        if (strstr(diag.message, ": SANDBOX: ")) snprintf(r->rule, sizeof r->rule, "SANDBOX");
    } else {
        add_row(&v, "loads", ROW_PASS, "an instance made and destroyed (in a child)");
        conformance(&v);
        hl_run_summary declared;
        declarations(&v, &declared);
        heap_check(&v, &declared);
        oom(&v);
        fuzz(&v);
        traces(&v);
        threads(&v, declared.features);
        measure(&v);
    }
    sandbox(&v);
    bool pass = true;
    for (size_t i = 0; i < v.count; i++) pass &= v.rows[i].status != ROW_FAIL;
    print_verdict(&v, pass);
    return pass ? HL_EXIT_CLEAN : HL_EXIT_FINDING;
}
