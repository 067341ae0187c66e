/* replay.c: runs saved inputs through a target without any fuzzing engine, like
 * OpenSSL's fuzz tests: `make test` replays fuzz/corpora/ and fuzz/findings/ with it,
 * so a fixed bug stays fixed; anyone can run a libFuzzer or AFL++ artifact with it.
 *
 *   fuzz-replay [--target diff|decode|parse] [--backends LIST] FILE|DIR...
 *
 * Directories are read recursively (names starting with '.' and README files are
 * skipped). An input NAME.input with a NAME.json beside it (a finding the built-in
 * fuzzer wrote) runs on the backends its "backends" list names; NAME.json and
 * NAME.trace, its companions, are not inputs. In process; exit 0 all clean, 1 a
 * finding (named by file), 2 bad usage. */
#include "common.h"

#include <dirent.h>
#include <string.h>
#include <sys/stat.h>

static size_t inputs, findings;

/* The backend list of the finding record beside an .input file, or NULL. */
static char *record_backends(const char *path)
{
    size_t n = strlen(path);
    char *list = NULL;
    if (n < 6 || strcmp(path + n - 6, ".input") != 0) return NULL;
    if (hl_fuzz_record_backends(path, &list) < 0)
        fprintf(stderr, "fuzz-replay: %s: its finding record has no \"backends\" list\n", path), exit(2);
    return list;
}

/* NAME.json or NAME.trace beside a NAME.input: a finding's record, not an input. */
static bool companion(const char *path)
{
    size_t n = strlen(path);
    if (n < 6 || (strcmp(path + n - 5, ".json") != 0 && strcmp(path + n - 6, ".trace") != 0)) return false;
    char input[4096];
    snprintf(input, sizeof input, "%.*s.input", (int)(n - (path[n - 5] == '.' ? 5 : 6)), path);
    struct stat st;
    return stat(input, &st) == 0;
}

static void run_file(hl_fuzz_target *t, const char *path)
{
    char *backends = t->kind == HL_FUZZ_TARGET_DIFF ? record_backends(path) : NULL;
    hl_fuzz_target own;
    if (backends) {
        hl_diag problem;
        if (hl_fuzz_target_open(&own, "diff", backends, &problem) != 0)
            fprintf(stderr, "fuzz-replay: %s: %s\n", path, problem.message), exit(2);
        own.check_every = t->check_every;
        t = &own;
        hl_mem_free(backends);
    }
    char *buf;
    size_t len;
    hl_diag diag;
    if (hl_file_load(path, &buf, &len, &diag) != 0) fprintf(stderr, "fuzz-replay: %s\n", diag.message), exit(2);
    hl_diff_summary s;
    int rc = hl_fuzz_target_run(t, (const uint8_t *)buf, len, &s, NULL);
    hl_mem_free(buf);
    inputs++;
    if (rc == 2) fprintf(stderr, "fuzz-replay: %s: ", path), hl_fuzz_target_report(&s, stderr), exit(2);
    if (rc == 1) {
        findings++;
        fprintf(stderr, "%s: ", path);
        hl_fuzz_target_report(&s, stderr);
    }
}

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void run_path(hl_fuzz_target *t, const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) fprintf(stderr, "fuzz-replay: %s: no such file or directory\n", path), exit(2);
    if (!S_ISDIR(st.st_mode)) return run_file(t, path);
    DIR *dir = opendir(path);
    if (!dir) fprintf(stderr, "fuzz-replay: %s: cannot read the directory\n", path), exit(2);
    char **names = NULL;
    size_t count = 0;
    for (struct dirent *e; (e = readdir(dir));) {
        if (e->d_name[0] == '.' || strncmp(e->d_name, "README", 6) == 0) continue;
        names = realloc(names, (count + 1) * sizeof *names);
        names[count] = malloc(strlen(path) + strlen(e->d_name) + 2);
        sprintf(names[count], "%s/%s", path, e->d_name);
        if (companion(names[count])) free(names[count]);
        else count++;
    }
    closedir(dir);
    qsort(names, count, sizeof *names, by_name);
    for (size_t i = 0; i < count; i++) run_path(t, names[i]), free(names[i]);
    free(names);
}

int main(int argc, char **argv)
{
    int a = 1;
    for (; a < argc && strncmp(argv[a], "--", 2) == 0; a += 2) {
        if (strcmp(argv[a], "--help") == 0) {
            printf("usage: fuzz-replay [--target diff|decode|parse] [--backends LIST] FILE|DIR...\n"
                   "Runs each input through the fuzz target in process. Exit 0 clean, 1 findings, 2 bad usage.\n");
            return 0;
        }
        if (a + 1 >= argc) fprintf(stderr, "fuzz-replay: %s needs a value\n", argv[a]), exit(2);
        if (strcmp(argv[a], "--target") == 0) setenv("HEAPLAB_FUZZ_TARGET", argv[a + 1], 1);
        else if (strcmp(argv[a], "--backends") == 0) setenv("HEAPLAB_FUZZ_BACKENDS", argv[a + 1], 1);
        else fprintf(stderr, "fuzz-replay: unknown option '%s' (see --help)\n", argv[a]), exit(2);
    }
    if (a >= argc) fprintf(stderr, "fuzz-replay: no inputs named (see --help)\n"), exit(2);
    hl_fuzz_target t;
    target_from_environment(&t);
    t.fresh_every = 1; /* each saved input on fresh instances: what it shows, it shows alone */
    for (; a < argc; a++) run_path(&t, argv[a]);
    printf("fuzz-replay: %s: %zu inputs, %zu findings\n", hl_fuzz_target_name(&t), inputs, findings);
    return findings ? 1 : 0;
}
