/* hl_fuzz.h: the fuzzing layer's public header. For now: one operation decoder that
 * turns any byte string into a valid operation stream over the whole contract, and
 * its inverse, an encoder from a trace to bytes that decode back to the same stream.
 * The built-in fuzzer, the libFuzzer and AFL++ targets (issue 10) all decode with it.
 *
 * The byte format (each operation; a varint is LEB128, at most 10 bytes; a missing
 * byte at the end of the input reads as 0, and the stream ends there):
 *   opcode byte c, kind by c % 16:
 *     0 1 2 14 alloc: size, align, caps byte (bits 0-1: EXEC, DMA)
 *     3 4 15   free: pick of a live block
 *     5        realloc: pick, size
 *     6        touch: pick, offset varint, length varint, write byte (bit 0)
 *     7        usable: pick
 *     8        scope_enter
 *     9        scope_exit: varint k, the scope k levels out from the innermost
 *     10       promote: varint k (scope as for exit), pick among the blocks in that
 *              scope or inside it, n varint (at most the block's size)
 *     11       free_all
 *     12       misuse byte m, by m % 6: double_free (pick of a freed block),
 *              free_invalid (varint: any allocated id; offset varint, 0 reads as 1),
 *              free_layout (pick; size; align: a layout other than its own),
 *              overflow and underflow (pick; J varint), after_free (pick of a freed
 *              block; offset varint, below its last size)
 *     13       annotate the next operation: error byte (fail= that error when it is
 *              a real error and the kind may fail), thread varint (0: none, else t-1)
 *   size: byte s < 48: the edge sizes (0, 1, powers of two and their neighbours up
 *     to 65537, class boundaries, 1 MiB, 16 MiB, 2^40); s == 255: a varint; else s-48.
 *   align: byte a <= 16: 1 << a; a == 255: a varint (any value, 3 included); else 16.
 *   pick: a varint k, the (k mod count)-th of the candidates in the decoder's order.
 * An operation that cannot be formed (a free with nothing live) is dropped. Block ids
 * are 1, 2, 3... in allocation order and scope ids 1, 2, 3... in enter order, so the
 * encoder reproduces a trace up to that renumbering; everything else (sizes, layouts,
 * caps, offsets, fail= annotations, thread ids) round-trips exactly. */
#ifndef HL_FUZZ_H
#define HL_FUZZ_H

#include "hl_harness.h"

/* Decodes bytes into *out (a fresh trace named `name`, no metadata), at most
 * max_ops operations. Always succeeds: every input is a valid stream (it passes
 * hl_trace_check). The same bytes always give the same stream. */
void hl_fuzz_decode(const uint8_t *bytes, size_t size, size_t max_ops, const char *name, hl_trace *out);

/* Encodes a consistent trace (hl_trace_check passed) so that hl_fuzz_decode gives it
 * back up to the renumbering of ids. Returns a buffer from heaplab's private memory
 * (hl_mem_free it) with its length in *size. */
uint8_t *hl_fuzz_encode(const hl_trace *trace, size_t *size);

#endif
