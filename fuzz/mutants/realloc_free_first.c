/* realloc_free_first.c: TEST-ONLY planted bug in bins (built only into build/VARIANT/heaplab-test).
 * realloc that moves a block frees the old one before copying: the free-list link
 * overwrites the prefix it then copies.
 * expect: REALLOC_PREFIX */
#include "heaplab.h"

#define HL_MUTANT_REALLOC_FREE_FIRST 1
#define HL_BINS_NAME "mutant-realloc-free-first"
#define HL_BINS_GETTER hl_mutant_realloc_free_first
const hl_backend *hl_mutant_realloc_free_first(void);

#include "bins.c"
