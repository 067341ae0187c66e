/* pattern.c: the bytes the executor writes into each block and the shadow expects.
 * Byte i of block id is byte (i % 8) of the word seed(id) + (i / 8) * K: cheap to
 * write and compare a word at a time, different for every id and every word. */
#include "hl_harness.h"

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

/* Words are stored little-endian so a byte's value does not depend on the host. */
static void store_word(unsigned char *p, uint64_t w)
{
    for (int i = 0; i < 8; i++) p[i] = (unsigned char)(w >> (8 * i));
}

void hl_pattern_fill(void *dst, uint64_t id, size_t from, size_t to)
{
    unsigned char *p = dst;
    uint64_t seed = pattern_seed(id);
    size_t i = from;
    for (; i < to && i % 8; i++) *p++ = pattern_byte(seed, i);
    uint64_t word = seed + (uint64_t)(i / 8) * PATTERN_STEP;
    for (; i + 8 <= to; i += 8, p += 8, word += PATTERN_STEP) store_word(p, word);
    for (; i < to; i++) *p++ = pattern_byte(seed, i);
}

bool hl_pattern_verify(const void *src, uint64_t id, size_t from, size_t to, size_t *bad)
{
    const unsigned char *p = src;
    uint64_t seed = pattern_seed(id);
    size_t i = from;
    for (; i < to && i % 8; i++, p++)
        if (*p != pattern_byte(seed, i)) goto mismatch;
    uint64_t word = seed + (uint64_t)(i / 8) * PATTERN_STEP;
    for (; i + 8 <= to; i += 8, p += 8, word += PATTERN_STEP) {
        unsigned char expect[8];
        store_word(expect, word);
        if (memcmp(p, expect, 8) != 0) break;
    }
    for (; i < to; i++, p++)
        if (*p != pattern_byte(seed, i)) goto mismatch;
    return true;
mismatch:
    *bad = i;
    return false;
}
