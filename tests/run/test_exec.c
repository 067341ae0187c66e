/* test_exec.c: what the executor sets aside before a run (hl_exec_expect): one
 * block-map entry per distinct id the stream allocates, not one per alloc, so a trace
 * that allocates and frees one id a million times costs a few entries, while a
 * million distinct ids get their million entries up front. */
#include "hl_run.h"
#include "hl_lanes.h"
#include "backends.h"
#include "unit.h"

#include <stdlib.h>

static size_t grown_by_expecting(const hl_op *ops, size_t count)
{
    hl_heap *heap;
    hl_config config = {0};
    CHECK_EQ(hl_backend_bins()->create(&config, &heap), HL_E_OK);
    hl_exec *exec = hl_exec_new(hl_backend_bins(), heap, "bins");
    size_t before = hl_mem_footprint();
    hl_exec_expect(exec, ops, count);
    size_t grown = hl_mem_footprint() - before;
    hl_exec_free(exec);
    hl_backend_bins()->destroy(heap);
    return grown;
}

TEST(entries_are_set_aside_per_distinct_id_not_per_alloc)
{
    enum { PAIRS = 1 << 20 };
    hl_op *ops = calloc(2 * PAIRS, sizeof *ops);
    for (size_t i = 0; i < 2 * PAIRS; i += 2) {
        ops[i] = (hl_op){.kind = HL_OP_ALLOC, .id = 1, .size = 16, .align = 1};
        ops[i + 1] = (hl_op){.kind = HL_OP_FREE, .id = 1, .size = 16, .align = 1};
    }
    size_t churn = grown_by_expecting(ops, 2 * PAIRS);
    CHECK(churn < 1 << 20); /* one id: not 2^20 entries of 64 bytes */
    for (size_t i = 0; i < PAIRS; i++) ops[i] = (hl_op){.kind = HL_OP_ALLOC, .id = i + 1, .size = 16, .align = 1};
    size_t distinct = grown_by_expecting(ops, PAIRS);
    CHECK(distinct >= (size_t)PAIRS * sizeof(hl_block)); /* each id its entry, before any clock starts */
    free(ops);
}

/* Lanes opened for a fuzzer (HL_HINT_SPARSE) write the sparse pattern; others the
 * trace pattern the shadow of a replay expects. */
TEST(the_sparse_hint_gives_the_fuzz_pattern_shape)
{
    hl_spec *specs;
    size_t count;
    hl_diag diag;
    CHECK_EQ(hl_spec_parse_list("bins,guard", &specs, &count, &diag), 0);
    for (int sparse = 0; sparse < 2; sparse++) {
        hl_lanes *lanes = hl_lanes_open(specs, count, NULL, 0, false, sparse ? HL_HINT_SPARSE : 0, NULL, &diag);
        CHECK(lanes != NULL);
        for (size_t k = 0; k < count; k++)
            CHECK_EQ(hl_exec_pattern_shape(hl_lanes_at(lanes, k)->exec), sparse ? HL_PATTERN_FUZZ : HL_PATTERN_TRACE);
        hl_lanes_renew(lanes, NULL, 0); /* a persistent run's next input keeps it */
        CHECK_EQ(hl_exec_pattern_shape(hl_lanes_at(lanes, 0)->exec), sparse ? HL_PATTERN_FUZZ : HL_PATTERN_TRACE);
        hl_lanes_close(lanes);
    }
}

int main(void)
{
    RUN(the_sparse_hint_gives_the_fuzz_pattern_shape);
    RUN(entries_are_set_aside_per_distinct_id_not_per_alloc);
    return unit_summary();
}
