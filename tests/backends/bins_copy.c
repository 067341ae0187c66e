/* bins_copy.c: TEST-ONLY bins under another name, registered as conforming in
 * registry.c with one line and nothing else: tests/allocators/test_conformance.py
 * checks that the conformance suite picks it up from the registry by itself. */
#include "heaplab.h"

#define HL_BINS_NAME "bins-copy"
#define HL_BINS_GETTER hl_test_backend_bins_copy
const hl_backend *hl_test_backend_bins_copy(void);

#include "bins.c"
