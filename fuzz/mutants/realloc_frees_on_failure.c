/* realloc_frees_on_failure.c: TEST-ONLY planted bug in bins (built only into build/VARIANT/heaplab-test).
 * realloc releases the old block even when the new one cannot be had: the caller keeps
 * a block the heap hands out again.
 * expect: FAILURE_CHANGED OVERLAP */
#include "heaplab.h"

#define HL_MUTANT_REALLOC_FREES_ON_FAILURE 1
#define HL_BINS_NAME "mutant-realloc-frees-on-failure"
#define HL_BINS_GETTER hl_mutant_realloc_frees_on_failure
const hl_backend *hl_mutant_realloc_frees_on_failure(void);

#include "bins.c"
