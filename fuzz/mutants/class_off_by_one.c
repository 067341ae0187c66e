/* class_off_by_one.c: TEST-ONLY planted bug in bins (built only into build/VARIANT/heaplab-test).
 * Size-class rounding off by one (a < that should be <=): a request one byte above a
 * class gets that class, one byte short.
 * expect: OVERLAP USABLE_SIZE */
#include "heaplab.h"

#define HL_MUTANT_CLASS_OFF_BY_ONE 1
#define HL_BINS_NAME "mutant-class-off-by-one"
#define HL_BINS_GETTER hl_mutant_class_off_by_one
const hl_backend *hl_mutant_class_off_by_one(void);

#include "bins.c"
