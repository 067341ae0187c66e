/* exmalloc.c: an example malloc-style library for `heaplab ... --backends
 * malloc:ex_@build/examples/libexmalloc.so`: what an allocator author points heaplab
 * at. Size classes of 16 << k bytes with LIFO free lists, one 16-byte header per
 * block (its class), blocks from 1 MiB mmap'd chunks; anything over 64 KiB gets a
 * mapping of its own. It exports ex_malloc, ex_free, ex_realloc, ex_aligned_alloc and
 * ex_malloc_usable_size, and no ex_calloc: heaplab declares that one absent (built
 * with -DEXMALLOC_NO_ALIGNED_ALLOC it has no ex_aligned_alloc either, and heaplab
 * answers alignments above 16 with UNSUPPORTED).
 *
 * EXMALLOC_CRASH_AFTER=N makes the Nth ex_malloc write through a null pointer (a
 * planted crash, to see heaplab report it as a CRASH finding and carry on). */
#define _GNU_SOURCE /* MAP_ANONYMOUS */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define HEADER 16u
#define CLASSES 13 /* 16 B .. 64 KiB */
#define CHUNK (1u << 20)
#define BIG 0xffu

void *ex_malloc(size_t size);
void ex_free(void *p);
void *ex_realloc(void *p, size_t size);
void *ex_aligned_alloc(size_t align, size_t size);
size_t ex_malloc_usable_size(void *p);

static void *free_lists[CLASSES];
static char *chunk_at, *chunk_end;
static unsigned long mallocs, crash_after;

typedef struct header {
    size_t bytes; /* the block's capacity */
    size_t cls;   /* class index; or BIG | (offset of the header in its mapping) << 8 */
} header;

static header *head_of(void *p) { return (header *)((char *)p - HEADER); }

static void *carve(size_t bytes)
{
    if (chunk_at == NULL || (size_t)(chunk_end - chunk_at) < bytes) {
        void *m = mmap(NULL, CHUNK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (m == MAP_FAILED) return NULL;
        chunk_at = m;
        chunk_end = chunk_at + CHUNK;
    }
    void *p = chunk_at;
    chunk_at += bytes;
    return p;
}

void *ex_malloc(size_t size)
{
    if (crash_after == 0) {
        const char *env = getenv("EXMALLOC_CRASH_AFTER");
        crash_after = env ? strtoul(env, NULL, 10) : (unsigned long)-1;
    }
    if (++mallocs == crash_after) *(volatile int *)(uintptr_t)0 = 1;
    size_t cls = 0;
    while (cls < CLASSES && (16u << cls) < size) cls++;
    header *h;
    if (cls == CLASSES) {
        if (size > SIZE_MAX / 2) return NULL;
        size_t bytes = (size + HEADER + 4095) & ~(size_t)4095;
        void *m = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (m == MAP_FAILED) return NULL;
        h = m;
        h->bytes = bytes - HEADER;
        h->cls = BIG;
    } else if (free_lists[cls]) {
        void *p = free_lists[cls];
        free_lists[cls] = *(void **)p;
        return p;
    } else {
        h = carve(HEADER + (16u << cls));
        if (!h) return NULL;
        h->bytes = 16u << cls;
        h->cls = cls;
    }
    return (char *)h + HEADER;
}

void ex_free(void *p)
{
    if (!p) return;
    header *h = head_of(p);
    if ((h->cls & 0xff) == BIG) {
        size_t offset = h->cls >> 8;
        munmap((char *)h - offset, offset + HEADER + h->bytes);
        return;
    }
    *(void **)p = free_lists[h->cls];
    free_lists[h->cls] = p;
}

size_t ex_malloc_usable_size(void *p) { return p ? head_of(p)->bytes : 0; }

void *ex_realloc(void *p, size_t size)
{
    if (!p) return ex_malloc(size);
    size_t have = head_of(p)->bytes;
    if (size <= have) return p;
    void *fresh = ex_malloc(size);
    if (!fresh) return NULL; /* the old block stays */
    memcpy(fresh, p, have);
    ex_free(p);
    return fresh;
}

#ifndef EXMALLOC_NO_ALIGNED_ALLOC
/* A mapping of its own, with the aligned address inside it and the header just in
 * front, which records where the mapping starts. */
void *ex_aligned_alloc(size_t align, size_t size)
{
    if (align <= 16) return ex_malloc(size);
    if (size > SIZE_MAX / 2 || align > (1u << 20)) return NULL;
    size_t bytes = (size + align + HEADER + 4095) & ~(size_t)4095;
    char *m = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) return NULL;
    char *p = (char *)(((uintptr_t)m + HEADER + align - 1) & ~(uintptr_t)(align - 1));
    header *h = head_of(p);
    h->cls = BIG | (size_t)((char *)h - m) << 8;
    h->bytes = bytes - (size_t)(p - m); /* usable: to the mapping's end */
    return p;
}
#endif
