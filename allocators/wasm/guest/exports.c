/* exports.c: the exports of the real module, build/heaplab-alloc.wasm (`make wasm`):
 * wasm_core.c built for wasm32 with -DHLWC_FLAT (offset i is address i, memory.grow
 * is the instruction), no libc, nothing imported.
 *
 * Layout of the module's memory: the shadow stack in [0, 1024) (wasm-ld --stack-first
 * -z stack-size=1024: the core takes the address of no local, so the stack is unused
 * in practice), no data, and __heap_base = 1024, the heap base every linear memory of
 * heaplab has (CONTRACT.md, "Memory sources"): the core's state there, then the chunks.
 * The native `wasm` backend keeps its adapter's state in [16, 1024) instead; neither
 * is a block, so both hand out the same offsets. The heap is built on the first call.
 *
 * Surfaces (CONTRACT.md, "The wasm32 surfaces"):
 *   seed 001  alloc(size) realloc(old_ptr, old_size, new_size) mem-copy(dst, src, n)
 *             enter-scope() exit-scope(handle) promote(handle, ptr, size) free-all();
 *             every failure traps (`unreachable`) with nothing changed;
 *   seed 004  __alloc(len, align) -> ptr or 0; __free(ptr, len) -> 0 ok, 1 invalid
 *             pointer, 2 length mismatch, 3 double free;
 *   the host  heaplab-free(ptr, size, align) (seed 004's codes, the align checked too),
 *             heaplab-size(ptr), heaplab-align(ptr), heaplab-usable(ptr) (0 for no live
 *             block), heaplab-live-blocks(), heaplab-live-bytes(); `memory`.
 * Compiled with -DHLWC_LEAN (build/heaplab-alloc-lean.wasm) the module exports seed 004
 * alone, from the lean core: no misuse checks, no scopes (wasm_core.h). */
#include "wasm_core.h"

#define EXPORT(name) __attribute__((export_name(name)))

/* the core's functions ignore the memory description in a flat build */
#define M ((const hlwc_mem *)0)

static void ready(void)
{
    if (!hlwc_ready(M)) hlwc_init(M, (uint32_t)__builtin_wasm_memory_size(0));
}


EXPORT("__alloc") uint32_t guest_alloc_aligned(uint32_t len, uint32_t align)
{
    ready();
    return hlwc_alloc(M, len, align);
}

#ifdef HLWC_LEAN
EXPORT("__free") uint32_t guest_free_len(uint32_t ptr, uint32_t len)
{
    ready();
    return hlwc_free(M, ptr, len, 0);
}
#else
static uint32_t or_trap(uint32_t result)
{
    if (!result) __builtin_trap();
    return result;
}

EXPORT("heaplab-free") uint32_t guest_free(uint32_t ptr, uint32_t size, uint32_t align)
{
    ready();
    return hlwc_free(M, ptr, size, align);
}

EXPORT("__free") uint32_t guest_free_len(uint32_t ptr, uint32_t len) { return guest_free(ptr, len, 0); }

EXPORT("alloc") uint32_t guest_alloc(uint32_t size) { return or_trap(guest_alloc_aligned(size, 1)); }

EXPORT("realloc") uint32_t guest_realloc(uint32_t old_ptr, uint32_t old_size, uint32_t new_size)
{
    ready();
    uint32_t p = or_trap(hlwc_realloc(M, old_ptr, old_size, new_size));
#ifdef HLWC_TEST_SCRIBBLE /* build/tests/heaplab-alloc-scribble.wasm: a broken module losing a moved block's first byte */
    if (p != old_ptr && old_size && new_size) *(volatile unsigned char *)(uintptr_t)p ^= 0xff;
#endif
    return p;
}

EXPORT("mem-copy") void guest_mem_copy(uint32_t dst, uint32_t src, uint32_t n)
{
    ready();
    or_trap(hlwc_copy(M, dst, src, n) == 0);
}

EXPORT("enter-scope") uint32_t guest_enter_scope(void)
{
    ready();
    return or_trap(hlwc_enter(M));
}

EXPORT("exit-scope") void guest_exit_scope(uint32_t handle)
{
    ready();
    or_trap(hlwc_exit(M, handle) == 0);
}

EXPORT("promote") uint32_t guest_promote(uint32_t handle, uint32_t ptr, uint32_t size)
{
    ready();
    return or_trap(hlwc_promote(M, handle, ptr, size));
}

EXPORT("free-all") void guest_free_all(void)
{
    ready();
    hlwc_free_all(M);
}

EXPORT("heaplab-usable") uint32_t guest_usable(uint32_t ptr)
{
    ready();
#ifdef HLWC_TEST_TRAP /* build/tests/heaplab-alloc-trap.wasm: a broken module reading past its memory */
    if (ptr) return *(volatile uint32_t *)(uintptr_t)0xfffffff0u;
#endif
    return hlwc_block(M, ptr, 0, 0);
}

EXPORT("heaplab-size") uint32_t guest_size(uint32_t ptr)
{
    uint32_t size = 0;
    ready();
    hlwc_block(M, ptr, &size, 0);
    return size;
}

EXPORT("heaplab-align") uint32_t guest_align(uint32_t ptr)
{
    uint32_t align = 0;
    ready();
    hlwc_block(M, ptr, 0, &align);
    return align;
}

EXPORT("heaplab-live-blocks") uint32_t guest_live_blocks(void)
{
    uint32_t blocks, bytes;
    ready();
    hlwc_stats(M, &blocks, &bytes);
    return blocks;
}

EXPORT("heaplab-live-bytes") uint32_t guest_live_bytes(void)
{
    uint32_t blocks, bytes;
    ready();
    hlwc_stats(M, &blocks, &bytes);
    return bytes;
}
#endif
