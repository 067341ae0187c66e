/* common.h: what the front ends in this folder share: the target they drive, chosen
 * at build time (-DHL_FUZZ_TARGET_NAME="diff") and overridable by environment:
 *   HEAPLAB_FUZZ_TARGET    diff, decode or parse
 *   HEAPLAB_FUZZ_BACKENDS  the diff target's backend list (default refs,libc, or the list
 *                          the build baked in: -DHL_FUZZ_BUILT_BACKENDS)
 *   HEAPLAB_FUZZ_FRESH_EVERY  inputs one set of the diff target's instances serves
 *                          before fresh ones are made (default 100, as `heaplab fuzz
 *                          --fresh-every`; 1: fresh instances for every input)
 *   HEAPLAB_FUZZ_FINDINGS  where a finding that needs the inputs before it is written
 *                          as a reproducer trace (default: the current folder) */
#ifndef HL_FUZZ_TARGETS_COMMON_H
#define HL_FUZZ_TARGETS_COMMON_H

#include "hl_fuzz.h"

#include <stdio.h>
#include <stdlib.h>

#ifndef HL_FUZZ_TARGET_NAME
#define HL_FUZZ_TARGET_NAME "diff"
#endif

/* The target from the build and the environment; exits 2 with a message if it cannot
 * be set up (an unknown target or backend). */
static inline void target_from_environment(hl_fuzz_target *t)
{
    const char *kind = getenv("HEAPLAB_FUZZ_TARGET");
    hl_diag diag;
    const char *backends = getenv("HEAPLAB_FUZZ_BACKENDS");
#ifdef HL_FUZZ_BUILT_BACKENDS /* baked in by the build (make oss-fuzz HEAPLAB_FUZZ_BACKENDS=...) */
    if (!backends || !*backends) backends = HL_FUZZ_BUILT_BACKENDS;
#endif
    if (hl_fuzz_target_open(t, kind && *kind ? kind : HL_FUZZ_TARGET_NAME, backends, &diag) != 0) {
        fprintf(stderr, "heaplab fuzz target: %s\n", diag.message);
        exit(2);
    }
    const char *fresh = getenv("HEAPLAB_FUZZ_FRESH_EVERY");
    t->fresh_every = HL_FUZZ_FRESH_EVERY;
    if (fresh && *fresh) {
        char *end;
        unsigned long long n = strtoull(fresh, &end, 10);
        if (*end || n == 0 || n > 100000) {
            fprintf(stderr, "heaplab fuzz target: HEAPLAB_FUZZ_FRESH_EVERY=%s: expected a count from 1 to 100000\n",
                    fresh);
            exit(2);
        }
        t->fresh_every = n;
    }
}

/* Runs one input (*s: its summary, the diff's outcomes in it); a finding is printed and aborts, so the fuzzer keeps the input as a
 * crash artifact (classify it with fuzz/classify.sh). A finding that shows only after
 * the inputs the kept instances ran before it is also written whole
 * (hl_fuzz_kept_explain), since the artifact holds the last input alone. */
static inline void run_or_abort(hl_fuzz_target *t, const uint8_t *data, size_t size, hl_diff_summary *s)
{
    static hl_fuzz_kept kept;
    int rc = hl_fuzz_target_run_kept(t, &kept, data, size, s);
    if (rc == 0) return;
    hl_fuzz_target_report(s, stderr);
    if (rc == 1) hl_fuzz_kept_explain(t, &kept, s, getenv("HEAPLAB_FUZZ_FINDINGS"), 10.0, stderr);
    abort();
}

#endif
