/* cmd_record.c: `heaplab record -o OUT -- PROGRAM ARGS...`: checks that OUT can be
 * written (a file, in a folder that exists and takes a new file with a block of
 * space) before anything is written or run, runs the program with the recorder
 * preloaded (record/preload.c), then tidies what it wrote: every file OUT, OUT.<pid>,
 * OUT.<pid>.<n> is cut after its last record (a process that died or exec'd leaves
 * zero bytes after it), read back and summarised (a file whose recording stopped,
 * the disk being full, says so and makes the exit status 2), and with --binary
 * converted to the binary form. */
#include "cli.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

void hl_help_record(FILE *out)
{
    fprintf(out,
            "usage: heaplab record -o OUT [--binary] [--no-forks] -- PROGRAM [ARGS...]\n"
            "\n"
            "Runs PROGRAM with heaplab's recorder preloaded (LD_PRELOAD) and writes every\n"
            "malloc, calloc, realloc, reallocarray, free, posix_memalign, aligned_alloc,\n"
            "memalign, valloc, pvalloc and malloc_usable_size call, with its thread, as a\n"
            "heaplab trace. A call that failed is recorded with fail=. The process started\n"
            "writes OUT; a forked child OUT.<pid> (opening with the blocks live at the fork),\n"
            "the n-th program exec'd in one process OUT.<pid>.<n>. If the program dies,\n"
            "everything up to its last call is kept (the trace replays with a cut-tail\n"
            "warning). If the disk fills up, recording stops and the program runs on: the\n"
            "trace keeps every call up to there and ends with a line saying why.\n"
            "\n"
            "options:\n"
            "  -o, --output OUT    the trace to write (files named OUT.* are replaced too)\n"
            "  --binary            write the binary form\n"
            "  --no-forks          forked children record nothing (their exec'd programs do)\n"
            "\n"
            "exit status: 0 recorded (whatever the program's own status, which is printed),\n"
            "2 bad usage, OUT cannot be written (nothing is written, the program is not\n"
            "started), the program or the recorder could not start, or recording stopped\n"
            "early (a full disk: the trace holds the calls up to there).\n");
}

/* Calls each(dir, name) for OUT's own name and every OUT.<digits>[.<digits>] beside it. */
static void each_output(const char *out, void (*each)(const char *path, void *context), void *context)
{
    char dir[PATH_MAX], base[PATH_MAX], path[PATH_MAX * 2 + 2];
    snprintf(dir, sizeof dir, "%s", out);
    char *slash = strrchr(dir, '/');
    snprintf(base, sizeof base, "%s", slash ? slash + 1 : out);
    if (slash) *slash = '\0';
    else snprintf(dir, sizeof dir, ".");
    DIR *d = opendir(dir);
    if (!d) return;
    size_t n = strlen(base);
    char **names = NULL;
    size_t count = 0;
    for (struct dirent *e; (e = readdir(d));) {
        const char *rest = e->d_name + n;
        if (strncmp(e->d_name, base, n) != 0 || (*rest && (*rest != '.' || !rest[1]))) continue;
        bool digits = true;
        for (const char *c = *rest ? rest + 1 : rest; *c; c++) digits &= (*c >= '0' && *c <= '9') || *c == '.';
        if (!digits) continue;
        names = hl_mem_realloc(names, (count + 1) * sizeof *names);
        names[count++] = hl_mem_strdup(e->d_name);
    }
    closedir(d);
    for (size_t i = 0; i < count; i++) { /* OUT first, then the others by name */
        for (size_t j = i + 1; j < count; j++)
            if (strlen(names[j]) < strlen(names[i]) ||
                (strlen(names[j]) == strlen(names[i]) && strcmp(names[j], names[i]) < 0)) {
                char *t = names[i];
                names[i] = names[j], names[j] = t;
            }
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        each(path, context);
        hl_mem_free(names[i]);
    }
    hl_mem_free(names);
}

/* 0 if a trace can be written at out: not a folder, and a new file beside it takes a
 * block of space (created under a temporary name and removed: nothing is left). Else
 * the errno value that says why not. */
static int writable(const char *out)
{
    struct stat st;
    size_t n = strlen(out);
    if (n == 0 || out[n - 1] == '/' || (stat(out, &st) == 0 && S_ISDIR(st.st_mode))) return EISDIR;
    hl_outfile probe;
    int e = hl_outfile_open(&probe, out, "wb");
    if (e) return e;
    e = posix_fallocate(fileno(probe.f), 0, 4096);
    hl_outfile_abort(&probe);
    return e;
}

static void remove_one(const char *path, void *context)
{
    (void)context;
    unlink(path);
}

/* Cuts the zero bytes after the last record (the recorder grows its file 1 MiB at a
 * time and a process that did not exit normally could not cut it). */
static void trim(const char *path)
{
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0) return;
    struct stat st;
    off_t end = fstat(fd, &st) == 0 ? st.st_size : 0;
    char chunk[65536];
    while (end > 0) {
        off_t from = end > (off_t)sizeof chunk ? end - (off_t)sizeof chunk : 0;
        ssize_t got = pread(fd, chunk, (size_t)(end - from), from);
        if (got <= 0) break;
        ssize_t i = got;
        while (i > 0 && chunk[i - 1] == '\0') i--;
        end = from + i;
        if (i > 0) break;
    }
    if (ftruncate(fd, end) != 0) { /* left as it is: the reader reports it */ }
    close(fd);
}

/* The comment the recorder ends a trace with when it could reserve no more space
 * (STOPPED in record/preload.c), before the reason. */
#define STOPPED "\n# recording stopped here: "

/* The reason on the STOPPED line at the end of path, if there is one. */
static bool stopped(const char *path, char *reason, size_t capacity)
{
    char tail[512];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    struct stat st;
    off_t from = fstat(fd, &st) == 0 && st.st_size > (off_t)sizeof tail - 1 ? st.st_size - (off_t)sizeof tail + 1 : 0;
    ssize_t got = pread(fd, tail, sizeof tail - 1, from);
    close(fd);
    tail[got > 0 ? got : 0] = '\0';
    char *at = NULL;
    for (char *s = strstr(tail, STOPPED); s; s = strstr(s + 1, STOPPED)) at = s;
    if (!at) return false;
    at += strlen(STOPPED);
    snprintf(reason, capacity, "%.*s", (int)strcspn(at, "\n"), at);
    return true;
}

typedef struct summary {
    bool binary;
    int files, bad, stopped;
    const char *main_path;  /* OUT: the process started */
    size_t main_ops, total_ops, busiest_ops;
    char busiest[PATH_MAX * 2], busiest_program[256];
    char python[256];       /* a Python program among them recorded without PYTHONMALLOC=malloc */
    FILE *out;              /* where each trace's line goes */
} summary;

/* Notes what a trace tells about the run as a whole: which process did the most, whether
 * one of them is Python (whose small objects never reach malloc by default). */
static void note_process(summary *s, const char *path, const hl_trace *trace)
{
    const char *program = hl_trace_meta(trace, "program");
    s->total_ops += trace->count;
    if (strcmp(path, s->main_path) == 0) s->main_ops = trace->count;
    if (trace->count > s->busiest_ops || !s->busiest[0]) {
        s->busiest_ops = trace->count;
        snprintf(s->busiest, sizeof s->busiest, "%s", path);
        snprintf(s->busiest_program, sizeof s->busiest_program, "%s", program ? program : "?");
    }
    char first[256];
    snprintf(first, sizeof first, "%.*s", program ? (int)strcspn(program, " ") : 0, program ? program : "");
    const char *base = strrchr(first, '/');
    base = base ? base + 1 : first;
    const char *python_malloc = hl_trace_meta(trace, "env.pythonmalloc"); /* as the process saw it */
    bool every_object = python_malloc && strncmp(python_malloc, "malloc", 6) == 0;
    if (!s->python[0] && strncmp(base, "python", 6) == 0 && !every_object)
        snprintf(s->python, sizeof s->python, "%s", first);
}

/* After the run: the busiest process when there were several, a shim that did little
 * itself, and Python's own allocator, each said once. */
static void explain_run(const summary *s, const char *program)
{
    if (s->files > 1)
        printf("the busiest process: %s (%zu of the %zu operations): %s\n", s->busiest, s->busiest_ops, s->total_ops,
               s->busiest_program);
    if (s->files >= 3 && s->main_ops * 10 < s->total_ops)
        printf("note: %s itself made %zu of the %zu operations and started %d other processes: is it a script or a "
               "shim around the program you meant? Its work is likely in %s\n",
               program, s->main_ops, s->total_ops, s->files - 1, s->busiest);
    if (s->python[0])
        printf("note: %s is Python, whose own allocator (pymalloc) serves objects up to 512 bytes from arenas it "
               "takes from malloc: the trace holds those arenas and the larger blocks only. Record with "
               "PYTHONMALLOC=malloc (heaplab record -o OUT -- env PYTHONMALLOC=malloc %s ...) to see every object\n",
               s->python, s->python);
}

static void finish_one(const char *path, void *context)
{
    summary *s = context;
    trim(path);
    hl_trace trace;
    hl_diag diag, warning;
    if (hl_trace_read(path, &trace, &diag, &warning) != 0) {
        fprintf(stderr, "heaplab: %s\n", diag.message);
        s->bad++;
        return;
    }
    note_process(s, path, &trace);
    uint32_t threads = 0;
    for (size_t i = 0; i < trace.count; i++)
        if (trace.ops[i].has_thread && trace.ops[i].thread + 1 > threads) threads = trace.ops[i].thread + 1;
    char reason[512];
    bool stop = trace.cut_tail && stopped(path, reason, sizeof reason);
    /* a stopped trace stays text: the binary form would end it as a complete one */
    if (s->binary && !stop && hl_trace_write(&trace, HL_TRACE_BINARY, path, &diag) != 0) {
        fprintf(stderr, "heaplab: %s\n", diag.message);
        s->bad++;
    }
    if (stop) {
        fprintf(s->out, "recorded %s: %zu operations, %u thread%s, then recording stopped early: %s%s\n", path, trace.count,
               threads, threads == 1 ? "" : "s", reason, s->binary ? " (kept as text, which says so)" : "");
        s->stopped++;
    } else
        fprintf(s->out, "recorded %s: %zu operations, %u thread%s%s\n", path, trace.count, threads, threads == 1 ? "" : "s",
               trace.cut_tail ? " (the process did not exit normally: no end marker)" : "");
    s->files++;
    hl_trace_free(&trace);
}

int hl_record_target(const char *out, const char *program, char *target, size_t capacity)
{
    int e = writable(out);
    if (e)
        return fprintf(stderr, "heaplab: %s: cannot write: %s (%snothing recorded, %s not started)\n", out, strerror(e),
                       e == EISDIR ? "-o names the trace file to write; " : "", program),
               HL_EXIT_USAGE;
    const char *dir_end = strrchr(out, '/');
    char dir[PATH_MAX], absolute[PATH_MAX];
    snprintf(dir, sizeof dir, "%.*s", dir_end ? (int)(dir_end - out) : 1, dir_end ? out : ".");
    if (!realpath(dir[0] ? dir : "/", absolute))
        return fprintf(stderr, "heaplab: %s: %s\n", dir, strerror(errno)), HL_EXIT_USAGE;
    snprintf(target, capacity, "%s/%s", absolute, dir_end ? dir_end + 1 : out);
    each_output(target, remove_one, NULL);
    return 0;
}

void hl_record_setenv(const char *target, bool forks)
{
    char root[32];
    snprintf(root, sizeof root, "%d", (int)getpid());
    setenv("HEAPLAB_RECORD_OUT", target, 1);
    setenv("HEAPLAB_RECORD_ROOT", root, 1);
    setenv("HEAPLAB_RECORD_FORKS", forks ? "1" : "0", 1);
}

/* The end of every recording: nothing recorded, or recording stopped early, is 2. */
static int conclude(const summary *s, const char *target)
{
    if (s->files == 0)
        return fprintf(stderr, "heaplab: nothing was recorded to %s: the recorder did not start (its message above says "
                               "why; with none, is the program static, or setuid?)\n", target),
               HL_EXIT_USAGE;
    if (s->stopped)
        fprintf(stderr, "heaplab: recording stopped early in %d of %d trace%s (see above): not the whole run is recorded\n",
                s->stopped, s->files, s->files == 1 ? "" : "s");
    return s->bad || s->stopped ? HL_EXIT_USAGE : HL_EXIT_CLEAN;
}

int hl_record_finish(const char *target, bool binary, FILE *out)
{
    summary s = {.binary = binary, .main_path = target, .out = out};
    each_output(target, finish_one, &s);
    return conclude(&s, target);
}

int hl_cmd_record(int argc, char **argv)
{
    const char *out = NULL;
    bool binary = false, forks = true;
    int a = 1;
    for (; a < argc && strcmp(argv[a], "--") != 0; a++) {
        if ((strcmp(argv[a], "-o") == 0 || strcmp(argv[a], "--output") == 0) && a + 1 < argc) out = argv[++a];
        else if (strcmp(argv[a], "--binary") == 0) binary = true;
        else if (strcmp(argv[a], "--no-forks") == 0) forks = false;
        else if (argv[a][0] == '-') return hl_cli_usage_error("record", "unknown or incomplete option '%s'", argv[a]);
        else break; /* the program, without a `--` */
    }
    if (a < argc && strcmp(argv[a], "--") == 0) a++;
    if (!out) return hl_cli_usage_error("record", "-o OUT is required");
    if (a >= argc) return hl_cli_usage_error("record", "no program to run (heaplab record -o OUT -- PROGRAM ARGS...)");
    char library[PATH_MAX + 32];
    if (!hl_cli_find_library("libheaplab-record.so", library, sizeof library))
        return fprintf(stderr, "heaplab: the recorder library libheaplab-record.so is not beside heaplab (run `make`)\n"),
               HL_EXIT_USAGE;
    char target[PATH_MAX * 2];
    int rc = hl_record_target(out, argv[a], target, sizeof target);
    if (rc) return rc;
    uint64_t started = hl_clock_now_ns();
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) return fprintf(stderr, "heaplab: cannot fork: %s\n", strerror(errno)), HL_EXIT_USAGE;
    if (pid == 0) {
        hl_cli_preload(library);
        hl_record_setenv(target, forks);
        execvp(argv[a], argv + a);
        fprintf(stderr, "heaplab: cannot run %s: %s\n", argv[a], strerror(errno));
        _exit(127);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    double seconds = (double)(hl_clock_now_ns() - started) * 1e-9;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127 && access(target, F_OK) != 0)
        return HL_EXIT_USAGE; /* it did not start (message above) */
    summary s = {.binary = binary, .main_path = target, .out = stdout};
    each_output(target, finish_one, &s);
    if (WIFSIGNALED(status))
        printf("%s died of signal %d (%s) after %.2f s\n", argv[a], WTERMSIG(status), strsignal(WTERMSIG(status)), seconds);
    else
        printf("%s exited with status %d after %.2f s\n", argv[a], WEXITSTATUS(status), seconds);
    explain_run(&s, argv[a]);
    return conclude(&s, target);
}
