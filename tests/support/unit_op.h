/* unit_op.h: one way for the C unit tests to spell a trace operation. unit_op gives
 * an operation of KIND on block ID with SIZE, alignment 1 and every other field zero
 * (no thread, no scope, no annotation); a test sets the rest on the returned value. */
#ifndef HL_UNIT_OP_H
#define HL_UNIT_OP_H

#include "hl_check.h"

#include <string.h>

static inline hl_op unit_op(hl_op_kind kind, uint64_t id, uint64_t size)
{
    hl_op op;
    memset(&op, 0, sizeof op);
    op.kind = (uint8_t)kind;
    op.id = id;
    op.size = size;
    op.align = 1;
    return op;
}

#endif
