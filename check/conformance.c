/* conformance.c: the traces of `heaplab vet`'s conformance pass, one per property of
 * the contract, written as text traces (so a reproducer cut from one reads as what
 * it asks) and read back through the trace reader. Each asks every backend the same
 * things; what a backend does not declare (an alignment above its max_align, a
 * capability, a misuse kind, scopes) it refuses as the contract allows, and the
 * executor and the shadow model judge that, so the traces need not know the backend. */
#include "hl_check.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

typedef struct text {
    char *bytes;
    size_t n, capacity;
} text;

static void say(text *t, const char *fmt, ...)
{
    va_list args, again;
    va_start(args, fmt);
    va_copy(again, args);
    int len = vsnprintf(NULL, 0, fmt, args);
    va_end(args);
    if (t->n + (size_t)len + 1 > t->capacity) {
        t->capacity = (t->capacity + (size_t)len + 1) * 2;
        t->bytes = hl_mem_realloc(t->bytes, t->capacity);
    }
    vsnprintf(t->bytes + t->n, (size_t)len + 1, fmt, again);
    va_end(again);
    t->n += (size_t)len;
}

/* Every power of two from 1 to 64 KiB, at sizes around the edges a size class or a
 * page has, each block written whole (the shadow checks its alignment, its extent
 * against every other live block, and its contents when it is freed). */
static void alignment(text *t)
{
    static const unsigned sizes[] = {1, 24, 100, 4096, 70000};
    uint64_t id = 1;
    for (uint64_t align = 1; align <= 65536; align *= 2)
        for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++, id++)
            say(t, "alloc %llu %u align=%llu\ntouch %llu 0 %u w\n", (unsigned long long)id, sizes[s],
                (unsigned long long)align, (unsigned long long)id, sizes[s]);
    for (uint64_t i = 1; i < id; i++) say(t, "free %llu\n", (unsigned long long)i);
}

/* Size 0, every size to 64, the edges of 128, 4 KiB and 64 KiB, then 1, 16 and 64 MiB
 * (the last byte of each written and read), and a request nothing can serve (2^40:
 * OUT_OF_MEMORY or refused by the adapter, the instance still usable). */
static void sizes(text *t)
{
    uint64_t id = 1;
    say(t, "alloc %llu 0\nusable %llu\n", (unsigned long long)id, (unsigned long long)id), id++;
    for (unsigned size = 1; size <= 64; size++, id++) say(t, "alloc %llu %u\n", (unsigned long long)id, size);
    static const uint64_t edges[] = {127, 128, 129, 4095, 4096, 4097, 65535, 65536, 65537, 1 << 20, 16 << 20, 64 << 20};
    for (size_t e = 0; e < sizeof edges / sizeof *edges; e++, id++)
        say(t, "alloc %llu %llu\ntouch %llu %llu 1 w\ntouch %llu 0 1 r\nusable %llu\n", (unsigned long long)id,
            (unsigned long long)edges[e], (unsigned long long)id, (unsigned long long)edges[e] - 1,
            (unsigned long long)id, (unsigned long long)id);
    say(t, "alloc %llu 1099511627776\n", (unsigned long long)id); /* refused: its id is not used again */
    for (uint64_t i = 1; i < id; i++) say(t, "free %llu\n", (unsigned long long)i);
    say(t, "alloc 1 48\ntouch 1 0 48 w\nfree 1\n"); /* still serving after the refusal */
}

/* Grow, shrink and keep the size, in place or moved, the prefix kept each time (the
 * shadow checks it); to size 0 and back; aligned blocks keep their alignment; a grow
 * nothing can serve fails and leaves the block as it was. */
static void realloc_(text *t)
{
    say(t, "alloc 1 16\ntouch 1 0 16 w\n"
           "realloc 1 32\nrealloc 1 4096\nrealloc 1 1M\ntouch 1 0 1M w\n"
           "realloc 1 1M\nrealloc 1 4096\nrealloc 1 16\nrealloc 1 16\n"
           "alloc 2 100\nalloc 3 100\nrealloc 2 200\nrealloc 3 50\nrealloc 2 0\nrealloc 2 64\n"
           "alloc 4 100 align=64\nrealloc 4 5000\nrealloc 4 10\n"
           "alloc 5 256 align=4096\nrealloc 5 8192\n"
           "realloc 1 1099511627776\ntouch 1 0 16 r\n"
           "free 1\nfree 2\nfree 3\nfree 4\nfree 5\n");
}

/* Nested scopes: a block belongs to the scope open at its first allocation; exiting
 * frees it and everything in inner scopes; promote closes a scope keeping a copy of
 * one of its blocks in the scope around it; free_all frees
 * the rest and the instance serves on as new. */
static void scopes(text *t)
{
    say(t, "alloc 1 64\n"
           "scope_enter 1\nalloc 2 100\nalloc 3 5000\n"
           "scope_enter 2\nalloc 4 32\nalloc 5 1M\nrealloc 2 300\ntouch 4 0 32 w\n"
           "promote 2 4 32\n" /* scope 2 closes; the copy of 4 survives in scope 1 */
           "scope_enter 3\nalloc 6 16\nscope_exit 3\n"
           "free 3\nscope_exit 1\n"
           "scope_enter 4\nalloc 7 128\nalloc 8 64 align=64\n"
           "free_all\n"
           "alloc 9 64\ntouch 9 0 64 w\nfree 9\n");
}

/* The misuse kinds, each on a block set up for it; a backend is asked only the kinds
 * it declares it detects (the executor skips the others), and must detect them. */
static void misuse(text *t)
{
    say(t, "alloc 1 64\nfree 1\ndouble_free 1\n"
           "alloc 2 64\nfree_invalid 2 8\nfree_layout 2 32 1\nfree 2\n"
           "alloc 3 100\noverflow 3 0\nunderflow 3 0\nfree 3\nafter_free 3 0\n");
}

/* Capabilities: EXEC and DMA blocks (refused as UNSUPPORTED where not declared), kept
 * apart from each other and from plain blocks, their caps kept by realloc. */
static void caps(text *t)
{
    say(t, "alloc 1 64 caps=exec\nalloc 2 256 caps=dma\nalloc 3 100 caps=exec+dma\nalloc 4 32\n"
           "alloc 5 4096 align=4096 caps=exec\nalloc 6 24 caps=dma align=64\n"
           "touch 1 0 64 w\ntouch 2 0 256 w\ntouch 5 0 4096 w\ntouch 6 0 24 w\n"
           "realloc 2 512\nrealloc 1 200\nfree 1\nfree 2\nfree 3\nfree 4\nfree 5\nfree 6\n");
}

static const struct {
    const char *property, *what;
    void (*write)(text *);
} properties[] = {
    {"alignment", "every power of two to 64 KiB, at sizes 1 to 70000", alignment},
    {"sizes", "0, 1..64, the edges of 128, 4K and 64K, 1M to 64M, a size nothing serves", sizes},
    {"realloc", "grow, shrink, same, to 0, aligned, and a failed grow that keeps the block", realloc_},
    {"scopes", "nested scopes, promote, free_all, then serving as new", scopes},
    {"misuse", "double free, invalid and wrong-layout free, overflow, underflow, use after free", misuse},
    {"caps", "EXEC and DMA blocks, apart from each other and from plain blocks", caps},
};

size_t hl_conformance_count(void) { return sizeof properties / sizeof *properties; }

int hl_conformance_trace(size_t i, hl_conformance *out, hl_diag *diag)
{
    memset(out, 0, sizeof *out);
    if (i >= hl_conformance_count()) {
        snprintf(diag->message, sizeof diag->message, "no conformance property %zu", i);
        return -1;
    }
    out->property = properties[i].property;
    out->what = properties[i].what;
    text t = {0};
    say(&t, "heaplab-trace 1\n#@description=heaplab vet: %s (%s)\n", properties[i].property, properties[i].what);
    properties[i].write(&t);
    say(&t, "end\n");
    char name[64];
    snprintf(name, sizeof name, "vet-%s.trace", properties[i].property);
    hl_diag warning;
    int rc = hl_trace_read_memory(name, t.bytes, t.n, &out->trace, diag, &warning);
    hl_mem_free(t.bytes);
    return rc;
}

int hl_conformance_oom(size_t cap, hl_conformance *out, hl_diag *diag)
{
    memset(out, 0, sizeof *out);
    out->property = "oom";
    out->what = "blocks of 4 KiB to twice the cap, every one freed, then a quarter of the cap again";
    uint64_t asked = 2 * (uint64_t)cap / HL_CONFORMANCE_OOM_BLOCK, again = (uint64_t)cap / 4 / HL_CONFORMANCE_OOM_BLOCK;
    text t = {0};
    say(&t, "heaplab-trace 1\n#@description=heaplab vet: oom (%s, under a cap of %zu bytes)\n", out->what, cap);
    for (uint64_t id = 1; id <= asked; id++) say(&t, "alloc %llu %u\n", (unsigned long long)id, HL_CONFORMANCE_OOM_BLOCK);
    for (uint64_t id = 1; id <= asked; id++) say(&t, "free %llu\n", (unsigned long long)id); /* refused ones: skipped */
    for (uint64_t id = asked + 1; id <= asked + again; id++)
        say(&t, "alloc %llu %u\n", (unsigned long long)id, HL_CONFORMANCE_OOM_BLOCK); /* left live */
    say(&t, "end\n");
    hl_diag warning;
    int rc = hl_trace_read_memory("vet-oom.trace", t.bytes, t.n, &out->trace, diag, &warning);
    hl_mem_free(t.bytes);
    return rc;
}
