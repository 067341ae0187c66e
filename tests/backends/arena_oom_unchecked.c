/* arena_oom_unchecked.c: TEST-ONLY arena whose alloc does not check the memory
 * source's answer: once the source is exhausted it writes through the null pointer
 * it got back (the classic unchecked malloc). Nothing shows until memory runs out, so
 * only a run under a cap finds it: vet's oom row (a 1 MiB static source) must FAIL
 * with CRASH, while its other rows pass. */
#include "heaplab.h"

#define HL_TEST_OOM_UNCHECKED 1
#define HL_ARENA_NAME "arena-oom-unchecked"
#define HL_ARENA_GETTER hl_test_backend_arena_oom_unchecked
const hl_backend *hl_test_backend_arena_oom_unchecked(void);

#include "arena.c"
