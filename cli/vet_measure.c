/* vet_measure.c: vet's speed and memory rows. The allocator is measured beside glibc,
 * jemalloc, mimalloc and tcmalloc by `heaplab report` itself (run in a child whose
 * stdout goes to stderr, so --json's output stays one document), which writes the
 * usual report under --out; the rows are read back from its results document:
 *   speed   its ops/s over each peer's, per trace, as a geometric mean
 *   memory  peak footprint over peak live bytes (fragmentation's peak_to_peak), its
 *           own and each peer's, as geometric means over the traces
 * A figure that was not measured (a trace too short to time, a library with no
 * footprint reading) is left out, and a row with none is NOT CHECKED. --budget turns
 * a row into PASS or FAIL against a peer (or the best of them). */
#include "cli.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *const peers[] = {"libc", "jemalloc", "mimalloc", "tcmalloc"};
#define PEER_COUNT 4

int hl_vet_budget_parse(const char *text, hl_vet_budget *out)
{
    char *copy = hl_mem_strdup(text), *save = NULL;
    int rc = 0;
    for (char *item = strtok_r(copy, ",", &save); item && rc == 0; item = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(item, '='), *x = eq ? strchr(eq, 'x') : NULL;
        if (!eq || !x || x[1] != ':' || !x[2]) {
            rc = hl_cli_usage_error("vet", "--budget '%s': expected speed=FACTORx:PEER or frag=FACTORx:PEER "
                                    "(PEER: glibc, jemalloc, mimalloc, tcmalloc or best)", item);
            break;
        }
        *eq = '\0', *x = '\0';
        char *end = NULL;
        double factor = strtod(eq + 1, &end);
        const char *peer = x + 2;
        if (strcmp(peer, "glibc") == 0) peer = "libc";
        bool known = strcmp(peer, "best") == 0;
        for (int i = 0; i < PEER_COUNT; i++) known |= strcmp(peer, peers[i]) == 0;
        hl_vet_limit *limit = strcmp(item, "speed") == 0 ? &out->speed : strcmp(item, "frag") == 0 ? &out->frag : NULL;
        if (!limit || !end || *end || !(factor >= 1) || !known) {
            rc = hl_cli_usage_error("vet", "--budget: '%s=%sx:%s' is not a budget (speed or frag, a factor of at "
                                    "least 1, a peer: glibc, jemalloc, mimalloc, tcmalloc or best)", item, eq + 1,
                                    x + 2);
            break;
        }
        limit->factor = factor;
        snprintf(limit->peer, sizeof limit->peer, "%s", peer);
    }
    hl_mem_free(copy);
    return rc;
}

/* `heaplab report` with stdout on stderr, in a child: its exit status (2 if it could
 * not run). */
static int run_report(char **argv, int argc)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) return 2;
    if (pid == 0) {
        dup2(2, 1);
        _exit(hl_cmd_report(argc, argv));
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {}
    return WIFEXITED(status) ? WEXITSTATUS(status) : 2;
}

/* The geometric mean of figure(own) / figure(peer) over the traces both have (or, with
 * no peer, of figure(own)); NAN when there is none. */
typedef double (*figure_fn)(const cJSON *result);
static double ops_per_sec(const cJSON *r)
{
    const cJSON *v = cJSON_GetObjectItem(r, "ops_per_sec");
    return cJSON_IsNumber(v) && v->valuedouble > 0 ? v->valuedouble : NAN;
}
static double peak_to_peak(const cJSON *r)
{
    const cJSON *f = cJSON_GetObjectItem(r, "fragmentation"), *v = f ? cJSON_GetObjectItem(f, "peak_to_peak") : NULL;
    return cJSON_IsNumber(v) && v->valuedouble > 0 ? v->valuedouble : NAN;
}

static const cJSON *result_of(const cJSON *results, const char *backend, const char *trace)
{
    const cJSON *r;
    cJSON_ArrayForEach(r, results) {
        const cJSON *b = cJSON_GetObjectItem(r, "backend"), *t = cJSON_GetObjectItem(r, "trace");
        if (cJSON_IsString(b) && cJSON_IsString(t) && strcmp(b->valuestring, backend) == 0 &&
            strcmp(t->valuestring, trace) == 0)
            return r;
    }
    return NULL;
}

static double geomean(const cJSON *results, const char *own, const char *peer, figure_fn figure, int *count)
{
    double logs = 0;
    *count = 0;
    const cJSON *r;
    cJSON_ArrayForEach(r, results) {
        const cJSON *b = cJSON_GetObjectItem(r, "backend"), *t = cJSON_GetObjectItem(r, "trace");
        if (!cJSON_IsString(b) || !cJSON_IsString(t) || strcmp(b->valuestring, own) != 0) continue;
        double mine = figure(r), theirs = 1;
        if (peer) {
            const cJSON *p = result_of(results, peer, t->valuestring);
            theirs = p ? figure(p) : NAN;
        }
        if (isnan(mine) || isnan(theirs)) continue;
        logs += log(mine / theirs);
        (*count)++;
    }
    return *count ? exp(logs / *count) : NAN;
}

/* One row: the figures beside the peers, then judged when limit says so. higher:
 * a larger figure is better (speed). */
static void measure_row(hl_vet_row *row, const cJSON *results, const char *own, const char *property,
                        figure_fn figure, bool higher, const hl_vet_limit *limit)
{
    snprintf(row->property, sizeof row->property, "%s", property);
    /* memory: its own ratio over the traces it was measured on; speed: over the traces
     * its ratio to glibc covers */
    int n = 0;
    double mine = higher ? NAN : geomean(results, own, NULL, figure, &n);
    char text[400] = "";
    size_t used = 0;
    double against[PEER_COUNT] = {NAN, NAN, NAN, NAN}, best = NAN;
    const char *best_peer = NULL;
    for (int i = 0; i < PEER_COUNT && used < sizeof text; i++) {
        int k;
        against[i] = higher ? geomean(results, own, peers[i], figure, &k) : geomean(results, peers[i], NULL, figure, &k);
        if (higher && strcmp(peers[i], "libc") == 0) n = k;
        if (isnan(against[i])) continue;
        used += (size_t)snprintf(text + used, sizeof text - used, "%s%s %.2f%s", used ? ", " : "",
                                 strcmp(peers[i], "libc") == 0 ? "glibc" : peers[i], against[i], higher ? "x" : "");
        if (isnan(best) || against[i] < best) /* the fastest peer (its ratio lowest), the leanest */
            best = against[i], best_peer = peers[i];
    }
    if ((higher && !used) || (!higher && isnan(mine))) {
        row->status = HL_VET_NOT_CHECKED;
        snprintf(row->detail, sizeof row->detail, "not measured: %s",
                 higher ? "no trace long enough to time beside the peers"
                        : "no footprint reading (a library: export PREFIXfootprint)");
        return;
    }
    if (higher)
        snprintf(row->detail, sizeof row->detail, "its ops/s over each peer's (geometric mean, %d traces): %s", n,
                 text);
    else
        snprintf(row->detail, sizeof row->detail,
                 "peak footprint over peak live bytes (geometric mean, %d traces): %.2f; %s", n, mine, text);
    row->status = HL_VET_MEASURED;
    if (!limit->factor) return;
    /* judged: its figure against the peer's (the best one's for "best") */
    const char *peer = strcmp(limit->peer, "best") == 0 ? best_peer : limit->peer;
    int index = -1;
    for (int i = 0; peer && i < PEER_COUNT; i++)
        if (strcmp(peers[i], peer) == 0) index = i;
    if (index < 0 || isnan(against[index])) {
        row->status = HL_VET_NOT_CHECKED;
        snprintf(row->detail + strlen(row->detail), sizeof row->detail - strlen(row->detail),
                 "; the budget's peer %s was not measured", limit->peer);
        return;
    }
    /* speed=1.2x:P: at least 1/1.2 of P's ops/s; frag=1.1x:P: at most 1.1 times P's ratio */
    bool within = higher ? against[index] * limit->factor >= 1 : mine <= against[index] * limit->factor;
    row->status = within ? HL_VET_PASS : HL_VET_FAIL;
    snprintf(row->detail + strlen(row->detail), sizeof row->detail - strlen(row->detail),
             "; budget %.2fx %s%s: %s", limit->factor, strcmp(peer, "libc") == 0 ? "glibc" : peer,
             strcmp(limit->peer, "best") == 0 ? " (the best peer)" : "", within ? "within" : "over");
}

int hl_vet_measure(const hl_spec *spec, char **traces, int trace_count, const char *out, const hl_vet_budget *budget,
                   bool quiet, hl_vet_row rows[2])
{
    memset(rows, 0, 2 * sizeof *rows);
    char list[2048], dir[700], ignore[] = "ALIGNMENT@mimalloc"; /* its known bug (README "Peers") */
    snprintf(list, sizeof list, "%s,libc,jemalloc,mimalloc,tcmalloc", spec->text);
    snprintf(dir, sizeof dir, "%s/report", out);
    char **argv = hl_mem_alloc(sizeof *argv * (size_t)(trace_count + 12));
    int argc = 0;
    argv[argc++] = "report";
    if (quiet) argv[argc++] = "-q";
    argv[argc++] = "--backends", argv[argc++] = list, argv[argc++] = "--ignore", argv[argc++] = ignore;
    argv[argc++] = "--out", argv[argc++] = dir;
    for (int i = 0; i < trace_count; i++) argv[argc++] = traces[i];
    argv[argc] = NULL;
    int rc = run_report(argv, argc);
    hl_mem_free(argv);
    char path[800], *bytes = NULL;
    size_t size = 0;
    hl_diag diag;
    snprintf(path, sizeof path, "%s/heaplab-results.json", dir);
    cJSON *doc = rc <= 1 && hl_file_load(path, &bytes, &size, &diag) == 0 ? cJSON_ParseWithLength(bytes, size) : NULL;
    hl_mem_free(bytes);
    const cJSON *results = doc ? cJSON_GetObjectItem(doc, "results") : NULL;
    if (!cJSON_IsArray(results)) {
        for (int i = 0; i < 2; i++) {
            snprintf(rows[i].property, sizeof rows[i].property, "%s", i ? "memory" : "speed");
            rows[i].status = HL_VET_NOT_CHECKED;
            snprintf(rows[i].detail, sizeof rows[i].detail, "the report beside the peers did not run (exit status %d)",
                     rc);
        }
        cJSON_Delete(doc);
        return -1;
    }
    measure_row(&rows[0], results, spec->label, "speed", ops_per_sec, true, &budget->speed);
    measure_row(&rows[1], results, spec->label, "memory", peak_to_peak, false, &budget->frag);
    for (int i = 0; i < 2; i++) snprintf(rows[i].report, sizeof rows[i].report, "%s/index.html", dir);
    cJSON_Delete(doc);
    return 0;
}
