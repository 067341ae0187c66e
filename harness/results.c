/* results.c: the results document, built with cJSON (Debian's libcjson) on heaplab's
 * private arena. Schema (version HL_RESULTS_SCHEMA_VERSION):
 *   {schema_version, machine: {hostname, os, release, arch, cpus},
 *    build: {heaplab, contract_version, compiler, sanitized, optimized},
 *    results: [{backend, trace, ops, sent, skipped, failures, divergences,
 *               peak_live_bytes, peak_live_blocks, peak_footprint_bytes,
 *               final_footprint_bytes, elapsed_ns, backend_ns, ops_per_sec, threads
 *               (real threads used; 0 serialised), trace_threads, detections,
 *               detected (the first detections: index, line, kind, block, offset),
 *               stream_ended?: {at, reason}, finding?: {rule, index, line, message,
 *               reproducer}}]} */
#include "hl_harness.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <sys/utsname.h>
#include <unistd.h>

#define HEAPLAB_VERSION "0.1.0"

struct hl_results {
    cJSON *root;
    cJSON *list;
};

bool hl_build_sanitized(void)
{
#if defined(__SANITIZE_ADDRESS__)
    return true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
    return true;
#else
    return false;
#endif
#else
    return false;
#endif
}

static void *json_alloc(size_t size) { return hl_mem_alloc(size); }

hl_results *hl_results_new(void)
{
    cJSON_Hooks hooks = {json_alloc, hl_mem_free};
    cJSON_InitHooks(&hooks);
    hl_results *results = hl_mem_alloc(sizeof *results);
    results->root = cJSON_CreateObject();
    cJSON_AddNumberToObject(results->root, "schema_version", HL_RESULTS_SCHEMA_VERSION);

    cJSON *machine = cJSON_AddObjectToObject(results->root, "machine");
    struct utsname names;
    char host[256] = "?";
    gethostname(host, sizeof host - 1);
    cJSON_AddStringToObject(machine, "hostname", host);
    if (uname(&names) == 0) {
        cJSON_AddStringToObject(machine, "os", names.sysname);
        cJSON_AddStringToObject(machine, "release", names.release);
        cJSON_AddStringToObject(machine, "arch", names.machine);
    }
    cJSON_AddNumberToObject(machine, "cpus", (double)sysconf(_SC_NPROCESSORS_ONLN));

    cJSON *build = cJSON_AddObjectToObject(results->root, "build");
    cJSON_AddStringToObject(build, "heaplab", HEAPLAB_VERSION);
    cJSON_AddNumberToObject(build, "contract_version", HL_CONTRACT_VERSION);
#ifdef __clang__
    cJSON_AddStringToObject(build, "compiler", "clang " __clang_version__);
#else
    cJSON_AddStringToObject(build, "compiler", "gcc " __VERSION__);
#endif
    cJSON_AddBoolToObject(build, "sanitized", hl_build_sanitized());
#ifdef __OPTIMIZE__
    cJSON_AddBoolToObject(build, "optimized", 1);
#else
    cJSON_AddBoolToObject(build, "optimized", 0);
#endif
    results->list = cJSON_AddArrayToObject(results->root, "results");
    return results;
}

void hl_results_add(hl_results *results, const hl_run_summary *s, const char *repro)
{
    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "backend", s->backend);
    cJSON_AddStringToObject(r, "trace", s->trace);
    cJSON_AddNumberToObject(r, "ops", (double)s->ops);
    cJSON_AddNumberToObject(r, "sent", (double)s->sent);
    cJSON_AddNumberToObject(r, "skipped", (double)s->skipped);
    cJSON_AddNumberToObject(r, "failures", (double)s->failures);
    cJSON_AddNumberToObject(r, "divergences", s->found ? 1 : 0);
    cJSON_AddNumberToObject(r, "detections", (double)s->detections);
    if (s->detections) {
        cJSON *list = cJSON_AddArrayToObject(r, "detected");
        uint64_t n = s->detections < HL_DETECTIONS_KEPT ? s->detections : HL_DETECTIONS_KEPT;
        for (uint64_t i = 0; i < n; i++) {
            cJSON *d = cJSON_CreateObject();
            cJSON_AddNumberToObject(d, "index", (double)s->detected[i].index);
            cJSON_AddNumberToObject(d, "line", (double)s->detected[i].line);
            cJSON_AddStringToObject(d, "kind", hl_error_name(s->detected[i].kind));
            cJSON_AddNumberToObject(d, "block", (double)s->detected[i].block);
            cJSON_AddNumberToObject(d, "offset", (double)s->detected[i].offset);
            cJSON_AddItemToArray(list, d);
        }
    }
    cJSON_AddNumberToObject(r, "peak_live_bytes", (double)s->figures.peak_live_bytes);
    cJSON_AddNumberToObject(r, "peak_live_blocks", (double)s->figures.peak_live_blocks);
    cJSON_AddNumberToObject(r, "peak_footprint_bytes", (double)s->figures.peak_footprint_bytes);
    cJSON_AddNumberToObject(r, "final_footprint_bytes", (double)s->figures.final_footprint_bytes);
    cJSON_AddNumberToObject(r, "elapsed_ns", (double)s->elapsed_ns);
    if (s->backend_timed) cJSON_AddNumberToObject(r, "backend_ns", (double)s->backend_ns);
    else cJSON_AddNullToObject(r, "backend_ns"); /* not measured under the shadow */
    cJSON_AddNumberToObject(r, "ops_per_sec", s->elapsed_ns ? (double)s->ops * 1e9 / (double)s->elapsed_ns : 0);
    cJSON_AddNumberToObject(r, "threads", s->threads);
    cJSON_AddNumberToObject(r, "trace_threads", s->trace_threads);
    if (s->stream_ended) {
        cJSON *ended = cJSON_AddObjectToObject(r, "stream_ended");
        cJSON_AddNumberToObject(ended, "at", (double)s->ended_at);
        cJSON_AddStringToObject(ended, "reason", s->ended_reason);
    }
    if (s->found) {
        cJSON *f = cJSON_AddObjectToObject(r, "finding");
        cJSON_AddStringToObject(f, "rule", hl_rule_name(s->finding.rule));
        cJSON_AddNumberToObject(f, "index", (double)s->finding.index);
        cJSON_AddNumberToObject(f, "line", (double)s->finding.line);
        cJSON_AddStringToObject(f, "message", s->finding.message);
        if (repro) cJSON_AddStringToObject(f, "reproducer", repro);
        else cJSON_AddNullToObject(f, "reproducer");
    }
    cJSON_AddItemToArray(results->list, r);
}

char *hl_results_json(hl_results *results) { return cJSON_Print(results->root); }

void hl_results_free(hl_results *results)
{
    if (!results) return;
    cJSON_Delete(results->root);
    hl_mem_free(results);
}
