/* bins_stale_reset.c: TEST-ONLY bins whose free_all takes the bump region back but
 * leaves the free lists as they were: state that survives free_all, the "as new" the
 * contract promises broken. A block still on a list lies where the bump pointer hands
 * out blocks again, so after a free_all two allocations can get the same bytes
 * (OVERLAP), or the heap check finds a listed block beyond the bump pointer. An
 * instance kept across fuzz inputs (each ending in free_all) meets it in the input
 * after the one that filled the lists. */
#include "heaplab.h"

#define HL_TEST_FREE_ALL_KEEPS_FREE_LISTS 1
#define HL_BINS_NAME "bins-stale-reset"
#define HL_BINS_GETTER hl_test_backend_bins_stale_reset
const hl_backend *hl_test_backend_bins_stale_reset(void);

#include "bins.c"
