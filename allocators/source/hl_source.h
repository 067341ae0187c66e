/* hl_source.h: the memory-source layer. A reference backend gets memory only from a
 * source: an address space it grows on demand, whose committed bytes are the
 * backend's footprint (CONTRACT.md, "Memory sources").
 *
 * Addresses: a source maps backend addresses (hl_addr) to host bytes. For os pages and
 * static buffers an address is the host pointer; for linear memory it is the u32
 * offset into the memory (address 0 is the memory's first byte). Offsets below
 * hl_source.heap_base are never handed out as blocks (linear: 1024; 0 is never a
 * block anywhere). */
#ifndef HL_SOURCE_H
#define HL_SOURCE_H

#include "heaplab.h"

typedef enum hl_source_kind { HL_SOURCE_OS, HL_SOURCE_STATIC, HL_SOURCE_LINEAR } hl_source_kind;

#define HL_LINEAR_PAGE 65536u
#define HL_LINEAR_HEAP_BASE 1024u
#define HL_LINEAR_MAX_PAGES 65536u

/* What a backend spec says about its source (the options of HL_SOURCE_OPTIONS, the
 * kit's shared fragment, fill it). */
typedef struct hl_source_config {
    hl_source_kind kind; /* source=os|static|linear (default os) */
    uint64_t size;       /* os: bytes reserved; static: bytes used of the buffer; 0 (the
                            default): 4G for os, the whole buffer for static */
    uint32_t max_pages;  /* linear: maximum 64 KiB pages (default 65536 = 4 GiB) */
    bool huge;           /* os: ask for huge pages (MAP_HUGETLB, else MADV_HUGEPAGE) */
    bool sparse;         /* HL_HINT_SPARSE: a commit step is made resident up to 1 MiB only */
} hl_source_config;

/* Invariants: [0, committed) of the address space is readable and writable;
 * committed <= reserved; committed is a multiple of page; peak >= committed. */
typedef struct hl_source {
    hl_source_kind kind;
    unsigned char *host;  /* host address of the space's first byte */
    hl_addr origin;       /* the backend address of host[0] */
    size_t committed;     /* bytes usable from the start */
    size_t reserved;      /* the most it can ever commit */
    size_t peak;          /* largest committed seen */
    size_t page;          /* 4 KiB (os, static) or 64 KiB (linear) */
    size_t heap_base;     /* first offset a block may start at */
    bool mapped;          /* host was mmap'ed by the source (os, linear) */
    const char *huge;     /* "none", "MAP_HUGETLB" or "MADV_HUGEPAGE": what took effect */
    bool sparse;          /* the config's: commit steps resident up to SPARSE_RESIDENT only */
} hl_source;

/* Defaults: os, its default size (4G os, the whole buffer static), 65536 pages, no
 * huge pages. */
void hl_source_config_init(hl_source_config *config);

/* A size in a backend option: digits with an optional K, M or G suffix (powers of
 * 1024). False (out untouched) for anything else or on overflow. */
bool hl_source_parse_size(const char *text, uint64_t *out);

/* Opens a source. buffer/buffer_size is the caller's buffer (static only; it must be
 * given then). Commits the first `initial` bytes. Fails with INVALID_ARGUMENT (static
 * without a buffer, sizes that make no sense) or OUT_OF_MEMORY; *source untouched. */
hl_error hl_source_open(hl_source *source, const hl_source_config *config, void *buffer,
                        size_t buffer_size, size_t initial, char *message, size_t capacity);
/* Releases what the source mapped (never the caller's buffer). */
void hl_source_close(hl_source *source);

/* Makes [0, bytes) committed (rounded up to whole pages). OK if already; else
 * OUT_OF_MEMORY with nothing changed (past the reservation, the buffer or max_pages). */
hl_error hl_source_commit(hl_source *source, size_t bytes);
/* Linear memory's memory.grow: adds pages, returns the OLD page count, or -1 (nothing
 * changed) past max_pages. */
int64_t hl_source_grow_pages(hl_source *source, uint32_t pages);

/* The host bytes of [addr, addr + len) if they lie in committed memory, else NULL. */
static inline void *hl_source_host(const hl_source *source, hl_addr addr, size_t len)
{
    hl_addr offset = addr - source->origin;
    if (addr < source->origin || offset > source->committed || len > source->committed - offset) return 0;
    return source->host + offset;
}
/* The backend address of offset. */
static inline hl_addr hl_source_addr(const hl_source *source, size_t offset) { return source->origin + offset; }
/* The offset of a backend address (no check). */
static inline size_t hl_source_offset(const hl_source *source, hl_addr addr) { return (size_t)(addr - source->origin); }

/* ---------------------------------------------------------------- bookkeeping memory */

/* Private zeroed OS memory for bookkeeping (os_map.c), never from malloc. From
 * HL_OS_HUGE_FROM bytes up it starts on a 2 MiB boundary with huge pages asked for.
 * Sizes round up to whole pages. NULL (nothing mapped) on failure. */
#define HL_OS_HUGE_FROM ((size_t)2 << 20)
void *hl_os_map(size_t bytes);
void hl_os_unmap(void *p, size_t bytes);
/* Grows or shrinks a mapping from hl_os_map without copying; the bytes kept stay,
 * new ones are zero. NULL on failure, the old mapping then intact. */
void *hl_os_remap(void *p, size_t old_bytes, size_t new_bytes);
/* bytes rounded up to whole OS pages */
size_t hl_os_page_round(size_t bytes);
/* The machine's memory, RAM and swap (sysinfo), or UINT64_MAX when it cannot be read:
 * a request above it is one glibc's malloc refuses too (its overcommit heuristic), so
 * heaplab refuses it without calling the allocator (a lazily mapping one would hand
 * out 1 TiB at once). A system call: read it once, not per operation. */
uint64_t hl_os_memory(void);

typedef enum hl_protection { HL_PROT_NONE, HL_PROT_R, HL_PROT_RW, HL_PROT_RX } hl_protection;
/* Changes the protection of the committed pages covering [offset, offset + len)
 * (os pages only; UNSUPPORTED elsewhere; INVALID_ARGUMENT outside committed). */
hl_error hl_source_protect(hl_source *source, size_t offset, size_t len, hl_protection protection);

#endif
