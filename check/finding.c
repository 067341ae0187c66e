/* finding.c: the one line every command prints for a finding (hl_check.h), so
 * replay, diff, report and the fuzzers read alike and a script can parse any of them. */
#include "hl_check.h"

#include <inttypes.h>

void hl_finding_print(FILE *out, const char *backend, const char *source, const hl_trace *trace, bool lines,
                      const hl_finding *f)
{
    bool differ = f->rule == HL_RULE_OUTCOME_DIFFERS || f->rule == HL_RULE_OFFSET_DIFFERS;
    fprintf(out, "%s %s: %s", differ ? "DIFFERENCE" : "DIVERGENCE", backend, source);
    uint64_t count = trace ? trace->count : 0;
    if (trace && (f->index >= count || f->teardown)) {
        fprintf(out, ": end of the stream (%" PRIu64 " operations)", count);
    } else {
        if (trace && lines) fprintf(out, "%s%" PRIu64, trace->form == HL_TRACE_TEXT ? ":" : ": byte ", f->line);
        fprintf(out, ": operation %" PRIu64, f->index);
        if (trace) fprintf(out, " (%s)", hl_op_name((hl_op_kind)trace->ops[f->index].kind));
    }
    fprintf(out, ": %s: %s\n", hl_rule_name(f->rule), f->message);
}
