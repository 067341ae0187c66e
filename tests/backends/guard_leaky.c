/* guard_leaky.c: a deliberately broken copy of guard, for the tests only: freed slots
 * stay accessible, so a use after free it declares it detects does not fault. The
 * shadow model must report MISUSE_MISSED. */
#include "backends.h"

#define HL_GUARD_MUTANT_KEEP_FREED_OPEN 1
#define HL_GUARD_NAME "guard-leaky"
#define HL_GUARD_GETTER hl_test_backend_guard_leaky
const hl_backend *hl_test_backend_guard_leaky(void);

#include "guard.c"
