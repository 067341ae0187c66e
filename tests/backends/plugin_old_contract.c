/* plugin_old_contract.c: a contract plugin built against another contract version,
 * for the test that such a plugin is refused with a clear message, never called. */
#include "heaplab.h"

const hl_backend *heaplab_backend(void);

const hl_backend *heaplab_backend(void)
{
    static const hl_backend table = {sizeof(hl_backend), HL_CONTRACT_VERSION + 41, "old", HL_CLASS_FOREIGN,
                                     "built for contract 42", NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
                                     NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL};
    return &table;
}
