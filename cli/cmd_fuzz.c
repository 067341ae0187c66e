/* cmd_fuzz.c: `heaplab fuzz`: the built-in differential fuzzer (fuzz/engine.c). */
#include "cli.h"
#include "hl_fuzz.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

void hl_help_fuzz(FILE *out)
{
    fprintf(out,
            "usage: heaplab fuzz --backends LIST [options]\n"
            "\n"
            "Makes inputs from a seed, decodes each into an operation stream over the whole\n"
            "contract (fuzz/hl_fuzz.h) and runs it on every backend in lockstep under the\n"
            "shadow model, as `heaplab diff` does, in a forked child: a crash or a hang of a\n"
            "backend is a finding too. Stops at the first finding (or, with --keep-going,\n"
            "records each distinct one), at the time limit or after --runs inputs. Each\n"
            "finding is written as a trace, the input bytes and a JSON record.\n"
            "\n"
            "options:\n"
            "  --backends LIST     backend specs, as for replay (one or more)\n"
            "  --time DURATION     stop after this long: 30, 30s, 5m, 1h (default 60s)\n"
            "  --runs N            stop after N inputs (0: no limit; the default)\n"
            "  --seed N            the campaign's seed (default: from the clock, printed)\n"
            "  --jobs J            J campaigns side by side, seeds N..N+J-1 (default 1); each\n"
            "                      prints its own summary; findings share --findings\n"
            "  --max-len N         bytes of an input, at most (default 1024)\n"
            "  --corpus DIR        seed the corpus with DIR's files (fuzz/corpora/diff: the\n"
            "                      shipped traces, encoded); inputs that show a new (kind,\n"
            "                      outcome) pair join it, half the inputs are its mutations\n"
            "  --check-every N     each backend's heap check every N operations of an input\n"
            "                      (default 0: at the end of each input)\n"
            "  --keep-going        record each distinct finding and go on\n"
            "  --hang SECONDS      an input making no progress this long is a HANG (10)\n"
            "  --findings DIR      where findings go (heaplab-findings)\n"
            "  --target decode     only decode each input (no backend runs): what the engine\n"
            "                      itself costs, the bare rate the diff target is compared with\n"
            "  -q, --quiet         no progress line\n"
            "\n"
            "exit status: 0 no finding, 1 findings, 2 bad usage.\n");
}

static bool parse_duration(const char *text, double *out)
{
    char *end = NULL;
    double value = strtod(text, &end);
    if (!end || end == text || value < 0) return false;
    double scale = *end == '\0' || strcmp(end, "s") == 0 ? 1 : strcmp(end, "m") == 0 ? 60 : strcmp(end, "h") == 0 ? 3600 : -1;
    if (scale < 0) return false;
    *out = value * scale;
    return true;
}

int hl_cmd_fuzz(int argc, char **argv)
{
    static const struct option long_options[] = {
        {"backends", required_argument, NULL, 'b'}, {"backend", required_argument, NULL, 'b'},
        {"time", required_argument, NULL, 't'},     {"runs", required_argument, NULL, 'r'},
        {"seed", required_argument, NULL, 's'},     {"max-len", required_argument, NULL, 'l'},
        {"keep-going", no_argument, NULL, 'k'},     {"hang", required_argument, NULL, 'h'},
        {"findings", required_argument, NULL, 'f'}, {"quiet", no_argument, NULL, 'q'},
        {"jobs", required_argument, NULL, 'j'},     {"target", required_argument, NULL, 'T'},
        {"corpus", required_argument, NULL, 'C'},   {"check-every", required_argument, NULL, 'c'},
        {NULL, 0, NULL, 0}};
    const char *backends = NULL;
    hl_fuzz_options o = {.seconds = 60, .max_len = 1024, .max_ops = HL_FUZZ_MAX_OPS, .hang_seconds = 10,
                         .findings = "heaplab-findings", .check_every = 0};
    bool seeded = false, quiet = false;
    uint64_t number, jobs = 1;
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "+q", long_options, NULL)) != -1) {
        switch (c) {
        case 'b': backends = optarg; break;
        case 't':
            if (!parse_duration(optarg, &o.seconds))
                return hl_cli_usage_error("fuzz", "--time '%s' is not a duration (30, 30s, 5m, 1h)", optarg);
            break;
        case 'r':
            if (!hl_parse_size(optarg, &o.runs)) return hl_cli_usage_error("fuzz", "--runs '%s' is not a number", optarg);
            break;
        case 's':
            if (!hl_parse_size(optarg, &o.seed)) return hl_cli_usage_error("fuzz", "--seed '%s' is not a number", optarg);
            seeded = true;
            break;
        case 'l':
            if (!hl_parse_size(optarg, &number) || number == 0 || number > (1u << 20))
                return hl_cli_usage_error("fuzz", "--max-len '%s' is not a size from 1 to 1M", optarg);
            o.max_len = (size_t)number;
            break;
        case 'h':
            if (!parse_duration(optarg, &o.hang_seconds) || o.hang_seconds <= 0)
                return hl_cli_usage_error("fuzz", "--hang '%s' is not a positive duration", optarg);
            break;
        case 'j':
            if (!hl_parse_size(optarg, &jobs) || jobs == 0 || jobs > 64)
                return hl_cli_usage_error("fuzz", "--jobs '%s' is not a count from 1 to 64", optarg);
            break;
        case 'T':
            if (strcmp(optarg, "diff") != 0 && strcmp(optarg, "decode") != 0)
                return hl_cli_usage_error("fuzz", "--target '%s': expected diff or decode", optarg);
            o.target = optarg[1] == 'i' ? HL_FUZZ_TARGET_DIFF : HL_FUZZ_TARGET_DECODE;
            break;
        case 'C': o.corpus = optarg; break;
        case 'c':
            if (!hl_parse_size(optarg, &o.check_every))
                return hl_cli_usage_error("fuzz", "--check-every '%s' is not a number", optarg);
            break;
        case 'k': o.keep_going = true; break;
        case 'f': o.findings = optarg; break;
        case 'q': quiet = true; break;
        default:
            return hl_cli_usage_error("fuzz", "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (!backends) return hl_cli_usage_error("fuzz", "--backends LIST is required");
    if (optind < argc) return hl_cli_usage_error("fuzz", "unexpected argument '%s'", argv[optind]);
    hl_spec *specs;
    size_t count;
    int bad = hl_cli_backends(backends, &specs, &count);
    if (bad) return bad;
    if (!seeded) o.seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
    o.progress = !quiet;
    /* J campaigns: J forked processes with consecutive seeds, the first one showing
     * progress; the status is the worst of theirs */
    uint64_t job = 0;
    pid_t pids[64];
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
    if (job) o.progress = false;
    fprintf(stderr, "fuzz: seed %" PRIu64 ", %zu backend%s\n", o.seed, count, count == 1 ? "" : "s");
    hl_fuzz_result r;
    int rc = hl_fuzz_run(specs, count, &o, &r);
    if (rc != 2)
        printf("fuzz: seed %" PRIu64 ": %" PRIu64 " execs in %.1f s (%.0f execs/s), %d/%d operation kinds, %" PRIu64
               " finding%s; %u outcomes, corpus %u\n",
               o.seed, r.execs, r.seconds, r.seconds > 0 ? (double)r.execs / r.seconds : 0, __builtin_popcount(r.kinds),
               HL_OP_COUNT, r.findings, r.findings == 1 ? "" : "s", r.outcomes, r.corpus);
    fflush(NULL);
    int status = rc == 2 ? HL_EXIT_USAGE : rc == 1 ? HL_EXIT_FINDING : HL_EXIT_CLEAN;
    if (job) _exit(status);
    for (uint64_t j = 1; j < jobs; j++) {
        int child = 0;
        if (waitpid(pids[j], &child, 0) == pids[j] && WIFEXITED(child) && WEXITSTATUS(child) > status)
            status = WEXITSTATUS(child);
    }
    return status;
}
