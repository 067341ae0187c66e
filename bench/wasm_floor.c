/* wasm_floor.c: the floor of `make bench-wasm` (build/bench/wasm-floor.wasm): a module
 * with seed 004's surface that does no allocator work. __alloc hands out the next of
 * 1,024 fixed 1 KiB slots in turn and __free does nothing, so timing it in the
 * yardstick's loop measures what a call into wasm and the loop itself cost, the part
 * of every allocator's ns/op that no allocator can remove. Not an allocator: a slot is
 * handed out again while it is still in use. */
extern unsigned char __heap_base;

#define SLOTS 1024u
#define SLOT 1024u

static unsigned next;

__attribute__((export_name("__alloc"))) unsigned floor_alloc(unsigned len, unsigned align)
{
    (void)len, (void)align;
    unsigned pages = ((unsigned)(unsigned long)&__heap_base + SLOTS * SLOT + 65535) / 65536;
    if (__builtin_wasm_memory_size(0) < pages && __builtin_wasm_memory_grow(0, pages - __builtin_wasm_memory_size(0)) < 0)
        return 0;
    return (unsigned)(unsigned long)&__heap_base + (next++ % SLOTS) * SLOT;
}

__attribute__((export_name("__free"))) unsigned floor_free(unsigned ptr, unsigned len)
{
    (void)ptr, (void)len;
    return 0;
}
