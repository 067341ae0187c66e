/* pattern.c: the bytes the executor writes into each block and the shadow expects.
 * Byte i of block id is byte (i % 8) of the word seed(id) + (i / 8) * K: cheap to
 * write and compare a word at a time, different for every id and every word.
 *
 * Only sampled bytes carry the pattern: a dense head, and above it lines of 64 bytes
 * (the shapes: hl_run.h). A 16 MiB block cost a 16 MiB fill and check and 4096 page
 * faults, which made the fuzzer spend three quarters of its time writing patterns; a
 * neighbour's overrun, a lost prefix or a block handed out twice still shows on the
 * dense head or on the sampled lines. Which offsets are sampled depends on the offset
 * alone, never on the block's size, so a block grown or shrunk in place keeps its
 * sampled bytes where they were. */
#include "hl_run.h"

#include <string.h>

#define PATTERN_STEP 0x9e3779b97f4a7c15ULL

static uint64_t pattern_seed(uint64_t id)
{
    uint64_t x = id + 0x632be59bd9b4e019ULL;
    x ^= x >> 31;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 29;
    return x;
}

static unsigned char pattern_byte(uint64_t seed, size_t offset)
{
    uint64_t word = seed + (uint64_t)(offset / 8) * PATTERN_STEP;
    return (unsigned char)(word >> (8 * (offset % 8)));
}

/* Words are stored little-endian so a byte's value does not depend on the host;
 * on a little-endian host that is one plain 8-byte store or load. */
static uint64_t little_endian(uint64_t w)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    return w;
#else
    uint64_t out;
    unsigned char *b = (unsigned char *)&out;
    for (int i = 0; i < 8; i++) b[i] = (unsigned char)(w >> (8 * i));
    return out;
#endif
}

static void fill_dense(unsigned char *dst, uint64_t id, size_t from, size_t to)
{
    unsigned char *p = dst;
    uint64_t seed = pattern_seed(id);
    size_t i = from;
    for (; i < to && i % 8; i++) *p++ = pattern_byte(seed, i);
    uint64_t word = seed + (uint64_t)(i / 8) * PATTERN_STEP;
    for (; i + 8 <= to; i += 8, p += 8, word += PATTERN_STEP) {
        uint64_t w = little_endian(word);
        memcpy(p, &w, 8);
    }
    for (; i < to; i++) *p++ = pattern_byte(seed, i);
}

static bool verify_dense(const unsigned char *src, uint64_t id, size_t from, size_t to, size_t *bad)
{
    const unsigned char *p = src;
    uint64_t seed = pattern_seed(id);
    size_t i = from;
    for (; i < to && i % 8; i++, p++)
        if (*p != pattern_byte(seed, i)) goto mismatch;
    uint64_t word = seed + (uint64_t)(i / 8) * PATTERN_STEP;
    /* whole words, four at a time while they all match, then one at a time */
    for (; i + 32 <= to; i += 32, p += 32, word += 4 * PATTERN_STEP) {
        uint64_t w[4];
        memcpy(w, p, sizeof w);
        uint64_t diff = (w[0] ^ little_endian(word)) | (w[1] ^ little_endian(word + PATTERN_STEP)) |
                        (w[2] ^ little_endian(word + 2 * PATTERN_STEP)) |
                        (w[3] ^ little_endian(word + 3 * PATTERN_STEP));
        if (diff) break;
    }
    for (; i + 8 <= to; i += 8, p += 8, word += PATTERN_STEP) {
        uint64_t w;
        memcpy(&w, p, 8);
        if (w != little_endian(word)) break;
    }
    for (; i < to; i++, p++)
        if (*p != pattern_byte(seed, i)) goto mismatch;
    return true;
mismatch:
    *bad = i;
    return false;
}

#define PATTERN_LINE 64u
#define TRACE_DENSE (64u * 1024u)  /* HL_PATTERN_TRACE: every byte below this offset, */
#define TRACE_STRIDE (64u * 1024u) /* then a line at the start of each stride */
#define FUZZ_DENSE (4u * 1024u)    /* HL_PATTERN_FUZZ: every byte below this offset, */
#define FUZZ_PER_OCTAVE_LOG2 1u    /* then 2 lines evenly over each [2^k, 2^(k+1)) */

static size_t dense_of(hl_pattern_shape shape) { return shape == HL_PATTERN_FUZZ ? FUZZ_DENSE : TRACE_DENSE; }

/* The distance between line starts around offset at (>= the dense head): a power of
 * two, so the lines are the offsets whose low bits are below PATTERN_LINE. */
static size_t stride_at(hl_pattern_shape shape, size_t at)
{
    if (shape != HL_PATTERN_FUZZ) return TRACE_STRIDE;
    unsigned octave = (unsigned)(8 * sizeof(unsigned long long) - 1) - (unsigned)__builtin_clzll(at);
    return (size_t)1 << (octave - FUZZ_PER_OCTAVE_LOG2);
}

/* The end of the sampled piece that starts at `at` (a sampled offset), at most to. */
static size_t sampled_end(hl_pattern_shape shape, size_t at, size_t to)
{
    size_t dense = dense_of(shape);
    size_t end = at < dense ? dense : (at & ~(stride_at(shape, at) - 1)) + PATTERN_LINE;
    return end < to ? end : to;
}

/* The first sampled offset at or after `at`, at most to. */
static size_t next_sampled(hl_pattern_shape shape, size_t at, size_t to)
{
    if (at < dense_of(shape)) return at;
    size_t stride = stride_at(shape, at);
    if (at % stride < PATTERN_LINE) return at;
    size_t next = (at | (stride - 1)) + 1; /* 0 if it wraps: no further line */
    return next && next < to ? next : to;
}

void hl_pattern_fill(hl_pattern_shape shape, void *dst, uint64_t id, size_t from, size_t to)
{
    unsigned char *p = dst;
    for (size_t a = next_sampled(shape, from, to), b; a < to; a = next_sampled(shape, b, to)) {
        b = sampled_end(shape, a, to);
        fill_dense(p + (a - from), id, a, b);
    }
}

bool hl_pattern_verify(hl_pattern_shape shape, const void *src, uint64_t id, size_t from, size_t to, size_t *bad)
{
    const unsigned char *p = src;
    for (size_t a = next_sampled(shape, from, to), b; a < to; a = next_sampled(shape, b, to)) {
        b = sampled_end(shape, a, to);
        if (!verify_dense(p + (a - from), id, a, b, bad)) return false;
    }
    return true;
}
