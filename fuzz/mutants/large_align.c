/* large_align.c: TEST-ONLY planted bug in bins (built only into build/VARIANT/heaplab-test).
 * Alignments above a page (4096) are served at a page, silently: the block is
 * misaligned.
 * expect: ALIGNMENT */
#include "heaplab.h"

#define HL_MUTANT_LARGE_ALIGN 1
#define HL_BINS_NAME "mutant-large-align"
#define HL_BINS_GETTER hl_mutant_large_align
const hl_backend *hl_mutant_large_align(void);

#include "bins.c"
