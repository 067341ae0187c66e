/* heaplab.h: the allocator contract every heaplab backend implements.
 *
 * The semantics are those of shared/CONTRACT.md; this header is their C spelling.
 * Freestanding on purpose (stddef/stdint/stdbool only): the wasm backend compiles
 * against it for wasm32 with no libc.
 *
 * Shape (SQLite's pluggable mem methods, o1heap's instance handles):
 *   - a backend is a const hl_backend table, struct size and contract version first;
 *   - hl_backend.create builds an instance (an hl_heap) from options; there is no
 *     global state, so many instances of many backends live side by side;
 *   - a block is an hl_addr: a host pointer for native memories, a u32 offset for
 *     linear (wasm) memories. 0 is never a block. The harness touches block bytes only
 *     through mem_view, so both kinds are driven by the same code.
 *
 * Every operation either succeeds or fails with a named hl_error and changes nothing.
 */
#ifndef HEAPLAB_H
#define HEAPLAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped whenever hl_backend's layout or any slot's meaning changes. A plugin built
 * against another version is refused with a clear message, never called. */
#define HL_CONTRACT_VERSION 1u

/* ---------------------------------------------------------------- errors */

/* Error codes: one table; the enum, hl_error_name and hl_error_from_name come from it.
 * OK is 0 so a zeroed hl_error means success. */
#define HL_ERRORS(X)                                                                    \
    X(OK, "success")                                                                    \
    X(OUT_OF_MEMORY, "the memory source cannot provide the bytes")                      \
    X(INVALID_ARGUMENT, "a parameter is outside the contract (align not a power of two, " \
                        "size overflow, scope handle not open)")                        \
    X(UNSUPPORTED, "a capability, alignment or operation this instance cannot serve")  \
    X(CAPACITY, "a declared capacity limit (e.g. live-block count) would be exceeded")  \
    X(INVALID_POINTER, "free of a pointer that was never allocated or is interior")    \
    X(DOUBLE_FREE, "free of a block that is already free")                              \
    X(LAYOUT_MISMATCH, "free with a layout other than the one allocated with")          \
    X(OVERFLOW, "access past the end of a live block")                                  \
    X(UNDERFLOW, "access before the start of a live block")                             \
    X(USE_AFTER_FREE, "access to a block after it was freed")                           \
    X(CORRUPTED, "check found a broken heap invariant")

typedef enum hl_error {
#define HL_ERROR_ENUM(name, text) HL_E_##name,
    HL_ERRORS(HL_ERROR_ENUM)
#undef HL_ERROR_ENUM
    HL_E_COUNT
} hl_error;

/* "OUT_OF_MEMORY" for HL_E_OUT_OF_MEMORY; "?" for a value outside the table. */
const char *hl_error_name(hl_error error);
/* One-line description of the error, from the same table. */
const char *hl_error_text(hl_error error);
/* The error named `name` (exact, upper case), or HL_E_COUNT if there is none. */
hl_error hl_error_from_name(const char *name);

/* ---------------------------------------------------------------- rule ids */

/* The rules the shadow model, the differential comparator, the JSON, the shrinker and
 * the tests name. One table: a new rule is one line. The text says what was broken. */
#define HL_RULES(X)                                                                      \
    X(NULL_BLOCK, "a successful allocation returned the null block")                    \
    X(ALIGNMENT, "a block is not aligned to max(align, min_align)")                     \
    X(OUTSIDE_FOOTPRINT, "a block lies outside the memory the backend has committed")   \
    X(OVERLAP, "a block overlaps another live block")                                   \
    X(USABLE_SIZE, "usable_size is smaller than the requested size")                    \
    X(CAPS_EXEC, "an EXEC block is outside the exec region or shares a page")           \
    X(CAPS_DMA, "a DMA block is outside the DMA window or shares a cache line")         \
    X(CAPS_IGNORED, "a capability the instance lacks was served instead of UNSUPPORTED") \
    X(CONTENTS, "a live block no longer holds the bytes written into it")               \
    X(REALLOC_PREFIX, "realloc did not keep the first min(old, new) bytes")             \
    X(PROMOTE_PREFIX, "promote did not keep the first n bytes")                         \
    X(WRONG_ERROR, "an operation failed with an error the contract does not allow here") \
    X(MISSED_ERROR, "an operation the contract says must fail succeeded")               \
    X(MISUSE_MISSED, "a declared misuse detection did not fire")                        \
    X(FAILURE_CHANGED, "a failed operation changed the heap")                           \
    X(SCOPE_FREED_SET, "a scope exit or free_all freed the wrong set of blocks")        \
    X(STATS_LIVE_BLOCKS, "stats.live_blocks disagrees with the model")                  \
    X(STATS_LIVE_BYTES, "stats.live_bytes disagrees with the model")                    \
    X(STATS_FOOTPRINT, "stats footprint is below the live bytes or the peak")           \
    X(CHECK_FAILED, "the backend's own heap check found a broken invariant")            \
    X(ACCESS_FAULT, "a legal access to a live block's bytes faulted")                   \
    X(OUTCOME_DIFFERS, "backends fed one stream disagree where the contract says they must agree") \
    X(OFFSET_DIFFERS, "offset-exact backends of one group handed out different offsets")   \
    X(CRASH, "the backend crashed (signal) while running the operation")                \
    X(HANG, "the backend did not finish the operation within the time limit")            \
    X(SANDBOX, "the backend made a system call heaplab's sandbox refuses (writing files, processes, signals)")

typedef enum hl_rule {
#define HL_RULE_ENUM(name, text) HL_RULE_##name,
    HL_RULES(HL_RULE_ENUM)
#undef HL_RULE_ENUM
    HL_RULE_COUNT
} hl_rule;

/* "OVERLAP" for HL_RULE_OVERLAP; "?" outside the table. */
const char *hl_rule_name(hl_rule rule);
const char *hl_rule_text(hl_rule rule);
/* The rule named `name`, or HL_RULE_COUNT if there is none. */
hl_rule hl_rule_from_name(const char *name);

/* ---------------------------------------------------------------- layouts, caps */

/* A block address in the backend's address space: a host pointer for native memory,
 * a u32 offset for linear memory. 0 is the null block. */
typedef uintptr_t hl_addr;

/* (size, align). align must be a power of two, else the operation fails with
 * INVALID_ARGUMENT. size 0 is legal and yields a unique, freeable block. */
typedef struct hl_layout {
    size_t size;
    size_t align;
} hl_layout;

/* Capability bits: a block with EXEC can hold code (never writable and executable at
 * once, see seal/unseal); DMA lies in the DMA window and shares no cache line. */
typedef uint32_t hl_caps;
#define HL_CAP_NONE 0u
#define HL_CAP_EXEC 1u
#define HL_CAP_DMA 2u
#define HL_CAP_ALL (HL_CAP_EXEC | HL_CAP_DMA)

/* An open scope, as returned by enter_scope. Opaque: round-trips unchanged. */
typedef uint64_t hl_scope;

/* ---------------------------------------------------------------- self-description */

typedef enum hl_class {
    HL_CLASS_REFERENCE, /* heaplab's own backend, on a memory source */
    HL_CLASS_FOREIGN    /* adapter over an allocator heaplab did not write */
} hl_class;

/* Feature bits an instance declares; the harness routes operations by them. */
#define HL_FEATURES(X)                                                                  \
    X(NATIVE_SCOPES, 1u << 0, "scopes are native (not the shared scope tracker)")     \
    X(CAP_EXEC, 1u << 1, "serves EXEC blocks, with seal/unseal")                      \
    X(CAP_DMA, 1u << 2, "serves DMA blocks from a DMA window")                        \
    X(THREAD_SAFE, 1u << 3, "operations may be called from several threads")          \
    X(INPLACE_REALLOC, 1u << 4, "realloc may keep the block's address")               \
    X(OFFSET_EXACT, 1u << 5, "hands out the same offsets as its offset_exact_group")  \
    X(LINEAR_MEMORY, 1u << 6, "addresses are u32 offsets into a linear memory")      \
    X(FOOTPRINT_UNKNOWN, 1u << 7, "stats' footprint figures are not measured (0): the " \
                                  "allocator offers no reading of what it holds") \
    X(REMOTE_MEMORY, 1u << 8, "its memory lives in another process: mem_view gives no "  \
                              "bytes, and the backend checks blocks' contents itself")

typedef enum hl_feature {
#define HL_FEATURE_ENUM(name, bit, text) HL_FEATURE_##name = (bit),
    HL_FEATURES(HL_FEATURE_ENUM)
#undef HL_FEATURE_ENUM
} hl_feature;

/* Misuse kinds are the misuse errors; a backend declares a bit mask of
 * HL_MISUSE_BIT(HL_E_...) for the kinds it detects. A backend is never sent a misuse
 * kind it does not declare. */
#define HL_MISUSE_BIT(error) (1u << (unsigned)(error))
#define HL_MISUSE_FREE_KINDS                                                            \
    (HL_MISUSE_BIT(HL_E_INVALID_POINTER) | HL_MISUSE_BIT(HL_E_DOUBLE_FREE) |            \
     HL_MISUSE_BIT(HL_E_LAYOUT_MISMATCH))
#define HL_MISUSE_ACCESS_KINDS                                                          \
    (HL_MISUSE_BIT(HL_E_OVERFLOW) | HL_MISUSE_BIT(HL_E_UNDERFLOW) |                     \
     HL_MISUSE_BIT(HL_E_USE_AFTER_FREE))

/* What an instance declares about itself, in data the harness reads. Filled by
 * hl_backend.describe; depends on the options the instance was built with. */
/* An instance's own entry points (hl_info.direct): what its alloc, free and realloc
 * come down to on the requests a malloc serves as it is. The measure path calls them
 * in place of the table, so a peer's time is its allocator's, not the contract's checks
 * around it (bench/yardstick.c calls the same functions). For caps 0, a power-of-two
 * align <= hl_direct_promise(d, size) and 1 <= size <= max_size:
 *   malloc(size)         is alloc(heap, {size, align}, 0, &e): the block, or NULL where
 *                        alloc fails with OUT_OF_MEMORY;
 *   realloc(block, size) is realloc(heap, block, old, size, &e) for old.align <=
 *                        hl_direct_promise(d, size); NULL: failed, block intact;
 *   free(block)          is free(heap, block, layout), for any live block.
 * The instance keeps no state of its own on these calls, so a block from either path
 * may be freed or resized through the other. */
typedef struct hl_direct {
    void *(*malloc)(size_t size);
    void (*free)(void *block);
    void *(*realloc)(void *block, size_t size);
    size_t max_size;   /* larger sizes go through the table (it may refuse them) */
    uint8_t align_log2; /* malloc(size) is aligned to 1 << align_log2 ... */
    bool by_size;       /* ... or, if set, to the largest power of two <= size if less
                         * (C's promise: malloc(4) need not be 8-aligned) */
} hl_direct;

/* The alignment d's malloc(size) promises (see hl_direct). */
static inline size_t hl_direct_promise(const hl_direct *d, size_t size)
{
    size_t a = (size_t)1 << d->align_log2;
    if (!d->by_size || size >= a) return a;
    return size ? (size_t)1 << (63 - __builtin_clzll((unsigned long long)size)) : 1;
}

typedef struct hl_info {
    const char *name;          /* backend name, as in a backend spec */
    hl_class backend_class;
    size_t min_align;          /* every block is aligned at least to this */
    size_t max_align;          /* largest alignment served; above: UNSUPPORTED */
    uint64_t max_live_blocks;  /* capacity limit (CAPACITY beyond it); 0: none */
    uint64_t max_size;         /* largest size served; 0: none declared */
    uint32_t features;         /* HL_FEATURE_* bits */
    uint32_t misuse;           /* HL_MISUSE_BIT(...) of the kinds it detects */
    uint32_t overflow_reach;   /* k: OVERFLOW is detected at usable_size + j, j < k */
    uint32_t quarantine;       /* Q: USE_AFTER_FREE detected up to Q frees ago */
    const char *source;        /* memory source: "os", "static", "linear", "malloc" */
    size_t page_size;          /* the source's page (4 KiB os, 64 KiB linear) */
    const char *offset_exact_group; /* backends in one group hand out equal offsets */
    /* With CAP_EXEC: the exec region, where EXEC blocks (and only they) lie, each on
     * pages of its own. With CAP_DMA: the DMA window, where DMA blocks (and only they)
     * lie, cache-line aligned, each on cache lines of its own. */
    hl_addr exec_base;
    size_t exec_size;
    hl_addr dma_base;
    size_t dma_size;
    size_t cache_line;         /* with CAP_DMA: the line DMA blocks never share (64) */
    /* Optional (NULL: none; last, so a table built before it leaves it as the caller
     * zeroed it): the instance's own entry points, offered only by an instance created
     * with all of HL_HINT_ONE_THREAD, HL_HINT_CALLER_FREES and HL_HINT_NO_STATS (the
     * measure path's hints); valid as long as the instance. */
    const hl_direct *direct;
} hl_info;

/* ---------------------------------------------------------------- stats */

/* Operation counters: one table; the struct fields and JSON keys come from it. */
#define HL_STAT_OPS(X)                                                                  \
    X(alloc) X(free) X(realloc) X(usable_size) X(mem_copy) X(enter_scope) X(exit_scope) \
    X(promote) X(free_all)

typedef enum hl_stat_op {
#define HL_STAT_OP_ENUM(name) HL_STAT_##name,
    HL_STAT_OPS(HL_STAT_OP_ENUM)
#undef HL_STAT_OP_ENUM
    HL_STAT_OP_COUNT
} hl_stat_op;

/* "alloc" for HL_STAT_alloc. */
const char *hl_stat_op_name(hl_stat_op op);

typedef struct hl_stats {
    uint64_t live_blocks;    /* blocks allocated and not yet freed (any scope) */
    uint64_t live_bytes;     /* sum of the requested sizes of the live blocks */
    uint64_t footprint;      /* bytes held from the system now (committed) */
    uint64_t peak_footprint; /* largest footprint seen since create or free_all */
    uint64_t calls[HL_STAT_OP_COUNT];
    uint64_t failures[HL_STAT_OP_COUNT];
} hl_stats;

/* ---------------------------------------------------------------- options */

/* One key=value of a backend spec (`bins:source=static:size=1M`). */
typedef struct hl_option {
    const char *key;
    const char *value;
} hl_option;

/* A backend option a backend accepts, for `heaplab list` and --help. */
typedef struct hl_option_doc {
    const char *key;
    const char *default_value;
    const char *help;
} hl_option_doc;

/* What create is given. buffer/buffer_size is the caller's static buffer, used when
 * the options select source=static (embedded use); the instance never frees it.
 * On failure create writes a one-line reason into error_message (if not NULL).
 * faults_caught: the host turns a fault of its raw accesses into a detection (its
 * fault catcher is on); only then may a backend declare access-misuse kinds that it
 * detects by faulting (guard). */
typedef struct hl_config {
    const hl_option *options;
    size_t option_count;
    void *buffer;
    size_t buffer_size;
    char *error_message;
    size_t error_capacity;
    bool faults_caught;
    uint32_t hints; /* HL_HINT_* promises of the caller; 0: none (always correct) */
} hl_config;

/* Hints: what the caller promises about how it will use the instance, so a backend
 * may skip bookkeeping nobody needs (heaplab's timed runs give them). A backend may
 * ignore every hint; a hint never changes what an operation returns. A plugin built
 * before hints existed never reads the field, which is why it sits last.
 *   ONE_THREAD    no two calls on the instance overlap in time: locks may be skipped.
 *   CALLER_FREES  the caller never calls enter_scope, exit_scope, promote or free_all,
 *                 and frees every block it allocated before destroy: a backend that
 *                 tracks blocks only for those (an adapter over malloc) may stop
 *                 tracking; those four may then fail with UNSUPPORTED.
 *   NO_STATS      the caller never calls stats: a backend may keep no statistics
 *                 (no counts, no footprint query); stats then says what was kept.
 *   SPARSE        the caller touches large blocks sparsely (a fuzzer: many inputs,
 *                 big sizes, sampled patterns): memory committed in large steps need
 *                 not be made resident at once (the footprint still counts it). */
#define HL_HINT_ONE_THREAD (1u << 0)
#define HL_HINT_CALLER_FREES (1u << 1)
#define HL_HINT_NO_STATS (1u << 2)
#define HL_HINT_SPARSE (1u << 3)

/* ---------------------------------------------------------------- the table */

typedef struct hl_heap hl_heap; /* an instance; each backend defines its own */

typedef struct hl_backend {
    uint32_t struct_size;      /* sizeof(hl_backend) of the build that made the table */
    uint32_t contract_version; /* HL_CONTRACT_VERSION of that build */
    const char *name;
    hl_class backend_class;
    const char *summary;              /* one line for `heaplab list` */
    const hl_option_doc *option_docs; /* terminated by a {NULL} entry; may be NULL */

    /* Builds an instance from config. Fails with INVALID_ARGUMENT (unknown option or
     * bad value; the reason names the option), UNSUPPORTED (not available here) or
     * OUT_OF_MEMORY, leaving *out untouched. */
    hl_error (*create)(const hl_config *config, hl_heap **out);
    /* Releases everything the instance holds. Blocks still live are gone. */
    void (*destroy)(hl_heap *heap);
    /* Fills *info; pointers in it stay valid as long as the instance. */
    void (*describe)(const hl_heap *heap, hl_info *info);

    /* Allocates a block of at least layout.size bytes aligned to
     * max(layout.align, min_align), honouring caps, in the innermost open scope.
     * Returns 0 and sets *error on failure, iff:
     *   INVALID_ARGUMENT  align is not a power of two, or size + align overflows;
     *   UNSUPPORTED       caps or align beyond what the instance declares;
     *   CAPACITY          a declared limit would be exceeded;
     *   OUT_OF_MEMORY     the memory source cannot grow far enough.
     * On failure no live block changes. */
    hl_addr (*alloc)(hl_heap *heap, hl_layout layout, hl_caps caps, hl_error *error);

    /* Frees block, which was allocated with layout. block 0 is a no-op (OK).
     * For each misuse kind the instance declares, returns INVALID_POINTER,
     * DOUBLE_FREE or LAYOUT_MISMATCH and changes nothing; undeclared misuse is never
     * sent. */
    hl_error (*free)(hl_heap *heap, hl_addr block, hl_layout layout);

    /* Resizes block (allocated with old_layout) to new_size, keeping the first
     * min(old, new) bytes, the alignment, caps and scope. block 0 means alloc with
     * (new_size, old_layout.align). new_size 0 gives a live size-0 block. Returns the
     * new address, or 0 with *error set (OUT_OF_MEMORY, CAPACITY, INVALID_ARGUMENT);
     * on failure the old block is untouched and still live. */
    hl_addr (*realloc)(hl_heap *heap, hl_addr block, hl_layout old_layout, size_t new_size,
                       hl_error *error);

    /* Bytes usable at block, >= layout.size. Precondition: block live with layout. */
    size_t (*usable_size)(hl_heap *heap, hl_addr block, hl_layout layout);

    /* A host pointer to the len bytes at [addr, addr + len) of the backend's memory,
     * or NULL if any of them lies outside the memory (bounds-checked; never faults).
     * Valid until the next operation that can grow or move memory. */
    void *(*mem_view)(hl_heap *heap, hl_addr addr, size_t len);

    /* Copies n bytes from src to dst one byte at a time, forwards, even when the
     * ranges overlap (the forward-walk result is pinned). INVALID_ARGUMENT if either
     * range lies outside the memory; nothing is written then. */
    hl_error (*mem_copy)(hl_heap *heap, hl_addr dst, hl_addr src, size_t n);

    /* Opens a scope inside the innermost open one. OUT_OF_MEMORY leaves none opened. */
    hl_error (*enter_scope)(hl_heap *heap, hl_scope *out);
    /* Frees every block of scope and of every scope opened inside it, and closes
     * them. INVALID_ARGUMENT (nothing changed) if scope is not open. */
    hl_error (*exit_scope)(hl_heap *heap, hl_scope scope);
    /* As exit_scope, except that the first n bytes of block (live in scope or a scope
     * inside it, allocated with layout, n <= layout.size) survive in scope's parent at
     * the returned address, as a block of layout (n, layout.align) with the same caps.
     * Returns 0 with *error: INVALID_ARGUMENT (scope not open, block not in it, n too
     * large; nothing changed), OUT_OF_MEMORY (scopes stay open, blocks intact). */
    hl_addr (*promote)(hl_heap *heap, hl_scope scope, hl_addr block, hl_layout layout,
                       size_t n, hl_error *error);
    /* Frees every block in every scope and closes all scopes: the instance is as new
     * (committed memory may be kept). */
    hl_error (*free_all)(hl_heap *heap);

    /* Optional (NULL when the instance has no EXEC capability): make the pages
     * covering [addr, addr + len) of an EXEC block read+execute (seal) or
     * read+write (unseal). Never writable and executable at once. */
    hl_error (*seal)(hl_heap *heap, hl_addr addr, size_t len);
    hl_error (*unseal)(hl_heap *heap, hl_addr addr, size_t len);
    /* Optional cache hooks, called around seal/unseal (no-ops on coherent CPUs). */
    void (*flush_data)(hl_heap *heap, hl_addr addr, size_t len);
    void (*invalidate_instruction)(hl_heap *heap, hl_addr addr, size_t len);

    /* Fills *stats. Cheap (no heap walk). */
    void (*stats)(const hl_heap *heap, hl_stats *stats);

    /* Walks the heap and verifies the backend's own invariants. Returns OK, or
     * CORRUPTED with a one-line description of the first broken invariant in message.
     * Works in release builds; changes nothing. */
    hl_error (*check)(hl_heap *heap, char *message, size_t capacity);
} hl_backend;

/* The name of the one symbol a contract plugin (.so) exports:
 *   const hl_backend *heaplab_backend(void);                                          */
#define HL_PLUGIN_SYMBOL "heaplab_backend"

/* ---------------------------------------------------------------- small helpers */

static inline bool hl_is_power_of_two(size_t x) { return x != 0 && (x & (x - 1)) == 0; }

/* mem_copy as the contract pins it: a forward byte walk, whose result is defined even
 * when the ranges overlap with dst > src. Counts the call (and a failure) in stats;
 * INVALID_ARGUMENT, nothing copied, when either view is NULL (out of the backend's
 * memory). For backends whose views are host bytes. */
static inline hl_error hl_copy_forward(hl_stats *stats, unsigned char *to, const unsigned char *from, size_t n)
{
    stats->calls[HL_STAT_mem_copy]++;
    if (!to || !from) return stats->failures[HL_STAT_mem_copy]++, HL_E_INVALID_ARGUMENT;
    for (size_t i = 0; i < n; i++) to[i] = from[i];
    return HL_E_OK;
}

/* x rounded up to a multiple of align (a power of two); false on overflow. */
static inline bool hl_align_up(uintptr_t x, size_t align, uintptr_t *out)
{
    uintptr_t r = x + (align - 1);
    if (r < x) return false;
    *out = r & ~(uintptr_t)(align - 1);
    return true;
}

#ifdef __cplusplus
}
#endif
#endif /* HEAPLAB_H */
