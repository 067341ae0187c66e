/* source.c: the three memory sources (os pages, static buffer, linear memory) behind
 * one struct. They differ only in where the bytes come from and how committing works:
 *   os      mmap-reserves PROT_NONE, commits with mprotect RW, page 4 KiB;
 *   static  the caller's buffer, all of it usable at once, committed is bookkeeping;
 *   linear  mmap-reserves max_pages * 64 KiB, commits whole 64 KiB pages, addresses
 *           are offsets (origin 0), heap base 1024. */
#include "hl_source.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define OS_DEFAULT_RESERVE (4ull << 30)
#define OS_COMMIT_STEP (64u << 10)

void hl_source_config_init(hl_source_config *config)
{
    memset(config, 0, sizeof *config);
    config->kind = HL_SOURCE_OS;
    config->max_pages = HL_LINEAR_MAX_PAGES;
}

bool hl_source_parse_size(const char *text, uint64_t *out)
{
    if (!text || *text < '0' || *text > '9') return false;
    uint64_t value = 0;
    for (; *text >= '0' && *text <= '9'; text++) {
        unsigned digit = (unsigned)(*text - '0');
        if (value > (UINT64_MAX - digit) / 10) return false;
        value = value * 10 + digit;
    }
    unsigned shift = *text == 'K' || *text == 'k' ? 10 : *text == 'M' || *text == 'm' ? 20 : *text == 'G' || *text == 'g' ? 30 : 0;
    if (shift) text++;
    if (*text || (shift && value > UINT64_MAX >> shift)) return false;
    *out = value << shift;
    return true;
}

static size_t round_up(size_t x, size_t page) { return (x + page - 1) & ~(page - 1); }

hl_error hl_source_open(hl_source *source, const hl_source_config *config, void *buffer, size_t buffer_size,
                        size_t initial, char *message, size_t capacity)
{
    hl_source s;
    memset(&s, 0, sizeof s);
    s.kind = config->kind;
    s.huge = "none";
    s.sparse = config->sparse;
    if (config->kind == HL_SOURCE_STATIC) {
        if (!buffer)
            return snprintf(message, capacity, "source=static needs a caller buffer"), HL_E_INVALID_ARGUMENT;
        size_t size = config->size && config->size < buffer_size ? (size_t)config->size : buffer_size;
        s.host = buffer;
        s.origin = (hl_addr)buffer;
        s.reserved = size;
        s.page = 4096;
        s.heap_base = 0;
    } else {
        bool linear = config->kind == HL_SOURCE_LINEAR;
        s.page = linear ? HL_LINEAR_PAGE : (size_t)sysconf(_SC_PAGESIZE);
        s.reserved = linear ? (size_t)config->max_pages * HL_LINEAR_PAGE : round_up((size_t)(config->size ? config->size : OS_DEFAULT_RESERVE), s.page);
        void *p = MAP_FAILED;
        if (!linear && config->huge) {
            /* Without MAP_NORESERVE: the kernel must reserve the huge pages now, or
             * refuse (instead of a SIGBUS at first touch). */
            size_t huge_page = 2u << 20, reserve = round_up(s.reserved, huge_page);
            p = mmap(NULL, reserve, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
            if (p != MAP_FAILED) {
                s.huge = "MAP_HUGETLB";
                s.page = huge_page;
                s.reserved = reserve;
            }
        }
        if (p == MAP_FAILED) p = mmap(NULL, s.reserved, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (p == MAP_FAILED)
            return snprintf(message, capacity, "cannot reserve %zu bytes: %s", s.reserved, strerror(errno)),
                   HL_E_OUT_OF_MEMORY;
        /* Here MAP_HUGETLB fails (no reserved huge pages) and THP is madvise-only:
         * the advice is the path that actually runs. */
        if (!linear && config->huge && strcmp(s.huge, "none") == 0 && madvise(p, s.reserved, MADV_HUGEPAGE) == 0)
            s.huge = "MADV_HUGEPAGE";
        s.host = p;
        s.mapped = true;
        s.origin = linear ? 0 : (hl_addr)p;
        s.heap_base = linear ? HL_LINEAR_HEAP_BASE : 0;
    }
    hl_error e = hl_source_commit(&s, initial);
    if (e != HL_E_OK) {
        hl_source_close(&s);
        return snprintf(message, capacity, "cannot commit the first %zu bytes", initial), e;
    }
    *source = s;
    return HL_E_OK;
}

void hl_source_close(hl_source *source)
{
    if (source->mapped && source->host) munmap(source->host, source->reserved);
    source->host = NULL;
    source->committed = 0;
}

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

static void populate(unsigned char *start, size_t len) { (void)madvise(start, len, MADV_POPULATE_WRITE); }

/* Under HL_HINT_SPARSE a step is made resident up to this much: a larger one is a big
 * block, which a fuzzer's sampled patterns touch sparsely. Zeroing the pages nobody
 * touches cost the fuzzer a fifth of its time and 1.3 GB of memory. */
#define SPARSE_RESIDENT (1u << 20)

hl_error hl_source_commit(hl_source *source, size_t bytes)
{
    if (bytes <= source->committed) return HL_E_OK;
    if (bytes > source->reserved) return HL_E_OUT_OF_MEMORY;
    size_t target = round_up(bytes, source->page);
    /* os pages grow by at least 64 KiB or an eighth of what is committed: one mprotect
     * per step instead of one per page the bump pointer crosses */
    size_t step = source->committed / 8 > OS_COMMIT_STEP ? source->committed / 8 : OS_COMMIT_STEP;
    if (source->kind == HL_SOURCE_OS && target < source->committed + step)
        target = round_up(source->committed + step, source->page);
    if (target > source->reserved) target = source->reserved;
    if (source->mapped &&
        mprotect(source->host + source->committed, target - source->committed, PROT_READ | PROT_WRITE) != 0)
        return HL_E_OUT_OF_MEMORY;
    /* Committed bytes are the footprint, so make them resident now: one system call
     * for the step instead of one page fault per page at first touch (a fault costs
     * microseconds in a VM). Where the kernel predates MADV_POPULATE_WRITE (5.14) this
     * fails harmlessly and the pages fault in as they are touched. */
    if (source->mapped) {
        size_t grown = target - source->committed;
        populate(source->host + source->committed, source->sparse && grown > SPARSE_RESIDENT ? SPARSE_RESIDENT : grown);
    }
    source->committed = target;
    if (target > source->peak) source->peak = target;
    return HL_E_OK;
}

int64_t hl_source_grow_pages(hl_source *source, uint32_t pages)
{
    size_t old = source->committed / source->page;
    if ((uint64_t)pages * source->page > source->reserved - source->committed) return -1;
    if (hl_source_commit(source, source->committed + (size_t)pages * source->page) != HL_E_OK) return -1;
    return (int64_t)old;
}

hl_error hl_source_protect(hl_source *source, size_t offset, size_t len, hl_protection protection)
{
    if (source->kind != HL_SOURCE_OS) return HL_E_UNSUPPORTED;
    if (offset > source->committed || len > source->committed - offset) return HL_E_INVALID_ARGUMENT;
    size_t start = offset & ~(source->page - 1), end = round_up(offset + len, source->page);
    static const int prot[] = {PROT_NONE, PROT_READ, PROT_READ | PROT_WRITE, PROT_READ | PROT_EXEC};
    return mprotect(source->host + start, end - start, prot[protection]) == 0 ? HL_E_OK : HL_E_OUT_OF_MEMORY;
}
