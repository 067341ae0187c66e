/* deepen.c: replay, diff and vet report the first rule a crash broke (check/deepen.c),
 * as the fuzzer does: a CRASH or HANG is run again with every operation checked, and
 * an earlier finding on the same backend is printed and written instead, with the
 * check mode that shows it as its reproducer's period. */
#include "cli.h"

#include <stdio.h>
#include <string.h>

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

int hl_cli_write_finding(const hl_spec *spec, const hl_trace *trace, hl_run_summary *summary, bool shadow,
                         uint64_t check_every, double timeout, const hl_ignores *ignores, const char *dir,
                         hl_cli_written *out, hl_diag *diag)
{
    memset(out, 0, sizeof *out);
    const hl_trace *source = hl_cli_finding_trace(trace, &summary->finding, &out->held, diag);
    if (!source) return -1;
    uint64_t period = shadow ? check_every : 0;
    if (shadow)
        hl_cli_deepen(spec, 1, source, &period, timeout, ignores, &summary->finding, summary->backend,
                      sizeof summary->backend, &out->smaller);
    out->shown = out->smaller.count ? &out->smaller : source;
    hl_diag written;
    if (hl_repro_write(spec, 1, spec->label, out->shown, &summary->finding, period, timeout, dir, out->repro,
                       sizeof out->repro, &written) != 0) {
        fprintf(stderr, "heaplab: could not write the reproducer: %s\n", written.message);
        out->repro[0] = '\0';
    }
    return 0;
}

void hl_cli_written_free(hl_cli_written *written)
{
    hl_trace_free(&written->smaller);
    hl_trace_free(&written->held);
}
