/* cmd_convert.c: `heaplab convert`: text <-> binary, lossless for operations and
 * metadata (comments are not kept). */
#include "cli.h"

#include <string.h>

void hl_help_convert(FILE *out)
{
    fprintf(out,
            "usage: heaplab convert [--to text|binary] INPUT OUTPUT\n"
            "\n"
            "Reads INPUT in either form (detected by magic) and writes OUTPUT in the form\n"
            "--to names; without --to, in the other form than INPUT's. Operations and\n"
            "metadata are kept exactly; comments are not. A cut tail is converted with a\n"
            "warning (the output gets an end marker).\n"
            "\n"
            "exit status: 0 written, 2 bad usage or bad input.\n");
}

int hl_cmd_convert(int argc, char **argv)
{
    const char *to = NULL, *files[2] = {NULL, NULL};
    int nfiles = 0;
    for (int a = 1; a < argc; a++) {
        if (strcmp(argv[a], "--to") == 0) {
            if (++a >= argc) return hl_cli_usage_error("convert", "--to needs text or binary");
            to = argv[a];
        } else if (strncmp(argv[a], "--to=", 5) == 0) {
            to = argv[a] + 5;
        } else if (argv[a][0] == '-' && argv[a][1] != '\0') {
            return hl_cli_usage_error("convert", "unknown option '%s'", argv[a]);
        } else if (nfiles < 2) {
            files[nfiles++] = argv[a];
        } else {
            return hl_cli_usage_error("convert", "too many arguments ('%s')", argv[a]);
        }
    }
    if (nfiles != 2) return hl_cli_usage_error("convert", "needs INPUT and OUTPUT");
    if (to && strcmp(to, "text") != 0 && strcmp(to, "binary") != 0)
        return hl_cli_usage_error("convert", "--to '%s': expected text or binary", to);
    hl_diag diag, warning;
    warning.message[0] = '\0';
    hl_trace trace;
    if (hl_trace_read(files[0], &trace, &diag, &warning) != 0) return hl_cli_input_error(&diag);
    if (warning.message[0]) fprintf(stderr, "heaplab: %s\n", warning.message);
    hl_trace_form form = to ? (strcmp(to, "text") == 0 ? HL_TRACE_TEXT : HL_TRACE_BINARY)
                            : (trace.form == HL_TRACE_TEXT ? HL_TRACE_BINARY : HL_TRACE_TEXT);
    int rc = hl_trace_write(&trace, form, files[1], &diag);
    size_t count = trace.count;
    hl_trace_free(&trace);
    if (rc != 0) return hl_cli_input_error(&diag);
    fprintf(stderr, "heaplab: wrote %s (%zu operations, %s form)\n", files[1], count,
            form == HL_TRACE_TEXT ? "text" : "binary");
    return HL_EXIT_CLEAN;
}
