/* malloc_adapter.h: the adapter that makes a malloc-style allocator a heaplab backend
 * (libc.c), shared by malloc:PREFIX@LIB and the peers: glibc (libc.c) and jemalloc,
 * mimalloc, tcmalloc (peers.c). Internal to allocators/. */
#ifndef HL_MALLOC_ADAPTER_H
#define HL_MALLOC_ADAPTER_H

#include "heaplab.h"

#include <stdbool.h>
#include <stddef.h>

/* The allocator's entry points; NULL where it has none. malloc and realloc are never
 * called with size 0; realloc never with NULL. */
typedef struct hl_malloc_fns {
    void *(*malloc)(size_t);
    void (*free)(void *);
    void *(*realloc)(void *, size_t);
    void *(*aligned)(size_t align, size_t size);
    void *(*calloc)(size_t, size_t); /* not used by the contract: reported by describe */
    size_t (*usable)(void *);
} hl_malloc_fns;

/* A peer: an allocator people use, built into heaplab as a foreign backend. */
typedef struct hl_malloc_peer {
    const char *name;          /* "jemalloc" */
    hl_malloc_fns f;
    size_t min_align;          /* what its malloc guarantees for every size */
    size_t (*footprint)(void); /* bytes it holds now, by its own statistics (sampled) */
    size_t (*baseline)(void);  /* at create: the part of that figure not this instance's
                                  (glibc: what others hold live in its heap); NULL: 0 */
    const char *source;        /* describe's source: version and which figure is the footprint */
    bool *instance_live;       /* one instance per process: its statistics are the process's */
} hl_malloc_peer;

/* Makes an instance over peer (which must outlive it). Fails with UNSUPPORTED when
 * an instance of the same peer is live, OUT_OF_MEMORY when the adapter's own memory
 * cannot be mapped; *out untouched then. */
hl_error hl_malloc_adapter_create(const hl_malloc_peer *peer, const hl_config *config, hl_heap **out);

/* Fills every entry of table but the identity (name, class, summary, options) and
 * create with the adapter's functions. */
void hl_malloc_adapter_table(hl_backend *table);

#endif
