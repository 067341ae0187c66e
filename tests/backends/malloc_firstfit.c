/* malloc_firstfit.c: a first-fit malloc-style library with boundary tags and a
 * planted bug of a real kind (issue 21): realloc that shrinks a block in place splits
 * off the tail as a free block but leaves the header of the block after it stale (its
 * prev_size still spans the whole old block). Nothing shows until that next block is
 * freed while the shrunk block is free too: the backward merge then swallows the
 * live block in between, and a later malloc hands it out again (OVERLAP).
 *
 * Built twice (Makefile): build/tests/libmalloc_firstfit.so with the bug and
 * build/tests/libmalloc_firstfit_fixed.so with -DFIRSTFIT_FIXED, so a test can show
 * that what heaplab finds is the bug. Used as --backends malloc:ff_@LIB. It exports
 * ff_malloc, ff_free, ff_realloc, ff_malloc_usable_size and ff_footprint, and no reset:
 * its heap is process-global and lives from one input to the next, like a real
 * library's.
 *
 * Layout: one 1 GiB reservation; blocks are carved from its bottom, each a 16-byte
 * header {size | USED, prev_size} and a payload (16-aligned); free blocks sit on one
 * doubly linked list kept in their payloads and merge with free neighbours. */
#define _GNU_SOURCE /* MAP_ANONYMOUS, MAP_NORESERVE */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#define RESERVE ((size_t)1 << 30)
#define HEADER 16u
#define MIN_BLOCK 32u
#define USED ((size_t)1)

void *ff_malloc(size_t size);
void ff_free(void *p);
void *ff_realloc(void *p, size_t size);
size_t ff_malloc_usable_size(void *p);
size_t ff_footprint(void);

typedef struct block {
    size_t size;      /* the whole block's bytes, USED in bit 0 */
    size_t prev_size; /* the bytes of the block just below (0: none) */
} block;

typedef struct node { /* a free block's payload */
    struct node *next, *prev;
} node;

static char *base, *top; /* [base, top): carved; top: the wilderness */
static size_t top_prev;  /* the bytes of the block just below top */
static node *free_list;

static size_t size_of(const block *b) { return b->size & ~USED; }
static block *block_of(void *p) { return (block *)((char *)p - HEADER); }
static block *after(block *b) { return (block *)((char *)b + size_of(b)); }
static node *node_of(block *b) { return (node *)((char *)b + HEADER); }

static void link_in(block *b)
{
    node *n = node_of(b);
    n->prev = NULL;
    n->next = free_list;
    if (free_list) free_list->prev = n;
    free_list = n;
}

static void unlink_out(block *b)
{
    node *n = node_of(b);
    if (n->prev) n->prev->next = n->next;
    else free_list = n->next;
    if (n->next) n->next->prev = n->prev;
}

/* The block after b learns b's size (or the wilderness does). */
static void tell_next(block *b)
{
    block *next = after(b);
    if ((char *)next < top) next->prev_size = size_of(b);
    else top_prev = size_of(b);
}

static size_t needed(size_t size)
{
    if (size > RESERVE) return 0;
    size_t need = ((size + 15) & ~(size_t)15) + HEADER;
    return need < MIN_BLOCK ? MIN_BLOCK : need;
}

/* Cuts b (free, off the list) to need bytes; the rest becomes a free block. */
static void split(block *b, size_t need)
{
    size_t whole = size_of(b);
    if (whole - need < MIN_BLOCK) return;
    block *rest = (block *)((char *)b + need);
    rest->size = whole - need;
    rest->prev_size = need;
    b->size = need | (b->size & USED);
    tell_next(rest);
    link_in(rest);
}

void *ff_malloc(size_t size)
{
    size_t need = needed(size);
    if (!need) return NULL;
    for (node *n = free_list; n; n = n->next) {
        block *b = (block *)((char *)n - HEADER);
        if (size_of(b) < need) continue;
        unlink_out(b);
        split(b, need);
        b->size |= USED;
        return node_of(b);
    }
    if (!base) {
        void *m = mmap(NULL, RESERVE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (m == MAP_FAILED) return NULL;
        base = top = m;
    }
    if ((size_t)(base + RESERVE - top) < need) return NULL;
    block *b = (block *)top;
    b->size = need | USED;
    b->prev_size = top_prev;
    top += need;
    top_prev = need;
    return node_of(b);
}

void ff_free(void *p)
{
    if (!p) return;
    block *b = block_of(p);
    size_t size = size_of(b);
    block *next = after(b);
    if ((char *)next < top && !(next->size & USED)) {
        unlink_out(next);
        size += size_of(next);
    }
    if (b->prev_size) {
        block *prev = (block *)((char *)b - b->prev_size);
        if (!(prev->size & USED)) { /* trusts prev_size: a stale one merges too far back */
            unlink_out(prev);
            size += (size_t)((char *)b - (char *)prev);
            b = prev;
        }
    }
    b->size = size;
    if ((char *)b + size >= top) { /* back to the wilderness */
        top = (char *)b;
        top_prev = b->prev_size;
        return;
    }
    tell_next(b);
    link_in(b);
}

void *ff_realloc(void *p, size_t size)
{
    if (!p) return ff_malloc(size);
    size_t need = needed(size);
    if (!need) return NULL;
    block *b = block_of(p);
    size_t have = size_of(b);
    if (need <= have) {
        if (have - need >= MIN_BLOCK) { /* shrink in place: the tail goes free */
            block *rest = (block *)((char *)b + need);
            rest->size = have - need;
            rest->prev_size = need;
            b->size = need | USED;
#ifdef FIRSTFIT_FIXED
            tell_next(rest);
#else
            if ((char *)after(rest) >= top) top_prev = size_of(rest); /* the bug: a block after it keeps prev_size = have */
#endif
            link_in(rest);
        }
        return p;
    }
    void *q = ff_malloc(size);
    if (!q) return NULL;
    memcpy(q, p, have - HEADER);
    ff_free(p);
    return q;
}

size_t ff_malloc_usable_size(void *p) { return p ? size_of(block_of(p)) - HEADER : 0; }

size_t ff_footprint(void) { return (size_t)(top - base); }
