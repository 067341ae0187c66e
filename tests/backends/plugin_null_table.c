/* plugin_null_table.c: a contract plugin of the right version whose table has no
 * entry points at all: refused with a message naming the first one missing. */
#include "heaplab.h"

const hl_backend *heaplab_backend(void);

const hl_backend *heaplab_backend(void)
{
    static const hl_backend table = {.struct_size = sizeof(hl_backend), .contract_version = HL_CONTRACT_VERSION,
                                     .name = "nulls", .backend_class = HL_CLASS_FOREIGN};
    return &table;
}
