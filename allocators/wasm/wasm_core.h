/* wasm_core.h: the wasm backend's allocator core, freestanding (stddef, stdint and
 * stdbool only; no libc call anywhere), so the same source builds natively over a
 * linear-memory source and for wasm32 with `clang --target=wasm32 -nostdlib`.
 *
 * The core sees one linear memory: a host pointer to its byte 0 (`base`; 0 in a real
 * wasm build) and a memory.grow callback. Every address it hands out or stores is a
 * u32 offset into that memory, and all of its state lives in the memory itself: the
 * heap state at `state` (the heap base, 1024 by default), then the chunks. Nothing in
 * the memory depends on where the host mapped it, so a native build and a wasm build
 * fed the same operations hand out the same offsets.
 *
 * The design, its costs and its invariants are described at the top of wasm_core.c.
 *
 * Conventions for every function below:
 *   - `m` describes a memory whose heap was built by hlwc_init (precondition);
 *   - a function that fails returns 0 (or the error code given) and changes nothing:
 *     no block, scope, free list or table moves, and no memory is grown;
 *   - memory grows only through m->grow, by whole 64 KiB pages, and never past
 *     HLWC_LIMIT, so every offset and every end fits in a u32. */
#ifndef HL_WASM_CORE_H
#define HL_WASM_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HLWC_PAGE 65536u          /* a wasm page */
#define HLWC_MIN_ALIGN 16u        /* every block is aligned at least to this */
#define HLWC_MAX_ALIGN 65536u     /* largest alignment served */
#define HLWC_MAX_DEPTH 255u       /* scopes open at once */
#define HLWC_LIMIT 0xffff0000u    /* the memory never grows past this offset (65535 pages) */

/* The lean configuration (-DHLWC_LEAN: build/heaplab-alloc-lean.wasm and its native
 * twin, the `wasm-lean` backend): the same heap, chunks and free lists, without the
 * block table and the scopes. hlwc_free frees any block start it is given without a
 * check and always answers HLWC_OK; hlwc_block trusts the header of any in-use chunk;
 * hlwc_realloc is alloc, copy, free; hlwc_enter, hlwc_exit and hlwc_promote always
 * fail. Its functions have names of their own, so both cores can live in one program. */
#ifdef HLWC_LEAN
#define hlwc_ready hlwc_lean_ready
#define hlwc_init hlwc_lean_init
#define hlwc_alloc hlwc_lean_alloc
#define hlwc_free hlwc_lean_free
#define hlwc_realloc hlwc_lean_realloc
#define hlwc_block hlwc_lean_block
#define hlwc_copy hlwc_lean_copy
#define hlwc_view hlwc_lean_view
#define hlwc_enter hlwc_lean_enter
#define hlwc_exit hlwc_lean_exit
#define hlwc_promote hlwc_lean_promote
#define hlwc_free_all hlwc_lean_free_all
#define hlwc_stats hlwc_lean_stats
#define hlwc_check hlwc_lean_check
#endif

/* memory.grow: adds `pages` pages; returns the old page count, or -1 with nothing
 * changed. The core assumes it is the only one growing the memory. */
typedef int32_t (*hlwc_grow_fn)(void *ctx, uint32_t pages);

/* Compiled with -DHLWC_FLAT (a real wasm build, where the memory is the address
 * space), offset i is address i and the struct is not read at all (NULL will do): the
 * heap state is at wasm-ld's __heap_base and memory.grow is the instruction. */
typedef struct hlwc_mem {
    unsigned char *base; /* host address of offset 0 */
    hlwc_grow_fn grow;
    void *ctx;           /* passed to grow */
    uint32_t state;      /* offset of the heap state (the heap base): a multiple of 16, >= 16 */
} hlwc_mem;

/* hlwc_free's results: seed 004's numbered errors. */
enum { HLWC_OK = 0, HLWC_INVALID_POINTER = 1, HLWC_LENGTH_MISMATCH = 2, HLWC_DOUBLE_FREE = 3 };

/* hlwc_check's findings (0: none). */
#define HLWC_PROBLEMS(X)                                                                 \
    X(STATE, "the heap state is out of range")                                           \
    X(LEVELS, "the scope levels are out of order or a handle names the wrong level")     \
    X(CHUNK, "a chunk's size is out of range")                                           \
    X(PREV_FLAG, "a chunk's previous-in-use flag disagrees with its predecessor")        \
    X(ADJACENT, "two free chunks are adjacent (not coalesced)")                          \
    X(FOOTER, "a free chunk's footer disagrees with its size")                           \
    X(LIVE, "a live chunk is not the table entry it names, or its layout does not fit")  \
    X(FREED, "a live chunk is marked FREED")                                             \
    X(TABLE, "the block table's chunk is missing or wrong")                              \
    X(FENCE, "the fence at the end of the memory is damaged")                            \
    X(COUNTS, "the chunks' live count or live bytes disagree with the state")            \
    X(BINS, "a free list is broken (wrong list, bad link, cycle or missing chunk)")

enum {
    HLWC_PROBLEM_NONE,
#define HLWC_PROBLEM_ENUM(name, text) HLWC_PROBLEM_##name,
    HLWC_PROBLEMS(HLWC_PROBLEM_ENUM)
#undef HLWC_PROBLEM_ENUM
    HLWC_PROBLEM_COUNT
};

/* Builds an empty heap in a memory of `pages` pages: state at m->state, one free
 * chunk after it up to the end. 0 on success; -1 (memory untouched) if m->state is
 * not a multiple of 16 or the state and a first chunk do not fit. */
int hlwc_init(const hlwc_mem *m, uint32_t pages);

/* Whether hlwc_init has built a heap at the state's offset (a module builds its heap
 * on the first call; fresh wasm memory is zero, so not before). */
bool hlwc_ready(const hlwc_mem *m);

/* A block of at least size bytes aligned to max(align, 16) in the innermost open
 * scope. 0 if align is not a power of two, exceeds HLWC_MAX_ALIGN, or the memory
 * cannot grow far enough (seed 001's trap, seed 004's failed __alloc). */
uint32_t hlwc_alloc(const hlwc_mem *m, uint32_t size, uint32_t align);

/* Frees the live block at ptr, allocated with (size, align); align 0 checks the size
 * only (seed 004's __free). ptr 0 is a no-op. Returns HLWC_OK, or, changing nothing,
 * HLWC_INVALID_POINTER (ptr is no block's start), HLWC_LENGTH_MISMATCH (a live
 * block allocated with another size or align) or HLWC_DOUBLE_FREE (ptr was handed
 * out, freed, and not handed out since; a freed start the heap no longer remembers,
 * after it merged into its predecessor or after free_all, is an invalid pointer). */
uint32_t hlwc_free(const hlwc_mem *m, uint32_t ptr, uint32_t size, uint32_t align);

/* Resizes the live block at ptr (allocated with old_size) to new_size, keeping the
 * first min(old_size, new_size) bytes, its alignment and its scope; in place when it
 * can. ptr 0 allocates new_size bytes (align 1). Returns the block's address, or 0 if
 * ptr is not a live block of old_size or memory runs out; the old block is intact. */
uint32_t hlwc_realloc(const hlwc_mem *m, uint32_t ptr, uint32_t old_size, uint32_t new_size);

/* The live block at ptr: returns its usable bytes (>= its size) and, if the pointers
 * are not NULL, writes its size and align. 0 if ptr is not a live block's start. */
uint32_t hlwc_block(const hlwc_mem *m, uint32_t ptr, uint32_t *size, uint32_t *align);

/* Copies n bytes from src to dst one byte at a time, forwards (the forward-walk
 * result is kept when the ranges overlap with dst > src). -1, nothing written, if
 * either range leaves the memory. */
int hlwc_copy(const hlwc_mem *m, uint32_t dst, uint32_t src, uint32_t n);

/* The host bytes of [ptr, ptr + len), or NULL if they leave the memory. */
void *hlwc_view(const hlwc_mem *m, uint32_t ptr, uint32_t len);

/* Opens a scope inside the innermost one and returns its handle (never 0), or 0 when
 * HLWC_MAX_DEPTH scopes are open. */
uint32_t hlwc_enter(const hlwc_mem *m);
/* Frees every block of scope `handle` and of the scopes inside it, and closes them.
 * -1 (nothing changed) if handle is not open. */
int hlwc_exit(const hlwc_mem *m, uint32_t handle);
/* As hlwc_exit, except that the first n bytes of ptr (a live block of scope handle or
 * of a scope inside it, n <= its size) survive in handle's parent scope as the same
 * block of size n. The block keeps its address, so this never needs memory. Returns
 * ptr, or 0 (nothing changed) if handle is not open, ptr is not a live block of it or
 * n exceeds the block's size. */
uint32_t hlwc_promote(const hlwc_mem *m, uint32_t handle, uint32_t ptr, uint32_t n);
/* Frees every block, closes every scope and forgets every freed address: the heap is
 * as after hlwc_init, keeping the memory it grew. */
void hlwc_free_all(const hlwc_mem *m);

/* Live blocks, and the sum of their sizes. */
void hlwc_stats(const hlwc_mem *m, uint32_t *blocks, uint32_t *bytes);
/* Walks the state, every chunk and every free list (O(chunks + scopes)) of a memory
 * now `pages` pages long (memory.size); returns HLWC_PROBLEM_NONE or the first broken
 * invariant, with *where the offset of the chunk or structure concerned. Reads only
 * inside the memory, whatever the damage; changes nothing. */
uint32_t hlwc_check(const hlwc_mem *m, uint32_t pages, uint32_t *where);

#endif
