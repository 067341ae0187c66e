/* cmd_run.c: `heaplab run --backend SPEC [--check] [--record OUT] -- PROGRAM ARGS...`:
 * runs the program with the run shim preloaded (shim/, libheaplab-serve.so), which
 * serves its whole malloc family from one instance of the backend, then reads what
 * each of its processes reported (hl_shim.h: a report per process in a private
 * folder) and says what happened: a contract broken by the backend, the program's own
 * misuse or bad access, a limit of the backend reached, or a clean run. The program's
 * stdout and stderr stay its own; heaplab's lines go to stderr after it ends. */
#include "cli.h"
#include "hl_shim.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

void hl_help_run(FILE *out)
{
    fprintf(out,
            "usage: heaplab run --backend SPEC [--check] [--check-every N] [--record OUT]\n"
            "                   [--on-limit stop|null] [--findings DIR] [-q] -- PROGRAM [ARGS...]\n"
            "\n"
            "Runs PROGRAM with its malloc, free, calloc, realloc, reallocarray,\n"
            "posix_memalign, aligned_alloc, memalign, valloc, pvalloc and malloc_usable_size\n"
            "served by one instance of the backend (LD_PRELOAD), in every process it starts\n"
            "(a forked child goes on with its copy; an exec'd program gets a fresh instance).\n"
            "Calls are serialised by one lock. Blocks from before the backend took over go to\n"
            "the real free. On guard, an access past a block (or before it, at=start) or into\n"
            "a freed one faults at the instruction and is reported with the block's size and\n"
            "the offset: OVERFLOW, UNDERFLOW, USE_AFTER_FREE.\n"
            "\n"
            "options:\n"
            "  --backend SPEC      the backend: a reference backend with options\n"
            "                      (bins, guard:sample=16, wasm:max_pages=1024, ...), " HL_SPEC_LIBRARY_FORMS "\n"
            "  --check             the contract checked live: each block's alignment, overlap\n"
            "                      with live blocks, bounds of the backend's memory, usable\n"
            "                      size, the statistics, the backend's heap check (paced) and\n"
            "                      at exit; the program's double or invalid free is sent to the\n"
            "                      backend when it declares the kind. Not contents: the bytes\n"
            "                      are the program's. Keeps every call (64 bytes) for the\n"
            "                      reproducer of a finding\n"
            "  --check-every N     with --check: the heap check every N calls, `paced` (the\n"
            "                      default) or 0 (at exit only)\n"
            "  --record OUT        also record the program's calls as a trace (heaplab record's\n"
            "                      files: OUT, OUT.<pid> for other processes)\n"
            "  --on-limit stop|null  when the backend refuses a request at one of its limits\n"
            "                      (capacity, memory source, alignment): end the program with a\n"
            "                      message naming the limit (stop, the default), or return NULL\n"
            "                      with ENOMEM as malloc does when memory runs out (null). A\n"
            "                      request larger than the machine's memory always gets NULL\n"
            "  --findings DIR      where reproducers go (heaplab-findings)\n"
            "  -q, --quiet         no closing summary line\n"
            "\n"
            "exit status: 0 the program ran clean and exited 0; 1 a finding (the backend broke\n"
            "the contract or crashed, the program misused or overran a block) or the program\n"
            "failed (a non-zero status or a signal: both are printed); 2 bad usage, the backend\n"
            "cannot be made, the program cannot start, or the backend reached a limit.\n");
}

typedef struct run_settings {
    const char *backend, *record, *findings, *on_limit;
    bool check, quiet;
    uint64_t check_every;
} run_settings;

/* One process's report (hl_shim.h), read back. */
typedef struct report {
    char kind[16], message[1600], reproducer[PATH_MAX], program[256];
    unsigned long long calls;
} report;

static void read_report(const char *path, report *r)
{
    memset(r, 0, sizeof *r);
    FILE *f = fopen(path, "r");
    if (!f) return;
    char line[2048];
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        if (strncmp(line, "kind=", 5) == 0) snprintf(r->kind, sizeof r->kind, "%.15s", line + 5);
        else if (strncmp(line, "message=", 8) == 0) snprintf(r->message, sizeof r->message, "%.1599s", line + 8);
        else if (strncmp(line, "reproducer=", 11) == 0) snprintf(r->reproducer, sizeof r->reproducer, "%.2000s", line + 11);
        else if (strncmp(line, "program=", 8) == 0) snprintf(r->program, sizeof r->program, "%.255s", line + 8);
        else if (strncmp(line, "calls=", 6) == 0) r->calls = strtoull(line + 6, NULL, 10);
    }
    fclose(f);
}

typedef struct outcome {
    int processes, findings, limits;
    unsigned long long calls;
} outcome;

/* Prints what each process reported (findings first by kind, in pid order) and
 * removes the folder. */
static void take_reports(const char *dir, outcome *o)
{
    DIR *d = opendir(dir);
    if (!d) return;
    char path[PATH_MAX + 300];
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.') continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        report r;
        read_report(path, &r);
        unlink(path);
        o->processes++;
        o->calls += r.calls;
        if (strcmp(r.kind, "clean") == 0 || !r.kind[0]) continue;
        bool limit = strcmp(r.kind, "limit") == 0 || strcmp(r.kind, "setup") == 0;
        if (limit) o->limits++;
        else o->findings++;
        fprintf(stderr, "heaplab run: %s\n", r.message);
        fprintf(stderr, "  in: %s\n", r.program);
        if (r.reproducer[0])
            fprintf(stderr, "  reproducer: %s (heaplab replay %s)\n", r.reproducer, r.reproducer);
    }
    closedir(d);
    rmdir(dir);
}

static int parse(int argc, char **argv, run_settings *s, int *program)
{
    int a = 1;
    for (; a < argc && strcmp(argv[a], "--") != 0; a++) {
        const char *o = argv[a];
        bool has = a + 1 < argc;
        if ((strcmp(o, "--backend") == 0 || strcmp(o, "--backends") == 0) && has) s->backend = argv[++a];
        else if (strcmp(o, "--check") == 0) s->check = true;
        else if (strcmp(o, "--check-every") == 0 && has) {
            if (!hl_check_every_parse(argv[++a], &s->check_every) || s->check_every == HL_CHECK_DEEP ||
                s->check_every == HL_CHECK_UNTOUCHED)
                return hl_cli_usage_error("run", "--check-every '%s' is not a number or `paced`", argv[a]);
            s->check = true;
        } else if (strcmp(o, "--record") == 0 && has) s->record = argv[++a];
        else if (strcmp(o, "--findings") == 0 && has) s->findings = argv[++a];
        else if (strcmp(o, "--on-limit") == 0 && has) {
            s->on_limit = argv[++a];
            if (strcmp(s->on_limit, "stop") != 0 && strcmp(s->on_limit, "null") != 0)
                return hl_cli_usage_error("run", "--on-limit '%s': expected stop or null", s->on_limit);
        } else if (strcmp(o, "-q") == 0 || strcmp(o, "--quiet") == 0) s->quiet = true;
        else if (o[0] == '-') return hl_cli_usage_error("run", "unknown or incomplete option '%s'", o);
        else break; /* the program, without a `--` */
    }
    if (a < argc && strcmp(argv[a], "--") == 0) a++;
    if (!s->backend) return hl_cli_usage_error("run", "--backend SPEC is required");
    if (a >= argc) return hl_cli_usage_error("run", "no program to run (heaplab run --backend SPEC -- PROGRAM ARGS...)");
    *program = a;
    return 0;
}

/* The backend: exactly one, made once here (a library's in a child) so a bad spec is
 * bad usage before the program starts. */
static int check_backend(const run_settings *s)
{
    hl_spec *specs = NULL;
    size_t count = 0;
    int rc = hl_cli_backends(s->backend, &specs, &count);
    if (rc) return rc;
    if (count != 1)
        return hl_cli_usage_error("run", "--backend '%s' names %zu backends; run serves a program from one", s->backend,
                                  count);
    if (specs[0].backend && strcmp(specs[0].backend->name, "libc") == 0)
        return hl_cli_usage_error("run", "libc is the program's own malloc: run the program plainly to compare");
    return 0;
}

static void child(const run_settings *s, const char *serve, const char *recorder, const char *target, const char *reports,
                  char **argv)
{
    hl_cli_preload(serve);
    if (recorder) { /* the recorder first: it sees the program's calls, the shim serves them */
        hl_cli_preload(recorder);
        hl_record_setenv(target, true);
    }
    setenv(HL_SHIM_ENV_BACKEND, s->backend, 1);
    setenv(HL_SHIM_ENV_REPORTS, reports, 1);
    char cwd[PATH_MAX], findings[PATH_MAX * 2]; /* the program may change folder */
    if (s->findings[0] != '/' && getcwd(cwd, sizeof cwd)) snprintf(findings, sizeof findings, "%s/%s", cwd, s->findings);
    else snprintf(findings, sizeof findings, "%s", s->findings);
    setenv(HL_SHIM_ENV_FINDINGS, findings, 1);
    setenv(HL_SHIM_ENV_ON_LIMIT, s->on_limit, 1);
    if (s->check) {
        char every[32];
        setenv(HL_SHIM_ENV_CHECK, hl_check_every_name(s->check_every, every, sizeof every), 1);
    } else {
        unsetenv(HL_SHIM_ENV_CHECK);
    }
    signal(SIGINT, SIG_DFL);
    signal(SIGQUIT, SIG_DFL);
    execvp(argv[0], argv);
    fprintf(stderr, "heaplab run: cannot run %s: %s\n", argv[0], strerror(errno));
    _exit(127);
}

int hl_cmd_run(int argc, char **argv)
{
    run_settings s = {.findings = "heaplab-findings", .on_limit = "stop", .check_every = HL_CHECK_PACED};
    int program = 0, rc = parse(argc, argv, &s, &program);
    if (rc) return rc;
    if ((rc = check_backend(&s)) != 0) return rc;
    char serve[PATH_MAX + 32], recorder[PATH_MAX + 32], target[PATH_MAX * 2] = "";
    if (!hl_cli_find_library("libheaplab-serve.so", serve, sizeof serve))
        return fprintf(stderr, "heaplab: the run shim libheaplab-serve.so is not beside heaplab (run `make`)\n"),
               HL_EXIT_USAGE;
    if (s.record && !hl_cli_find_library("libheaplab-record.so", recorder, sizeof recorder))
        return fprintf(stderr, "heaplab: the recorder library libheaplab-record.so is not beside heaplab (run `make`)\n"),
               HL_EXIT_USAGE;
    if (s.record && (rc = hl_record_target(s.record, argv[program], target, sizeof target)) != 0) return rc;
    const char *tmp = getenv("TMPDIR");
    char reports[PATH_MAX];
    snprintf(reports, sizeof reports, "%s/heaplab-run.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(reports)) return fprintf(stderr, "heaplab run: cannot make %s: %s\n", reports, strerror(errno)), HL_EXIT_USAGE;
    char absolute[PATH_MAX]; /* the program may change folder */
    if (reports[0] != '/' && realpath(reports, absolute)) snprintf(reports, sizeof reports, "%s", absolute);
    uint64_t started = hl_clock_now_ns();
    fflush(NULL);
    /* the program gets the terminal's Ctrl-C; heaplab waits for it and reports */
    struct sigaction ignore = {.sa_handler = SIG_IGN}, old_int, old_quit;
    sigaction(SIGINT, &ignore, &old_int);
    sigaction(SIGQUIT, &ignore, &old_quit);
    pid_t pid = fork();
    if (pid < 0) return fprintf(stderr, "heaplab run: cannot fork: %s\n", strerror(errno)), rmdir(reports), HL_EXIT_USAGE;
    if (pid == 0) child(&s, serve, s.record ? recorder : NULL, target, reports, argv + program);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGQUIT, &old_quit, NULL);
    double seconds = (double)(hl_clock_now_ns() - started) * 1e-9;
    outcome o = {0};
    take_reports(reports, &o);
    const char *name = argv[program];
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127 && o.processes == 0) return HL_EXIT_USAGE; /* not started */
    int record_rc = s.record ? hl_record_finish(target, false, stderr) : 0;
    bool ended = WIFEXITED(status) && WEXITSTATUS(status) == HL_SHIM_EXIT && (o.findings || o.limits);
    if (!s.quiet) {
        char how[120];
        if (ended) snprintf(how, sizeof how, "was ended by heaplab (above)");
        else if (WIFSIGNALED(status))
            snprintf(how, sizeof how, "died of signal %d (%s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
        else snprintf(how, sizeof how, "exited with status %d", WEXITSTATUS(status));
        fprintf(stderr, "heaplab run: %s on %s %s after %.2f s: %d process%s, %llu calls served%s\n", name, s.backend,
                how, seconds, o.processes, o.processes == 1 ? "" : "es", o.calls,
                !s.check ? "" : o.findings ? "; --check found the above" : "; --check found nothing");
    }
    if (o.processes == 0 && WIFEXITED(status))
        fprintf(stderr, "heaplab run: the shim was not loaded into %s (a static or setuid program?): nothing was "
                        "served\n", name);
    if (o.findings) return HL_EXIT_FINDING;
    if (o.limits) return HL_EXIT_USAGE;
    if (WIFSIGNALED(status) || WEXITSTATUS(status) != 0) return HL_EXIT_FINDING;
    return record_rc;
}
