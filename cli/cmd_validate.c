/* cmd_validate.c: `heaplab validate`: parse and consistency-check traces without
 * running them (so `check` keeps meaning a backend's heap walk). */
#include "cli.h"

#include <string.h>

void hl_help_validate(FILE *out)
{
    fprintf(out,
            "usage: heaplab validate TRACE|DIR...\n"
            "\n"
            "Checks that each trace parses (text or binary form, detected by magic) and is\n"
            "consistent with itself: only live ids are freed, reallocated, touched or\n"
            "promoted outside explicit misuse operations, no live id is allocated again,\n"
            "only open scopes are named. Prints one line per trace. A trace is read and\n"
            "checked a window at a time, never held whole: any length, any compression\n"
            "ratio, in memory that grows only with the ids it names.\n"
            "\n"
            "exit status: 0 every trace valid, 2 a bad trace or bad usage.\n");
}

int hl_cmd_validate(int argc, char **argv)
{
    if (argc < 2) return hl_cli_usage_error("validate", "no trace or directory given");
    for (int a = 1; a < argc; a++)
        if (argv[a][0] == '-' && argv[a][1] != '\0')
            return hl_cli_usage_error("validate", "unknown option '%s'", argv[a]);
    hl_diag diag;
    char **paths;
    size_t count;
    if (hl_trace_collect((const char *const *)(argv + 1), (size_t)(argc - 1), &paths, &count, &diag) != 0)
        return hl_cli_input_error(&diag);
    int rc = HL_EXIT_CLEAN;
    for (size_t i = 0; i < count; i++) { /* streamed: memory is the checker's view, not the trace */
        hl_trace trace;
        hl_diag warning;
        uint64_t ops = 0;
        hl_trace_checker *checker = hl_trace_checker_new();
        hl_op_sink sink = hl_trace_checker_sink(checker);
        int read = hl_trace_scan(paths[i], &trace, &sink, &ops, &diag, &warning);
        hl_trace_checker_free(checker);
        if (read != 0) {
            hl_cli_input_error(&diag);
            rc = HL_EXIT_USAGE;
            continue;
        }
        if (warning.message[0]) fprintf(stderr, "heaplab: %s\n", warning.message);
        printf("%s: ok (%llu operations, %s form%s)\n", paths[i], (unsigned long long)ops,
               trace.form == HL_TRACE_TEXT ? "text" : "binary", trace.cut_tail ? ", cut tail" : "");
        hl_trace_free(&trace);
    }
    return rc;
}
