/* dma_shared_line.c: TEST-ONLY planted bug in caps (built only into build/VARIANT/heaplab-test).
 * The DMA window is carved in 16-byte units instead of 64-byte cache lines: two DMA
 * blocks can share a line.
 * expect: CAPS_DMA */
#include "heaplab.h"

#define HL_MUTANT_DMA_SHARED_LINE 1
#define HL_CAPS_NAME "mutant-dma-shared-line"
#define HL_CAPS_GETTER hl_mutant_dma_shared_line
const hl_backend *hl_mutant_dma_shared_line(void);

#include "caps.c"
