/* hl_wasm.h: the wasm backend's two guest surfaces (CONTRACT.md, "The wasm32
 * surfaces"), as thin C functions over an instance of the `wasm` backend
 * (hl_backend_wasm). Each goes through the backend's contract operations, so it is
 * counted in the instance's stats like any other call. Addresses are u32 offsets
 * into the instance's linear memory.
 *
 * Precondition for every function: heap is a live instance made by
 * hl_backend_wasm()->create (anything else is undefined).
 *
 * Seed 001 (sigil allocator.wit): a failure is a trap. The function returns 0 (or
 * false) and changes nothing: no block, scope or byte moves, no memory grows. The
 * host asks hl_wasm_trap why: OUT_OF_MEMORY for a trap of memory exhaustion (what a
 * host reports for alloc, realloc, enter_scope), INVALID_ARGUMENT for a bad handle,
 * a pointer that is no live block or an access outside the memory. */
#ifndef HL_WASM_H
#define HL_WASM_H

#include "heaplab.h"

/* A block of size bytes (align 1: every block is 16-aligned) in the innermost scope;
 * 0 traps (OUT_OF_MEMORY). */
uint32_t hl_wasm_alloc(hl_heap *heap, uint32_t size);
/* Resizes old_ptr (a live block of old_size bytes) to new_size, keeping the first
 * min(old_size, new_size) bytes, its alignment and its scope; old_ptr 0 is
 * alloc(new_size). 0 traps: OUT_OF_MEMORY (old block live and intact) or
 * INVALID_ARGUMENT (old_ptr is not a live block of old_size). */
uint32_t hl_wasm_realloc(hl_heap *heap, uint32_t old_ptr, uint32_t old_size, uint32_t new_size);
/* Copies n bytes from src to dst byte by byte, forwards: with overlapping ranges and
 * dst > src the result is the forward walk's (the seed leaves it undefined; heaplab
 * pins it). false traps (INVALID_ARGUMENT): a range leaves the memory, nothing written. */
bool hl_wasm_mem_copy(hl_heap *heap, uint32_t dst, uint32_t src, uint32_t n);
/* Opens a scope; its handle (never 0), or 0 traps (OUT_OF_MEMORY: 255 scopes open). */
uint32_t hl_wasm_enter_scope(hl_heap *heap);
/* Frees every block of the scope and of the scopes inside it, and closes them.
 * false traps (INVALID_ARGUMENT): handle is not open. */
bool hl_wasm_exit_scope(hl_heap *heap, uint32_t handle);
/* Closes the scope as exit_scope does, except that the first size bytes of ptr (a
 * live block of the scope or of one inside it, size <= its size) survive in the
 * parent scope at the returned address. 0 traps (INVALID_ARGUMENT; this backend
 * promotes in place and never runs out of memory here). */
uint32_t hl_wasm_promote(hl_heap *heap, uint32_t handle, uint32_t ptr, uint32_t size);
/* Frees every block in every scope and closes all scopes. Never traps. */
void hl_wasm_free_all(hl_heap *heap);
/* Why the last seed 001 call trapped: OUT_OF_MEMORY or INVALID_ARGUMENT, or OK if it
 * did not trap. */
hl_error hl_wasm_trap(const hl_heap *heap);

/* Seed 004 (surrealism MemoryController): errors are returned, never trapped. */

/* A block of len bytes aligned to align (a power of two up to 64 KiB), or 0 (nothing
 * changed): align is not such a power of two, or memory runs out. */
uint32_t hl_wasm___alloc(hl_heap *heap, uint32_t len, uint32_t align);
/* Frees the block at ptr, allocated with len bytes (its align is not checked). ptr 0
 * is a no-op. Returns 0 ok, 1 invalid pointer (never handed out, interior, or a freed
 * start no longer remembered), 2 length mismatch, 3 double free; on 1..3 nothing
 * changed. */
uint32_t hl_wasm___free(hl_heap *heap, uint32_t ptr, uint32_t len);
/* Bounds-checked access: the host bytes of [ptr, ptr + len) of the linear memory,
 * valid until the next call that can grow it, or NULL if any byte lies outside the
 * memory. Changes nothing. */
void *hl_wasm_mut_mem(hl_heap *heap, uint32_t ptr, uint32_t len);

#endif
