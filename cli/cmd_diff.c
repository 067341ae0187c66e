/* cmd_diff.c: `heaplab diff`: several backends fed each trace in lockstep
 * (hl_diff); the first difference or contract break is a finding. */
#include "cli.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { DIFF_SHARED = HL_SHARE_SANDBOX | HL_SHARE_MAX_OPS | HL_SHARE_BACKENDS | HL_SHARE_CHECK_EVERY | HL_SHARE_TIMEOUT };

static const hl_cli_shared diff_defaults = {.check_every = HL_CHECK_PACED, .timeout = 10};

static const hl_cli_option diff_options[] = {
    HL_OPTION("findings", true, 'f', "  --findings DIR      where reproducer traces go (heaplab-findings)\n"),
    HL_OPTION("ignore", true, 'I', HL_CLI_IGNORE_HELP),
    HL_OPTIONS_END};

typedef struct diff_settings {
    const char *findings;
    hl_ignores ignores;
} diff_settings;

void hl_help_diff(FILE *out)
{
    fprintf(out,
            "usage: heaplab diff --backends A,B[,...] [options] TRACE|DIR...\n"
            "\n"
            "Feeds every trace to the backends in lockstep, each under its own shadow\n"
            "model, and compares what the contract says must agree (CONTRACT.md,\n"
            "\"Differential rules\"): the outcome of every operation but usable_size and\n"
            "misuse, which each backend answers as it declares. An alloc or realloc that\n"
            "some backends could not serve (OUT_OF_MEMORY, UNSUPPORTED, CAPACITY) is\n"
            "retired in all; a one-sided failure of enter_scope or promote ends the\n"
            "comparison of that trace, reported, not a finding. Stops at the first finding.\n"
            "Each trace runs in a forked child: a backend that crashes or ends its process\n"
            "is a CRASH finding, one that makes no progress a HANG, each naming the backend\n"
            "and the operation. --backends needs at least two backends. A finding is\n"
            "written as a reproducer trace that `heaplab replay FILE` runs again as a diff.\n"
            "An ignored finding (--ignore) stops its backend's lane there; the others are\n"
            "compared to the end, and it is listed on stderr, not counted as a finding.\n"
            "\n");
    hl_cli_print_options(out, DIFF_SHARED, &diff_defaults, diff_options);
    fprintf(out, "\nexit status: 0 the backends agree, 1 a difference or a contract break,\n"
                 "2 bad usage or input.\n");
}

static int diff_option(void *context, int key, const char *arg)
{
    diff_settings *d = context;
    if (key == 'f') d->findings = arg;
    if (key == 'I') return hl_cli_ignore("diff", &d->ignores, arg);
    return 0;
}

int hl_cli_diff_traces(const hl_spec *specs, size_t spec_count, char **paths, size_t path_count,
                       uint64_t check_every, double timeout, const char *findings, const hl_ignores *ignores)
{
    uint64_t ignored = 0;
    for (size_t t = 0; t < path_count; t++) {
        hl_trace trace;
        int unreadable = hl_cli_read_trace(paths[t], &trace);
        if (unreadable) return unreadable;
        hl_diff_summary s;
        int run = hl_diff_isolated_ignoring(specs, spec_count, &trace, check_every, timeout, ignores, &s);
        for (uint32_t i = 0; i < s.ignored && i < HL_DIFF_IGNORED_KEPT; i++) { /* listed, never dropped */
            fprintf(stderr, "ignored ");
            hl_finding_print(stderr, s.ignored_backend[i], trace.path, &trace, true, &s.ignored_finding[i]);
        }
        if (s.ignored > HL_DIFF_IGNORED_KEPT)
            fprintf(stderr, "ignored ... and %u more\n", s.ignored - HL_DIFF_IGNORED_KEPT);
        ignored += s.ignored;
        if (run == 2) {
            fprintf(stderr, "heaplab: %s\n", s.setup_error);
            hl_trace_free(&trace);
            return HL_EXIT_USAGE;
        }
        if (run == 1) {
            uint64_t period = check_every;
            hl_trace smaller;
            hl_cli_deepen(specs, spec_count, &trace, &period, timeout, ignores, &s.finding, s.backend, sizeof s.backend,
                          &smaller);
            const hl_trace *shown = smaller.count ? &smaller : &trace;
            hl_finding_print(stderr, s.backend, trace.path, shown, shown == &trace, &s.finding);
            char repro[600];
            hl_diag diag;
            if (hl_repro_write(specs, spec_count, s.backend, shown, &s.finding, period, timeout, findings, repro,
                               sizeof repro, &diag) == 0)
                fprintf(stderr, "  reproducer: %s\n", repro);
            else
                fprintf(stderr, "heaplab: could not write the reproducer: %s\n", diag.message);
            hl_trace_free(&smaller);
            hl_trace_free(&trace);
            return HL_EXIT_FINDING;
        }
        printf("%s: %zu backends agree on %" PRIu64 " operations", trace.path, spec_count, s.ops);
        if (s.retired) printf(" (%" PRIu64 " ids retired: not served by every backend)", s.retired);
        if (s.offsets_compared) printf(" (%" PRIu64 " offsets compared)", s.offsets_compared);
        if (s.ignored) printf(" (%u ignored findings: each stopped its backend there)", s.ignored);
        if (s.ended) printf("; ended at operation %" PRIu64 ": %s", s.ended_at, s.ended_reason);
        printf("\n");
        hl_trace_free(&trace);
    }
    if (ignored) printf("%" PRIu64 " findings ignored (--ignore)\n", ignored);
    return HL_EXIT_CLEAN;
}

int hl_cmd_diff(int argc, char **argv)
{
    hl_cli_shared shared = diff_defaults;
    diff_settings d = {"heaplab-findings", {0}};
    int parsed = hl_cli_parse("diff", argc, argv, DIFF_SHARED, &shared, diff_options, diff_option, &d);
    if (parsed) return parsed;
    const char *backends = shared.backends;
    if (!backends) return hl_cli_usage_error("diff", "--backends LIST is required");
    if (optind >= argc) return hl_cli_usage_error("diff", "no trace or directory given");
    hl_spec *specs;
    size_t spec_count;
    int bad = hl_cli_backends(backends, &specs, &spec_count);
    if (bad) return bad;
    if (spec_count < 2) return hl_cli_usage_error("diff", "--backends needs at least two backends to compare");
    char **paths;
    size_t path_count;
    int rc = hl_cli_collect_traces(argv + optind, argc - optind, &paths, &path_count, NULL);
    if (rc != 0) return rc;
    rc = hl_cli_diff_traces(specs, spec_count, paths, path_count, shared.check_every, shared.timeout, d.findings,
                            &d.ignores);
    hl_ignores_free(&d.ignores);
    return rc;
}
