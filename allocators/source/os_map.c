/* os_map.c: private zeroed memory straight from the OS, for bookkeeping that must not
 * come from the process's malloc (a foreign backend's scope tracker, heaplab's own
 * arena). Not a block source: nothing here is ever handed to a trace.
 *
 * From HL_OS_HUGE_FROM up a mapping starts on a 2 MiB boundary and asks for
 * transparent huge pages (madvise-only on these machines): such tables are read at
 * random, and with 4 KiB pages most of those reads also miss the TLB, which in a VM
 * costs a nested page walk. A refused advice is harmless. Growth moves the pages
 * (mremap, no copy) onto a fresh aligned range, because a move to an unaligned
 * address would split the huge pages. */
#include "hl_source.h"

#include <stdint.h>
#include <sys/mman.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#define HUGE_PAGE ((size_t)2 << 20)

size_t hl_os_page_round(size_t bytes)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    return (bytes + page - 1) & ~(page - 1);
}

void *hl_os_map(size_t bytes)
{
    bytes = hl_os_page_round(bytes);
    size_t slack = bytes >= HL_OS_HUGE_FROM ? HUGE_PAGE : 0;
    if (bytes + slack < bytes) return NULL;
    unsigned char *p = mmap(NULL, bytes + slack, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return NULL;
    if (slack) { /* trim to the boundary: the head before it, the tail after bytes */
        size_t head = (size_t)(-(uintptr_t)p & (HUGE_PAGE - 1));
        if (head) munmap(p, head);
        if (slack - head) munmap(p + head + bytes, slack - head);
        p += head;
        madvise(p, bytes, MADV_HUGEPAGE);
    }
    return p;
}

void hl_os_unmap(void *p, size_t bytes)
{
    if (p) munmap(p, hl_os_page_round(bytes));
}

void *hl_os_remap(void *p, size_t old_bytes, size_t new_bytes)
{
    old_bytes = hl_os_page_round(old_bytes);
    new_bytes = hl_os_page_round(new_bytes);
    if (new_bytes < HL_OS_HUGE_FROM) {
        void *q = mremap(p, old_bytes, new_bytes, MREMAP_MAYMOVE);
        return q == MAP_FAILED ? NULL : q;
    }
    void *at = hl_os_map(new_bytes);
    if (!at) return NULL;
    void *q = mremap(p, old_bytes, new_bytes, MREMAP_MAYMOVE | MREMAP_FIXED, at);
    if (q == MAP_FAILED) {
        hl_os_unmap(at, new_bytes);
        return NULL;
    }
    madvise(q, new_bytes, MADV_HUGEPAGE);
    return q;
}

uint64_t hl_os_memory(void)
{
    struct sysinfo info;
    if (sysinfo(&info) != 0) return UINT64_MAX;
    return ((uint64_t)info.totalram + (uint64_t)info.totalswap) * info.mem_unit;
}
