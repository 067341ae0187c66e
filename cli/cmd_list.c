/* cmd_list.c: `heaplab list`: each backend with what a default instance declares. */
#include "cli.h"

#include <inttypes.h>
#include <string.h>

void hl_help_list(FILE *out)
{
    fprintf(out,
            "usage: heaplab list [--names]\n"
            "\n"
            "Lists every built-in backend: its class (reference or foreign), what a default\n"
            "instance declares (alignments, features, detected misuse, memory source) and\n"
            "the options its spec accepts (NAME:key=value:...), then the forms that name an\n"
            "allocator of your own (a contract plugin, a malloc-style library).\n"
            "  --names  one line a backend, for scripts: NAME KIND, where KIND is built-in,\n"
            "           on-request (built in, never in refs or all: wasm-v8),\n"
            "           test-conforming (a test build's backend the conformance suite runs)\n"
            "           or test (a test build's planted bug or misbehaving backend)\n");
}

static void print_flags(const hl_info *info)
{
    static const struct { uint32_t bit; const char *name; } features[] = {
#define HL_FEATURE_ROW(name, bit, text) {bit, #name},
        HL_FEATURES(HL_FEATURE_ROW)
#undef HL_FEATURE_ROW
    };
    printf("    features:");
    bool any = false;
    for (size_t i = 0; i < sizeof features / sizeof features[0]; i++)
        if (info->features & features[i].bit) printf(" %s", features[i].name), any = true;
    printf("%s\n    detects:", any ? "" : " none");
    any = false;
    for (unsigned e = 0; e < HL_E_COUNT; e++)
        if (info->misuse & HL_MISUSE_BIT(e)) printf(" %s", hl_error_name((hl_error)e)), any = true;
    printf("%s\n", any ? "" : " none");
}

int hl_cmd_list(int argc, char **argv)
{
    bool names = argc > 1 && strcmp(argv[1], "--names") == 0;
    if (argc > 1 + names) return hl_cli_usage_error("list", "unexpected argument '%s'", argv[1 + names]);
    size_t count;
    const hl_backend *const *backends = hl_registry(&count);
    if (names) {
        for (size_t i = 0; i < count; i++)
            printf("%s %s\n", backends[i]->name,
                   hl_registry_on_request(backends[i])    ? "on-request"
                   : !hl_registry_is_test_only(backends[i]) ? "built-in"
                   : hl_registry_conforms(backends[i])    ? "test-conforming"
                                                          : "test");
        return HL_EXIT_CLEAN;
    }
    for (size_t i = 0; i < count; i++) {
        const hl_backend *b = backends[i];
        printf("%-10s %-9s %s%s\n", b->name, b->backend_class == HL_CLASS_REFERENCE ? "reference" : "foreign",
               b->summary, hl_registry_is_test_only(b) ? " [test build only]" : "");
        hl_spec spec = {.text = (char *)b->name, .label = (char *)b->name, .backend = b};
        hl_diag diag;
        hl_heap *heap = hl_spec_create(&spec, &diag);
        if (heap) {
            hl_info info;
            memset(&info, 0, sizeof info);
            b->describe(heap, &info);
            printf("    source: %s, page %zu, align %zu..%zu", info.source ? info.source : "?", info.page_size,
                   info.min_align, info.max_align);
            if (info.max_live_blocks) printf(", at most %" PRIu64 " live blocks", info.max_live_blocks);
            printf("\n");
            print_flags(&info);
            hl_spec_destroy(&spec, heap);
        } else {
            printf("    (no default instance here: %s)\n", diag.message);
        }
        for (const hl_option_doc *o = b->option_docs; o && o->key; o++)
            printf("    option %s=... (default %s): %s\n", o->key, o->default_value, o->help);
    }
    printf("\nrefs: the reference backends; all: every built-in one. Your own allocator, wherever a\n"
           "backend is named:\n"
           "  ./lib.so[:name=LABEL]                  a contract plugin: exports heaplab_backend()\n"
           "                                         (allocators/include/heaplab.h)\n"
           "  malloc:PREFIX@./lib.so[:name=LABEL]    a malloc-style library: exports PREFIXmalloc,\n"
           "                                         PREFIXfree, PREFIXrealloc (README: \"Backends\n"
           "                                         from outside the tree\")\n");
    return HL_EXIT_CLEAN;
}
