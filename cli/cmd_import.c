/* cmd_import.c: `heaplab import --from FORMAT IN -o OUT`: a foreign allocation log
 * (glibc mtrace, CMU malloc-lab, Mozilla logalloc, valgrind --trace-malloc) made into a
 * consistent heaplab trace (hl_import). OUT is written only when the whole import
 * succeeded. */
#include "cli.h"

#include <stdio.h>
#include <string.h>

void hl_help_import(FILE *out)
{
    fprintf(out,
            "usage: heaplab import --from FORMAT [--binary] INPUT -o OUTPUT\n"
            "\n"
            "Converts the allocation log INPUT into a heaplab trace OUTPUT (text form;\n"
            "--binary: binary form). FORMAT is one of:\n"
            "  mtrace     glibc's MALLOC_TRACE output (= Start, @ caller + ADDR SIZE, - ADDR, < >)\n"
            "  malloclab  a CMU malloc-lab .rep trace (header, then a ID SIZE, r ID SIZE, f ID;\n"
            "             f -1 is free(NULL), r of an id not live realloc(NULL, SIZE): an\n"
            "             alloc of that id, SIZE 0 too, as glibc's realloc(NULL, 0) = malloc(0))\n"
            "  logalloc   Mozilla's logalloc text (PID TID malloc(SIZE)=0xADDR ...)\n"
            "  valgrind   valgrind --trace-malloc=yes output (--PID-- malloc(N) = 0xP ...,\n"
            "             C++17 aligned new and delete too); a call of a function it does not\n"
            "             know is skipped with a warning naming it\n"
            "\n"
            "Addresses become block ids (a realloc that moves keeps its id); free(NULL) is\n"
            "dropped, realloc(NULL, n) is an alloc, realloc(p, 0) a free; a call that\n"
            "returned NULL is recorded with fail=OUT_OF_MEMORY; logalloc's thread ids become\n"
            "t=. A free of an address not live in the log is skipped with a warning, so the\n"
            "trace is always consistent. A line that does not parse is bad input, named as\n"
            "FILE:LINE, and OUTPUT is then not written; but a log that ends inside its last\n"
            "record (no line break after it; mtrace: a realloc's '<' without its '>') is a\n"
            "cut tail: the complete records are imported, with a warning naming FILE:LINE.\n"
            "\n"
            "exit status: 0 written, 2 bad usage or bad input.\n");
}

static void warn(const char *path, uint64_t count, const char *what)
{
    if (count) fprintf(stderr, "heaplab: %s: %llu %s\n", path, (unsigned long long)count, what);
}

/* "N calls of unknown functions skipped: foo (2), bar (1)[, and K more functions (M calls)]" */
static void warn_unknown(const char *path, const hl_import_stats *stats)
{
    if (!stats->unknown_calls) return;
    fprintf(stderr, "heaplab: %s: %llu call%s of unknown functions skipped:", path,
            (unsigned long long)stats->unknown_calls, stats->unknown_calls == 1 ? "" : "s");
    uint64_t named = 0, calls = 0;
    for (; named < stats->unknown_functions && named < HL_IMPORT_UNKNOWN_NAMES; named++) {
        fprintf(stderr, "%s %s (%llu)", named ? "," : "", stats->unknown[named].name,
                (unsigned long long)stats->unknown[named].calls);
        calls += stats->unknown[named].calls;
    }
    if (named < stats->unknown_functions)
        fprintf(stderr, ", and %llu more functions (%llu calls)",
                (unsigned long long)(stats->unknown_functions - named), (unsigned long long)(stats->unknown_calls - calls));
    fputc('\n', stderr);
}

int hl_cmd_import(int argc, char **argv)
{
    const char *from = NULL, *input = NULL, *output = NULL;
    bool binary = false;
    for (int a = 1; a < argc; a++) {
        if (strcmp(argv[a], "--from") == 0) {
            if (++a >= argc) return hl_cli_usage_error("import", "--from needs a format (%s)", HL_IMPORT_FORMATS);
            from = argv[a];
        } else if (strncmp(argv[a], "--from=", 7) == 0) {
            from = argv[a] + 7;
        } else if (strcmp(argv[a], "-o") == 0 || strcmp(argv[a], "--output") == 0) {
            if (++a >= argc) return hl_cli_usage_error("import", "-o needs an output file");
            output = argv[a];
        } else if (strcmp(argv[a], "--binary") == 0) {
            binary = true;
        } else if (argv[a][0] == '-' && argv[a][1] != '\0') {
            return hl_cli_usage_error("import", "unknown option '%s'", argv[a]);
        } else if (!input) {
            input = argv[a];
        } else {
            return hl_cli_usage_error("import", "too many arguments ('%s')", argv[a]);
        }
    }
    if (!from) return hl_cli_usage_error("import", "--from FORMAT is required (%s)", HL_IMPORT_FORMATS);
    if (!hl_import_known(from))
        return hl_cli_usage_error("import", "--from '%s': unknown format (one of %s)", from, HL_IMPORT_FORMATS);
    if (!input) return hl_cli_usage_error("import", "needs an INPUT log");
    if (!output) return hl_cli_usage_error("import", "needs -o OUTPUT");

    hl_trace trace;
    hl_diag diag;
    hl_import_stats stats;
    if (hl_import(from, input, &trace, &diag, &stats) != 0) return hl_cli_input_error(&diag);
    warn(input, stats.unknown_frees, "frees of unknown addresses skipped");
    warn(input, stats.unknown_reallocs, "reallocs of unknown addresses recorded as allocs");
    warn(input, stats.live_again, "allocations at an address still live (its free was not logged)");
    warn_unknown(input, &stats);
    warn(input, stats.unaddressed, "allocations logged without their address skipped (posix_memalign)");
    if (stats.cut_line) fprintf(stderr, "heaplab: %s\n", stats.cut_warning.message);
    int rc = hl_trace_write(&trace, binary ? HL_TRACE_BINARY : HL_TRACE_TEXT, output, &diag);
    hl_trace_free(&trace);
    if (rc != 0) {
        remove(output); /* no half-written trace left behind */
        return hl_cli_input_error(&diag);
    }
    char null_frees[120] = "";
    if (stats.null_frees)
        snprintf(null_frees, sizeof null_frees, ", %llu free(NULL) dropped", (unsigned long long)stats.null_frees);
    if (stats.carried_sizes)
        snprintf(null_frees + strlen(null_frees), sizeof null_frees - strlen(null_frees),
                 ", %llu sizes carried from the previous request", (unsigned long long)stats.carried_sizes);
    fprintf(stderr, "heaplab: imported %s (%s): %llu operations, %llu blocks, %llu warnings%s%s -> %s\n", input,
            from, (unsigned long long)stats.ops, (unsigned long long)stats.blocks, (unsigned long long)stats.warnings,
            null_frees, stats.cut_line ? ", cut tail" : "", output);
    return HL_EXIT_CLEAN;
}
