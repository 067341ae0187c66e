// shim.cc: heaplab's only C++. Registers each micro-benchmark case (micro.h: a family
// on a target, named "family/target", e.g. pair/16/bins, pair/16/raw:mimalloc) with
// Google Benchmark and runs it: the case is prepared outside the clock, then the C
// body runs the whole batch of iterations Google Benchmark asks for in one call, so
// the timed loop is the body's own. Targets that could not be made are named on
// stderr and in the JSON context ("skipped:NAME").
#include <benchmark/benchmark.h>

#include <string>

#include "micro.h"

static void run_case(benchmark::State &state, const micro_case *c)
{
    if (const char *why = micro_prepare(c)) return state.SkipWithError(why);
    while (state.KeepRunningBatch(state.max_iterations))
        if (const char *why = micro_run(c, static_cast<uint64_t>(state.max_iterations))) state.SkipWithError(why);
}

int main(int argc, char **argv)
{
    micro_reserve_tls(argv);
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
    size_t count, skipped_count;
    const micro_case *cases = micro_cases(&count);
    const char *const *skipped = micro_skipped(&skipped_count);
    for (size_t i = 0; i < skipped_count; i++) {
        std::string line = skipped[i];
        size_t colon = line.find(": ");
        benchmark::AddCustomContext("skipped:" + line.substr(0, colon), line.substr(colon + 2));
    }
    for (size_t i = 0; i < count; i++) benchmark::RegisterBenchmark(cases[i].name, run_case, &cases[i]);
    benchmark::RunSpecifiedBenchmarks();
    micro_release();
    benchmark::Shutdown();
    return 0;
}
