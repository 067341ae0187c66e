/* build_id.c: the identity of the heaplab build a results document comes from
 * (build.id): the SHA-256 of the running binary, /proc/self/exe, in hex, so
 * `sha256sum build/heaplab` prints the same. Two documents are of one build exactly
 * when the same code measured them: the compiler, the flags, a dirty tree and the
 * libraries linked in all show, and gcc rebuilds the same source in the same path to
 * the same bytes (a CI matrix whose jobs each build the same commit gets one id).
 * `heaplab report --merge` refuses shards whose ids differ. Computed once a process,
 * on the first call (a few ms for the release binary). Without /proc the id is
 * "config:" and the hash of the version, the compiler and whether the build is
 * optimised or sanitized: weaker, and marked so. */
#include "hl_measure.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

typedef struct sha256 {
    uint32_t h[8];
    uint64_t length; /* bytes hashed */
    uint8_t block[64];
    size_t used;
} sha256;

static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

static uint32_t rotr(uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }

/* Pure arithmetic on its own arrays: left out of the sanitized build's checks, which
 * made hashing its 4 MB binary take a tenth of a second. */
__attribute__((no_sanitize("address", "undefined"))) static void compress(sha256 *s, const uint8_t *p)
{
    uint32_t w[64];
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
    for (int i = 16; i < 64; i++) {
        uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = s->h[0], b = s->h[1], c = s->h[2], d = s->h[3], e = s->h[4], f = s->h[5], g = s->h[6],
             h = s->h[7];
    for (int i = 0; i < 64; i++) {
        uint32_t t1 = h + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i];
        uint32_t t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
        h = g, g = f, f = e, e = d + t1, d = c, c = b, b = a, a = t1 + t2;
    }
    s->h[0] += a, s->h[1] += b, s->h[2] += c, s->h[3] += d, s->h[4] += e, s->h[5] += f, s->h[6] += g, s->h[7] += h;
}

static void sha256_init(sha256 *s)
{
    static const uint32_t start[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                      0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    memcpy(s->h, start, sizeof start);
    s->length = 0;
    s->used = 0;
}

static void sha256_update(sha256 *s, const uint8_t *p, size_t n)
{
    s->length += n;
    if (s->used) {
        size_t take = n < 64 - s->used ? n : 64 - s->used;
        memcpy(s->block + s->used, p, take);
        s->used += take, p += take, n -= take;
        if (s->used < 64) return;
        compress(s, s->block);
        s->used = 0;
    }
    for (; n >= 64; p += 64, n -= 64) compress(s, p);
    memcpy(s->block, p, n);
    s->used = n;
}

/* Writes the digest as 64 hex digits and a NUL into out. */
static void sha256_hex(sha256 *s, char out[65])
{
    uint64_t bits = s->length * 8;
    uint8_t pad[72] = {0x80};
    size_t padding = (s->used < 56 ? 56 : 120) - s->used;
    for (int i = 0; i < 8; i++) pad[padding + (size_t)i] = (uint8_t)(bits >> (56 - 8 * i));
    sha256_update(s, pad, padding + 8);
    for (int i = 0; i < 8; i++) snprintf(out + 8 * i, 9, "%08x", (unsigned)s->h[i]);
}

const char *hl_build_id(void)
{
    static char id[80];
    if (id[0]) return id;
    sha256 s;
    sha256_init(&s);
    FILE *f = fopen("/proc/self/exe", "rb");
    if (f) {
        static uint8_t buffer[1 << 16];
        size_t n;
        while ((n = fread(buffer, 1, sizeof buffer, f)) > 0) sha256_update(&s, buffer, n);
        bool failed = ferror(f);
        fclose(f);
        if (!failed) {
            sha256_hex(&s, id);
            return id;
        }
        sha256_init(&s);
    }
    char config[256];
#ifdef __OPTIMIZE__
    const int optimized = 1;
#else
    const int optimized = 0;
#endif
    int n = snprintf(config, sizeof config, "heaplab %s, %s, sanitized %d, optimized %d", HL_VERSION, __VERSION__,
                     (int)hl_build_sanitized(), optimized);
    sha256_update(&s, (const uint8_t *)config, n > 0 ? (size_t)n < sizeof config ? (size_t)n : sizeof config - 1 : 0);
    memcpy(id, "config:", 7);
    sha256_hex(&s, id + 7);
    return id;
}
