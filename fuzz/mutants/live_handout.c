/* live_handout.c: TEST-ONLY planted bug in bins (built only into build/VARIANT/heaplab-test).
 * A free-list pop that does not unlink the head when the list holds two or more
 * blocks: the next alloc of that class gets a block that is still live.
 * expect: OVERLAP CHECK_FAILED SCOPE_FREED_SET */
#include "heaplab.h"

#define HL_MUTANT_LIVE_HANDOUT 1
#define HL_BINS_NAME "mutant-live-handout"
#define HL_BINS_GETTER hl_mutant_live_handout
const hl_backend *hl_mutant_live_handout(void);

#include "bins.c"
