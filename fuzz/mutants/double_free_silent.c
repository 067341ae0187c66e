/* double_free_silent.c: TEST-ONLY planted bug in bins (built only into build/VARIANT/heaplab-test).
 * A double free is quietly ignored though bins declares it detects double frees.
 * expect: MISUSE_MISSED */
#include "heaplab.h"

#define HL_MUTANT_DOUBLE_FREE_SILENT 1
#define HL_BINS_NAME "mutant-double-free-silent"
#define HL_BINS_GETTER hl_mutant_double_free_silent
const hl_backend *hl_mutant_double_free_silent(void);

#include "bins.c"
