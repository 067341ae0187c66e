/* options.c: the one option table of the CLI (cli.h). The options several commands
 * share (--backends, --check-every, --timeout, --json, --seed, -q, --max-ops, --no-sandbox) are parsed and
 * documented here, once, so they mean the same and take the same values everywhere;
 * each command adds its own options to the same getopt_long table. */
#include "cli.h"

#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { MAX_OPTIONS = 40, KEY_SHARED = 0x10000 };

typedef struct shared_doc {
    unsigned bit;
    const char *name, *arg;
    int key;
} shared_doc;

static const shared_doc shared_docs[] = {
    {HL_SHARE_BACKENDS, "backends", "LIST", KEY_SHARED + 1},
    {HL_SHARE_BACKENDS, "backend", "LIST", KEY_SHARED + 1},
    {HL_SHARE_CHECK_EVERY, "check-every", "N", KEY_SHARED + 2},
    {HL_SHARE_TIMEOUT, "timeout", "SECONDS", KEY_SHARED + 3},
    {HL_SHARE_JSON, "json", NULL, KEY_SHARED + 4},
    {HL_SHARE_SEED, "seed", "N", KEY_SHARED + 5},
    {HL_SHARE_QUIET, "quiet", NULL, 'q'},
    {HL_SHARE_MAX_OPS, "max-ops", "N", KEY_SHARED + 6},
    {HL_SHARE_SANDBOX, "no-sandbox", NULL, KEY_SHARED + 7},
};
#define SHARED_COUNT (sizeof shared_docs / sizeof shared_docs[0])

static void line(FILE *out, const char *name, const char *arg, const char *text)
{
    char head[40];
    snprintf(head, sizeof head, "%s%s%s%s", strcmp(name, "quiet") == 0 ? "-q, --" : "--", name, arg ? " " : "",
             arg ? arg : "");
    fprintf(out, "  %-20s%s\n", head, text);
}

void hl_cli_print_options(FILE *out, unsigned shared, const hl_cli_shared *defaults, const hl_cli_option *own)
{
    fprintf(out, "options:\n");
    if (shared & HL_SHARE_BACKENDS) {
        line(out, "backends", "LIST", "comma-separated backend specs: NAME[:key=value]...,");
        fprintf(out, "%22s%s\n", "", "`refs` (reference backends), `all` (every built-in),");
        fprintf(out, "%22s%s\n", "", "./lib.so (a contract plugin), malloc:PREFIX@LIB (a");
        fprintf(out, "%22s%s\n", "", "malloc-style library); --backend is an alias");
    }
    if (shared & HL_SHARE_CHECK_EVERY) {
        line(out, "check-every", "N", "each backend's heap check every N operations exactly (0: only");
        fprintf(out, "%22s%s\n", "", "at the end, where it always runs), `paced`: at least 4096");
        fprintf(out, "%22s%s\n", "", "operations apart, at most ~5% of the run's time, or `deep`:");
        fprintf(out, "%22s%s\n", "", "after every operation, with every live block's contents, or");
        fprintf(out, "%22s%s\n", "", "`untouched`: after every operation, nothing written into blocks");
        fprintf(out, "%22s(default %s)\n", "",
                defaults->check_every == HL_CHECK_PACED ? "paced" : defaults->check_every ? "N" : "0");
    }
    if (shared & HL_SHARE_TIMEOUT) {
        char text[120];
        snprintf(text, sizeof text, "a run that makes no progress this long is a HANG (%g)", defaults->timeout);
        line(out, "timeout", "SECONDS", text);
    }
    if (shared & HL_SHARE_JSON) line(out, "json", NULL, "print the results document (JSON) on stdout");
    if (shared & HL_SHARE_SEED) line(out, "seed", "N", "the seed (default: from the clock, printed)");
    if (shared & HL_SHARE_MAX_OPS) {
        char text[120];
        snprintf(text, sizeof text, "the most operations of a trace held in memory (default %llu here:",
                 (unsigned long long)hl_trace_default_max_ops());
        line(out, "max-ops", "N", text);
        fprintf(out, "%22s%s\n", "", "a quarter of the machine's memory); more is bad input");
    }
    for (const hl_cli_option *o = own; o && o->name; o++)
        if (o->help) fprintf(out, "%s", o->help);
    if (shared & HL_SHARE_SANDBOX) {
        line(out, "no-sandbox", NULL, "run libraries from outside the tree without the seccomp filter");
        fprintf(out, "%22s%s\n", "", "(by default a write open, a socket, exec, fork or a signal to");
        fprintf(out, "%22s%s\n", "", "another process ends the run with the finding SANDBOX)");
    }
    if (shared & HL_SHARE_QUIET) line(out, "quiet", NULL, "no progress line; only findings and the summary");
}

static int set_shared(const char *command, int key, const char *arg, hl_cli_shared *s)
{
    char *end = NULL;
    switch (key - KEY_SHARED) {
    case 1: s->backends = arg; return 0;
    case 2:
        if (!hl_check_every_parse(arg, &s->check_every))
            return hl_cli_usage_error(command, "--check-every '%s' is not a number, `paced`, `deep` or `untouched`", arg);
        s->check_given = true;
        return 0;
    case 3:
        s->timeout = strtod(arg, &end);
        if (end == arg || *end || s->timeout <= 0)
            return hl_cli_usage_error(command, "--timeout '%s' is not a positive number of seconds", arg);
        return 0;
    case 4: s->json = true; return 0;
    case 5:
        if (!hl_parse_size(arg, &s->seed)) return hl_cli_usage_error(command, "--seed '%s' is not a number", arg);
        s->seeded = true;
        return 0;
    case 6: {
        uint64_t n;
        if (!hl_parse_size(arg, &n) || n == 0)
            return hl_cli_usage_error(command, "--max-ops '%s' is not a positive number (K/M/G allowed)", arg);
        hl_trace_set_max_ops(n);
        return 0;
    }
    case 7:
        s->no_sandbox = true;
        hl_sandbox_disable();
        return 0;
    default: return hl_cli_usage_error(command, "unknown option");
    }
}

/* The key of the option whose short name is c (getopt returns the character). */
static int short_key(const hl_cli_option *own, int c)
{
    for (const hl_cli_option *o = own; o && o->name; o++)
        if (o->short_name && o->short_name == c) return o->key;
    return c;
}

int hl_cli_parse(const char *command, int argc, char **argv, unsigned shared, hl_cli_shared *s,
                 const hl_cli_option *own, int (*handle)(void *context, int key, const char *arg), void *context)
{
    struct option table[MAX_OPTIONS + 1];
    size_t n = 0;
    for (size_t i = 0; i < SHARED_COUNT && n < MAX_OPTIONS; i++)
        if (shared & shared_docs[i].bit)
            table[n++] = (struct option){shared_docs[i].name, shared_docs[i].arg ? required_argument : no_argument,
                                         NULL, shared_docs[i].key};
    for (const hl_cli_option *o = own; o && o->name && n < MAX_OPTIONS; o++)
        table[n++] = (struct option){o->name, o->has_arg ? required_argument : no_argument, NULL, o->key};
    table[n] = (struct option){NULL, 0, NULL, 0};
    char shorts[16] = "";
    if (!(shared & HL_PERMUTE)) strcat(shorts, "+"); /* options end at the first argument */
    if (shared & HL_SHARE_QUIET) strcat(shorts, "q");
    for (const hl_cli_option *o = own; o && o->name; o++)
        if (o->short_name && strlen(shorts) < sizeof shorts - 3) {
            size_t k = strlen(shorts);
            shorts[k++] = o->short_name;
            if (o->has_arg) shorts[k++] = ':';
            shorts[k] = '\0';
        }
    opterr = 0;
    optind = 0; /* a full restart of getopt: vet runs report's parse after its own */
    int c;
    while ((c = getopt_long(argc, argv, shorts, table, NULL)) != -1) {
        int rc;
        if (c == 'q' && (shared & HL_SHARE_QUIET)) s->quiet = true, rc = 0;
        else if (c >= KEY_SHARED) rc = set_shared(command, c, optarg, s);
        else if (c != '?' && c != ':' && handle) rc = handle(context, short_key(own, c), optarg);
        else rc = hl_cli_usage_error(command, "unknown or incomplete option '%s'", argv[optind - 1]);
        if (rc) return rc;
    }
    return 0;
}

bool hl_cli_duration(const char *text, double *out)
{
    char *end = NULL;
    double value = strtod(text, &end);
    if (!end || end == text || value < 0) return false;
    double scale = *end == '\0' || strcmp(end, "s") == 0 ? 1 : strcmp(end, "m") == 0 ? 60 : strcmp(end, "h") == 0 ? 3600 : -1;
    if (scale < 0) return false;
    *out = value * scale;
    return true;
}

bool hl_cli_tree_path(const char *relative, const char *probe, char *out, size_t capacity)
{
    char dir[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", dir, sizeof dir - 1);
    dir[n > 0 ? n : 0] = '\0';
    for (int up = 0; up < 4; up++) {
        char *slash = strrchr(dir, '/');
        if (!slash) break;
        *slash = '\0';
        snprintf(out, capacity, "%s/%s", dir, relative);
        char path[PATH_MAX + 128];
        snprintf(path, sizeof path, "%s/%s", out, probe);
        if (access(path, R_OK) == 0) return true;
    }
    return false;
}
