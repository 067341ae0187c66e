/* plugin_misalign.c: the example stack plugin (examples/contract_plugin/stack.c),
 * except that its 3rd block is handed out 8 bytes off its alignment, and every free
 * after that segfaults: a finding (ALIGNMENT) followed by a crash, also when the
 * reproducer is replayed. heaplab must report the finding and survive. */
#define heaplab_backend stack_inner_backend
#include "stack.c"
#undef heaplab_backend

static hl_backend wrapped;
static int allocs;
static hl_addr handed_out_wrong;
static volatile int *wild = (volatile int *)8;

static hl_addr misalign_alloc(hl_heap *h, hl_layout layout, hl_caps caps, hl_error *error)
{
    hl_addr a = stack_inner_backend()->alloc(h, layout, caps, error);
    if (a && ++allocs == 3) handed_out_wrong = a += 8;
    return a;
}

static hl_error crash_free(hl_heap *h, hl_addr block, hl_layout layout)
{
    if (handed_out_wrong) *wild = 1;
    return stack_inner_backend()->free(h, block, layout);
}

const hl_backend *heaplab_backend(void);

const hl_backend *heaplab_backend(void)
{
    wrapped = *stack_inner_backend();
    wrapped.name = "misalign";
    wrapped.alloc = misalign_alloc;
    wrapped.free = crash_free;
    return &wrapped;
}
