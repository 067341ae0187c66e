/* common.h: what the front ends in this folder share: the target they drive, chosen
 * at build time (-DHL_FUZZ_TARGET_NAME="diff") and overridable by environment:
 *   HEAPLAB_FUZZ_TARGET    diff, decode or parse
 *   HEAPLAB_FUZZ_BACKENDS  the diff target's backend list (default refs,libc) */
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
    if (hl_fuzz_target_open(t, kind && *kind ? kind : HL_FUZZ_TARGET_NAME, getenv("HEAPLAB_FUZZ_BACKENDS"), &diag) != 0) {
        fprintf(stderr, "heaplab fuzz target: %s\n", diag.message);
        exit(2);
    }
}

/* Runs one input; a finding is printed and aborts, so the fuzzer keeps the input as a
 * crash artifact (classify it with fuzz/classify.sh). */
static inline void run_or_abort(hl_fuzz_target *t, const uint8_t *data, size_t size)
{
    hl_diff_summary s;
    int rc = hl_fuzz_target_run(t, data, size, &s, NULL);
    if (rc == 0) return;
    hl_fuzz_target_report(&s, stderr);
    abort();
}

#endif
