/* test_decoder.c: the fuzzing layer's operation decoder and encoder: every input
 * decodes to a consistent stream, the same bytes to the same stream, and every
 * shipped trace encodes to bytes that decode back to it (ids renumbered in order of
 * first use), so the traces can seed the fuzzers' corpora. */
#include "hl_fuzz.h"
#include "unit.h"

#include <stdlib.h>

/* The trace with block ids 1, 2, 3... by first alloc and scope ids by first enter. */
static void renumber(hl_trace *t)
{
    uint64_t *from = calloc(t->count + 1, sizeof *from);
    uint32_t *scopes = calloc(t->count + 1, sizeof *scopes);
    uint64_t blocks = 0;
    uint32_t opened = 0;
    for (size_t i = 0; i < t->count; i++) {
        hl_op *op = &t->ops[i];
        if (op->kind == HL_OP_ALLOC) from[blocks++] = op->id;
        if (op->kind == HL_OP_SCOPE_ENTER) scopes[opened++] = op->scope;
        if (op->kind != HL_OP_FREE_ALL && op->kind != HL_OP_SCOPE_ENTER && op->kind != HL_OP_SCOPE_EXIT) {
            uint64_t j = blocks; /* the latest alloc of that id */
            while (j > 0 && from[j - 1] != op->id) j--;
            op->id = j;
        }
        if (op->kind == HL_OP_SCOPE_ENTER || op->kind == HL_OP_SCOPE_EXIT || op->kind == HL_OP_PROMOTE) {
            uint32_t j = opened;
            while (j > 0 && scopes[j - 1] != op->scope) j--;
            op->scope = j;
        }
    }
    free(from);
    free(scopes);
}

static bool same_stream(const hl_trace *a, const hl_trace *b)
{
    if (a->count != b->count) return fprintf(stderr, "  %zu vs %zu operations\n", a->count, b->count), false;
    for (size_t i = 0; i < a->count; i++)
        if (!hl_op_same(&a->ops[i], &b->ops[i])) {
            fprintf(stderr, "  operation %zu differs (%s vs %s)\n", i, hl_op_name((hl_op_kind)a->ops[i].kind),
                    hl_op_name((hl_op_kind)b->ops[i].kind));
            return false;
        }
    return true;
}

TEST(shipped_traces_round_trip)
{
    static const char *names[] = {"basic", "caps", "fail", "free_all", "misuse", "realloc", "scopes", "threads"};
    for (size_t n = 0; n < sizeof names / sizeof names[0]; n++) {
        char path[64];
        snprintf(path, sizeof path, "traces/%s.trace", names[n]);
        hl_trace t, back;
        hl_diag diag;
        CHECK_EQ(hl_trace_read(path, &t, &diag, NULL), 0);
        size_t size = 0;
        uint8_t *bytes = hl_fuzz_encode(&t, &size);
        hl_fuzz_decode(bytes, size, SIZE_MAX, path, &back);
        renumber(&t);
        if (!same_stream(&t, &back)) fprintf(stderr, "  ... in %s\n", path);
        CHECK(same_stream(&t, &back));
        CHECK_EQ(hl_trace_check(&back, &diag), 0);
        hl_mem_free(bytes);
        hl_trace_free(&t);
        hl_trace_free(&back);
    }
}

TEST(any_bytes_decode_to_a_consistent_stream)
{
    enum { INPUTS = 3000 };
    static uint8_t input[600];
    unsigned seen[HL_OP_COUNT] = {0};
    srand(42);
    for (int n = 0; n < INPUTS; n++) {
        size_t size = (size_t)rand() % sizeof input;
        for (size_t i = 0; i < size; i++) input[i] = (uint8_t)rand();
        hl_trace a, b, c;
        hl_fuzz_decode(input, size, 1000, "random", &a);
        hl_fuzz_decode(input, size, 1000, "random", &b);
        CHECK(same_stream(&a, &b)); /* deterministic */
        hl_diag diag;
        if (hl_trace_check(&a, &diag) != 0) fprintf(stderr, "  input %d: %s\n", n, diag.message);
        CHECK_EQ(hl_trace_check(&a, &diag), 0);
        size_t encoded_size = 0;
        uint8_t *encoded = hl_fuzz_encode(&a, &encoded_size);
        hl_fuzz_decode(encoded, encoded_size, SIZE_MAX, "again", &c);
        CHECK(same_stream(&a, &c)); /* its ids are already 1, 2, 3... */
        for (size_t i = 0; i < a.count; i++) seen[a.ops[i].kind]++;
        hl_mem_free(encoded);
        hl_trace_free(&a);
        hl_trace_free(&b);
        hl_trace_free(&c);
    }
    for (int k = 0; k < HL_OP_COUNT; k++) {
        if (!seen[k]) fprintf(stderr, "  kind %s never decoded\n", hl_op_name((hl_op_kind)k));
        CHECK(seen[k] > 0);
    }
}

TEST(edges_limits_and_the_empty_input)
{
    hl_trace t;
    hl_fuzz_decode(NULL, 0, 100, "empty", &t);
    CHECK_EQ(t.count, 0);
    hl_trace_free(&t);
    /* alloc of edge size 16 (index 9), align 2^4, caps EXEC; then a free of it */
    static const uint8_t bytes[] = {0, 9, 4, 1, 3, 0};
    hl_fuzz_decode(bytes, sizeof bytes, 100, "edges", &t);
    CHECK_EQ(t.count, 2);
    CHECK_EQ(t.ops[0].size, 16);
    CHECK_EQ(t.ops[0].align, 16);
    CHECK_EQ(t.ops[0].caps, HL_CAP_EXEC);
    CHECK_EQ(t.ops[1].kind, HL_OP_FREE);
    CHECK_EQ(t.ops[1].id, t.ops[0].id);
    hl_trace_free(&t);
    static const uint8_t many[] = {0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0};
    hl_fuzz_decode(many, sizeof many, 2, "capped", &t);
    CHECK_EQ(t.count, 2); /* max_ops */
    hl_trace_free(&t);
}

int main(void)
{
    RUN(shipped_traces_round_trip);
    RUN(any_bytes_decode_to_a_consistent_stream);
    RUN(edges_limits_and_the_empty_input);
    return unit_summary();
}
