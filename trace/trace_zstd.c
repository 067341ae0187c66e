/* trace_zstd.c: zstd-compressed traces (`.trace.zst`), read transparently by every
 * command (recognised by the zstd frame magic, whatever the name) and written when
 * the output's name ends in `.zst`. libzstd (Debian libzstd-dev) does the work.
 *
 * A compressed stream that ends early is a cut tail, as in the uncompressed forms:
 * what decompressed is read (its complete records replay, with a warning); a stream
 * that is damaged is bad input. Both directions stream (a window at a time), so a
 * small file that decompresses to gigabytes costs time, never memory. Its contexts come from heaplab's
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

#define HL_ZSTD_LEVEL 9 /* about as fast as writing text, a third of level 19's time */

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

struct hl_unzstd {
    ZSTD_DStream *stream;
    size_t last; /* ZSTD_decompressStream's last hint: 0 at a frame's end */
    bool started;
};

hl_unzstd *hl_unzstd_new(void)
{
    ZSTD_DStream *stream = ZSTD_createDStream_advanced(private_arena);
    if (!stream) return NULL;
    hl_unzstd *u = hl_mem_alloc(sizeof *u);
    *u = (hl_unzstd){stream, 1, false};
    return u;
}

void hl_unzstd_free(hl_unzstd *u)
{
    if (!u) return;
    ZSTD_freeDStream(u->stream);
    hl_mem_free(u);
}

long hl_unzstd_step(hl_unzstd *u, const void *in, size_t in_size, size_t *in_pos, void *out, size_t capacity,
                    const char *name, hl_diag *diag)
{
    ZSTD_inBuffer i = {in, in_size, *in_pos};
    ZSTD_outBuffer o = {out, capacity, 0};
    u->started = true;
    while (o.pos < o.size && (i.pos < i.size || u->last != 0)) {
        size_t before_in = i.pos, before_out = o.pos;
        u->last = ZSTD_decompressStream(u->stream, &o, &i);
        if (ZSTD_isError(u->last)) return hl_trace_fail(diag, "%s: the zstd stream is damaged: %s", name, ZSTD_getErrorName(u->last));
        if (i.pos == before_in && o.pos == before_out) break; /* needs more input */
    }
    *in_pos = i.pos;
    return (long)o.pos;
}

bool hl_unzstd_inside_frame(const hl_unzstd *u) { return u->started && u->last != 0; }

/* A compressing FILE over another (fopencookie): each write is compressed and what
 * comes out written on; closing ends the frame. An error sets errno and the cookie's
 * error, so ferror and fclose report it as for any FILE. */
typedef struct zwriter {
    FILE *under;
    ZSTD_CCtx *context;
    unsigned char *buffer;
    size_t capacity;
} zwriter;

static int put(zwriter *z, ZSTD_inBuffer *in, ZSTD_EndDirective mode)
{
    size_t left;
    do {
        ZSTD_outBuffer o = {z->buffer, z->capacity, 0};
        left = ZSTD_compressStream2(z->context, &o, in, mode);
        if (ZSTD_isError(left)) return errno = EIO, -1;
        if (o.pos && fwrite(z->buffer, 1, o.pos, z->under) != o.pos) return -1;
    } while (mode == ZSTD_e_end ? left != 0 : in->pos < in->size);
    return 0;
}

static ssize_t zwrite(void *cookie, const char *data, size_t size)
{
    ZSTD_inBuffer in = {data, size, 0};
    return put(cookie, &in, ZSTD_e_continue) == 0 ? (ssize_t)size : -1;
}

static int zclose(void *cookie)
{
    zwriter *z = cookie;
    ZSTD_inBuffer none = {NULL, 0, 0};
    int rc = put(z, &none, ZSTD_e_end);
    ZSTD_freeCCtx(z->context);
    hl_mem_free(z->buffer);
    hl_mem_free(z);
    return rc;
}

FILE *hl_zstd_writer(FILE *under)
{
    ZSTD_CCtx *context = ZSTD_createCCtx_advanced(private_arena);
    if (!context) return errno = ENOMEM, NULL;
    ZSTD_CCtx_setParameter(context, ZSTD_c_compressionLevel, HL_ZSTD_LEVEL);
    zwriter *z = hl_mem_alloc(sizeof *z);
    *z = (zwriter){under, context, hl_mem_alloc(ZSTD_CStreamOutSize()), ZSTD_CStreamOutSize()};
    FILE *f = fopencookie(z, "w", (cookie_io_functions_t){NULL, zwrite, NULL, zclose});
    if (!f) {
        ZSTD_freeCCtx(context);
        hl_mem_free(z->buffer);
        hl_mem_free(z);
    }
    return f;
}
