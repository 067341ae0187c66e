/* arena.c: scoped bump arenas over a memory source (seed 001, as an instance).
 *
 * Every scope level (0 = outside every scope) owns a list of chunks and bumps through
 * the newest one. Chunks are `chunk` bytes (128 KiB by default, a power of two) and
 * start on a multiple of that size in the address space, so the chunk of any block is
 * its address rounded down: no per-block header. A block bigger than a chunk gets a
 * big chunk of its own (a multiple of the chunk size). Each chunk header counts its
 * live blocks and bytes.
 *
 *   enter_scope  O(1): a new level, whose first chunk comes with its first block.
 *   exit_scope   O(chunks of the closed levels), never O(blocks): each chunk goes
 *                back to a free list whole, its counts leave the stats.
 *   promote      the survivor is bumped into the parent level first (so OUT_OF_MEMORY
 *                changes nothing), its bytes copied, then the levels close.
 *   free         O(1). The block's bytes come back when it is the last block of its
 *                chunk (the bump pointer steps back over it), and the whole chunk
 *                comes back when its last live block goes; a block freed in the
 *                middle of a chunk otherwise stays allocated space until its chunk
 *                empties or its scope exits. A big chunk holds one block, so freeing
 *                it returns the chunk.
 *   realloc      in place when the block is the last of its chunk and the chunk has
 *                room, or when it shrinks; otherwise a new block in the same level
 *                (the block keeps its scope), a copy, and a free of the old.
 * Freed chunks are reused by later scopes (standard ones LIFO, big ones first fit);
 * they are never given back to the source. The arena detects no misuse: it keeps no
 * per-block record to check a free against.
 *
 * The instance's state (with the level table) lives at the start of the heap area of
 * its source, so it counts in the footprint.
 *
 * Invariants (checked by arena_check): every chunk slot in [first_chunk, top) belongs
 * to exactly one chunk, and every chunk is on exactly one list: its level's list
 * (levels 0..depth, doubly linked) or a free list; a chunk's header has the magic,
 * its list's level, a size that is a multiple of the chunk size, and
 * HEADER <= used <= size; the chunks' block and byte counts add up to the stats. */
#include "backends.h"
#include "hl_kit.h"

#include <stdio.h>
#include <string.h>

#ifndef HL_ARENA_NAME /* test builds compile planted-bug copies under other names */
#define HL_ARENA_NAME "arena"
#define HL_ARENA_GETTER hl_backend_arena
#endif

#define ARENA_MIN_ALIGN 16u
#define ARENA_DEFAULT_CHUNK (128u << 10)
#define ARENA_MIN_CHUNK (16u << 10) /* so alignments up to 8 KiB are always served */
#define ARENA_MAX_CHUNK (16u << 20)
#define ARENA_MAX_DEPTH 255u
#define ARENA_MAGIC 0x41524e41u /* "ARNA" */
#define FREE_LEVEL 0xffffffffu
#define HEADER 64u /* bytes a chunk's header takes, a multiple of the minimum alignment */

typedef struct chunk {
    uint32_t magic;
    uint32_t level;     /* FREE_LEVEL on a free list */
    size_t size;        /* bytes, a multiple of the chunk size */
    size_t used;        /* bytes handed out from the chunk's start, the header included */
    hl_addr prev, next; /* neighbours on its list (0: none) */
    uint64_t blocks;    /* live blocks in it */
    uint64_t bytes;     /* their requested bytes */
} chunk;
_Static_assert(sizeof(chunk) <= HEADER, "a chunk header must fit its reserved bytes");

typedef struct level {
    hl_scope handle; /* 0 for level 0 */
    hl_addr head;    /* newest chunk: the one being bumped through */
} level;

struct hl_heap {
    hl_source source;
    size_t chunk_size;
    hl_addr first_chunk; /* the first chunk slot */
    hl_addr top;         /* the first slot never used */
    hl_addr free_chunks; /* standard chunks, linked by next */
    hl_addr free_big;    /* big chunks, linked by next */
    uint32_t depth;
    hl_scope serial;
    level levels[ARENA_MAX_DEPTH + 1];
    hl_stats stats;
};

static chunk *header(hl_heap *h, hl_addr c) { return hl_source_host(&h->source, c, HEADER); }
static hl_addr chunk_of(const hl_heap *h, hl_addr block) { return block & ~(hl_addr)(h->chunk_size - 1); }
static size_t extent(size_t size) { return size ? size : 1; } /* a size-0 block takes a byte */

static void note_footprint(hl_heap *h) { hl_stats_footprint(&h->stats, h->source.committed); }
static hl_addr fail(hl_heap *h, hl_stat_op op, hl_error *error, hl_error e) { return hl_stats_fail(&h->stats, op, error, e); }

/* ---------------------------------------------------------------- chunks */

static void unlink_chunk(hl_heap *h, hl_addr c)
{
    chunk *ch = header(h, c);
    if (ch->prev) header(h, ch->prev)->next = ch->next;
    else if (ch->level != FREE_LEVEL) h->levels[ch->level].head = ch->next;
    if (ch->next) header(h, ch->next)->prev = ch->prev;
    ch->prev = ch->next = 0;
}

/* Puts c on level's list: first (it becomes the bump chunk), or second (a big chunk
 * must not hide the bump chunk's remaining room). */
static void link_chunk(hl_heap *h, hl_addr c, uint32_t lvl, bool first)
{
    chunk *ch = header(h, c);
    hl_addr head = h->levels[lvl].head;
    ch->level = lvl;
    if (first || !head) {
        ch->prev = 0;
        ch->next = head;
        if (head) header(h, head)->prev = c;
        h->levels[lvl].head = c;
        return;
    }
    chunk *hd = header(h, head);
    ch->prev = head;
    ch->next = hd->next;
    if (hd->next) header(h, hd->next)->prev = c;
    hd->next = c;
}

/* Gives a chunk (already off its level's list) back to its free list. */
static void release_chunk(hl_heap *h, hl_addr c)
{
    chunk *ch = header(h, c);
    ch->level = FREE_LEVEL;
    ch->used = HEADER;
    ch->blocks = ch->bytes = 0;
    ch->prev = 0;
    hl_addr *list = ch->size == h->chunk_size ? &h->free_chunks : &h->free_big;
    ch->next = *list;
    *list = c;
}

/* A chunk of `size` bytes (the chunk size or a multiple) off a free list or fresh from
 * the source, on no list yet; 0 when the source cannot grow (nothing changed). */
static hl_addr take_chunk(hl_heap *h, size_t size)
{
    hl_addr *link = size == h->chunk_size ? &h->free_chunks : &h->free_big;
    for (hl_addr c = *link; c; link = &header(h, c)->next, c = *link)
        if (header(h, c)->size >= size) {
            *link = header(h, c)->next;
            return c;
        }
    size_t offset = hl_source_offset(&h->source, h->top);
    if (size > SIZE_MAX - offset || hl_source_commit(&h->source, offset + size) != HL_E_OK) return 0;
    hl_addr c = h->top;
    chunk *ch = header(h, c);
    if (!ch) return 0; /* cannot happen: just committed */
    h->top += size;
    memset(ch, 0, sizeof *ch);
    ch->magic = ARENA_MAGIC;
    ch->size = size;
    ch->used = HEADER;
    return c;
}

/* A block of layout bumped out of chunk c, or 0 if it does not fit. */
static hl_addr bump(hl_heap *h, hl_addr c, hl_layout layout)
{
    chunk *ch = header(h, c);
    uintptr_t at;
    if (!hl_align_up(c + ch->used, layout.align, &at)) return 0;
    if (at - c > ch->size || extent(layout.size) > ch->size - (at - c)) return 0;
    ch->used = at - c + extent(layout.size);
    ch->blocks++;
    ch->bytes += layout.size;
    return at;
}

/* A block of layout in level lvl: from its bump chunk, else from a new chunk. */
static hl_addr alloc_at(hl_heap *h, uint32_t lvl, hl_layout layout)
{
    hl_addr head = h->levels[lvl].head;
    hl_addr block = head ? bump(h, head, layout) : 0;
    if (block) return block;
    /* a chunk starts on a multiple of the chunk size, which exceeds every alignment
     * served: the block starts at HEADER or at its alignment, whichever is larger */
    size_t lead = layout.align > HEADER ? layout.align : HEADER;
    if (layout.size > SIZE_MAX - lead - h->chunk_size) return 0;
    size_t need = lead + extent(layout.size);
    bool big = need > h->chunk_size;
    size_t size = big ? (need + h->chunk_size - 1) & ~(h->chunk_size - 1) : h->chunk_size;
    hl_addr c = take_chunk(h, size);
    if (!c) return 0;
    link_chunk(h, c, lvl, !big);
    block = bump(h, c, layout);
    /* a big chunk holds its one block: a block past its first chunk-size window could
     * not find its header by rounding its address down */
    if (big) header(h, c)->used = header(h, c)->size;
    return block;
}

/* Closes levels >= lvl (lvl >= 1), or every level with lvl 0: their chunks go back
 * whole, their counts leave the stats. */
static void close_from(hl_heap *h, uint32_t lvl)
{
#ifdef HL_MUTANT_SCOPE_EXIT_PARENT /* TEST-ONLY MUTANT: closing a scope also empties its parent's level */
    for (uint32_t l = h->depth + 1; l-- > (lvl ? lvl - 1 : 0);) {
#else
    for (uint32_t l = h->depth + 1; l-- > lvl;) {
#endif
        while (h->levels[l].head) {
            hl_addr c = h->levels[l].head;
            chunk *ch = header(h, c);
            hl_stats_live(&h->stats, -(int64_t)ch->blocks, -(int64_t)ch->bytes);
            unlink_chunk(h, c);
            release_chunk(h, c);
        }
        h->levels[l].handle = 0;
    }
    h->depth = lvl ? lvl - 1 : 0;
}

static uint32_t level_of_handle(const hl_heap *h, hl_scope handle)
{
    for (uint32_t l = h->depth; l > 0; l--)
        if (h->levels[l].handle == handle) return l;
    return 0;
}

/* The chunk of a live block, or 0 if block lies in no chunk in use. */
static hl_addr live_chunk(hl_heap *h, hl_addr block)
{
    hl_addr c = chunk_of(h, block);
    if (c < h->first_chunk || c >= h->top) return 0;
    chunk *ch = header(h, c);
    if (!ch || ch->magic != ARENA_MAGIC || ch->level == FREE_LEVEL || ch->level > h->depth) return 0;
    if (block < c + HEADER || block >= c + ch->used) return 0;
    return c;
}

/* Takes a live block's counts out of its chunk, stepping the bump pointer back over
 * it when it is the chunk's last block, returning the chunk when it empties. */
static void drop_block(hl_heap *h, hl_addr c, hl_addr block, hl_layout layout)
{
    chunk *ch = header(h, c);
    ch->blocks--;
    ch->bytes -= layout.size;
    hl_stats_live(&h->stats, -1, -(int64_t)layout.size);
    if (ch->blocks == 0) {
        if (c == h->levels[ch->level].head && ch->size == h->chunk_size) {
            ch->used = HEADER; /* the bump chunk stays, empty */
        } else {
            unlink_chunk(h, c);
            release_chunk(h, c);
        }
    } else if (block + extent(layout.size) == c + ch->used) {
        ch->used = block - c;
    }
}

/* ---------------------------------------------------------------- lifecycle */

typedef struct arena_settings {
    hl_source_config source;
    uint64_t chunk_size;
} arena_settings;

#define ARENA_OPTIONS(X)                                                                                         \
    HL_SOURCE_OPTIONS(X)                                                                                         \
    X("chunk", "128K", "chunk size, a power of two from 16K to 16M; alignments up to half of it are served",     \
      HL_OPTION_SIZE, chunk_size, ARENA_MIN_CHUNK, ARENA_MAX_CHUNK, NULL, HL_OPTION_POWER_OF_TWO)

#define HL_SETTINGS arena_settings
static const hl_option_doc option_docs[] = {ARENA_OPTIONS(HL_OPTION_DOC){NULL, NULL, NULL}};
static const hl_option_rule option_rules[] = {ARENA_OPTIONS(HL_OPTION_RULE)};

static hl_error arena_create(const hl_config *config, hl_heap **out)
{
    arena_settings settings = {.chunk_size = ARENA_DEFAULT_CHUNK};
    hl_source_config_init(&settings.source);
    if (hl_options_apply(config, HL_ARENA_NAME, option_docs, option_rules, &settings) != HL_E_OK) return HL_E_INVALID_ARGUMENT;
    uint64_t chunk_size = settings.chunk_size;
    char why[200];
    hl_source source;
    settings.source.sparse = (config->hints & HL_HINT_SPARSE) != 0;
    hl_error e = hl_source_open(&source, &settings.source, config->buffer, config->buffer_size, 0, why, sizeof why);
    if (e != HL_E_OK) return hl_config_say(config, "arena: %s", why), e;
    size_t state_at = source.heap_base; /* linear: 1024, where blocks may start */
    if (hl_source_commit(&source, state_at + sizeof(struct hl_heap)) != HL_E_OK) {
        hl_source_close(&source);
        return hl_config_say(config, "arena: %s", "the memory source cannot hold the arena's state"), HL_E_OUT_OF_MEMORY;
    }
    hl_heap *h = hl_source_host(&source, hl_source_addr(&source, state_at), sizeof *h);
    memset(h, 0, sizeof *h);
    h->source = source;
    h->chunk_size = (size_t)chunk_size;
    uintptr_t first;
    if (!hl_align_up(hl_source_addr(&source, state_at + sizeof *h), h->chunk_size, &first)) {
        hl_source_close(&source);
        return hl_config_say(config, "arena: %s", "no room for a first chunk"), HL_E_OUT_OF_MEMORY;
    }
    h->first_chunk = h->top = first;
    note_footprint(h);
    *out = h;
    return HL_E_OK;
}

static void arena_destroy(hl_heap *h)
{
    hl_source source = h->source; /* the state lives inside the memory it releases */
    hl_source_close(&source);
}

static void arena_describe(const hl_heap *h, hl_info *info)
{
    memset(info, 0, sizeof *info);
    info->name = HL_ARENA_NAME;
    info->backend_class = HL_CLASS_REFERENCE;
    info->min_align = ARENA_MIN_ALIGN;
    info->max_align = h->chunk_size / 2;
    info->features = HL_FEATURE_NATIVE_SCOPES | HL_FEATURE_INPLACE_REALLOC |
                     (h->source.kind == HL_SOURCE_LINEAR ? HL_FEATURE_LINEAR_MEMORY : 0);
    info->source = h->source.kind == HL_SOURCE_OS ? "os" : h->source.kind == HL_SOURCE_STATIC ? "static" : "linear";
    info->page_size = h->source.page;
}

/* ---------------------------------------------------------------- operations */

static hl_error layout_error(const hl_heap *h, hl_layout layout, hl_caps caps)
{
    if (!hl_is_power_of_two(layout.align)) return HL_E_INVALID_ARGUMENT;
    if (caps != HL_CAP_NONE || layout.align > h->chunk_size / 2) return HL_E_UNSUPPORTED;
    return HL_E_OK;
}

static hl_layout served(hl_layout layout)
{
    if (layout.align < ARENA_MIN_ALIGN) layout.align = ARENA_MIN_ALIGN;
    return layout;
}

static hl_addr arena_alloc(hl_heap *h, hl_layout layout, hl_caps caps, hl_error *error)
{
    h->stats.calls[HL_STAT_alloc]++;
    hl_error e = layout_error(h, layout, caps);
    if (e != HL_E_OK) return fail(h, HL_STAT_alloc, error, e);
    hl_addr block = alloc_at(h, h->depth, served(layout));
    note_footprint(h);
#ifdef HL_TEST_OOM_UNCHECKED /* TEST-ONLY: the source's refusal used as a block (a write through NULL) */
    if (!block) *(volatile char *)block = 1;
#endif
    if (!block) return fail(h, HL_STAT_alloc, error, HL_E_OUT_OF_MEMORY);
    hl_stats_live(&h->stats, +1, (int64_t)layout.size);
    return block;
}

static hl_error arena_free(hl_heap *h, hl_addr block, hl_layout layout)
{
    h->stats.calls[HL_STAT_free]++;
    if (!block) return HL_E_OK;
    hl_addr c = live_chunk(h, block);
    if (!c) return h->stats.failures[HL_STAT_free]++, HL_E_INVALID_POINTER; /* never sent: no misuse declared */
    drop_block(h, c, block, layout);
    return HL_E_OK;
}

static hl_addr arena_realloc(hl_heap *h, hl_addr block, hl_layout old, size_t size, hl_error *error)
{
    if (!block) return arena_alloc(h, (hl_layout){size, old.align}, HL_CAP_NONE, error);
    h->stats.calls[HL_STAT_realloc]++;
    hl_addr c = live_chunk(h, block);
    if (!c) return fail(h, HL_STAT_realloc, error, HL_E_INVALID_POINTER);
    chunk *ch = header(h, c);
    bool last = block + extent(old.size) == c + ch->used;
    if ((last && extent(size) <= ch->size - (block - c)) || size <= old.size) {
        if (last) ch->used = block - c + extent(size);
        ch->bytes = ch->bytes - old.size + size;
        hl_stats_resize(&h->stats, old.size, size);
        return block;
    }
    hl_addr fresh = alloc_at(h, ch->level, served((hl_layout){size, old.align}));
    note_footprint(h);
    if (!fresh) return fail(h, HL_STAT_realloc, error, HL_E_OUT_OF_MEMORY);
    hl_stats_live(&h->stats, +1, (int64_t)size);
    memcpy(hl_source_host(&h->source, fresh, size), hl_source_host(&h->source, block, extent(old.size)), old.size);
    drop_block(h, c, block, old);
    return fresh;
}

static size_t arena_usable_size(hl_heap *h, hl_addr block, hl_layout layout)
{
    (void)h, (void)block;
    return layout.size;
}

static void *arena_mem_view(hl_heap *h, hl_addr addr, size_t len) { return hl_source_host(&h->source, addr, len); }

static hl_error arena_mem_copy(hl_heap *h, hl_addr dst, hl_addr src, size_t n)
{
    return hl_copy_forward(&h->stats, hl_source_host(&h->source, dst, n), hl_source_host(&h->source, src, n), n);
}

static hl_error arena_enter_scope(hl_heap *h, hl_scope *out)
{
    h->stats.calls[HL_STAT_enter_scope]++;
    if (h->depth == ARENA_MAX_DEPTH) return h->stats.failures[HL_STAT_enter_scope]++, HL_E_OUT_OF_MEMORY;
    h->depth++;
    h->levels[h->depth].handle = ++h->serial;
    h->levels[h->depth].head = 0;
    *out = h->serial;
    return HL_E_OK;
}

static hl_error arena_exit_scope(hl_heap *h, hl_scope scope)
{
    h->stats.calls[HL_STAT_exit_scope]++;
    uint32_t lvl = level_of_handle(h, scope);
    if (!lvl) return h->stats.failures[HL_STAT_exit_scope]++, HL_E_INVALID_ARGUMENT;
    close_from(h, lvl);
    return HL_E_OK;
}

static hl_addr arena_promote(hl_heap *h, hl_scope scope, hl_addr block, hl_layout layout, size_t n, hl_error *error)
{
    h->stats.calls[HL_STAT_promote]++;
    uint32_t lvl = level_of_handle(h, scope);
    hl_addr c = lvl ? live_chunk(h, block) : 0;
    if (!c || header(h, c)->level < lvl || n > layout.size) return fail(h, HL_STAT_promote, error, HL_E_INVALID_ARGUMENT);
    hl_addr fresh = alloc_at(h, lvl - 1, served((hl_layout){n, layout.align}));
    note_footprint(h);
    if (!fresh) return fail(h, HL_STAT_promote, error, HL_E_OUT_OF_MEMORY);
    memcpy(hl_source_host(&h->source, fresh, extent(n)), hl_source_host(&h->source, block, extent(n)), n);
    close_from(h, lvl);
    hl_stats_live(&h->stats, +1, (int64_t)n);
    return fresh;
}

static hl_error arena_free_all(hl_heap *h)
{
    h->stats.calls[HL_STAT_free_all]++;
    close_from(h, 0);
    hl_stats_restart(&h->stats, h->source.committed);
    return HL_E_OK;
}

static void arena_stats(const hl_heap *h, hl_stats *stats) { *stats = h->stats; }

/* Walks one list; adds its chunks' slots, blocks and bytes; 0 or a failure message. */
static int walk_list(hl_heap *h, hl_addr head, uint32_t lvl, uint64_t *slots, uint64_t *blocks, uint64_t *bytes,
                     char *message, size_t capacity)
{
    uint64_t limit = (h->top - h->first_chunk) / h->chunk_size;
    hl_addr prev = 0;
    for (hl_addr c = head; c; prev = c, c = header(h, c)->next) {
        const chunk *ch = c >= h->first_chunk && c < h->top && chunk_of(h, c) == c ? header(h, c) : NULL;
        if (!ch || ch->magic != ARENA_MAGIC)
            return snprintf(message, capacity, "chunk 0x%llx is not a chunk", (unsigned long long)c);
        if (ch->level != lvl || (lvl != FREE_LEVEL && ch->prev != prev))
            return snprintf(message, capacity, "chunk 0x%llx is on the wrong list or badly linked",
                            (unsigned long long)c);
        if (ch->size < h->chunk_size || ch->size % h->chunk_size || ch->size > h->top - c || ch->used < HEADER ||
            ch->used > ch->size)
            return snprintf(message, capacity, "chunk 0x%llx: size %zu or used %zu out of range",
                            (unsigned long long)c, ch->size, ch->used);
        *slots += ch->size / h->chunk_size;
        *blocks += ch->blocks;
        *bytes += ch->bytes;
        if (*slots > limit) return snprintf(message, capacity, "a chunk list has a cycle or chunks overlap");
    }
    return 0;
}

static hl_error arena_check(hl_heap *h, char *message, size_t capacity)
{
    uint64_t slots = 0, blocks = 0, bytes = 0, free_blocks = 0, free_bytes = 0;
    if (h->top < h->first_chunk || (h->top > h->first_chunk && hl_source_offset(&h->source, h->top) > h->source.committed)) {
        snprintf(message, capacity, "top of the chunks outside the committed memory");
        return HL_E_CORRUPTED;
    }
    for (uint32_t l = 0; l <= h->depth; l++)
        if (walk_list(h, h->levels[l].head, l, &slots, &blocks, &bytes, message, capacity)) return HL_E_CORRUPTED;
    if (walk_list(h, h->free_chunks, FREE_LEVEL, &slots, &free_blocks, &free_bytes, message, capacity) ||
        walk_list(h, h->free_big, FREE_LEVEL, &slots, &free_blocks, &free_bytes, message, capacity))
        return HL_E_CORRUPTED;
    if (slots != (h->top - h->first_chunk) / h->chunk_size) {
        snprintf(message, capacity, "%llu chunk slots on lists, %llu made", (unsigned long long)slots,
                 (unsigned long long)((h->top - h->first_chunk) / h->chunk_size));
        return HL_E_CORRUPTED;
    }
    if (blocks != h->stats.live_blocks || bytes != h->stats.live_bytes || free_blocks || free_bytes) {
        snprintf(message, capacity, "chunks count %llu blocks / %llu bytes, stats say %llu / %llu",
                 (unsigned long long)blocks, (unsigned long long)bytes, (unsigned long long)h->stats.live_blocks,
                 (unsigned long long)h->stats.live_bytes);
        return HL_E_CORRUPTED;
    }
    return HL_E_OK;
}

const hl_backend *HL_ARENA_GETTER(void)
{
    static const hl_backend table = {
        sizeof(hl_backend), HL_CONTRACT_VERSION, HL_ARENA_NAME, HL_CLASS_REFERENCE,
        "scoped bump arenas: O(1) enter, exit O(chunks), chunks reused across scopes",
        option_docs, arena_create, arena_destroy, arena_describe, arena_alloc, arena_free, arena_realloc,
        arena_usable_size, arena_mem_view, arena_mem_copy, arena_enter_scope, arena_exit_scope, arena_promote,
        arena_free_all, NULL, NULL, NULL, NULL, arena_stats, arena_check};
    return &table;
}
