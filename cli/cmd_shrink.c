/* cmd_shrink.c: `heaplab shrink`: the smallest trace that still shows a finding's
 * rule on the same backend (check/shrink.c). */
#include "cli.h"

#include "hl_fuzz.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

void hl_help_shrink(FILE *out)
{
    fprintf(out,
            "usage: heaplab shrink [--backends LIST] [options] FINDING.trace\n"
            "\n"
            "Runs the trace on the backends (in lockstep, as `heaplab diff` does, each run\n"
            "in a forked child) and minimises it while it still shows the same rule on the\n"
            "same backend: delta debugging over the operations, then sizes, alignments and\n"
            "touched ranges made as small as they go. Operations that a removal leaves\n"
            "dangling (a free of a block no longer allocated) go too. Block and scope ids\n"
            "are kept. A finding the fuzzer wrote has its backends in FINDING.json beside\n"
            "the trace; then --backends may be left out.\n"
            "\n"
            "options:\n"
            "  --backends LIST     backend specs, as for replay (default: FINDING.json's)\n"
            "  --check-every N     each backend's heap check every N operations (default 0:\n"
            "                      at the end of each run, as the fuzzer does)\n"
            "  --timeout SECONDS   a run without an answer this long is a HANG (10)\n"
            "  -o, --output FILE   where the result goes (default FINDING.min.trace)\n"
            "  -q, --quiet         no progress line\n"
            "\n"
            "exit status: 0 written, 2 bad usage or input (a trace that shows no finding on\n"
            "these backends included).\n");
}

int hl_cmd_shrink(int argc, char **argv)
{
    static const struct option long_options[] = {
        {"backends", required_argument, NULL, 'b'}, {"backend", required_argument, NULL, 'b'},
        {"check-every", required_argument, NULL, 'c'}, {"timeout", required_argument, NULL, 't'},
        {"output", required_argument, NULL, 'o'},   {"quiet", no_argument, NULL, 'q'},
        {NULL, 0, NULL, 0}};
    const char *backends = NULL, *output = NULL;
    hl_shrink_options o = {.check_every = 0, .timeout = 10, .progress = true};
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:q", long_options, NULL)) != -1) {
        switch (c) {
        case 'b': backends = optarg; break;
        case 'c':
            if (!hl_parse_size(optarg, &o.check_every))
                return hl_cli_usage_error("shrink", "--check-every '%s' is not a number", optarg);
            break;
        case 't': {
            char *end;
            o.timeout = strtod(optarg, &end);
            if (end == optarg || *end || o.timeout <= 0)
                return hl_cli_usage_error("shrink", "--timeout '%s' is not a positive number of seconds", optarg);
            break;
        }
        case 'o': output = optarg; break;
        case 'q': o.progress = false; break;
        default:
            return hl_cli_usage_error("shrink", "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (optind + 1 != argc) return hl_cli_usage_error("shrink", "needs exactly one FINDING.trace");
    const char *path = argv[optind];
    char *from_record = NULL;
    if (!backends && hl_fuzz_record_backends(path, &from_record) < 0)
        return hl_cli_usage_error("shrink", "the finding record beside %s has no \"backends\" list", path);
    if (!backends && !from_record)
        return hl_cli_usage_error("shrink", "--backends LIST is required (no finding record %s beside the trace)",
                                  "FINDING.json");
    hl_spec *specs;
    size_t count;
    int bad = hl_cli_backends(backends ? backends : from_record, &specs, &count);
    if (bad) return bad;
    hl_diag diag;
    hl_trace trace;
    if (hl_trace_read(path, &trace, &diag, NULL) != 0 || hl_trace_check(&trace, &diag) != 0)
        return hl_cli_input_error(&diag);
    char *default_output = NULL;
    if (!output) {
        size_t n = strlen(path), stem = n > 6 && strcmp(path + n - 6, ".trace") == 0 ? n - 6 : n;
        default_output = hl_mem_alloc(stem + 11);
        snprintf(default_output, stem + 11, "%.*s.min.trace", (int)stem, path);
        output = default_output;
    }
    hl_trace small;
    hl_shrink_result r;
    int rc = hl_shrink(specs, count, &trace, &o, &small, &r);
    if (rc == 2) return fprintf(stderr, "heaplab: %s\n", r.finding.setup_error), HL_EXIT_USAGE;
    if (rc == 1) {
        fprintf(stderr, "heaplab: %s shows no finding on %s: nothing to shrink\n", path,
                backends ? backends : from_record);
        return HL_EXIT_USAGE;
    }
    if (hl_trace_write(&small, HL_TRACE_TEXT, output, &diag) != 0) return hl_cli_input_error(&diag);
    printf("shrink: %s: %zu -> %zu operations in %.1f s (%llu runs): %s on %s at operation %llu: %s\n  written: %s\n",
           path, r.before, r.after, r.seconds, (unsigned long long)r.runs, hl_rule_name(r.finding.finding.rule),
           r.finding.backend, (unsigned long long)r.finding.finding.index, r.finding.finding.message, output);
    hl_trace_free(&small);
    hl_trace_free(&trace);
    return HL_EXIT_CLEAN;
}
