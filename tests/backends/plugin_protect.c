/* plugin_protect.c: the example stack plugin (examples/contract_plugin/stack.c),
 * except that a page-aligned block it hands out is left read-only: a program's legal
 * write into it faults, which `heaplab run` must report as the backend's ACCESS_FAULT
 * in that live block (tests/shim/test_fault.py), not as the program's crash. */
#define heaplab_backend stack_inner_backend
#include "stack.c"
#undef heaplab_backend

#include <sys/mman.h>

static hl_backend wrapped;

static hl_addr protect_alloc(hl_heap *h, hl_layout layout, hl_caps caps, hl_error *error)
{
    hl_addr a = stack_inner_backend()->alloc(h, layout, caps, error);
    if (a && layout.align >= 4096 && layout.size >= 4096) mprotect((void *)a, 4096, PROT_READ);
    return a;
}

const hl_backend *heaplab_backend(void);

const hl_backend *heaplab_backend(void)
{
    wrapped = *stack_inner_backend();
    wrapped.name = "protect";
    wrapped.alloc = protect_alloc;
    return &wrapped;
}
