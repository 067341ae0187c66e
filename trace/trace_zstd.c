/* trace_zstd.c: zstd-compressed traces (`.trace.zst`), read transparently by every
 * command (recognised by the zstd frame magic, whatever the name) and written when
 * the output's name ends in `.zst`. libzstd (Debian libzstd-dev) does the work.
 *
 * A compressed stream that ends early is a cut tail, as in the uncompressed forms:
 * what decompressed is read (its complete records replay, with a warning); a stream
 * that is damaged is bad input. Decompression stops at HL_ZSTD_MAX bytes, so a small
 * file cannot make heaplab allocate without bound. Its contexts come from heaplab's
 * private arena (zstd's custom allocator), not the process's malloc: the libc
 * backend's footprint is glibc's, and a decompressor's freed window left in glibc's
 * heap would serve the replayed blocks unseen. */
#define ZSTD_STATIC_LINKING_ONLY /* ZSTD_customMem: exported by libzstd.so since 1.4 */
#include "trace_form.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <zstd.h>

#define HL_ZSTD_MAX ((size_t)1 << 30)
#define HL_ZSTD_LEVEL 9 /* about as fast as writing text, a third of level 19's time */

static int fail(hl_diag *diag, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    vsnprintf(diag->message, sizeof diag->message, fmt, args);
    va_end(args);
    return -1;
}

static void *zstd_alloc(void *opaque, size_t size)
{
    (void)opaque;
    return hl_mem_alloc(size);
}

static void zstd_free(void *opaque, void *address)
{
    (void)opaque;
    hl_mem_free(address);
}

static const ZSTD_customMem private_arena = {zstd_alloc, zstd_free, NULL};

bool hl_zstd_is(const void *bytes, size_t size)
{
    static const unsigned char magic[4] = {0x28, 0xb5, 0x2f, 0xfd};
    return size >= 4 && memcmp(bytes, magic, 4) == 0;
}

int hl_zstd_inflate(const char *name, const void *bytes, size_t size, size_t limit, char **out, size_t *out_size,
                    bool *cut, hl_diag *diag)
{
    if (!limit || limit > HL_ZSTD_MAX) limit = HL_ZSTD_MAX;
    ZSTD_DStream *stream = ZSTD_createDStream_advanced(private_arena);
    if (!stream) return fail(diag, "%s: cannot start zstd decompression", name);
    size_t capacity = size * 4 + 4096 < limit ? size * 4 + 4096 : limit, length = 0, last = 1;
    char *buffer = hl_mem_alloc(capacity + 1);
    ZSTD_inBuffer in = {bytes, size, 0};
    int rc = 0;
    *cut = false;
    while (in.pos < in.size || last != 0) {
        if (length == capacity) {
            if (capacity == limit) break; /* enough: a peek, or the cap */
            capacity = capacity * 2 < limit ? capacity * 2 : limit;
            buffer = hl_mem_realloc(buffer, capacity + 1);
        }
        ZSTD_outBuffer o = {buffer, capacity, length};
        size_t before = in.pos;
        last = ZSTD_decompressStream(stream, &o, &in);
        if (ZSTD_isError(last)) {
            rc = fail(diag, "%s: the zstd stream is damaged: %s", name, ZSTD_getErrorName(last));
            break;
        }
        bool progressed = o.pos != length || in.pos != before;
        length = o.pos;
        if (in.pos == in.size && last != 0 && !progressed) { /* input used up mid-frame */
            *cut = true;
            break;
        }
    }
    ZSTD_freeDStream(stream);
    if (rc == 0 && length == HL_ZSTD_MAX && limit == HL_ZSTD_MAX && (in.pos < in.size || last != 0))
        rc = fail(diag, "%s: decompresses to more than %zu bytes", name, HL_ZSTD_MAX);
    if (rc != 0) {
        hl_mem_free(buffer);
        return rc;
    }
    buffer[length] = '\0';
    *out = buffer;
    *out_size = length;
    return 0;
}

int hl_zstd_write_file(const char *path, const void *bytes, size_t size, hl_diag *diag)
{
    size_t bound = ZSTD_compressBound(size);
    void *packed = hl_mem_alloc(bound ? bound : 1);
    ZSTD_CCtx *context = ZSTD_createCCtx_advanced(private_arena);
    if (!context) {
        hl_mem_free(packed);
        return fail(diag, "%s: cannot start zstd compression", path);
    }
    size_t n = ZSTD_compressCCtx(context, packed, bound, bytes, size, HL_ZSTD_LEVEL);
    ZSTD_freeCCtx(context);
    if (ZSTD_isError(n)) {
        hl_mem_free(packed);
        return fail(diag, "%s: cannot compress: %s", path, ZSTD_getErrorName(n));
    }
    int e = hl_outfile_write(path, packed, n); /* whole or not at all */
    hl_mem_free(packed);
    return e ? fail(diag, "%s: cannot write: %s (nothing written)", path, strerror(e)) : 0;
}
