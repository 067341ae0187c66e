/* scope_exit_parent.c: TEST-ONLY planted bug in arena (built only into build/VARIANT/heaplab-test).
 * Closing a scope also empties its parent's level (a loop bound off by one): blocks
 * the parent still owns go back to the free chunks.
 * expect: SCOPE_FREED_SET STATS_LIVE_BLOCKS STATS_LIVE_BYTES WRONG_ERROR */
#include "heaplab.h"

#define HL_MUTANT_SCOPE_EXIT_PARENT 1
#define HL_ARENA_NAME "mutant-scope-exit-parent"
#define HL_ARENA_GETTER hl_mutant_scope_exit_parent
const hl_backend *hl_mutant_scope_exit_parent(void);

#include "arena.c"
