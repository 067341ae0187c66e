/* bins_mutant.c: a deliberately broken copy of bins, for the mutant tests only: its
 * free lists hand a block out twice (the pop does not unlink the head when the list
 * holds two or more blocks). The shadow model must catch it as OVERLAP. */
#include "heaplab.h"

#define HL_BINS_MUTANT_DOUBLE_HANDOUT 1
#define HL_BINS_NAME "bins-mutant"
#define HL_BINS_GETTER hl_test_backend_bins_mutant
const hl_backend *hl_test_backend_bins_mutant(void);

#include "bins.c"
