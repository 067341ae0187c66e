/* faulty.c: test-only backends that wrap bins and misbehave on their Nth operation
 * (alloc, free, realloc, scope and free_all calls; usable_size and the harness's own
 * reads do not count): `crasher` segfaults on its 100th, `hanger` never returns from
 * its 50th. The isolation tests use them: the finding must name operation N-1.
 * `rotter` behaves, but its heap check reports corruption from its 5000th operation
 * on: the tests of when checks run use it. The process enders, on their 100th
 * operation: `exiter` calls _exit(0), `stopper` stops itself (SIGSTOP), `forker`
 * forks and ends the parent half (the child half carries on as if nothing happened).
 * `tearer` segfaults when the block its 3rd alloc returned is freed, which a trace
 * that leaves that block live reaches only in the teardown; its heap check fails once
 * it has served more than 50 calls (a finding the stream shows before the teardown).
 * `scribbler` writes a byte into the block its 3rd alloc returned on its 20th
 * operation and segfaults on its 40th: the crash a normal run reports, after the
 * CONTENTS a check of every live block after every operation sees first. */
#include "backends.h"

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

const hl_backend *hl_test_backend_crasher(void);
const hl_backend *hl_test_backend_hanger(void);
const hl_backend *hl_test_backend_rotter(void);
const hl_backend *hl_test_backend_exiter(void);
const hl_backend *hl_test_backend_stopper(void);
const hl_backend *hl_test_backend_forker(void);
const hl_backend *hl_test_backend_tearer(void);
const hl_backend *hl_test_backend_scribbler(void);

typedef struct faulty_heap {
    const hl_backend *self;
    hl_heap *inner;
    uint64_t calls, allocs;
    hl_addr marked; /* tearer: its 3rd alloc's block */
} faulty_heap;

#define INNER(heap) (((faulty_heap *)(heap))->inner)
#define BINS (hl_backend_bins())

static volatile uintptr_t wild_address = 8; /* volatile: the compiler cannot see it */

static void misbehave(hl_heap *heap)
{
    faulty_heap *f = (faulty_heap *)heap;
    f->calls++;
    if (f->self == hl_test_backend_crasher() && f->calls == 100) {
        *(volatile int *)wild_address = 1; /* the unmapped first page: SIGSEGV */
    }
    if (f->self == hl_test_backend_scribbler() && f->calls == 20 && f->marked) {
        unsigned char *byte = BINS->mem_view(f->inner, f->marked, 1);
        if (byte) *byte ^= 0x5a;
    }
    if (f->self == hl_test_backend_scribbler() && f->calls == 40) *(volatile int *)wild_address = 1;
    if (f->calls == 100 && f->self == hl_test_backend_exiter()) _exit(0);
    if (f->calls == 100 && f->self == hl_test_backend_stopper()) raise(SIGSTOP);
    if (f->calls == 100 && f->self == hl_test_backend_forker() && fork() > 0) _exit(0);
    if (f->self == hl_test_backend_hanger() && f->calls == 50)
        for (;;) {
            struct timespec pause = {1, 0};
            nanosleep(&pause, NULL);
        }
}

static hl_error create_as(const hl_backend *self, const hl_config *config, hl_heap **out)
{
    faulty_heap *f = mmap(NULL, sizeof *f, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (f == MAP_FAILED) return HL_E_OUT_OF_MEMORY;
    hl_error e = BINS->create(config, &f->inner);
    if (e != HL_E_OK) {
        munmap(f, sizeof *f);
        return e;
    }
    f->self = self;
    *out = (hl_heap *)f;
    return HL_E_OK;
}
static hl_error create_crasher(const hl_config *c, hl_heap **out) { return create_as(hl_test_backend_crasher(), c, out); }
static hl_error create_hanger(const hl_config *c, hl_heap **out) { return create_as(hl_test_backend_hanger(), c, out); }
static hl_error create_rotter(const hl_config *c, hl_heap **out) { return create_as(hl_test_backend_rotter(), c, out); }
static hl_error create_exiter(const hl_config *c, hl_heap **out) { return create_as(hl_test_backend_exiter(), c, out); }
static hl_error create_stopper(const hl_config *c, hl_heap **out) { return create_as(hl_test_backend_stopper(), c, out); }
static hl_error create_forker(const hl_config *c, hl_heap **out) { return create_as(hl_test_backend_forker(), c, out); }
static hl_error create_tearer(const hl_config *c, hl_heap **out) { return create_as(hl_test_backend_tearer(), c, out); }
static hl_error create_scribbler(const hl_config *c, hl_heap **out) { return create_as(hl_test_backend_scribbler(), c, out); }

static void destroy(hl_heap *heap)
{
    BINS->destroy(INNER(heap));
    munmap(heap, sizeof(faulty_heap));
}
static void describe(const hl_heap *heap, hl_info *info)
{
    BINS->describe(((const faulty_heap *)heap)->inner, info);
    info->name = ((const faulty_heap *)heap)->self->name;
}
static hl_addr f_alloc(hl_heap *h, hl_layout l, hl_caps c, hl_error *e)
{
    faulty_heap *f = (faulty_heap *)h;
    misbehave(h);
    hl_addr a = BINS->alloc(INNER(h), l, c, e);
    if (++f->allocs == 3) f->marked = a;
    return a;
}
static hl_error f_free(hl_heap *h, hl_addr b, hl_layout l)
{
    faulty_heap *f = (faulty_heap *)h;
    misbehave(h);
    if (f->self == hl_test_backend_tearer() && b && b == f->marked) *(volatile int *)wild_address = 1;
    return BINS->free(INNER(h), b, l);
}
static hl_addr f_realloc(hl_heap *h, hl_addr b, hl_layout l, size_t n, hl_error *e) { misbehave(h); return BINS->realloc(INNER(h), b, l, n, e); }
static size_t f_usable(hl_heap *h, hl_addr b, hl_layout l) { return BINS->usable_size(INNER(h), b, l); }
static void *f_view(hl_heap *h, hl_addr a, size_t n) { return BINS->mem_view(INNER(h), a, n); }
static hl_error f_copy(hl_heap *h, hl_addr d, hl_addr s, size_t n) { return BINS->mem_copy(INNER(h), d, s, n); }
static hl_error f_enter(hl_heap *h, hl_scope *out) { misbehave(h); return BINS->enter_scope(INNER(h), out); }
static hl_error f_exit(hl_heap *h, hl_scope s) { misbehave(h); return BINS->exit_scope(INNER(h), s); }
static hl_addr f_promote(hl_heap *h, hl_scope s, hl_addr b, hl_layout l, size_t n, hl_error *e) { misbehave(h); return BINS->promote(INNER(h), s, b, l, n, e); }
static hl_error f_free_all(hl_heap *h) { misbehave(h); return BINS->free_all(INNER(h)); }
static void f_stats(const hl_heap *h, hl_stats *s) { BINS->stats(((const faulty_heap *)h)->inner, s); }
static hl_error f_check(hl_heap *h, char *m, size_t n)
{
    const faulty_heap *f = (const faulty_heap *)h;
    if (f->self == hl_test_backend_rotter() && f->calls >= 5000) {
        snprintf(m, n, "rotter: invented corruption after %llu operations", (unsigned long long)f->calls);
        return HL_E_CORRUPTED;
    }
    if (f->self == hl_test_backend_tearer() && f->calls > 50) {
        snprintf(m, n, "tearer: invented corruption after %llu operations", (unsigned long long)f->calls);
        return HL_E_CORRUPTED;
    }
    return BINS->check(INNER(h), m, n);
}

#define FAULTY_TABLE(getter, backend_name, text, make)                                  \
    const hl_backend *getter(void)                                                      \
    {                                                                                   \
        static const hl_backend table = {                                               \
            sizeof(hl_backend), HL_CONTRACT_VERSION, backend_name, HL_CLASS_REFERENCE,  \
            text, NULL, make, destroy, describe, f_alloc, f_free, f_realloc, f_usable,  \
            f_view, f_copy, f_enter, f_exit, f_promote, f_free_all, NULL, NULL, NULL,   \
            NULL, f_stats, f_check};                                                    \
        return &table;                                                                  \
    }

FAULTY_TABLE(hl_test_backend_crasher, "crasher", "bins that segfaults on its 100th operation", create_crasher)
FAULTY_TABLE(hl_test_backend_hanger, "hanger", "bins that never returns from its 50th operation", create_hanger)
FAULTY_TABLE(hl_test_backend_rotter, "rotter", "bins whose check fails from its 5000th operation", create_rotter)
FAULTY_TABLE(hl_test_backend_exiter, "exiter", "bins that calls _exit(0) on its 100th operation", create_exiter)
FAULTY_TABLE(hl_test_backend_stopper, "stopper", "bins that stops itself (SIGSTOP) on its 100th operation", create_stopper)
FAULTY_TABLE(hl_test_backend_forker, "forker", "bins that forks and ends the parent half on its 100th operation",
             create_forker)
FAULTY_TABLE(hl_test_backend_tearer, "tearer", "bins that segfaults freeing its 3rd alloc's block", create_tearer)
FAULTY_TABLE(hl_test_backend_scribbler, "scribbler", "bins that writes into a live block on its 20th operation and segfaults on its 40th", create_scribbler)
