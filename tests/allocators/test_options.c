/* test_options.c: the kit's option parsing (allocators/kit/options.c), driven by an
 * option_docs table and its rules: the memory-source fragment, sizes, counts, words,
 * powers of two, text; the messages name the option, the bad value and what is
 * accepted, and the unknown-key message lists the keys from the docs. */
#include "hl_kit.h"
#include "unit.h"

#include <string.h>

typedef struct settings {
    hl_source_config source;
    bool flag;
    uint64_t chunk;
    uint32_t count;
    const char *text;
} settings;

#define TEST_OPTIONS(X)                                                                                          \
    HL_SOURCE_OPTIONS(X)                                                                                         \
    X("flag", "1", "a flag", HL_OPTION_WORD, flag, 0, 0, hl_option_flag_words, 0)                                \
    X("chunk", "128K", "a power of two", HL_OPTION_SIZE, chunk, 16384, 16u << 20, NULL, HL_OPTION_POWER_OF_TWO)  \
    X("count", "3", "a count", HL_OPTION_COUNT, count, 1, 100, NULL, 0)                                          \
    X("text", "", "any text", HL_OPTION_TEXT, text, 0, 0, NULL, 0)

#define HL_SETTINGS settings
static const hl_option_doc docs[] = {TEST_OPTIONS(HL_OPTION_DOC){NULL, NULL, NULL}};
static const hl_option_rule rules[] = {TEST_OPTIONS(HL_OPTION_RULE)};

static char message[300];

/* applies one spec "k=v:k=v" to s; the result */
static hl_error apply(settings *s, const char *spec)
{
    static char copy[200];
    hl_option options[8];
    size_t n = 0;
    snprintf(copy, sizeof copy, "%s", spec);
    for (char *part = strtok(copy, ":"); part && n < 8; part = strtok(NULL, ":")) {
        char *eq = strchr(part, '=');
        *eq = 0;
        options[n++] = (hl_option){part, eq + 1};
    }
    hl_config config = {options, n, NULL, 0, message, sizeof message, false, 0};
    message[0] = 0;
    return hl_options_apply(&config, "test", docs, rules, s);
}

TEST(source_fragment)
{
    settings s = {0};
    hl_source_config_init(&s.source);
    CHECK_EQ(apply(&s, "source=linear:max_pages=16:size=2M:huge=1"), HL_E_OK);
    CHECK_EQ(s.source.kind, HL_SOURCE_LINEAR);
    CHECK_EQ(s.source.max_pages, 16);
    CHECK_EQ(s.source.size, 2u << 20);
    CHECK(s.source.huge);
    CHECK_EQ(apply(&s, "source=static"), HL_E_OK);
    CHECK_EQ(s.source.kind, HL_SOURCE_STATIC);
    CHECK_EQ(apply(&s, "max_pages=65537"), HL_E_INVALID_ARGUMENT);
    CHECK(strstr(message, "test: max_pages='65537' (expected a count from 1 to 65536)") != NULL);
    CHECK_EQ(apply(&s, "size=2Q"), HL_E_INVALID_ARGUMENT);
    CHECK(strstr(message, "size='2Q'") != NULL && strstr(message, "K, M or G") != NULL);
    CHECK_EQ(apply(&s, "size=0"), HL_E_INVALID_ARGUMENT);
    CHECK_EQ(apply(&s, "huge=yes"), HL_E_INVALID_ARGUMENT);
    CHECK(strstr(message, "huge='yes' (expected 0 or 1)") != NULL);
    CHECK_EQ(apply(&s, "source=floppy"), HL_E_INVALID_ARGUMENT);
    CHECK(strstr(message, "source='floppy' (expected os, static or linear)") != NULL);
}

TEST(own_options_by_kind)
{
    settings s = {0};
    CHECK_EQ(apply(&s, "flag=1:chunk=16K:count=7:text=hello"), HL_E_OK);
    CHECK(s.flag);
    CHECK_EQ(s.chunk, 16384);
    CHECK_EQ(s.count, 7);
    CHECK(strcmp(s.text, "hello") == 0);
    CHECK_EQ(apply(&s, "flag=0"), HL_E_OK);
    CHECK(!s.flag);
    CHECK_EQ(apply(&s, "chunk=3K"), HL_E_INVALID_ARGUMENT);
    CHECK(strstr(message, "chunk='3K' (expected a power of two from 16K to 16M)") != NULL);
    CHECK_EQ(apply(&s, "chunk=48K"), HL_E_INVALID_ARGUMENT); /* in range, not a power of two */
    CHECK_EQ(apply(&s, "count=101"), HL_E_INVALID_ARGUMENT);
    CHECK(strstr(message, "count='101' (expected a count from 1 to 100)") != NULL);
    CHECK_EQ(s.count, 7); /* a refused value changes nothing */
}

TEST(unknown_keys_list_the_docs)
{
    settings s = {0};
    CHECK_EQ(apply(&s, "colour=red"), HL_E_INVALID_ARGUMENT);
    CHECK(strstr(message, "test: unknown option 'colour' (known: source, size, max_pages, huge, flag, chunk, count, text)") !=
          NULL);
    hl_option one = {"colour", "red"};
    hl_config config = {&one, 1, NULL, 0, message, sizeof message, false, 0};
    CHECK_EQ(hl_options_apply(&config, "none", NULL, NULL, NULL), HL_E_INVALID_ARGUMENT);
    CHECK(strstr(message, "none: unknown option 'colour' (none has none)") != NULL);
    config.option_count = 0;
    CHECK_EQ(hl_options_apply(&config, "none", NULL, NULL, NULL), HL_E_OK);
}

int main(void)
{
    RUN(source_fragment);
    RUN(own_options_by_kind);
    RUN(unknown_keys_list_the_docs);
    return unit_summary();
}
