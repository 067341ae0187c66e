/* inprocess.c: the engines that run every input in one process (libFuzzer, AFL++'s
 * persistent mode). The diff target keeps its instances across inputs
 * (fresh_every), so a finding may need the inputs they served before it: the front
 * end remembers those inputs, and on a finding runs the input again on fresh
 * instances in a fresh process (hl_fuzz_reproduce). When it shows only after the
 * inputs before it, the whole run is written as one self-contained reproducer trace
 * (`heaplab replay` needs nothing else), since the engine's own artifact holds the
 * last input alone. */
#include "hl_fuzz.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static void forget_all(hl_fuzz_kept *kept)
{
    for (size_t i = 0; i < kept->count; i++) hl_mem_free(kept->bytes[i]);
    kept->count = 0;
}

void hl_fuzz_kept_free(hl_fuzz_kept *kept)
{
    forget_all(kept);
    hl_mem_free(kept->bytes);
    hl_mem_free(kept->sizes);
    memset(kept, 0, sizeof *kept);
}

int hl_fuzz_target_run_kept(hl_fuzz_target *t, hl_fuzz_kept *kept, const uint8_t *data, size_t size,
                            hl_diff_summary *s)
{
    if (t->kind == HL_FUZZ_TARGET_DIFF) {
        if (hl_fuzz_target_history(t) == 1) forget_all(kept); /* fresh instances next */
        if (kept->count == kept->cap) {
            kept->cap = kept->cap ? 2 * kept->cap : 16;
            kept->bytes = hl_mem_realloc(kept->bytes, kept->cap * sizeof *kept->bytes);
            kept->sizes = hl_mem_realloc(kept->sizes, kept->cap * sizeof *kept->sizes);
        }
        kept->bytes[kept->count] = hl_mem_alloc(size ? size : 1);
        if (size) memcpy(kept->bytes[kept->count], data, size);
        kept->sizes[kept->count++] = size;
    }
    return hl_fuzz_target_run(t, data, size, s, NULL);
}

int hl_fuzz_kept_explain(const hl_fuzz_target *t, const hl_fuzz_kept *kept, const hl_diff_summary *s,
                         const char *dir, double timeout, FILE *out)
{
    if (t->kind != HL_FUZZ_TARGET_DIFF || !s->found || kept->count < 2) return 1;
    hl_trace stream;
    hl_diff_summary got;
    int how = hl_fuzz_reproduce(t, (const uint8_t *const *)kept->bytes, kept->sizes, kept->count, kept->count, s,
                                timeout, &stream, &got);
    if (how == 1) {
        hl_trace_free(&stream);
        return 1;
    }
    if (how == 0) {
        fprintf(out, "  NOT REPRODUCED: a fresh run of the input, alone or after the %zu inputs its instances\n"
                     "  ran before it, does not show it (state beyond the instances, or timing)\n",
                kept->count - 1);
        hl_trace_free(&stream);
        return 0;
    }
    char source[160], path[1200];
    snprintf(source, sizeof source, "an in-process fuzzer's input and the %zu before it on the same instances",
             kept->count - 1);
    hl_repro_label(&stream, t->specs, t->count, got.finding.rule, got.finding.index, source, t->check_every);
    /* named by the rule and a hash of the stream's inputs, so a rerun overwrites it */
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < kept->count; i++)
        for (size_t j = 0; j < kept->sizes[i]; j++) h = (h ^ kept->bytes[i][j]) * 0x100000001b3ull;
    const char *folder = dir && *dir ? dir : ".";
    int made = hl_make_folder(folder);
    if (made) fprintf(out, "heaplab: %s: cannot create the findings folder: %s\n", folder, strerror(made));
    snprintf(path, sizeof path, "%s/history-%s-%016" PRIx64 ".trace", folder, hl_rule_name(got.finding.rule), h);
    hl_diag diag;
    bool written = hl_trace_write(&stream, HL_TRACE_TEXT, path, &diag) == 0;
    fprintf(out, "  the input alone does not show it on fresh instances; after the %zu inputs its instances\n"
                 "  ran before it, it does (%s at operation %" PRIu64 ")\n",
            kept->count - 1, hl_rule_name(got.finding.rule), got.finding.index);
    if (written) fprintf(out, "  written: %s (heaplab replay %s)\n", path, path);
    else fprintf(out, "  not written: %s\n", diag.message);
    hl_trace_free(&stream);
    return 2;
}
