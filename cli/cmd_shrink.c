/* cmd_shrink.c: `heaplab shrink`: the smallest trace that still shows a finding's
 * rule on the same backend (check/shrink.c). */
#include "cli.h"

#include "hl_fuzz.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { SHRINK_SHARED = HL_SHARE_SANDBOX | HL_SHARE_MAX_OPS | HL_SHARE_BACKENDS | HL_SHARE_CHECK_EVERY | HL_SHARE_TIMEOUT | HL_SHARE_QUIET | HL_PERMUTE };

/* each run's heap check at its end, as the fuzzer does */
static const hl_cli_shared shrink_defaults = {.check_every = 0, .timeout = 10};

static const hl_cli_option shrink_options[] = {
    {"output", true, 'o', "  -o, --output FILE   where the result goes (default FINDING.min.trace)\n", 'o'},
    HL_OPTIONS_END};

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
            "the trace, a reproducer replay, report or diff wrote in its metadata; then\n"
            "--backends may be left out.\n"
            "\n");
    hl_cli_print_options(out, SHRINK_SHARED, &shrink_defaults, shrink_options);
    fprintf(out, "\nexit status: 0 written, 2 bad usage or input (a trace that shows no finding on\n"
                 "these backends included).\n");
}

static int shrink_option(void *context, int key, const char *arg)
{
    if (key == 'o') *(const char **)context = arg;
    return 0;
}

int hl_cmd_shrink(int argc, char **argv)
{
    hl_cli_shared shared = shrink_defaults;
    const char *output = NULL;
    int parsed = hl_cli_parse("shrink", argc, argv, SHRINK_SHARED, &shared, shrink_options, shrink_option, &output);
    if (parsed) return parsed;
    const char *backends = shared.backends;
    hl_shrink_options o = {.check_every = shared.check_every, .timeout = shared.timeout, .progress = !shared.quiet};
    if (optind + 1 != argc) return hl_cli_usage_error("shrink", "needs exactly one FINDING.trace");
    const char *path = argv[optind];
    char *from_record = NULL;
    if (!backends && hl_fuzz_record_backends(path, &from_record) < 0)
        return hl_cli_usage_error("shrink", "the finding record beside %s has no \"backends\" list", path);
    if (!backends && !from_record) { /* a reproducer replay, report or diff wrote names its own */
        hl_rule rule;
        char *one[] = {(char *)path};
        int named = hl_cli_finding_backends("shrink", one, 1, &from_record, &rule, NULL);
        if (named) return named;
    }
    hl_spec *specs;
    size_t count;
    int bad = hl_cli_backends(backends ? backends : from_record, &specs, &count);
    if (bad) return bad;
    hl_diag diag;
    hl_trace trace;
    if (hl_trace_read(path, &trace, &diag, NULL) != 0 || hl_trace_check(&trace, &diag) != 0)
        return hl_cli_input_error(&diag);
    if (!shared.check_given) hl_cli_finding_check_every(&trace, &o.check_every); /* the finding's own period */
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
    char source[300];
    snprintf(source, sizeof source, "heaplab shrink %s", path);
    /* a reproducer too: replay and shrink run it as it was shrunk */
    hl_repro_label(&small, specs, count, r.finding.finding.rule, r.finding.finding.index, source, o.check_every);
    if (hl_trace_write(&small, HL_TRACE_TEXT, output, &diag) != 0) return hl_cli_input_error(&diag);
    printf("shrink: %s: %zu -> %zu operations in %.1f s (%llu runs): %s on %s at operation %llu: %s\n  written: %s\n",
           path, r.before, r.after, r.seconds, (unsigned long long)r.runs, hl_rule_name(r.finding.finding.rule),
           r.finding.backend, (unsigned long long)r.finding.finding.index, r.finding.finding.message, output);
    hl_trace_free(&small);
    hl_trace_free(&trace);
    return HL_EXIT_CLEAN;
}
