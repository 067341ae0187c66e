/* stats_drift.c: TEST-ONLY planted bug in bins (built only into build/VARIANT/heaplab-test).
 * A realloc that stays in place leaves stats.live_bytes as it was.
 * expect: STATS_LIVE_BYTES */
#include "heaplab.h"

#define HL_MUTANT_STATS_DRIFT 1
#define HL_BINS_NAME "mutant-stats-drift"
#define HL_BINS_GETTER hl_mutant_stats_drift
const hl_backend *hl_mutant_stats_drift(void);

#include "bins.c"
