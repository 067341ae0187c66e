/* wasm_core.c: a boundary-tag heap with segregated free lists and native scopes, in
 * one wasm32 linear memory, with u32 metadata only (see wasm_core.h).
 *
 * Memory: [state | chunk | chunk | ... | fence]. The state (free-list heads, the
 * scope levels, counters) sits at the heap base; chunks tile the memory from the
 * first 16-aligned offset after it up to a 16-byte fence at the memory's end. Every
 * chunk starts with a 16-byte header of four u32 words:
 *   word 0  size (a multiple of 16, >= 32) | INUSE | PINUSE (the previous chunk is in
 *           use) | FREED (a free chunk whose start was handed out and then freed)
 *   live chunk:  1 table index, 2 size asked for, 3 align asked for
 *   free chunk:  2 next, 3 prev on its free list; its last word repeats its size
 *                (the footer, for backward merging)
 * A block is the payload after its header, so every block is 16-aligned; a larger
 * alignment is served by splitting a free chunk off the front.
 *
 * Free lists: 108 lists, four per power of two (TLSF's mapping), a bitmap of the
 * non-empty ones. alloc looks at the head of its own list, then takes the head of the
 * first non-empty list whose chunks are all big enough; it splits off the rest (when
 * >= 32 bytes) and frees it. When nothing fits, the memory grows by the pages still
 * missing beyond a free last chunk. Free merges with free neighbours at once.
 *
 * The block table, one internal chunk of u32 entries, makes the live check exact:
 * live blocks fill it, grouped by scope level (level l holds the entries [level[l],
 * level[l + 1])). A pointer is a live block iff its header's index i is below the live
 * count and entry i holds the pointer. Nothing in a block's bytes can pass for a live
 * header: whatever an interior or freed block holds, the table entry it would name
 * holds another address. So a free is accepted only for a live block. A pointer that
 * is not one is a double free when it is a FREED chunk's start, proven by its free
 * list (its predecessor on the list, or the list's head, names it): a freed start is
 * remembered until its chunk merges into its predecessor or is handed out again, and
 * then reported as an invalid pointer. Only bytes that copy a header and its list
 * links exactly could turn an invalid pointer into a double free; both are refused.
 * The table doubles (a new chunk cut together with the block that needs it, so one
 * allocation either succeeds or changes nothing) and never shrinks until free_all.
 *
 * Scopes are native: a new block is appended to the table, i.e. to the innermost
 * level. Exit frees the table's tail from the scope's first entry; promote takes the
 * block out of the table, closes the scopes, appends it to the parent level and trims
 * it to n bytes in place (so promote never needs memory); realloc keeps the block's
 * table entry, so its scope. A handle is (serial << 8) | level.
 *
 * Cost per operation (n live blocks, d open scopes):
 *   alloc     O(1) (bitmap search over 4 words), plus the table's amortised doubling
 *   free      O(d) (the table entries of the inner levels shift by one each), O(1)
 *             outside scopes
 *   realloc   O(1) in place (shrink, or grow into a free successor, or at the end
 *             of the memory, which grows), else alloc + copy + free
 *   enter     O(1); exit O(blocks freed); promote O(d + blocks freed); free_all
 *             O(free lists)
 *   check     O(chunks + free chunks + d)
 *
 * Invariants (hlwc_check):
 *   the chunks tile [first, fence) exactly; each size is a multiple of 16, >= 32;
 *   PINUSE of a chunk (and of the fence) is the INUSE of its predecessor; no two free
 *   chunks are adjacent; a free chunk's footer is its size; a live chunk's entry
 *   names it, its size fits its usable bytes, its address is aligned to its align,
 *   and it is not FREED; live <= capacity; exactly
 *   one table chunk when the capacity is not 0; the live count and bytes in the state
 *   are those of the chunks; each free chunk is on the list of its size, once, with
 *   consistent links, and a list's bitmap bit says whether it is empty; scope levels
 *   are non-decreasing and within the live entries, and each open handle names its
 *   level. */
#include "wasm_core.h"

#define H 16u         /* header bytes = the minimum alignment */
#define MIN_CHUNK 32u /* a header, free-list links and a footer */
#define INUSE 1u
#define PINUSE 2u
#define FREED 4u
#define FLAGS 15u
#define NOT_LIVE 0xffffffffu /* the table's own chunk names no entry */
#define BINS 108u
#define MAGIC 0x6877636bu /* "hwck" */

typedef struct state {
    uint32_t magic;
    uint32_t end;   /* the memory's end (pages * 64 KiB); the fence is at end - 16 */
    uint32_t first; /* the first chunk */
    uint32_t table; /* the block table (payload offset), 0 when cap is 0 */
    uint32_t cap, nlive;
    uint32_t live_bytes;
    uint32_t depth, serial;
    uint32_t map[4];
    uint32_t bin[BINS];
    uint32_t level[HLWC_MAX_DEPTH + 1]; /* level[l]: the table index of level l's first block */
    uint32_t handle[HLWC_MAX_DEPTH + 1];
} state;

#ifdef HLWC_FLAT /* a real wasm build: offset i is address i (no arithmetic on a null base) */
extern unsigned char __heap_base; /* wasm-ld's: the first byte after the stack and data */
static unsigned char *at(const hlwc_mem *m, uint32_t off) { return (void)m, (unsigned char *)(uintptr_t)off; }
static uint32_t base_of(const hlwc_mem *m) { return (void)m, (uint32_t)(uintptr_t)&__heap_base; }
static int32_t grow_by(const hlwc_mem *m, uint32_t pages) { return (void)m, (int32_t)__builtin_wasm_memory_grow(0, pages); }
#else
static unsigned char *at(const hlwc_mem *m, uint32_t off) { return m->base + off; }
static uint32_t base_of(const hlwc_mem *m) { return m->state; }
static int32_t grow_by(const hlwc_mem *m, uint32_t pages) { return m->grow(m->ctx, pages); }
#endif
static uint32_t *w(const hlwc_mem *m, uint32_t off) { return (uint32_t *)(void *)at(m, off); }
static state *st(const hlwc_mem *m) { return (state *)(void *)at(m, base_of(m)); }
static uint32_t size_of(const hlwc_mem *m, uint32_t c) { return *w(m, c) & ~FLAGS; }

/* Whether ptr can be a block: 16-aligned, its header inside the chunks [first, fence).
 * Any of a chunk's four header words may then be read. */
static bool in_chunks(const state *s, uint32_t ptr) { return !(ptr & 15) && ptr >= s->first + H && ptr <= s->end - H; }

/* a chunk of at least 32 bytes holding a header and `size` payload bytes */
static uint32_t need_of(uint32_t size) { return size < MIN_CHUNK - H ? MIN_CHUNK : (size + H + 15) & ~15u; }

static uint32_t bin_of(uint32_t size)
{
    uint32_t f = 31u - (uint32_t)__builtin_clz(size);
    return (f - 5) * 4 + ((size >> (f - 2)) & 3);
}

/* ---------------------------------------------------------------- free lists, freed table */

static void bin_insert(const hlwc_mem *m, state *s, uint32_t c)
{
    uint32_t b = bin_of(size_of(m, c)), head = s->bin[b], *hd = w(m, c);
    hd[2] = head;
    hd[3] = 0;
    if (head) w(m, head)[3] = c;
    s->bin[b] = c;
    s->map[b >> 5] |= 1u << (b & 31);
}

static void bin_remove(const hlwc_mem *m, state *s, uint32_t c)
{
    uint32_t *hd = w(m, c), next = hd[2], prev = hd[3], b = bin_of(hd[0] & ~FLAGS);
    if (prev) {
        w(m, prev)[2] = next;
    } else {
        s->bin[b] = next;
        if (!next) s->map[b >> 5] &= ~(1u << (b & 31));
    }
    if (next) w(m, next)[3] = prev;
}

/* Makes chunk c (in use, its size and PINUSE set) free: merges it with free
 * neighbours, marks its start FREED if `remember` (a block's free) and it did not
 * merge into its predecessor, and puts the result on its list. Returns the merged
 * chunk. */
static uint32_t release(const hlwc_mem *m, state *s, uint32_t c, bool remember)
{
    uint32_t size = size_of(m, c), flags = *w(m, c) & PINUSE, n = c + size, *nh = w(m, n);
    if (!(*nh & INUSE)) {
        bin_remove(m, s, n);
        size += *nh & ~FLAGS;
    } else {
        *nh &= ~PINUSE;
    }
    if (!flags) {
        uint32_t p = c - *w(m, c - 4);
        bin_remove(m, s, p);
        size += c - p;
        c = p;
        flags = *w(m, p) & (PINUSE | FREED);
        remember = false;
    }
    *w(m, c) = size | flags | (remember ? FREED : 0);
    *w(m, c + size - 4) = size;
    bin_insert(m, s, c);
    return c;
}

/* Cuts chunk c (in use) down to `need` bytes when the rest makes a chunk: frees it. */
static void trim(const hlwc_mem *m, state *s, uint32_t c, uint32_t need)
{
    uint32_t *hd = w(m, c), size = hd[0] & ~FLAGS;
    if (size - need < MIN_CHUNK) return;
    hd[0] = need | (hd[0] & FLAGS);
    *w(m, c + need) = (size - need) | INUSE | PINUSE;
    release(m, s, c + need, false);
}

/* ---------------------------------------------------------------- finding chunks */

/* A free chunk of at least `want` bytes, or 0. */
static uint32_t find(const hlwc_mem *m, const state *s, uint32_t want)
{
    uint32_t b = bin_of(want), c = s->bin[b];
    if (c && size_of(m, c) >= want) return c;
    uint32_t step = 1u << (31u - (uint32_t)__builtin_clz(want) - 2);
    uint64_t rounded = ((uint64_t)want + step - 1) & ~(uint64_t)(step - 1);
    if (rounded > HLWC_LIMIT) return 0;
    for (b = bin_of((uint32_t)rounded); b < BINS; b = (b | 31) + 1) {
        uint32_t bits = s->map[b >> 5] & (~0u << (b & 31));
        if (bits) return s->bin[(b & ~31u) + (uint32_t)__builtin_ctz(bits)];
    }
    return 0;
}

/* Grows the memory so that a free chunk of at least `want` bytes ends at the fence
 * (the free last chunk counts), and returns it; 0, nothing changed, if it cannot. */
static uint32_t grow(const hlwc_mem *m, state *s, uint32_t want)
{
    uint32_t fence = s->end - H, tail = *w(m, fence) & PINUSE ? 0 : *w(m, fence - 4);
    if (tail >= want) return fence - tail;
    uint32_t pages = (want - tail + HLWC_PAGE - 1) / HLWC_PAGE;
    if (pages > (HLWC_LIMIT - s->end) / HLWC_PAGE || grow_by(m, pages) < 0) return 0;
    s->end += pages * HLWC_PAGE;
    *w(m, fence) = (s->end - H - fence) | INUSE | (*w(m, fence) & PINUSE);
    *w(m, s->end - H) = INUSE | PINUSE;
    return release(m, s, fence, false);
}

/* Hands out free chunk c (big enough for need bytes at align): splits off the front
 * to align the payload and the tail beyond need; returns the payload. */
static uint32_t take(const hlwc_mem *m, state *s, uint32_t c, uint32_t need, uint32_t align)
{
    bin_remove(m, s, c);
    uint32_t size = size_of(m, c), pin = *w(m, c) & PINUSE, p = (c + H + align - 1) & ~(align - 1);
    if (p - H - c && p - H - c < MIN_CHUNK) p += align;
    uint32_t b = p - H;
    if (b != c) {
        *w(m, b) = (size - (b - c)) | INUSE;
        *w(m, c) = (b - c) | INUSE | pin;
        release(m, s, c, false);
        size -= b - c;
        pin = 0;
    }
    *w(m, b) = size | INUSE | pin;
    *w(m, b + size) |= PINUSE;
    trim(m, s, b, need);
    return p;
}

/* A chunk of need bytes whose payload is aligned to align: payload or 0. */
static uint32_t get(const hlwc_mem *m, state *s, uint64_t need, uint32_t align)
{
    uint64_t want = need + (align > H ? align + H : 0);
    if (want > HLWC_LIMIT) return 0;
    uint32_t c = find(m, s, (uint32_t)want);
    if (!c) c = grow(m, s, (uint32_t)want);
    return c ? take(m, s, c, (uint32_t)need, align) : 0;
}

#ifndef HLWC_LEAN
/* ---------------------------------------------------------------- the block table */

static uint32_t *entry(const hlwc_mem *m, const state *s, uint32_t i) { return w(m, s->table + 4 * i); }

/* The chunk of the live block at ptr, or 0. */
static uint32_t live(const hlwc_mem *m, const state *s, uint32_t ptr)
{
    if (!in_chunks(s, ptr)) return 0;
    uint32_t *hd = w(m, ptr - H);
    return (hd[0] & INUSE) && hd[1] < s->nlive && *entry(m, s, hd[1]) == ptr ? ptr - H : 0;
}

static void set_entry(const hlwc_mem *m, const state *s, uint32_t i, uint32_t ptr)
{
    *entry(m, s, i) = ptr;
    w(m, ptr - H)[1] = i;
}

/* Takes entry i out of the live part: each level from i's own up gives its last
 * entry to the gap and starts one entry earlier. */
static void unlist(const hlwc_mem *m, state *s, uint32_t i)
{
    uint32_t l = s->depth;
    while (l && s->level[l] > i) l--;
    for (;; l++) {
        uint32_t last = (l == s->depth ? s->nlive : s->level[l + 1]) - 1;
        if (last != i) set_entry(m, s, i, *entry(m, s, last)); /* (an empty level moves nothing) */
        i = last;
        if (l == s->depth) break;
        s->level[l + 1]--;
    }
    s->nlive--;
}

/* Whether ptr is the start of a FREED free chunk: its header says so, and its free
 * list names it (every word read is checked to lie in the chunks first). */
static bool freed_start(const hlwc_mem *m, const state *s, uint32_t ptr)
{
    if (!in_chunks(s, ptr)) return false;
    uint32_t c = ptr - H, *hd = w(m, c), size = hd[0] & ~FLAGS, prev = hd[3];
    if ((hd[0] & (INUSE | FREED)) != FREED || size < MIN_CHUNK || size > s->end - H - c) return false;
    if (!prev) return s->bin[bin_of(size)] == c;
    return in_chunks(s, prev + H) && !(*w(m, prev) & INUSE) && w(m, prev)[2] == c;
}

/* Appends the block at ptr (its chunk's header filled) to the innermost level. */
static void enlist(const hlwc_mem *m, state *s, uint32_t ptr, uint32_t size)
{
    w(m, ptr - H)[2] = size;
    set_entry(m, s, s->nlive++, ptr);
    s->live_bytes += size;
}

/* Frees every block of levels >= l (l >= 1) and closes them. */
static void close_from(const hlwc_mem *m, state *s, uint32_t l)
{
    for (uint32_t i = s->nlive; i-- > s->level[l];) {
        uint32_t ptr = *entry(m, s, i);
        s->nlive = i; /* entries from i on are done: the freed part may take them */
        s->live_bytes -= w(m, ptr - H)[2];
        release(m, s, ptr - H, true);
    }
    s->depth = l - 1;
}

#endif /* HLWC_LEAN */

/* ---------------------------------------------------------------- operations */

static void reset(const hlwc_mem *m, state *s)
{
    for (uint32_t i = 0; i < 4; i++) s->map[i] = 0;
    for (uint32_t i = 0; i < BINS; i++) s->bin[i] = 0;
    s->table = s->cap = s->nlive = s->live_bytes = s->depth = 0;
    uint32_t fence = s->end - H;
    *w(m, s->first) = (fence - s->first) | INUSE | PINUSE;
    *w(m, fence) = INUSE | PINUSE;
    release(m, s, s->first, false);
}

bool hlwc_ready(const hlwc_mem *m) { return st(m)->magic == MAGIC; }

int hlwc_init(const hlwc_mem *m, uint32_t pages)
{
    uint64_t first = ((uint64_t)base_of(m) + sizeof(state) + 15) & ~(uint64_t)15;
    if ((base_of(m) & 15) || !base_of(m) || pages > HLWC_LIMIT / HLWC_PAGE || pages * HLWC_PAGE < first + MIN_CHUNK + H)
        return -1;
    state *s = st(m);
    s->magic = MAGIC;
    s->end = pages * HLWC_PAGE;
    s->first = (uint32_t)first;
    s->serial = 0;
    reset(m, s);
    return 0;
}

#ifdef HLWC_LEAN
/* The lean core (wasm_core.h): blocks are counted, never checked. */
uint32_t hlwc_alloc(const hlwc_mem *m, uint32_t size, uint32_t align)
{
    state *s = st(m);
    if (!align || (align & (align - 1)) || align > HLWC_MAX_ALIGN || size > HLWC_LIMIT) return 0;
    uint32_t p = get(m, s, need_of(size), align);
    if (p) {
        uint32_t *hd = w(m, p - H);
        hd[1] = 0;
        hd[2] = size;
        hd[3] = align;
        s->nlive++;
        s->live_bytes += size;
    }
    return p;
}

uint32_t hlwc_free(const hlwc_mem *m, uint32_t ptr, uint32_t size, uint32_t align)
{
    (void)size, (void)align;
    state *s = st(m);
    if (ptr) {
        s->nlive--;
        s->live_bytes -= w(m, ptr - H)[2];
        release(m, s, ptr - H, false);
    }
    return HLWC_OK;
}

uint32_t hlwc_realloc(const hlwc_mem *m, uint32_t ptr, uint32_t old_size, uint32_t new_size)
{
    if (!ptr) return hlwc_alloc(m, new_size, 1);
    uint32_t p = hlwc_alloc(m, new_size, w(m, ptr - H)[3]);
    if (!p) return 0;
    for (uint32_t i = 0, n = old_size < new_size ? old_size : new_size; i < n; i++) at(m, p)[i] = at(m, ptr)[i];
    hlwc_free(m, ptr, old_size, 0);
    return p;
}

uint32_t hlwc_block(const hlwc_mem *m, uint32_t ptr, uint32_t *size, uint32_t *align)
{
    const state *s = st(m);
    if (!in_chunks(s, ptr) || !(*w(m, ptr - H) & INUSE)) return 0;
    if (size) *size = w(m, ptr - H)[2];
    if (align) *align = w(m, ptr - H)[3];
    return size_of(m, ptr - H) - H;
}

uint32_t hlwc_enter(const hlwc_mem *m) { return (void)m, 0; }
int hlwc_exit(const hlwc_mem *m, uint32_t handle) { return (void)m, (void)handle, -1; }
uint32_t hlwc_promote(const hlwc_mem *m, uint32_t handle, uint32_t ptr, uint32_t n) { return (void)m, (void)handle, (void)ptr, (void)n, 0; }
#else
uint32_t hlwc_alloc(const hlwc_mem *m, uint32_t size, uint32_t align)
{
    state *s = st(m);
    if (!align || (align & (align - 1)) || align > HLWC_MAX_ALIGN || size > HLWC_LIMIT) return 0;
    uint32_t need = need_of(size), cap = s->cap, extra = 0;
    if (s->nlive == cap) {
        cap = cap ? 2 * cap : 16;
        if (cap > HLWC_LIMIT / 8) return 0;
        extra = H + 4 * cap;
    }
    uint32_t p = get(m, s, (uint64_t)need + extra, align);
    if (!p) return 0;
    if (extra) { /* the table's new chunk is the tail of the block's */
        uint32_t b = p - H, t = b + need, *bh = w(m, b);
        *w(m, t) = ((*bh & ~FLAGS) - need) | INUSE | PINUSE;
        w(m, t)[1] = NOT_LIVE;
        *bh = need | (*bh & FLAGS);
        for (uint32_t i = 0; i < s->nlive; i++) *w(m, t + H + 4 * i) = *entry(m, s, i);
        uint32_t old = s->table;
        s->table = t + H;
        s->cap = cap;
        if (old) release(m, s, old - H, false);
    }
    w(m, p - H)[3] = align;
    enlist(m, s, p, size);
    return p;
}

uint32_t hlwc_free(const hlwc_mem *m, uint32_t ptr, uint32_t size, uint32_t align)
{
    state *s = st(m);
    if (!ptr) return HLWC_OK;
    uint32_t c = live(m, s, ptr);
    if (c) {
        uint32_t *hd = w(m, c);
        if (hd[2] != size || (align && hd[3] != align)) return HLWC_LENGTH_MISMATCH;
        s->live_bytes -= size;
        unlist(m, s, hd[1]);
        release(m, s, c, true);
        return HLWC_OK;
    }
    return freed_start(m, s, ptr) ? HLWC_DOUBLE_FREE : HLWC_INVALID_POINTER;
}

uint32_t hlwc_realloc(const hlwc_mem *m, uint32_t ptr, uint32_t old_size, uint32_t new_size)
{
    state *s = st(m);
    if (!ptr) return hlwc_alloc(m, new_size, 1);
    uint32_t c = live(m, s, ptr);
    if (!c || w(m, c)[2] != old_size || new_size > HLWC_LIMIT) return 0;
    uint32_t *hd = w(m, c), size = hd[0] & ~FLAGS, need = need_of(new_size), n = c + size, next = *w(m, n);
    if (need > size) {
        /* the last chunk (or the one before a free last chunk) grows with the memory */
        if (n == s->end - H || (!(next & INUSE) && n + (next & ~FLAGS) == s->end - H)) {
            grow(m, s, need - size);
            next = *w(m, n);
        }
        if (!(next & INUSE) && size + (next & ~FLAGS) >= need) { /* absorb the free successor */
            bin_remove(m, s, n);
            size += next & ~FLAGS;
            hd[0] = size | (hd[0] & FLAGS);
            *w(m, c + size) |= PINUSE;
        } else {
            uint32_t p = get(m, s, need, hd[3]);
            if (!p) return 0;
            uint32_t words = ((old_size < new_size ? old_size : new_size) + 3) / 4;
            for (uint32_t i = 0; i < words; i++) w(m, p)[i] = w(m, ptr)[i];
            uint32_t *ph = w(m, p - H);
            ph[2] = new_size;
            ph[3] = hd[3];
            set_entry(m, s, hd[1], p);
            s->live_bytes += new_size - old_size;
            release(m, s, c, true);
            return p;
        }
    }
    trim(m, s, c, need);
    hd[2] = new_size;
    s->live_bytes += new_size - old_size;
    return ptr;
}

uint32_t hlwc_block(const hlwc_mem *m, uint32_t ptr, uint32_t *size, uint32_t *align)
{
    uint32_t c = live(m, st(m), ptr);
    if (!c) return 0;
    if (size) *size = w(m, c)[2];
    if (align) *align = w(m, c)[3];
    return size_of(m, c) - H;
}

#endif /* HLWC_LEAN */

int hlwc_copy(const hlwc_mem *m, uint32_t dst, uint32_t src, uint32_t n)
{
    uint32_t end = st(m)->end;
    if (dst > end || n > end - dst || src > end || n > end - src) return -1;
    unsigned char *to = at(m, dst);
    const unsigned char *from = at(m, src);
    for (uint32_t i = 0; i < n; i++) to[i] = from[i];
    return 0;
}

void *hlwc_view(const hlwc_mem *m, uint32_t ptr, uint32_t len)
{
    uint32_t end = st(m)->end;
    return ptr > end || len > end - ptr ? NULL : at(m, ptr);
}

#ifndef HLWC_LEAN
uint32_t hlwc_enter(const hlwc_mem *m)
{
    state *s = st(m);
    if (s->depth == HLWC_MAX_DEPTH) return 0;
    uint32_t l = ++s->depth;
    s->level[l] = s->nlive;
    return s->handle[l] = (++s->serial << 8) | l;
}

static uint32_t level_of(const state *s, uint32_t handle)
{
    uint32_t l = handle & 255;
    return l && l <= s->depth && s->handle[l] == handle ? l : 0;
}

int hlwc_exit(const hlwc_mem *m, uint32_t handle)
{
    state *s = st(m);
    uint32_t l = level_of(s, handle);
    if (!l) return -1;
    close_from(m, s, l);
    return 0;
}

uint32_t hlwc_promote(const hlwc_mem *m, uint32_t handle, uint32_t ptr, uint32_t n)
{
    state *s = st(m);
    uint32_t l = level_of(s, handle), c = l ? live(m, s, ptr) : 0, *hd = w(m, c);
    if (!c || hd[1] < s->level[l] || n > hd[2]) return 0;
    s->live_bytes -= hd[2];
    unlist(m, s, hd[1]);
    close_from(m, s, l);
    enlist(m, s, ptr, n);
    trim(m, s, c, need_of(n));
    return ptr;
}

#endif /* HLWC_LEAN */

void hlwc_free_all(const hlwc_mem *m) { reset(m, st(m)); }

void hlwc_stats(const hlwc_mem *m, uint32_t *blocks, uint32_t *bytes)
{
    const state *s = st(m);
    *blocks = s->nlive;
    *bytes = s->live_bytes;
}

/* ---------------------------------------------------------------- check */

uint32_t hlwc_check(const hlwc_mem *m, uint32_t pages, uint32_t *where)
{
    const state *s = st(m);
    *where = base_of(m);
    uint32_t fence = s->end - H;
    if (s->magic != MAGIC || pages > HLWC_LIMIT / HLWC_PAGE || s->end != pages * HLWC_PAGE || s->first & 15 ||
        s->first < base_of(m) + sizeof(state) || s->first > fence || s->depth > HLWC_MAX_DEPTH ||
#ifndef HLWC_LEAN /* the lean core counts blocks without a table */
        s->nlive > s->cap ||
#endif
        s->cap > HLWC_LIMIT / 8 ||
        (s->cap && (s->table < s->first + H || s->table > fence || 4 * s->cap > fence - s->table)))
        return HLWC_PROBLEM_STATE;
#ifndef HLWC_LEAN
    for (uint32_t l = 1, from = 0; l <= s->depth; from = s->level[l++])
        if (s->level[l] < from || s->level[l] > s->nlive || (s->handle[l] & 255) != l) return HLWC_PROBLEM_LEVELS;
#endif
    uint32_t c = s->first, prev_inuse = PINUSE, lives = 0, frees = 0, tables = 0, bytes = 0;
    for (; c < fence; c += *w(m, c) & ~FLAGS) {
        *where = c;
        uint32_t *hd = w(m, c), size = hd[0] & ~FLAGS;
        if (size < MIN_CHUNK || size > fence - c) return HLWC_PROBLEM_CHUNK;
        if ((hd[0] & PINUSE) != prev_inuse) return HLWC_PROBLEM_PREV_FLAG;
        prev_inuse = hd[0] & INUSE ? PINUSE : 0;
        if (hd[0] & INUSE) {
            if (hd[0] & FREED) return HLWC_PROBLEM_FREED;
            if (hd[1] == NOT_LIVE) {
                if (c + H != s->table || size - H < 4 * s->cap) return HLWC_PROBLEM_TABLE;
                tables++;
            } else {
                uint32_t align = hd[3];
#ifdef HLWC_LEAN
                if (hd[2] > size - H || !align ||
#else
                if (hd[1] >= s->nlive || *entry(m, s, hd[1]) != c + H || hd[2] > size - H || !align ||
#endif
                    (align & (align - 1)) || align > HLWC_MAX_ALIGN || ((c + H) & (align - 1)))
                    return HLWC_PROBLEM_LIVE;
                lives++;
                bytes += hd[2];
            }
            continue;
        }
        if (!(hd[0] & PINUSE)) return HLWC_PROBLEM_ADJACENT;
        if (*w(m, c + size - 4) != size) return HLWC_PROBLEM_FOOTER;
        frees++;
    }
    *where = fence;
    if (c != fence || (*w(m, fence) & ~PINUSE) != INUSE || (*w(m, fence) & PINUSE) != prev_inuse)
        return HLWC_PROBLEM_FENCE;
    *where = base_of(m);
    if (lives != s->nlive || bytes != s->live_bytes || tables != (s->cap ? 1u : 0u))
        return HLWC_PROBLEM_COUNTS;
    uint32_t listed = 0;
    for (uint32_t b = 0; b < BINS; b++) {
        if (!s->bin[b] != !(s->map[b >> 5] & (1u << (b & 31)))) return HLWC_PROBLEM_BINS;
        for (uint32_t p = 0, f = s->bin[b]; f; p = f, f = w(m, f)[2]) {
            *where = f;
            if (f < s->first || f >= fence || (f & 15) || (*w(m, f) & INUSE) || size_of(m, f) < MIN_CHUNK ||
                bin_of(size_of(m, f)) != b || w(m, f)[3] != p || ++listed > frees)
                return HLWC_PROBLEM_BINS;
        }
    }
    *where = base_of(m);
    return listed == frees ? HLWC_PROBLEM_NONE : HLWC_PROBLEM_BINS;
}
