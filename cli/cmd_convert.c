/* cmd_convert.c: `heaplab convert`: text <-> binary, lossless for operations and
 * metadata (comments are not kept); and to and from the fuzzers' input bytes
 * (fuzz/hl_fuzz.h), to seed a corpus from traces or read a fuzzer's artifact. */
#include "cli.h"
#include "hl_fuzz.h"

#include <errno.h>
#include <string.h>

void hl_help_convert(FILE *out)
{
    fprintf(out,
            "usage: heaplab convert [--from fuzz-input] [--to text|binary|fuzz-input] [--unchecked] INPUT OUTPUT\n"
            "\n"
            "Reads INPUT in either form (detected by magic) and writes OUTPUT in the form\n"
            "--to names; without --to, in the other form than INPUT's. Operations and\n"
            "metadata are kept exactly; comments are not. A cut tail is converted with a\n"
            "warning (the output gets an end marker). INPUT must be consistent, as\n"
            "`heaplab validate` checks it (no live id allocated again, no free of an id\n"
            "not live, ...): an inconsistent trace is bad input and nothing is written.\n"
            "--unchecked converts it as it is, for a deliberate raw conversion (text\n"
            "and binary only).\n"
            "\n"
            "fuzz-input is the fuzzers' byte format (fuzz/hl_fuzz.h): --to fuzz-input\n"
            "encodes a consistent trace into bytes that decode back to it (ids renumbered;\n"
            "metadata is not kept), for a seed corpus; --from fuzz-input decodes any bytes\n"
            "(a libFuzzer or AFL++ artifact) into the trace they stand for.\n"
            "\n"
            "exit status: 0 written, 2 bad usage or bad input.\n");
}

/* Encodes a consistent trace as fuzz input bytes into path. */
static int write_bytes(hl_trace *trace, const char *path)
{
    size_t size, count = trace->count;
    uint8_t *bytes = hl_fuzz_encode(trace, &size);
    hl_trace_free(trace);
    int e = hl_outfile_write(path, bytes, size); /* whole or not at all */
    hl_mem_free(bytes);
    if (e) return fprintf(stderr, "heaplab: %s: cannot write: %s (nothing written)\n", path, strerror(e)), HL_EXIT_USAGE;
    fprintf(stderr, "heaplab: wrote %s (%zu operations, fuzz input of %zu bytes)\n", path, count, size);
    return HL_EXIT_CLEAN;
}

/* The sink of a streamed conversion: each operation checked (unless unchecked), then
 * written; the writer opens at the first operation, when the input's form is known. */
typedef struct conversion {
    const char *path, *to;
    hl_trace_writer *writer;
    hl_op_sink check, write;
    bool checked;
    hl_trace_form form;
} conversion;

static int open_writer(conversion *c, const hl_trace *trace, hl_diag *diag)
{
    if (c->writer) return 0;
    c->form = c->to ? (strcmp(c->to, "text") == 0 ? HL_TRACE_TEXT : HL_TRACE_BINARY)
                    : (trace->form == HL_TRACE_TEXT ? HL_TRACE_BINARY : HL_TRACE_TEXT);
    if (hl_trace_writer_open(&c->writer, c->path, c->form, diag) != 0) return -1;
    c->write = hl_trace_writer_sink(c->writer);
    return 0;
}

static int convert_one(void *context, const hl_trace *trace, const hl_op *op, hl_diag *diag)
{
    conversion *c = context;
    if (c->checked && c->check.take(c->check.context, trace, op, diag) != 0) return -1;
    if (open_writer(c, trace, diag) != 0) return -1;
    return c->write.take(c->write.context, trace, op, diag);
}

/* Converts a trace to a trace a window at a time: nothing is held whole, so a trace
 * of any length (or compression ratio) converts in bounded memory. */
static int stream(const char *in, const char *out, const char *to, bool unchecked)
{
    conversion c = {.path = out, .to = to, .checked = !unchecked};
    hl_trace_checker *checker = unchecked ? NULL : hl_trace_checker_new();
    if (checker) c.check = hl_trace_checker_sink(checker);
    hl_op_sink sink = {convert_one, &c};
    hl_trace trace;
    hl_diag diag, warning;
    uint64_t count = 0;
    int rc = hl_trace_scan(in, &trace, &sink, &count, &diag, &warning);
    hl_trace_checker_free(checker);
    if (rc != 0) { /* refused input leaves no output */
        hl_trace_writer_abort(c.writer);
        return hl_cli_input_error(&diag);
    }
    if (warning.message[0]) fprintf(stderr, "heaplab: %s\n", warning.message);
    rc = open_writer(&c, &trace, &diag) == 0 ? hl_trace_writer_commit(c.writer, &trace, &diag) : -1;
    hl_trace_free(&trace);
    if (rc != 0) return hl_cli_input_error(&diag);
    fprintf(stderr, "heaplab: wrote %s (%llu operations, %s form)\n", out, (unsigned long long)count,
            c.form == HL_TRACE_TEXT ? "text" : "binary");
    return HL_EXIT_CLEAN;
}

int hl_cmd_convert(int argc, char **argv)
{
    const char *to = NULL, *files[2] = {NULL, NULL};
    bool from_bytes = false, unchecked = false;
    int nfiles = 0;
    for (int a = 1; a < argc; a++) {
        if (strcmp(argv[a], "--from") == 0 || strncmp(argv[a], "--from=", 7) == 0) {
            const char *from = argv[a][6] == '=' ? argv[a] + 7 : ++a < argc ? argv[a] : "";
            if (strcmp(from, "fuzz-input") != 0)
                return hl_cli_usage_error("convert", "--from '%s': expected fuzz-input (traces are detected by magic)", from);
            from_bytes = true;
        } else if (strcmp(argv[a], "--to") == 0) {
            if (++a >= argc) return hl_cli_usage_error("convert", "--to needs text or binary");
            to = argv[a];
        } else if (strncmp(argv[a], "--to=", 5) == 0) {
            to = argv[a] + 5;
        } else if (strcmp(argv[a], "--unchecked") == 0) {
            unchecked = true;
        } else if (argv[a][0] == '-' && argv[a][1] != '\0') {
            return hl_cli_usage_error("convert", "unknown option '%s'", argv[a]);
        } else if (nfiles < 2) {
            files[nfiles++] = argv[a];
        } else {
            return hl_cli_usage_error("convert", "too many arguments ('%s')", argv[a]);
        }
    }
    if (nfiles != 2) return hl_cli_usage_error("convert", "needs INPUT and OUTPUT");
    bool to_bytes = to && strcmp(to, "fuzz-input") == 0;
    if (to && !to_bytes && strcmp(to, "text") != 0 && strcmp(to, "binary") != 0)
        return hl_cli_usage_error("convert", "--to '%s': expected text, binary or fuzz-input", to);
    if (from_bytes && to_bytes) return hl_cli_usage_error("convert", "--from and --to cannot both be fuzz-input");
    if (unchecked && to_bytes)
        return hl_cli_usage_error("convert", "--unchecked: fuzz input encodes only a consistent trace");
    if (!from_bytes && !to_bytes) return stream(files[0], files[1], to, unchecked);
    hl_diag diag, warning;
    warning.message[0] = '\0';
    hl_trace trace;
    if (from_bytes) {
        size_t size;
        char *bytes;
        if (hl_file_load(files[0], &bytes, &size, &diag) != 0) return hl_cli_input_error(&diag);
        hl_fuzz_decode((const uint8_t *)bytes, size, HL_FUZZ_MAX_OPS, files[0], &trace);
        hl_mem_free(bytes);
    } else if (hl_trace_read(files[0], &trace, &diag, &warning) != 0) {
        return hl_cli_input_error(&diag);
    }
    if (warning.message[0]) fprintf(stderr, "heaplab: %s\n", warning.message);
    if (!unchecked && hl_trace_check(&trace, &diag) != 0) { /* refused input leaves no output */
        hl_trace_free(&trace);
        return hl_cli_input_error(&diag);
    }
    if (to_bytes) return write_bytes(&trace, files[1]);
    hl_trace_form form = to && strcmp(to, "binary") == 0 ? HL_TRACE_BINARY : HL_TRACE_TEXT;
    int rc = hl_trace_write(&trace, form, files[1], &diag);
    size_t count = trace.count;
    hl_trace_free(&trace);
    if (rc != 0) return hl_cli_input_error(&diag);
    fprintf(stderr, "heaplab: wrote %s (%zu operations, %s form)\n", files[1], count,
            form == HL_TRACE_TEXT ? "text" : "binary");
    return HL_EXIT_CLEAN;
}
