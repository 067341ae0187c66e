/* malloc_adapter.h: the adapter that makes a malloc-style allocator a heaplab backend
 * (malloc_adapter.c), shared by libc (libc.c), malloc:PREFIX@LIB (malloc_lib.c) and
 * the peers jemalloc, mimalloc, tcmalloc (one file each). Internal to allocators/. */
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

/* An allocator behind the adapter: libc, a peer, or a loaded library. */
typedef struct hl_malloc_peer {
    const char *name;          /* "jemalloc" */
    hl_malloc_fns f;
    size_t min_align;          /* what its malloc guarantees for every size */
    /* bytes it holds now, by its own statistics (sampled); NULL for a loaded library
     * (malloc:PREFIX@LIB): the footprint is then the live bytes, nothing more is
     * known, and neither thread safety nor in-place realloc is declared */
    size_t (*footprint)(void);
    size_t (*baseline)(void);  /* at create: the part of that figure not this instance's
                                  (glibc: what others hold live in its heap); NULL: 0 */
    /* Optional: true when the footprint cannot have moved since the last reading,
     * given the largest block allocated, resized or freed since (a cheap test that
     * spares a costly reading; called from one thread only); NULL: always read. */
    bool (*same_footprint)(size_t largest);
    const char *source;        /* describe's source: version and which figure is the footprint */
    bool *instance_live;       /* one instance per process (its statistics are the
                                  process's); NULL: any number */
    /* A loaded library (malloc:PREFIX@LIB) only: what it exports beyond malloc, free and
     * realloc (each NULL when absent), and what the spec declares. Its malloc(n) promises
     * the alignment of the types that fit in n bytes: min(min_align, the largest power
     * of two <= n) (CONTRACT.md); a request beyond that goes to f.aligned. */
    bool library;
    size_t (*library_footprint)(void);  /* PREFIXfootprint: bytes held from the system */
    const char *(*library_check)(void); /* PREFIXcheck: NULL, or what is broken */
    void (*library_reset)(void);        /* PREFIXreset: back to empty */
    bool thread_safe;                   /* thread_safe=1 */
    const char *label;                  /* name=LABEL, or the library's file name */
} hl_malloc_peer;

/* Makes an instance over a copy of *peer (its strings and instance_live must outlive
 * the instance). Fails with UNSUPPORTED when an instance of the same peer is live,
 * OUT_OF_MEMORY when the adapter's own memory cannot be mapped; *out untouched then. */
hl_error hl_malloc_adapter_create(const hl_malloc_peer *peer, const hl_config *config, hl_heap **out);

/* Fills every entry of table with the adapter's functions, then the identity: name,
 * summary, option docs, create. Returns table. */
const hl_backend *hl_malloc_adapter_table(hl_backend *table, const char *name, const char *summary,
                                          const hl_option_doc *option_docs,
                                          hl_error (*create)(const hl_config *, hl_heap **));

/* A peer that moves the program break (tcmalloc's sbrk) names itself here when it is
 * loaded: glibc then counts the foreign growth as its own (mallinfo2's arena), so
 * libc's footprint in this process is not measured from then on. NULL: none. */
extern const char *hl_malloc_break_mover;

/* ---------------------------------------------------------------- loading a peer */

/* An entry point of a library and where its address goes (a function pointer, seen
 * as void *). */
typedef struct hl_malloc_entry {
    const char *symbol;
    void **slot;
} hl_malloc_entry;
#define HL_MALLOC_ENTRY(symbol, field) {symbol, (void **)&(field)}

/* Opens soname once per process (dlopen RTLD_NOW | RTLD_LOCAL, kept loaded, *lib the
 * handle) and binds every entry, all or none (at most 8): false with a message naming
 * `name` in config if the library does not load or lacks one of them. */
bool hl_malloc_bind(const hl_config *config, const char *name, const char *soname, void **lib,
                    const hl_malloc_entry *entries, size_t count);

#endif
