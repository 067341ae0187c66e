/* main.c: `heaplab COMMAND [options]`: dispatch, top-level help, shared messages. */
#include "cli.h"

#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>

typedef struct command {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv);
    void (*help)(FILE *out);
} command;

static const command commands[] = {
#define HL_COMMAND_ENTRY(name, summary) {#name, summary, hl_cmd_##name, hl_help_##name},
    HL_COMMANDS(HL_COMMAND_ENTRY)
#undef HL_COMMAND_ENTRY
};
#define COMMAND_COUNT (sizeof commands / sizeof commands[0])

static void main_help(FILE *out)
{
    fprintf(out,
            "usage: heaplab COMMAND [OPTIONS] [ARGS]\n"
            "\n"
            "heaplab is an allocator test bench: it replays allocation traces through\n"
            "allocator backends and checks every operation against the contract.\n"
            "\n"
            "commands:\n");
    for (size_t i = 0; i < COMMAND_COUNT; i++) fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(out,
            "\n"
            "backends (--backends LIST, comma-separated): a built-in one (`heaplab list`),\n"
            "refs, all, or your own allocator:\n"
            "  ./lib.so[:name=LABEL]                 a contract plugin (exports heaplab_backend())\n"
            "  malloc:PREFIX@./lib.so[:name=LABEL]   a malloc-style library (PREFIXmalloc...)\n"
            "\n"
            "`heaplab COMMAND --help` describes one command.\n"
            "exit status: 0 clean, 1 a finding (divergence, contract broken), 2 bad usage or input.\n");
}

int hl_cli_usage_error(const char *name, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    fprintf(stderr, "heaplab %s: ", name);
    vfprintf(stderr, fmt, args);
    fprintf(stderr, "\n(see `heaplab %s --help`)\n", name);
    va_end(args);
    return HL_EXIT_USAGE;
}

int hl_cli_input_error(const hl_diag *diag)
{
    fprintf(stderr, "heaplab: %s\n", diag->message);
    return HL_EXIT_USAGE;
}

int hl_cli_collect_traces(char **paths, int count, char ***out_paths, size_t *out_count, uint64_t *out_bytes)
{
    hl_diag diag;
    if (out_bytes) *out_bytes = 0;
    if (hl_trace_collect((const char *const *)paths, (size_t)count, out_paths, out_count, &diag) != 0)
        return hl_cli_input_error(&diag);
    for (size_t i = 0; out_bytes && i < *out_count; i++) {
        struct stat st;
        if (stat((*out_paths)[i], &st) == 0 && st.st_size > 0) *out_bytes += (uint64_t)st.st_size;
    }
    return 0;
}

int hl_cli_read_trace(const char *path, hl_trace *trace)
{
    hl_diag diag, warning;
    warning.message[0] = '\0';
    if (hl_trace_read(path, trace, &diag, &warning) != 0) return hl_cli_input_error(&diag);
    if (warning.message[0]) fprintf(stderr, "heaplab: %s\n", warning.message);
    if (hl_trace_check(trace, &diag) != 0) {
        hl_trace_free(trace);
        return hl_cli_input_error(&diag);
    }
    return 0;
}

int hl_cli_backends(const char *list, hl_spec **specs, size_t *count)
{
    hl_diag diag;
    if (hl_spec_parse_list(list, specs, count, &diag) != 0) return hl_cli_input_error(&diag);
    for (size_t b = 0; b < *count; b++) {
        if ((*specs)[b].external) continue; /* probed in a child by the parse: its code stays out of here */
        /* a peer's library is loaded only in the children that run it: tcmalloc moves
         * the program break, which glibc would count as its own in every later run */
        if ((*specs)[b].backend->backend_class == HL_CLASS_FOREIGN) {
            if (hl_spec_probe(&(*specs)[b], &diag) != 0) return hl_cli_input_error(&diag);
            continue;
        }
        hl_heap *heap = hl_spec_create(&(*specs)[b], &diag);
        if (!heap) return hl_cli_input_error(&diag);
        hl_spec_destroy(&(*specs)[b], heap);
    }
    return 0;
}

int hl_cli_ignore(const char *name, hl_ignores *ignores, const char *arg)
{
    hl_diag diag;
    if (hl_ignores_add(ignores, arg, &diag) == 0) return 0;
    return hl_cli_usage_error(name, "--ignore: %s", diag.message);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        main_help(stderr);
        return HL_EXIT_USAGE;
    }
    const char *name = argv[1];
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0 || strcmp(name, "help") == 0) {
        if (strcmp(name, "help") == 0 && argc > 2) {
            for (size_t i = 0; i < COMMAND_COUNT; i++)
                if (strcmp(commands[i].name, argv[2]) == 0) {
                    commands[i].help(stdout);
                    return HL_EXIT_CLEAN;
                }
        }
        main_help(stdout);
        return HL_EXIT_CLEAN;
    }
    if (strcmp(name, "--version") == 0) {
        printf("heaplab " HL_VERSION " (contract version %u)\n", HL_CONTRACT_VERSION);
        return HL_EXIT_CLEAN;
    }
    for (size_t i = 0; i < COMMAND_COUNT; i++) {
        if (strcmp(commands[i].name, name) != 0) continue;
        /* the program recorded inherits the environment; run's program gets the static TLS
         * room too, which a peer (jemalloc) loaded into it by the run shim needs */
        if (strcmp(name, "record") != 0) hl_registry_reserve_tls(argv);
        /* Ctrl-C and SIGTERM end every child too (hl_isolate.h); record's and run's
         * program is in heaplab's process group and gets the terminal's signals itself */
        if (strcmp(name, "record") != 0 && strcmp(name, "run") != 0) hl_interrupt_install();
        for (int a = 2; a < argc && strcmp(argv[a], "--") != 0; a++)
            if (strcmp(argv[a], "--help") == 0 || strcmp(argv[a], "-h") == 0) {
                commands[i].help(stdout);
                return HL_EXIT_CLEAN;
            }
        return commands[i].run(argc - 1, argv + 1);
    }
    fprintf(stderr, "heaplab: unknown command '%s'\n\n", name);
    main_help(stderr);
    return HL_EXIT_USAGE;
}
