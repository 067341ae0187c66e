/* test_history.c: an input's stream (its decoding and a closing free_all) and a run of
 * inputs as one self-contained trace: every input's operations in order, its block and
 * scope ids moved past the earlier inputs', a free_all after each, and the whole a
 * consistent trace (hl_trace_check) that a replay can run. */
#include "hl_fuzz.h"
#include "unit.h"

#include <string.h>

static void random_bytes(uint64_t seed, uint8_t *buf, size_t len)
{
    uint64_t x = seed * 0x9e3779b97f4a7c15ULL + 1;
    for (size_t i = 0; i < len; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        buf[i] = (uint8_t)x;
    }
}

TEST(a_stream_is_the_decoding_and_a_free_all)
{
    uint8_t bytes[300];
    random_bytes(1, bytes, sizeof bytes);
    hl_trace decoded, stream;
    hl_fuzz_decode(bytes, sizeof bytes, 1000, "a", &decoded);
    hl_fuzz_stream(bytes, sizeof bytes, 1000, "a", &stream);
    CHECK(decoded.count > 10);
    CHECK_EQ(stream.count, decoded.count + 1);
    CHECK(memcmp(stream.ops, decoded.ops, decoded.count * sizeof *decoded.ops) == 0);
    CHECK_EQ(stream.ops[decoded.count].kind, HL_OP_FREE_ALL);
    hl_diag diag;
    CHECK_EQ(hl_trace_check(&stream, &diag), 0);
    hl_trace_free(&decoded);
    hl_trace_free(&stream);
}

TEST(a_history_renumbers_each_input_past_the_ones_before)
{
    enum { INPUTS = 5, LEN = 400 };
    uint8_t bytes[INPUTS][LEN];
    const uint8_t *inputs[INPUTS];
    size_t sizes[INPUTS];
    hl_trace one[INPUTS];
    size_t total = 0;
    for (int i = 0; i < INPUTS; i++) {
        random_bytes(10 + (uint64_t)i, bytes[i], LEN);
        inputs[i] = bytes[i];
        sizes[i] = LEN;
        hl_fuzz_stream(bytes[i], LEN, 1000, "one", &one[i]);
        total += one[i].count;
    }
    hl_trace all;
    hl_fuzz_history(inputs, sizes, INPUTS, 1000, "all", &all);
    CHECK_EQ(all.count, total);
    hl_diag diag;
    CHECK_EQ(hl_trace_check(&all, &diag), 0); /* ids never reused, scopes balanced by the free_alls */
    size_t at = 0;
    uint64_t below = 0; /* every id of input i lies above every id of the inputs before */
    for (int i = 0; i < INPUTS; i++) {
        uint64_t top = below, shift = UINT64_MAX; /* one shift for the whole input */
        for (size_t k = 0; k < one[i].count; k++, at++) {
            const hl_op *a = &all.ops[at], *b = &one[i].ops[k];
            CHECK_EQ(a->kind, b->kind);
            CHECK_EQ(a->size, b->size);
            if (!b->id) continue;
            CHECK(a->id > below);
            if (shift == UINT64_MAX) shift = a->id - b->id;
            CHECK_EQ(a->id - b->id, shift);
            if (a->id > top) top = a->id;
        }
        CHECK_EQ(all.ops[at - 1].kind, HL_OP_FREE_ALL);
        below = top;
        hl_trace_free(&one[i]);
    }
    hl_trace_free(&all);
}

int main(void)
{
    RUN(a_stream_is_the_decoding_and_a_free_all);
    RUN(a_history_renumbers_each_input_past_the_ones_before);
    return unit_summary();
}
