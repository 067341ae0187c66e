/* mem.c: heaplab's private memory, mmap-backed, never the process malloc.
 *
 * Small requests (header included, up to 32 KiB) come from power-of-two classes
 * carved from 1 MiB chunks, with a LIFO free list per class; larger ones get their
 * own mapping, resized with mremap. Every block has a 16-byte header in front:
 *   small: header.size_class = class index, header.mapping = 0
 *   large: header.size_class = LARGE,        header.mapping = bytes mapped
 * Invariants: a free-list block is not in use; chunk bytes below chunk_bump are
 * handed out or on a free list. Not thread-safe (the harness is single-threaded). */
#include "hl_core.h"
#include "hl_source.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define ARENA_HEADER 16u
#define ARENA_CLASSES 12u /* 16 B .. 32 KiB */
#define ARENA_LARGE 0xffu
#define ARENA_CHUNK HL_OS_HUGE_FROM

typedef struct arena_header {
    uint64_t size_class;
    uint64_t mapping;
} arena_header;

typedef struct arena_free {
    struct arena_free *next;
} arena_free;

static arena_free *free_lists[ARENA_CLASSES];
static unsigned char *chunk_bump, *chunk_end;
static size_t mapped_bytes;

static void arena_die(size_t size)
{
    static const char msg[] = "heaplab: out of memory for its own bookkeeping\n";
    (void)size;
    if (write(2, msg, sizeof msg - 1) < 0) { /* nothing more to do */ }
    _exit(2);
}

/* Big arrays (a 1M-operation trace, the block map, the address index) sit on huge
 * pages when the kernel gives them (hl_os_map): they are read at random. */
static void *arena_map(size_t bytes)
{
    void *p = hl_os_map(bytes);
    if (!p) arena_die(bytes);
    mapped_bytes += bytes;
    return p;
}

static unsigned class_of(size_t total)
{
    unsigned c = 0;
    while ((16u << c) < total) c++;
    return c;
}

void *hl_mem_alloc(size_t size)
{
    if (size > SIZE_MAX / 2) arena_die(size);
    size_t total = size + ARENA_HEADER;
    arena_header *h;
    if (total <= (16u << (ARENA_CLASSES - 1))) {
        unsigned c = class_of(total);
        size_t bytes = 16u << c;
        if (free_lists[c]) {
            h = (arena_header *)free_lists[c];
            free_lists[c] = free_lists[c]->next;
        } else {
            if (!chunk_bump || (size_t)(chunk_end - chunk_bump) < bytes) {
                chunk_bump = arena_map(ARENA_CHUNK);
                chunk_end = chunk_bump + ARENA_CHUNK;
            }
            h = (arena_header *)chunk_bump;
            chunk_bump += bytes;
        }
        memset(h, 0, bytes);
        h->size_class = c;
    } else {
        size_t bytes = hl_os_page_round(total);
        h = arena_map(bytes); /* fresh mappings are zeroed */
        h->size_class = ARENA_LARGE;
        h->mapping = bytes;
    }
    return (unsigned char *)h + ARENA_HEADER;
}

static arena_header *header_of(void *ptr) { return (arena_header *)((unsigned char *)ptr - ARENA_HEADER); }

static size_t capacity_of(const arena_header *h)
{
    return h->size_class == ARENA_LARGE ? h->mapping - ARENA_HEADER
                                        : (16u << h->size_class) - ARENA_HEADER;
}

void hl_mem_free(void *ptr)
{
    if (!ptr) return;
    arena_header *h = header_of(ptr);
    if (h->size_class == ARENA_LARGE) {
        mapped_bytes -= h->mapping;
        hl_os_unmap(h, h->mapping);
        return;
    }
    arena_free *f = (arena_free *)h;
    unsigned c = (unsigned)h->size_class;
    f->next = free_lists[c];
    free_lists[c] = f;
}

void *hl_mem_realloc(void *ptr, size_t size)
{
    if (!ptr) return hl_mem_alloc(size);
    arena_header *h = header_of(ptr);
    size_t old = capacity_of(h);
    if (h->size_class == ARENA_LARGE && size > (16u << (ARENA_CLASSES - 1))) {
        if (size > SIZE_MAX / 2) arena_die(size);
        size_t bytes = hl_os_page_round(size + ARENA_HEADER);
        void *p = hl_os_remap(h, h->mapping, bytes);
        if (!p) arena_die(size);
        mapped_bytes += bytes - ((arena_header *)p)->mapping;
        ((arena_header *)p)->mapping = bytes; /* grown bytes are zero: fresh pages */
        return (unsigned char *)p + ARENA_HEADER;
    }
    if (size <= old && h->size_class != ARENA_LARGE) {
        memset((unsigned char *)ptr + size, 0, old - size);
        return ptr;
    }
    void *fresh = hl_mem_alloc(size);
    memcpy(fresh, ptr, old < size ? old : size);
    hl_mem_free(ptr);
    return fresh;
}

char *hl_mem_strndup(const char *s, size_t n)
{
    size_t len = strnlen(s, n);
    char *copy = hl_mem_alloc(len + 1);
    memcpy(copy, s, len);
    return copy;
}

char *hl_mem_strdup(const char *s) { return hl_mem_strndup(s, SIZE_MAX); }

size_t hl_mem_footprint(void) { return mapped_bytes; }
