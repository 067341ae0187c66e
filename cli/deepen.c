/* deepen.c: replay and diff report the first rule a crash broke (check/deepen.c), as
 * the fuzzer does: a CRASH or HANG is run again with every operation checked, and an
 * earlier finding on the same backend is printed and written instead, with the check
 * mode that shows it as its reproducer's period. */
#include "cli.h"

#include <stdio.h>

bool hl_cli_deepen(const hl_spec *specs, size_t count, const hl_trace *trace, uint64_t *check_every, double timeout,
                   const hl_ignores *ignores, hl_finding *finding, char *backend, size_t capacity, hl_trace *smaller)
{
    hl_diff_summary got = {.found = true, .finding = *finding};
    snprintf(got.backend, sizeof got.backend, "%s", backend);
    uint64_t mode = hl_diff_deepen(specs, count, trace, *check_every, timeout, ignores, &got, smaller);
    if (!mode) return false;
    fprintf(stderr, "%s crashed or hung at operation %llu; run again%s with the heap checked after every operation\n"
                    "  (check_every=%s), it broke another rule first:\n",
            backend, (unsigned long long)finding->index, smaller->count ? " on the crash's shrunk stream" : "",
            hl_check_every_explain(mode));
    *finding = got.finding;
    snprintf(backend, capacity, "%s", got.backend);
    *check_every = mode;
    return true;
}
