/* exmalloc.c: an example malloc-style library for `heaplab ... --backends
 * malloc:ex_@build/examples/libexmalloc.so`: what an allocator author points heaplab
 * at. Size classes of 16 << k bytes with LIFO free lists, one 16-byte header per
 * block (its class), blocks from 1 MiB mmap'd chunks; anything over 64 KiB gets a
 * mapping of its own. It exports ex_malloc, ex_free, ex_realloc, ex_aligned_alloc,
 * ex_malloc_usable_size and the three hooks heaplab uses when present:
 *   ex_footprint  the bytes it holds from the system (its mappings);
 *   ex_check      a walk of its free lists: NULL, or what is broken;
 *   ex_reset      back to empty (every chunk unmapped; the live blocks must be freed);
 * and no ex_calloc: heaplab declares that one absent. Built with
 * -DEXMALLOC_NO_ALIGNED_ALLOC it has no ex_aligned_alloc (heaplab answers alignments
 * above 16 with UNSUPPORTED), with -DEXMALLOC_NO_HOOKS none of the three hooks (its
 * footprint is then "not measured").
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
size_t ex_footprint(void);
const char *ex_check(void);
void ex_reset(void);

static void *free_lists[CLASSES];
static char *chunk_at, *chunk_end;
static void *chunks;   /* every chunk, linked through its first word */
static size_t mapped;  /* bytes of every mapping: the footprint */
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
        *(void **)m = chunks;
        chunks = m;
        mapped += CHUNK;
        chunk_at = (char *)m + HEADER; /* the link's room: blocks stay 16-aligned */
        chunk_end = (char *)m + CHUNK;
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
        mapped += bytes;
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
        mapped -= offset + HEADER + h->bytes;
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
    mapped += bytes;
    char *p = (char *)(((uintptr_t)m + HEADER + align - 1) & ~(uintptr_t)(align - 1));
    header *h = head_of(p);
    h->cls = BIG | (size_t)((char *)h - m) << 8;
    h->bytes = bytes - (size_t)(p - m); /* usable: to the mapping's end */
    return p;
}
#endif

#ifndef EXMALLOC_NO_HOOKS
size_t ex_footprint(void) { return mapped; }

/* Every free-list entry is a block of its list's class inside one of the chunks, and
 * no list is longer than the chunks could hold (a cycle would be). */
const char *ex_check(void)
{
    size_t chunk_count = 0;
    for (void *c = chunks; c; c = *(void **)c) chunk_count++;
    for (size_t cls = 0; cls < CLASSES; cls++) {
        size_t n = 0;
        for (void *p = free_lists[cls]; p; p = *(void **)p) {
            if (head_of(p)->cls != cls) return "ex_check: a free-list block has another class in its header";
            int inside = 0;
            for (void *c = chunks; c && !inside; c = *(void **)c)
                inside = (char *)p > (char *)c && (char *)p < (char *)c + CHUNK;
            if (!inside) return "ex_check: a free-list block lies in no chunk";
            if (++n > chunk_count * (CHUNK / (HEADER + (16u << cls)))) return "ex_check: a free list loops";
        }
    }
    return NULL;
}

void ex_reset(void)
{
    while (chunks) {
        void *next = *(void **)chunks;
        munmap(chunks, CHUNK);
        mapped -= CHUNK;
        chunks = next;
    }
    memset(free_lists, 0, sizeof free_lists);
    chunk_at = chunk_end = NULL;
}
#endif
