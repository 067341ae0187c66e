/* guard_closed.c: a deliberately broken copy of guard, for the tests only: its third
 * block is handed out with its pages inaccessible, so the harness's own (legal) write
 * of the block's pattern faults. The fault catcher must turn that into an
 * ACCESS_FAULT finding, and heaplab must go on. */
#include "backends.h"

#define HL_GUARD_MUTANT_CLOSE_THIRD 1
#define HL_GUARD_NAME "guard-closed"
#define HL_GUARD_GETTER hl_test_backend_guard_closed
const hl_backend *hl_test_backend_guard_closed(void);

#include "guard.c"
