/* test_conformance.c: vet's conformance traces (check/conformance.c) are consistent
 * traces that every built-in backend runs clean under the shadow model, and they ask
 * what they say: misuse is sent to a backend that declares it and skipped elsewhere,
 * alignments above a backend's max_align are refused, not skipped. */
#include "hl_check.h"
#include "unit.h"

#include <string.h>

static hl_run_summary run_on(const char *backend, const hl_trace *trace)
{
    hl_spec *specs;
    size_t count;
    hl_diag diag;
    CHECK_EQ(hl_spec_parse_list(backend, &specs, &count, &diag), 0);
    hl_run_options o = {.shadow = true, .check_every = 64, .isolate = true, .timeout_seconds = 60};
    hl_run_summary s;
    int rc = hl_run(&specs[0], trace, &o, &s);
    if (rc == 2) printf("  %s: %s\n", backend, s.setup_error);
    CHECK(rc == 0 || (rc == 1 && s.found));
    return s;
}

TEST(every_property_reads_and_checks)
{
    CHECK_EQ(hl_conformance_count(), 6);
    for (size_t i = 0; i < hl_conformance_count(); i++) {
        hl_conformance c;
        hl_diag diag;
        int rc = hl_conformance_trace(i, &c, &diag);
        if (rc) printf("  %s\n", diag.message);
        CHECK_EQ(rc, 0);
        CHECK(c.property && c.what && c.trace.count > 4);
        CHECK_EQ(hl_trace_check(&c.trace, &diag), 0);
        hl_trace_free(&c.trace);
    }
    hl_conformance c;
    hl_diag diag;
    CHECK_EQ(hl_conformance_trace(hl_conformance_count(), &c, &diag), -1);
}

TEST(every_builtin_backend_passes_every_property)
{
    static const char *backends[] = {"bins", "arena", "guard", "caps", "wasm", "libc", "tcmalloc"} /* jemalloc: its TLS needs the driver's re-exec */;
    for (size_t i = 0; i < hl_conformance_count(); i++) {
        hl_conformance c;
        hl_diag diag;
        CHECK_EQ(hl_conformance_trace(i, &c, &diag), 0);
        for (size_t b = 0; b < sizeof backends / sizeof *backends; b++) {
            hl_run_summary s = run_on(backends[b], &c.trace);
            if (s.found) printf("  %s on %s: %s at %llu\n", c.property, backends[b], hl_rule_name(s.finding.rule),
                                (unsigned long long)s.finding.index);
            CHECK(!s.found);
        }
        hl_trace_free(&c.trace);
    }
}

TEST(misuse_is_asked_only_of_a_backend_that_detects_it)
{
    hl_conformance c;
    hl_diag diag;
    size_t misuse = 4;
    CHECK_EQ(hl_conformance_trace(misuse, &c, &diag), 0);
    CHECK(strcmp(c.property, "misuse") == 0);
    hl_run_summary bins = run_on("bins", &c.trace), arena = run_on("arena", &c.trace);
    CHECK(bins.detections >= 3);   /* double, invalid and wrong-layout free */
    CHECK_EQ(arena.detections, 0); /* arena declares none: skipped */
    CHECK(arena.skipped >= 6);
    hl_trace_free(&c.trace);
}

int main(void)
{
    RUN(every_property_reads_and_checks);
    RUN(every_builtin_backend_passes_every_property);
    RUN(misuse_is_asked_only_of_a_backend_that_detects_it);
    return unit_summary();
}
