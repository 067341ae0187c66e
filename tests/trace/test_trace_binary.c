/* test_trace_binary.c: the binary form of a trace (traces/FORMAT.md): the exact
 * encoding, every bad-input message with its byte offset, the cut-tail rule at every
 * cut point, and that arbitrary bytes never make the reader crash or read out of
 * bounds (ASan watches). */
#include "hl_check.h"
#include "trace_form.h"
#include "unit.h"

#include <stdlib.h>

static hl_trace trace;
static hl_diag diag, warning;

static int read_bytes(const void *bytes, size_t size)
{
    hl_trace_free(&trace);
    diag.message[0] = warning.message[0] = '\0';
    return hl_trace_read_memory("t.bin", bytes, size, &trace, &diag, &warning);
}

/* The header followed by n record bytes. */
static int read_records(const unsigned char *records, size_t n)
{
    unsigned char bytes[256];
    memcpy(bytes, "HLTRACE\x01", 8);
    memcpy(bytes + 8, records, n);
    return read_bytes(bytes, 8 + n);
}

#define RECORDS(...) read_records((const unsigned char[]){__VA_ARGS__}, sizeof((const unsigned char[]){__VA_ARGS__}))

/* The message for bad records, or "(accepted)". */
static const char *error_of(int rc)
{
    if (rc == 0) return "(accepted)";
    CHECK(trace.ops == NULL && trace.count == 0);
    return diag.message;
}

/* trace in binary form (a stdio buffer: free() it). */
static unsigned char *encode(const hl_trace *t, size_t *size)
{
    char *bytes = NULL;
    FILE *out = open_memstream(&bytes, size);
    CHECK_EQ(hl_trace_write_binary_stream(t, out), 0);
    fclose(out);
    return (unsigned char *)bytes;
}

static hl_trace sample(void)
{
    hl_trace t;
    memset(&t, 0, sizeof t);
    const char *text = "heaplab-trace 1\n#@k=v\nalloc 1 300 align=16\ntouch 1 2 3 w\nfree 1 t=5\nend\n";
    CHECK_EQ(hl_trace_read_memory("s.trace", text, strlen(text), &t, &diag, NULL), 0);
    return t;
}

TEST(encoding_is_exact)
{
    hl_trace t = sample();
    size_t size;
    unsigned char *bytes = encode(&t, &size);
    static const unsigned char expected[] = {
        'H', 'L', 'T', 'R', 'A', 'C', 'E', 1,    /* header: magic + version */
        0xFE, 1, 'k', 1, 'v',                    /* byte 8: metadata k=v */
        0x00, 0x01, 1, 0xAC, 0x02, 16,           /* byte 13: alloc, flags align; id 1, size 300, align 16 */
        0x04, 0x10, 1, 2, 3,                     /* byte 19: touch, flags write; id 1, offset 2, len 3 */
        0x01, 0x04, 1, 5,                        /* byte 24: free, flags thread; id 1, t=5 */
        0xFF, 3,                                 /* byte 28: end, 3 operations */
    };
    CHECK_EQ(size, sizeof expected);
    CHECK(size == sizeof expected && memcmp(bytes, expected, size) == 0);
    CHECK_EQ(read_bytes(bytes, size), 0);
    CHECK_EQ(trace.form, HL_TRACE_BINARY);
    CHECK(!trace.cut_tail);
    CHECK_STR(warning.message, "");
    CHECK_EQ(trace.count, 3);
    CHECK_EQ(trace.ops[0].line, 13); /* byte offsets of the records */
    CHECK_EQ(trace.ops[1].line, 19);
    CHECK_EQ(trace.ops[2].line, 24);
    for (size_t i = 0; i < 3; i++) CHECK(hl_op_same(&trace.ops[i], &t.ops[i]));
    CHECK_STR(hl_trace_meta(&trace, "k"), "v");
    free(bytes);
    hl_trace_free(&t);
}

TEST(varints_cover_the_whole_u64_range)
{
    CHECK_EQ(RECORDS(0x01, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01, 0xFF, 1), 0);
    CHECK_EQ(trace.ops[0].id, UINT64_MAX);
    CHECK_EQ(RECORDS(0x01, 0x00, 0x80, 0x00, 0xFF, 1), 0); /* a non-minimal 0 still reads */
    CHECK_EQ(trace.ops[0].id, 0);
    CHECK_EQ(RECORDS(0x05, 0x04, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0xFF, 1), 0);
    CHECK_EQ(trace.ops[0].scope, UINT32_MAX);
    CHECK_EQ(trace.ops[0].thread, UINT32_MAX);
    CHECK_EQ(trace.ops[0].has_thread, 1);
}

TEST(each_bad_record_is_named_with_its_byte)
{
    CHECK_EQ(read_bytes("HLTRA", 5), -1);
    CHECK_STR(diag.message, "t.bin: cut inside its header (5 of 8 bytes)");
    CHECK_EQ(read_bytes("HLTRACE", 7), -1);
    CHECK_STR(diag.message, "t.bin: cut inside its header (7 of 8 bytes)");
    CHECK_EQ(read_bytes("HLTRACE\x02\xff\x00", 10), -1);
    CHECK_STR(diag.message, "t.bin: byte 7: unsupported binary trace version 2 (this heaplab reads version 1)");
    CHECK_STR(error_of(RECORDS(0x20)), "t.bin: byte 8: unknown record code 0x20");
    CHECK_STR(error_of(RECORDS(0x01, 0x00, 1, 0x0F)), "t.bin: byte 11: unknown record code 0x0f");
    CHECK_STR(error_of(RECORDS(0x00, 0x80, 1, 1)), "t.bin: byte 8: alloc: unknown flag bits 0x80");
    CHECK_STR(error_of(RECORDS(0x01, 0x01, 1, 1)), "t.bin: byte 8: free: flag align only applies to alloc");
    CHECK_STR(error_of(RECORDS(0x03, 0x02, 1, 1)), "t.bin: byte 8: usable: flag caps only applies to alloc");
    CHECK_STR(error_of(RECORDS(0x01, 0x10, 1)), "t.bin: byte 8: free: flag write only applies to touch");
    CHECK_STR(error_of(RECORDS(0x05, 0x00, 0x80, 0x80, 0x80, 0x80, 0x10)),
              "t.bin: byte 8: scope_enter: scope id 4294967296 does not fit in 32 bits");
    CHECK_STR(error_of(RECORDS(0x01, 0x04, 1, 0x80, 0x80, 0x80, 0x80, 0x10)),
              "t.bin: byte 8: free: thread id 4294967296 does not fit in 32 bits");
    CHECK_STR(error_of(RECORDS(0x01, 0x00, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00)),
              "t.bin: byte 8: free: ID: varint longer than 10 bytes or past 64 bits");
    CHECK_STR(error_of(RECORDS(0x00, 0x00, 1, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x02)),
              "t.bin: byte 8: alloc: SIZE: varint longer than 10 bytes or past 64 bits");
    CHECK_STR(error_of(RECORDS(0x01, 0x08, 1, 4, 'N', 'O', 'P', 'E')),
              "t.bin: byte 8: free: fail=NOPE is not an error name");
    CHECK_STR(error_of(RECORDS(0x00, 0x08, 1, 1, 2, 'O', 'K')), "t.bin: byte 8: alloc: fail=OK is not an error name");
    CHECK_STR(error_of(RECORDS(0x00, 0x08, 1, 1, 2, 'O', 0)), "t.bin: byte 8: alloc: fail=O is not an error name");
    CHECK_STR(error_of(RECORDS(0x00, 0x08, 1, 1, 0)), "t.bin: byte 8: alloc: fail name length 0 is outside 1..32");
    CHECK_STR(error_of(RECORDS(0x00, 0x08, 1, 1, 33)), "t.bin: byte 8: alloc: fail name length 33 is outside 1..32");
    CHECK_STR(error_of(RECORDS(0x00, 0x02, 1, 16, 4)), "t.bin: byte 8: alloc: caps 0x4 has bits outside exec+dma");
    CHECK_STR(error_of(RECORDS(0x08, 0x00, 0xFE, 1, 'k', 0)), "t.bin: byte 10: metadata record after the first operation");
    CHECK_STR(error_of(RECORDS(0xFE, 1, ' ', 0)),
              "t.bin: byte 8: metadata key has byte 0x20 (allowed: letters, digits, '_', '.', '-')");
    CHECK_STR(error_of(RECORDS(0xFE, 0, 0)), "t.bin: byte 8: metadata key length 0 is outside 1..128");
    CHECK_STR(error_of(RECORDS(0xFE, 0x81, 0x01, 'k')), "t.bin: byte 8: metadata key length 129 is outside 1..128");
    CHECK_STR(error_of(RECORDS(0xFE, 1, 'k', 0x81, 0x20)), "t.bin: byte 8: metadata value length 4097 is over 4096");
    CHECK_STR(error_of(RECORDS(0xFE, 1, 'k', 1, '\n')), "t.bin: byte 8: metadata value of 'k' holds a line break or NUL byte");
    CHECK_STR(error_of(RECORDS(0xFE, 1, 'k', 0, 0xFE, 1, 'k', 0)), "t.bin: byte 12: metadata key 'k' is given twice");
    CHECK_STR(error_of(RECORDS(0x08, 0x00, 0xFF, 2)), "t.bin: byte 10: end record counts 2 operations, the trace holds 1");
    CHECK_STR(error_of(RECORDS(0x08, 0x00, 0xFF, 1, 0x00)), "t.bin: byte 12: content after the end record");
    CHECK_STR(error_of(RECORDS(0xFF, 0, 0xFF, 0)), "t.bin: byte 10: content after the end record");
}

TEST(cut_tail_at_every_cut_point)
{
    hl_trace t = sample();
    size_t size;
    unsigned char *bytes = encode(&t, &size);
    size_t last_count = 0;
    for (size_t cut = 8; cut < size; cut++) {
        CHECK_EQ(read_bytes(bytes, cut), 0);
        CHECK(trace.cut_tail);
        CHECK(trace.count >= last_count && trace.count <= t.count);
        for (size_t i = 0; i < trace.count; i++) CHECK(hl_op_same(&trace.ops[i], &t.ops[i]));
        CHECK(strstr(warning.message, "t.bin: warning: trace ends without an end marker (cut tail); replaying the ") ==
              warning.message);
        last_count = trace.count;
    }
    CHECK_EQ(read_bytes(bytes, 12), 0); /* inside the metadata record: it is dropped */
    CHECK_EQ(trace.meta_count, 0);
    CHECK_EQ(read_bytes(bytes, 28), 0); /* the end record is missing */
    CHECK_EQ(trace.count, 3);
    CHECK_EQ(trace.meta_count, 1);
    CHECK_STR(warning.message,
              "t.bin: warning: trace ends without an end marker (cut tail); replaying the 3 complete operations");
    CHECK_EQ(read_bytes(bytes, 23), 0); /* the touch record is cut short */
    CHECK_EQ(trace.count, 1);
    CHECK_STR(warning.message,
              "t.bin: warning: trace ends without an end marker (cut tail); replaying the 1 complete operation");
    CHECK_EQ(read_bytes(bytes, size), 0);
    CHECK(!trace.cut_tail);
    free(bytes);
    hl_trace_free(&t);
}

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static void expect_sane(int rc, size_t size)
{
    if (rc == 0) {
        CHECK(trace.count <= size / 2);
        for (size_t i = 0; i < trace.count; i++) {
            CHECK(trace.ops[i].kind < HL_OP_COUNT);
            CHECK(trace.ops[i].expect_fail < HL_E_COUNT);
            CHECK(trace.ops[i].line >= 8 && trace.ops[i].line < size);
        }
    } else {
        CHECK(strncmp(diag.message, "t.bin", 5) == 0);
    }
}

TEST(random_bytes_never_crash)
{
    unsigned char bytes[80];
    memcpy(bytes, "HLTRACE\x01", 8);
    int accepted = 0;
    for (int round = 0; round < 100000; round++) {
        size_t n = 8 + rng() % 72;
        for (size_t i = 8; i < n; i++) {
            uint64_t r = rng();
            /* bias towards valid kinds, small numbers and the special codes */
            bytes[i] = r % 4 == 0 ? (unsigned char)(r >> 8) % 16 : r % 4 == 1 ? (unsigned char)(0xF0 | (r >> 8))
                                                                             : (unsigned char)(r >> 8);
        }
        int rc = read_bytes(bytes, n);
        accepted += rc == 0;
        expect_sane(rc, n);
    }
    CHECK(accepted > 0);
}

TEST(mutated_traces_never_crash)
{
    const char *text = "heaplab-trace 1\n#@key=value\nalloc 1 300 align=16 caps=exec t=2\n"
                       "realloc 1 70000 fail=OUT_OF_MEMORY\ntouch 1 2 3 w\nscope_enter 4\npromote 4 1 2\n"
                       "free_layout 1 8 8\nfree_all\nend\n";
    hl_trace t;
    CHECK_EQ(hl_trace_read_memory("s.trace", text, strlen(text), &t, &diag, NULL), 0);
    size_t size;
    unsigned char *seed = encode(&t, &size);
    unsigned char bytes[128];
    int accepted = 0;
    for (int round = 0; round < 100000; round++) {
        memcpy(bytes, seed, size);
        size_t n = size;
        int edits = 1 + (int)(rng() % 3);
        for (int e = 0; e < edits; e++) {
            size_t at = 8 + rng() % (n - 8);
            unsigned what = (unsigned)(rng() % 4);
            if (what <= 1) bytes[at] = (unsigned char)rng();
            else if (what == 2) bytes[at] ^= (unsigned char)(1u << (rng() % 8));
            else if (n > 9) memmove(bytes + at, bytes + at + 1, --n - at);
        }
        if (round % 5 == 0) n = 8 + rng() % (n - 7);
        int rc = read_bytes(bytes, n);
        accepted += rc == 0;
        expect_sane(rc, n);
    }
    CHECK(accepted > 1000);
    free(seed);
    hl_trace_free(&t);
}

int main(void)
{
    RUN(encoding_is_exact);
    RUN(varints_cover_the_whole_u64_range);
    RUN(each_bad_record_is_named_with_its_byte);
    RUN(cut_tail_at_every_cut_point);
    RUN(random_bytes_never_crash);
    RUN(mutated_traces_never_crash);
    hl_trace_free(&trace);
    return unit_summary();
}
