/* cmd_fuzz.c: `heaplab fuzz`: the built-in differential fuzzer (fuzz/engine.c). */
#include "cli.h"
#include "hl_fuzz.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

enum { FUZZ_SHARED = HL_SHARE_SANDBOX | HL_SHARE_BACKENDS | HL_SHARE_CHECK_EVERY | HL_SHARE_TIMEOUT | HL_SHARE_SEED | HL_SHARE_QUIET };

/* each backend's heap check at the end of each input; a HANG after 10 s */
static const hl_cli_shared fuzz_defaults = {.check_every = 0, .timeout = 10};

enum { O_TIME = 256, O_RUNS, O_JOBS, O_MAX_LEN, O_CORPUS, O_KEEP_GOING, O_HANG, O_FINDINGS, O_TARGET, O_IGNORE, O_FRESH };

static const hl_cli_option fuzz_options[] = {
    HL_OPTION("time", true, O_TIME, "  --time DURATION     stop after this long: 30, 30s, 5m, 1h (default 60s)\n"),
    HL_OPTION("runs", true, O_RUNS, "  --runs N            stop after N inputs (0: no limit; the default)\n"),
    HL_OPTION("jobs", true, O_JOBS,
              "  --jobs J            J workers side by side, seeds N..N+J-1 (default 1), sharing\n"
              "                      one corpus and --findings (each distinct finding written\n"
              "                      once); each prints its summary, then the total and exec/s\n"),
    HL_OPTION("max-len", true, O_MAX_LEN, "  --max-len N         bytes of an input, at most (default 1024)\n"),
    HL_OPTION("corpus", true, O_CORPUS,
              "  --corpus DIR        seed the corpus with DIR's files (fuzz/corpora/diff: the\n"
              "                      shipped traces, encoded); inputs that show a new (kind,\n"
              "                      outcome) pair join it, half the inputs are its mutations\n"),
    HL_OPTION("keep-going", false, O_KEEP_GOING, "  --keep-going        record each distinct finding and go on\n"),
    HL_OPTION("hang", true, O_HANG, "  --hang DURATION     --timeout as a duration (30, 30s, 5m)\n"),
    HL_OPTION("findings", true, O_FINDINGS, "  --findings DIR      where findings go (heaplab-findings)\n"),
    HL_OPTION("ignore", true, O_IGNORE, HL_CLI_IGNORE_HELP),
    HL_OPTION("fresh-every", true, O_FRESH,
              "  --fresh-every N     a fresh child process (fresh instances, a malloc-style\n"
              "                      library's heap loaded anew) every N inputs (default 100)\n"),
    HL_OPTION("target", true, O_TARGET,
              "  --target decode     only decode each input (no backend runs): what the engine\n"
              "                      itself costs, the bare rate the diff target is compared with\n"),
    HL_OPTIONS_END};

void hl_help_fuzz(FILE *out)
{
    fprintf(out,
            "usage: heaplab fuzz --backends LIST [options]\n"
            "\n"
            "Makes inputs from a seed, decodes each into an operation stream over the whole\n"
            "contract (fuzz/hl_fuzz.h) and runs it on every backend in lockstep under the\n"
            "shadow model, as `heaplab diff` does, in a forked child: a crash, an exit or a\n"
            "hang of a backend is a finding too, naming the backend and the operation. Stops\n"
            "at the first finding (or, with --keep-going, records each distinct one), at the\n"
            "time limit or after --runs inputs. Each finding is run again on fresh instances\n"
            "in a fresh process, with the inputs before it when it needs them, and written as\n"
            "the trace that shows it (`heaplab replay FILE.trace` runs it again), the input\n"
            "bytes and a JSON record.\n"
            "\n");
    hl_cli_print_options(out, FUZZ_SHARED, &fuzz_defaults, fuzz_options);
    fprintf(out, "\nexit status: 0 no finding, 1 findings, 2 bad usage.\n");
}

typedef struct fuzz_settings {
    hl_fuzz_options o;
    uint64_t jobs;
    bool hang_given;
    hl_ignores ignores;
} fuzz_settings;

static int fuzz_option(void *context, int key, const char *arg)
{
    fuzz_settings *f = context;
    uint64_t number;
    switch (key) {
    case O_TIME:
        if (!hl_cli_duration(arg, &f->o.seconds))
            return hl_cli_usage_error("fuzz", "--time '%s' is not a duration (30, 30s, 5m, 1h)", arg);
        break;
    case O_RUNS:
        if (!hl_parse_size(arg, &f->o.runs)) return hl_cli_usage_error("fuzz", "--runs '%s' is not a number", arg);
        break;
    case O_MAX_LEN:
        if (!hl_parse_size(arg, &number) || number == 0 || number > (1u << 20))
            return hl_cli_usage_error("fuzz", "--max-len '%s' is not a size from 1 to 1M", arg);
        f->o.max_len = (size_t)number;
        break;
    case O_HANG:
        if (!hl_cli_duration(arg, &f->o.hang_seconds) || f->o.hang_seconds <= 0)
            return hl_cli_usage_error("fuzz", "--hang '%s' is not a positive duration", arg);
        f->hang_given = true;
        break;
    case O_JOBS:
        if (!hl_parse_size(arg, &f->jobs) || f->jobs == 0 || f->jobs > 64)
            return hl_cli_usage_error("fuzz", "--jobs '%s' is not a count from 1 to 64", arg);
        break;
    case O_TARGET:
        if (strcmp(arg, "diff") != 0 && strcmp(arg, "decode") != 0)
            return hl_cli_usage_error("fuzz", "--target '%s': expected diff or decode", arg);
        f->o.target = arg[1] == 'i' ? HL_FUZZ_TARGET_DIFF : HL_FUZZ_TARGET_DECODE;
        break;
    case O_FRESH:
        if (!hl_parse_size(arg, &f->o.fresh_every) || f->o.fresh_every == 0 || f->o.fresh_every > 100000)
            return hl_cli_usage_error("fuzz", "--fresh-every '%s' is not a count from 1 to 100000", arg);
        break;
    case O_CORPUS: f->o.corpus = arg; break;
    case O_KEEP_GOING: f->o.keep_going = true; break;
    case O_FINDINGS: f->o.findings = arg; break;
    case O_IGNORE: return hl_cli_ignore("fuzz", &f->ignores, arg);
    }
    return 0;
}

int hl_cmd_fuzz(int argc, char **argv)
{
    hl_cli_shared shared = fuzz_defaults;
    fuzz_settings f = {{.seconds = 60, .max_len = 1024, .max_ops = HL_FUZZ_MAX_OPS, .findings = "heaplab-findings",
                        .fresh_every = HL_FUZZ_FRESH_EVERY},
                       1, false, {0}};
    int parsed = hl_cli_parse("fuzz", argc, argv, FUZZ_SHARED, &shared, fuzz_options, fuzz_option, &f);
    if (parsed) return parsed;
    hl_fuzz_options o = f.o;
    o.ignores = &f.ignores;
    if (!f.hang_given) o.hang_seconds = shared.timeout;
    o.check_every = shared.check_every;
    o.seed = shared.seed;
    const char *backends = shared.backends;
    bool seeded = shared.seeded, quiet = shared.quiet;
    uint64_t jobs = f.jobs;
    if (!backends) return hl_cli_usage_error("fuzz", "--backends LIST is required");
    if (optind < argc) return hl_cli_usage_error("fuzz", "unexpected argument '%s'", argv[optind]);
    hl_spec *specs;
    size_t count;
    int bad = hl_cli_backends(backends, &specs, &count);
    if (bad) return bad;
    if (!seeded) o.seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
    o.progress = !quiet;
    /* J workers: J forked processes with consecutive seeds sharing a pool (one corpus,
     * one table of findings written), the first one showing progress; the status is
     * the worst of theirs */
    uint64_t job = 0;
    pid_t pids[64];
    hl_fuzz_pool *pool = NULL;
    if (jobs > 1 && !(pool = hl_fuzz_pool_new((unsigned)jobs)))
        return fprintf(stderr, "heaplab: cannot map the workers' shared memory: %s\n", strerror(errno)), HL_EXIT_USAGE;
    o.pool = pool;
    fflush(NULL);
    for (uint64_t j = 1; j < jobs; j++) {
        pids[j] = fork();
        if (pids[j] < 0) return fprintf(stderr, "heaplab: cannot fork: %s\n", strerror(errno)), HL_EXIT_USAGE;
        if (pids[j] == 0) {
            job = j;
            break;
        }
    }
    o.seed += job;
    o.job = (unsigned)job;
    if (job) o.progress = false;
    fprintf(stderr, "fuzz: seed %" PRIu64 ", %zu backend%s\n", o.seed, count, count == 1 ? "" : "s");
    hl_fuzz_result r;
    int rc = hl_fuzz_run(specs, count, &o, &r);
    if (rc != 2)
        printf("fuzz: seed %" PRIu64 ": %" PRIu64 " execs in %.1f s (%.0f execs/s), %d/%d operation kinds, %" PRIu64
               " finding%s; %u outcomes, corpus %u\n",
               o.seed, r.execs, r.seconds, r.seconds > 0 ? (double)r.execs / r.seconds : 0, __builtin_popcount(r.kinds),
               HL_OP_COUNT, r.findings, r.findings == 1 ? "" : "s", r.outcomes, r.corpus);
    if (rc != 2 && r.ignored)
        printf("fuzz: seed %" PRIu64 ": %" PRIu64 " ignored findings (--ignore): each stopped its backend's lane in "
               "its input\n", o.seed, r.ignored);
    fflush(NULL);
    int status = rc == 2 ? HL_EXIT_USAGE : rc == 1 ? HL_EXIT_FINDING : HL_EXIT_CLEAN;
    if (job) _exit(status);
    for (uint64_t j = 1; j < jobs; j++) {
        int child = 0;
        if (waitpid(pids[j], &child, 0) == pids[j] && WIFEXITED(child) && WEXITSTATUS(child) > status)
            status = WEXITSTATUS(child);
    }
    if (pool) {
        hl_fuzz_result total;
        hl_fuzz_pool_total(pool, &total);
        printf("fuzz: %" PRIu64 " jobs: %" PRIu64 " execs in %.1f s (%.0f execs/s), %" PRIu64 " distinct finding%s; "
               "%u outcomes, shared corpus %u\n",
               jobs, total.execs, total.seconds, total.seconds > 0 ? (double)total.execs / total.seconds : 0,
               total.findings, total.findings == 1 ? "" : "s", total.outcomes, total.corpus);
        hl_fuzz_pool_free(pool);
    }
    return status;
}
