/* cmd_diff.c: `heaplab diff`: several backends fed each trace in lockstep
 * (hl_diff); the first difference or contract break is a finding. */
#include "cli.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

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
            "and the operation.\n"
            "\n"
            "options:\n"
            "  --backends LIST     at least two backend specs (as for replay; `all`, `refs`)\n"
            "  --check-every N     each backend's heap check every N operations (default\n"
            "                      paced by time, as for replay)\n"
            "  --timeout SECONDS   a run making no progress this long is a HANG (10)\n"
            "\n"
            "exit status: 0 the backends agree, 1 a difference or a contract break,\n"
            "2 bad usage or input.\n");
}

static void print_finding(const hl_trace *trace, const hl_diff_summary *s)
{
    hl_finding_print(stderr, s->backend, trace->path, trace, true, &s->finding);
}

int hl_cmd_diff(int argc, char **argv)
{
    static const struct option long_options[] = {{"backends", required_argument, NULL, 'b'},
                                                 {"backend", required_argument, NULL, 'b'},
                                                 {"check-every", required_argument, NULL, 'c'},
                                                 {"timeout", required_argument, NULL, 't'},
                                                 {NULL, 0, NULL, 0}};
    const char *backends = NULL;
    uint64_t check_every = HL_CHECK_PACED;
    double timeout = 10;
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "+", long_options, NULL)) != -1) {
        switch (c) {
        case 'b': backends = optarg; break;
        case 'c':
            if (!hl_cli_check_every(optarg, &check_every))
                return hl_cli_usage_error("diff", "--check-every '%s' is not a number or `paced`", optarg);
            break;
        case 't': {
            char *end = NULL;
            timeout = strtod(optarg, &end);
            if (end == optarg || *end || timeout <= 0)
                return hl_cli_usage_error("diff", "--timeout '%s' is not a positive number of seconds", optarg);
            break;
        }
        default:
            return hl_cli_usage_error("diff", "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (!backends) return hl_cli_usage_error("diff", "--backends LIST is required");
    if (optind >= argc) return hl_cli_usage_error("diff", "no trace or directory given");
    hl_diag diag;
    hl_spec *specs;
    size_t spec_count;
    int bad = hl_cli_backends(backends, &specs, &spec_count);
    if (bad) return bad;
    if (spec_count < 2) return hl_cli_usage_error("diff", "--backends needs at least two backends to compare");
    char **paths;
    size_t path_count;
    int rc = hl_cli_collect_traces(argv + optind, argc - optind, &paths, &path_count, NULL);
    if (rc != 0) return rc;
    for (size_t t = 0; t < path_count; t++) {
        hl_trace trace;
        if (hl_trace_read(paths[t], &trace, &diag, NULL) != 0) return hl_cli_input_error(&diag);
        hl_diff_summary s;
        int run = hl_diff_isolated(specs, spec_count, &trace, check_every, timeout, &s);
        if (run == 2) {
            fprintf(stderr, "heaplab: %s\n", s.setup_error);
            return HL_EXIT_USAGE;
        }
        if (run == 1) {
            print_finding(&trace, &s);
            hl_trace_free(&trace);
            return HL_EXIT_FINDING;
        }
        printf("%s: %zu backends agree on %" PRIu64 " operations", trace.path, spec_count, s.ops);
        if (s.retired) printf(" (%" PRIu64 " ids retired: not served by every backend)", s.retired);
        if (s.offsets_compared) printf(" (%" PRIu64 " offsets compared)", s.offsets_compared);
        if (s.ended) printf("; ended at operation %" PRIu64 ": %s", s.ended_at, s.ended_reason);
        printf("\n");
        hl_trace_free(&trace);
    }
    return HL_EXIT_CLEAN;
}
