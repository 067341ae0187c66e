/* target.c: the fuzz targets every front end drives (the built-in fuzzer's child, the
 * libFuzzer and AFL++ entry points and the corpus replayer, fuzz/drivers/): opening
 * one by name, running one input through it, printing its finding. One input in, a
 * verdict out, in process: isolation (fork, time limits) is the front end's job. The
 * targets, one file each:
 *   diff    (target_diff.c)   decode the bytes and run the stream on every backend in
 *                             lockstep under the shadow model
 *   decode  (target_decode.c) decode only: the bare target the others' exec/s is
 *                             measured against
 *   parse   (target_parse.c)  the trace readers and the importers */
#include "hl_fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const kind_names[] = {"diff", "decode", "parse"};

int hl_fuzz_target_open(hl_fuzz_target *t, const char *kind, const char *backends, hl_diag *diag)
{
    memset(t, 0, sizeof *t);
    t->max_ops = HL_FUZZ_MAX_OPS;
    size_t k = 0;
    while (k < 3 && strcmp(kind, kind_names[k]) != 0) k++;
    if (k == 3) {
        snprintf(diag->message, sizeof diag->message, "unknown fuzz target '%s' (known: diff, decode, parse)", kind);
        return 2;
    }
    t->kind = (hl_fuzz_target_kind)k;
    if (t->kind != HL_FUZZ_TARGET_DIFF) return 0;
    if (hl_spec_parse_list(backends ? backends : HL_FUZZ_DEFAULT_BACKENDS, &t->specs, &t->count, diag) != 0) return 2;
    for (size_t i = 0; i < t->count; i++) { /* a spec that cannot make an instance fails here, not per input */
        if (t->specs[i].external) continue; /* probed in a child when parsed: its code stays out of here */
        hl_heap *heap = hl_spec_create(&t->specs[i], diag);
        if (!heap) return 2;
        hl_spec_destroy(&t->specs[i], heap);
    }
    return 0;
}

const char *hl_fuzz_target_name(const hl_fuzz_target *t) { return kind_names[t->kind]; }

uint64_t hl_fuzz_target_history(const hl_fuzz_target *t)
{
    return t->differ && t->differ_inputs < t->fresh_every ? t->differ_inputs + 1 : 1;
}

void hl_fuzz_target_forget(hl_fuzz_target *t)
{
    hl_differ_close(t->differ);
    t->differ = NULL;
    t->differ_inputs = 0;
}

int hl_fuzz_target_run(hl_fuzz_target *t, const uint8_t *data, size_t size, hl_diff_summary *s, uint32_t *kinds)
{
    memset(s, 0, sizeof *s);
    switch (t->kind) {
    case HL_FUZZ_TARGET_PARSE: return hl_fuzz_target_parse(data, size, s);
    case HL_FUZZ_TARGET_DECODE: return hl_fuzz_target_decode(t, data, size, s, kinds);
    default: return hl_fuzz_target_diff(t, data, size, s, kinds);
    }
}

void hl_fuzz_target_report(const hl_diff_summary *s, FILE *out)
{
    if (s->setup_failed) {
        fprintf(out, "heaplab: %s\n", s->setup_error);
        return;
    }
    hl_finding_print(out, s->backend, "fuzz input", NULL, false, &s->finding);
}
