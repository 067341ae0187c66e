/* cli.h: the heaplab binary's subcommands. The top layer: nothing depends on it.
 * Each subcommand is one file with a run function and its help text; main.c
 * dispatches through the HL_COMMANDS table. Exit codes everywhere: 0 clean, 1 a
 * finding, 2 bad usage or bad input. */
#ifndef HL_CLI_H
#define HL_CLI_H

#include "hl_fuzz.h"
#include "hl_import.h"
#include "backends.h"

#include <stdio.h>

#define HL_EXIT_CLEAN 0
#define HL_EXIT_FINDING 1
#define HL_EXIT_USAGE 2

#define HL_COMMANDS(X)                                                                  \
    X(list, "list the backends, their class, features and options")                   \
    X(replay, "replay traces on backends under the shadow model")                      \
    X(diff, "feed traces to several backends in lockstep and compare them")           \
    X(fuzz, "differential fuzzing with the built-in fuzzer")                          \
    X(shrink, "minimise a finding's trace while it shows the same rule")               \
    X(record, "run a program and record its allocator calls as a trace")              \
    X(validate, "check that trace files parse and are consistent, without running")    \
    X(convert, "convert a trace between the text and binary forms, or to and from fuzz inputs") \
    X(import, "make a trace from a foreign allocation log (mtrace, malloclab, logalloc, valgrind)") \
    X(report, "measure traces on backends and write an HTML/Markdown report; compare two runs")

#define HL_COMMAND_DECLARE(name, summary)                                               \
    int hl_cmd_##name(int argc, char **argv);                                           \
    void hl_help_##name(FILE *out);
HL_COMMANDS(HL_COMMAND_DECLARE)
#undef HL_COMMAND_DECLARE

/* Prints "heaplab <command>: <message>" and a pointer to --help on stderr; returns 2. */
int hl_cli_usage_error(const char *command, const char *fmt, ...);
/* Prints a bad-input message (already naming the file) on stderr; returns 2. */
int hl_cli_input_error(const hl_diag *diag);
/* Reads and checks every trace named by paths (files or directories); on the first
 * bad one prints its message and returns 2. Warnings (cut tails) go to stderr.
 * On success *out_paths lists the trace files and *out_ops (if not NULL) holds their
 * operations in all. */
int hl_cli_collect_traces(char **paths, int count, char ***out_paths, size_t *out_count, uint64_t *out_ops);

/* Parses a backend list and makes (and destroys) one instance of each, so that an
 * unknown backend or a bad option is bad usage before anything runs or prints.
 * Returns 0, or 2 after printing the message. */
int hl_cli_backends(const char *list, hl_spec **specs, size_t *count);
/* The value of --check-every: a count, or `paced` (HL_CHECK_PACED). false otherwise. */
bool hl_cli_check_every(const char *text, uint64_t *out);

#endif
