/* hl_kit.h: what backends share (internal to the allocators layer), one concept a
 * section, each defined in a file of its own:
 *   stats             the live counts and the footprint, the peak kept in one place
 *                     (here, inline: every operation calls them);
 *   refusals          the one-line reason create writes (config.c);
 *   options           create's option parsing, driven by the backend's option_docs,
 *                     and the memory-source options as one shared fragment (options.c);
 *   tracked scopes    the scope slots (enter, exit, promote, free_all) and stats,
 *                     mem_view, mem_copy of a backend whose scopes are the shared scope
 *                     tracker's, parameterised by the backend's raw alloc and free
 *                     (tracked.c; the tracker itself: scope_tracker.h).
 * Adding a backend with a memory source and tracked scopes: its settings struct, one
 * X-macro of its options (HL_SOURCE_OPTIONS(X) first), an hl_tracked_ops table; the
 * kit gives the rest. */
#ifndef HL_KIT_H
#define HL_KIT_H

#include "heaplab.h"
#include "hl_source.h"
#include "scope_tracker.h"

#include <stddef.h>

/* ---------------------------------------------------------------- stats */

/* The live counts change by `blocks` blocks and `bytes` requested bytes (negative:
 * freed). The one place they change (mimalloc's mi_stat_update), so no backend keeps
 * a copy of its own. Wraps modulo 2^64 as the counters always did. */
static inline void hl_stats_live(hl_stats *stats, int64_t blocks, int64_t bytes)
{
    stats->live_blocks += (uint64_t)blocks;
    stats->live_bytes += (uint64_t)bytes;
}

/* A live block was resized from old_size to new_size bytes (realloc in place or moved). */
static inline void hl_stats_resize(hl_stats *stats, size_t old_size, size_t new_size)
{
    stats->live_bytes += (uint64_t)new_size - (uint64_t)old_size;
}

/* The footprint is now `footprint` bytes; the peak keeps the largest seen since
 * create or the last hl_stats_restart. */
static inline void hl_stats_footprint(hl_stats *stats, uint64_t footprint)
{
    stats->footprint = footprint;
    if (footprint > stats->peak_footprint) stats->peak_footprint = footprint;
}

/* free_all: nothing live, the footprint `footprint`, and the peak starts again there. */
static inline void hl_stats_restart(hl_stats *stats, uint64_t footprint)
{
    stats->live_blocks = stats->live_bytes = 0;
    stats->footprint = stats->peak_footprint = footprint;
}

/* A failed operation: counts the failure of op, sets *error to e, returns the null
 * block (so `return hl_stats_fail(...)` ends an alloc, realloc or promote). */
static inline hl_addr hl_stats_fail(hl_stats *stats, hl_stat_op op, hl_error *error, hl_error e)
{
    stats->failures[op]++;
    *error = e;
    return 0;
}

/* ---------------------------------------------------------------- refusals */

/* A backend's create writes why it refused into config's error message (if any):
 * printf-style, one line. */
void hl_config_say(const hl_config *config, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---------------------------------------------------------------- options */

/* How an option's value is read, and what it is stored as (a field of the backend's
 * settings struct, written as the field's own width: 1, 2, 4 or 8 bytes):
 *   HL_OPTION_SIZE   digits with an optional K, M or G suffix (powers of 1024), in
 *                    [min, max]; with HL_OPTION_POWER_OF_TWO also a power of two;
 *   HL_OPTION_COUNT  the same syntax, said as a count in messages;
 *   HL_OPTION_WORD   one of `words` (NULL-terminated): the field gets its index
 *                    (a bool field: 0 or 1, so {"0", "1"} is a flag);
 *   HL_OPTION_TEXT   any text: the field is a const char * to the value (which lives
 *                    as long as the config). */
typedef enum hl_option_kind { HL_OPTION_SIZE, HL_OPTION_COUNT, HL_OPTION_WORD, HL_OPTION_TEXT } hl_option_kind;
#define HL_OPTION_POWER_OF_TWO 1u

/* How one option_docs row is parsed: option_rules[i] is the rule of option_docs[i].
 * Both come from one X-macro of rows
 *   X(key, default_text, help, kind, field, min, max, words, flags)
 * through HL_OPTION_DOC and HL_OPTION_RULE (below), so they cannot drift apart. */
typedef struct hl_option_rule {
    hl_option_kind kind;
    size_t offset, width; /* of the field in the settings struct */
    uint64_t min, max;
    const char *const *words;
    unsigned flags;
} hl_option_rule;

#define HL_OPTION_DOC(key, default_text, help, kind, field, min, max, words, flags) {key, default_text, help},
/* HL_SETTINGS must name the backend's settings struct where the rows are expanded. */
#define HL_OPTION_RULE(key, default_text, help, kind, field, min, max, words, flags)                            \
    {kind, offsetof(HL_SETTINGS, field), sizeof(((HL_SETTINGS *)0)->field), min, max, words, flags},

/* "0", "1": the words of a flag. "os", "static", "linear": hl_source_kind's, in order. */
extern const char *const hl_option_flag_words[];
extern const char *const hl_source_kind_words[];

/* The memory-source options, one shared fragment: every backend on a memory source
 * starts its option X-macro with HL_SOURCE_OPTIONS(X) and its settings struct has a
 * member `hl_source_config source` (initialised by hl_source_config_init). */
#define HL_SOURCE_OPTIONS(X)                                                                                     \
    X("source", "os", "memory source: os (mmap reserve, commit on grow), static (caller buffer), linear (wasm32 memory)", \
      HL_OPTION_WORD, source.kind, 0, 0, hl_source_kind_words, 0)                                                \
    X("size", "4G (os), 1M (static)", "bytes reserved (os) or the static buffer's size; K/M/G suffixes",         \
      HL_OPTION_SIZE, source.size, 1, UINT64_MAX, NULL, 0)                                                       \
    X("max_pages", "65536", "linear: maximum 64 KiB pages", HL_OPTION_COUNT, source.max_pages, 1,               \
      HL_LINEAR_MAX_PAGES, NULL, 0)                                                                              \
    X("huge", "0", "os: ask for huge pages (MAP_HUGETLB, falling back to MADV_HUGEPAGE)", HL_OPTION_WORD,       \
      source.huge, 0, 0, hl_option_flag_words, 0)

/* Applies config's options to settings by the backend's tables: docs (terminated by a
 * {NULL} row, may be NULL: no options) and rules (rules[i] parses docs[i]; may be NULL
 * when docs is). A later key=value overrides an earlier one. Fails with
 * INVALID_ARGUMENT, writing into config's message (prefixed with `name`):
 *   NAME: unknown option 'KEY' (known: k1, k2, ...)     the list from docs, in order;
 *   NAME: unknown option 'KEY' (NAME has none)          docs is empty;
 *   NAME: KEY='VALUE' (expected ...)                    what the rule accepts.
 * On failure the fields already applied keep their new values (create gives up).
 * Cost: O(options x docs). */
hl_error hl_options_apply(const hl_config *config, const char *name, const hl_option_doc *docs,
                          const hl_option_rule *rules, void *settings);

/* ---------------------------------------------------------------- tracked scopes */

/* What the tracked slots need from a backend: its raw operations, which neither track
 * nor count (the kit does both). */
typedef struct hl_tracked_ops {
    /* a raw block of layout with caps, or 0 with *error set (OUT_OF_MEMORY if unset) */
    hl_addr (*alloc)(hl_heap *heap, hl_layout layout, hl_caps caps, hl_error *error);
    /* gives a raw block back */
    void (*free)(hl_heap *heap, hl_addr block, hl_layout layout);
    /* host bytes of [addr, addr + len), or NULL outside the memory (the mem_view slot) */
    void *(*view)(hl_heap *heap, hl_addr addr, size_t len);
    /* refreshes stats.footprint through hl_stats_footprint, after a slot ran `after` */
    void (*footprint)(hl_heap *heap, hl_stat_op after);
    /* Optional: free_all takes all of the memory back at once (the tracker's included:
     * the kit forgets it first) instead of freeing each live block through free. */
    void (*reclaim)(hl_heap *heap);
    /* Optional: taken around each slot's bookkeeping (a thread-safe backend). */
    void (*lock)(const hl_heap *heap);
    void (*unlock)(const hl_heap *heap);
} hl_tracked_ops;

/* The part of a backend's state the slots work on. It must be the FIRST member of the
 * backend's struct hl_heap (the slots take the hl_heap * of the table and see this):
 *   struct hl_heap { hl_tracked_heap kit; ... };
 * stats counts every operation the slots run (the tracker counts enter, exit and
 * promote); the backend counts its own alloc, free, realloc and usable_size. */
typedef struct hl_tracked_heap {
    hl_tracker tracker;
    hl_stats stats;
    const hl_tracked_ops *ops;
} hl_tracked_heap;

/* Sets up kit (zeroed stats) over memory; track_root and remember_freed as for
 * hl_tracker_init. ops must outlive the instance. */
void hl_tracked_init(hl_tracked_heap *kit, const hl_tracked_ops *ops, hl_tracker_memory memory, bool track_root,
                     bool remember_freed);

/* The table slots, for a backend whose struct hl_heap starts with an hl_tracked_heap.
 * Semantics are the contract's (heaplab.h); each refreshes the footprint after it.
 * exit and promote free the closed scopes' blocks through ops->free; free_all frees
 * every live block (or reclaims) and restarts the stats' peak. Cost: O(blocks freed). */
hl_error hl_tracked_enter_scope(hl_heap *heap, hl_scope *out);
hl_error hl_tracked_exit_scope(hl_heap *heap, hl_scope scope);
hl_addr hl_tracked_promote(hl_heap *heap, hl_scope scope, hl_addr block, hl_layout layout, size_t n,
                           hl_error *error);
hl_error hl_tracked_free_all(hl_heap *heap);
hl_error hl_tracked_mem_copy(hl_heap *heap, hl_addr dst, hl_addr src, size_t n);
void hl_tracked_stats(const hl_heap *heap, hl_stats *stats);
/* The tracker's invariants, and (when it tracks every block) that it holds as many
 * live blocks as the stats count: CORRUPTED with a message on the first broken one. */
hl_error hl_tracked_check(hl_heap *heap, char *message, size_t capacity);

#endif
