/* The search language: parsing, words in English and Korean, supercategories,
 * AND / OR / exclusion, multi-word names, minimum score, and errors. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalogue/search_query.h"
#include "catalogue_fixture.h"

static char *folder;
static char database[600];
static picotag_catalogue *catalogue;

/* The test library. Each photo: name, then (label, score) pairs. */
typedef struct library_photo {
    const char *name;
    int tag_count;
    int labels[3];
    double scores[3];
} library_photo;

static const library_photo library[] = {
    {"p1", 2, {LABEL_DOG, LABEL_PERSON}, {0.9, 0.8}},
    {"p2", 1, {LABEL_CAT}, {0.7}},
    {"p3", 2, {LABEL_DOG, LABEL_CAT}, {0.4, 0.6}},
    {"p4", 2, {LABEL_HOT_DOG, LABEL_PERSON}, {0.95, 0.5}},
    {"p5", 2, {LABEL_CELL_PHONE, LABEL_PERSON}, {0.3, 0.85}},
    {"p6", 0, {0}, {0}},
};

static void build_library(void) {
    folder = make_scratch_folder();
    snprintf(database, sizeof(database), "%s/catalog.sqlite", folder);
    picotag_error error;
    CHECK_OK(picotag_catalogue_open(database, NULL, &catalogue, &error), error);
    CHECK_OK(picotag_catalogue_use_model(catalogue, &model_a, NULL, &error), error);

    for (size_t i = 0; i < sizeof(library) / sizeof(library[0]); i++) {
        photo_file photo = {0};
        snprintf(photo.path, sizeof(photo.path), "%s/%s.jpg", folder, library[i].name);
        photo.size_bytes = 100;
        photo.mtime_ns = 1;
        picotag_tag tags[3];
        for (int k = 0; k < library[i].tag_count; k++) {
            tags[k] = make_tag(library[i].labels[k], library[i].scores[k]);
        }
        CHECK_OK(record_photo(catalogue, &photo, tags, (size_t)library[i].tag_count, &error),
                 error);
    }
}

/* Collects the photo names ("p1,p3") in result order. */
typedef struct result_names {
    char names[1024];
    int stop_after;         /* 0: never stop */
    int seen;
} result_names;

static int collect_name(const picotag_search_match *match, void *user) {
    result_names *result = user;
    const char *slash = strrchr(match->path, '/');
    const char *name = slash != NULL ? slash + 1 : match->path;
    size_t used = strlen(result->names);
    snprintf(result->names + used, sizeof(result->names) - used, "%s%.*s",
             used > 0 ? "," : "", (int)(strlen(name) - 4), name);
    result->seen++;
    return result->stop_after > 0 && result->seen >= result->stop_after;
}

static picotag_search_options options_with(double min_score) {
    picotag_search_options options = {test_labels, TEST_LABEL_COUNT, min_score, 0};
    return options;
}

/* Runs `query` and returns the matched names, or "error: <message>". */
static const char *search(const char *query, double min_score) {
    static result_names result;
    memset(&result, 0, sizeof(result));
    picotag_search_options options = options_with(min_score);
    picotag_error error;
    int64_t count = -1;
    picotag_status status =
        picotag_search(catalogue, query, &options, collect_name, &result, &count, &error);
    if (status != PICOTAG_OK) {
        snprintf(result.names, sizeof(result.names), "error: %s", error.message);
    } else {
        CHECK_INT(result.seen, count);
    }
    return result.names;
}

/* Runs `query`, which must fail, and returns the error message. */
static const char *search_error(const char *query) {
    static picotag_error error;
    picotag_search_options options = options_with(0.0);
    picotag_status status = picotag_search(catalogue, query, &options, NULL, NULL, NULL, &error);
    CHECK_STATUS(PICOTAG_ERROR_INVALID_ARGUMENT, status, error);
    return error.message;
}

/* ---- Parsing ------------------------------------------------------------- */

static const char *describe(const char *query) {
    static char text[1024];
    search_query parsed = {0};
    picotag_error error;
    picotag_status status = search_query_parse(query, &parsed, &error);
    if (status == PICOTAG_OK) {
        search_query_describe(&parsed, text, sizeof(text));
    } else {
        snprintf(text, sizeof(text), "error: %s", error.message);
    }
    search_query_free(&parsed);
    return text;
}

static void parse_or_binds_looser_than_and(void) {
    CHECK_STR("(OR (AND a b) c)", describe("a b OR c"));
    CHECK_STR("(OR a (AND b c))", describe("a OR b c"));
    CHECK_STR("(OR a b c)", describe("a OR b OR c"));
    CHECK_STR("(AND a (OR b c))", describe("a (b OR c)"));
}

static void parse_exclusion_binds_tightest(void) {
    CHECK_STR("(AND (NOT a) b)", describe("-a b"));
    CHECK_STR("(OR (NOT a) b)", describe("-a OR b"));
    CHECK_STR("(NOT (OR a b))", describe("-(a OR b)"));
    CHECK_STR("(NOT \"hot dog\")", describe("-\"hot dog\""));
}

static void parse_normalises_words(void) {
    CHECK_STR("\"hot dog\"", describe("Hot_Dog"));
    CHECK_STR("\"hot dog\"", describe("hot-dog"));
    CHECK_STR("\"hot dog\"", describe("\"  HOT   dog \""));
    CHECK_STR("\"hot dog\"", describe("\xe2\x80\x9chot dog\xe2\x80\x9d"));
    CHECK_STR("(AND 개 사람)", describe("개\xe3\x80\x80사람"));
}

static void parse_reports_syntax_errors_with_column(void) {
    CHECK_CONTAINS(describe("dog OR"), "column 5: OR needs a word after it");
    CHECK_CONTAINS(describe("OR dog"), "column 1: OR needs a word before it");
    CHECK_CONTAINS(describe("dog (cat"), "column 5: '(' has no matching ')'");
    CHECK_CONTAINS(describe("dog cat)"), "column 8: ')' has no matching '('");
    CHECK_CONTAINS(describe("dog ()"), "column 5: the parentheses are empty");
    CHECK_CONTAINS(describe("dog - cat"), "column 5: '-' must be written directly before");
    CHECK_CONTAINS(describe("dog \"hot dog"), "column 5: the quoted name has no closing");
    CHECK_CONTAINS(describe("   "), "the query is empty");
    CHECK_CONTAINS(describe("dog _"), "column 5: the word \"_\" is empty");
    CHECK_CONTAINS(describe("\xff"), "not valid UTF-8");
    /* Columns count characters, not bytes. */
    CHECK_CONTAINS(describe("개 고양이 OR"), "column 7: OR needs a word after it");
}

static void parse_limits_words_and_nesting(void) {
    char many[1024] = "";
    for (int i = 0; i <= SEARCH_MAX_WORDS; i++) {
        strcat(many, "dog ");
    }
    CHECK_CONTAINS(describe(many), "more than 64 words");

    char deep[256] = "";
    for (int i = 0; i <= SEARCH_MAX_DEPTH; i++) {
        strcat(deep, "(");
    }
    strcat(deep, "dog");
    CHECK_CONTAINS(describe(deep), "nested deeper than 32");
}

/* ---- Matching ------------------------------------------------------------ */

static void single_word_ranks_by_score(void) {
    CHECK_STR("p1,p3", search("dog", 0.0));
    CHECK_STR("p5,p1,p4", search("person", 0.0));
}

static void juxtaposed_words_all_match(void) {
    CHECK_STR("p1", search("dog person", 0.0));
    CHECK_STR("p3", search("dog cat", 0.0));
    CHECK_STR("", search("dog cat person", 0.0));
}

static void or_matches_either_word(void) {
    CHECK_STR("p1,p2,p3", search("dog OR cat", 0.0));
    CHECK_STR("p4,p1,p3", search("\"hot dog\" OR dog", 0.0));
}

static void or_binds_looser_than_and_in_results(void) {
    /* (cat AND dog) OR person */
    CHECK_STR("p1,p5,p3,p4", search("cat dog OR person", 0.0));
    /* cat AND (dog OR person) */
    CHECK_STR("p3", search("cat (dog OR person)", 0.0));
}

static void exclusion_removes_photos(void) {
    CHECK_STR("p5,p4", search("person -dog", 0.0));
    CHECK_STR("p2,p4,p5,p6", search("-dog", 0.0));
    CHECK_STR("p4,p5,p6", search("-animal", 0.0));
    CHECK_STR("p2", search("cat -(dog OR person)", 0.0));
}

static void supercategory_matches_every_member(void) {
    CHECK_STR("p1,p2,p3", search("animal", 0.0));
    CHECK_STR("p4", search("food", 0.0));
    CHECK_STR("p1,p3", search("animal person OR dog", 0.0));
}

static void korean_words_match(void) {
    CHECK_STR("p1,p3", search("개", 0.0));
    CHECK_STR("p5,p1,p4", search("사람", 0.0));
    CHECK_STR("p1,p2,p3", search("동물", 0.0));
    CHECK_STR("p3", search("고양이 개", 0.0));
    CHECK_STR("p4", search("핫도그", 0.0));
    CHECK_STR("p4", search("음식", 0.0));
    CHECK_STR("p5", search("휴대전화", 0.0));
    CHECK_STR("p1", search("개 person", 0.0));
}

/* Korean written as separate jamo (Unicode form D, as macOS file names and
 * some input methods produce) finds the same photos as the syllables. */
static void korean_jamo_match_syllables(void) {
    CHECK_STR("p1,p3", search("\xe1\x84\x80\xe1\x85\xa2", 0.0));
    CHECK_STR("p3", search("\xe1\x84\x80\xe1\x85\xa9\xe1\x84\x8b\xe1\x85\xa3\xe1\x86\xbc\xe1\x84\x8b\xe1\x85\xb5 \xe1\x84\x80\xe1\x85\xa2", 0.0));
    CHECK_STR("개", describe("\xe1\x84\x80\xe1\x85\xa2"));
    CHECK_STR("(AND 고양이 개)", describe("\xe1\x84\x80\xe1\x85\xa9\xe1\x84\x8b\xe1\x85\xa3\xe1\x86\xbc\xe1\x84\x8b\xe1\x85\xb5 개"));
}

static void multi_word_names_quoted_or_joined(void) {
    CHECK_STR("p4", search("\"hot dog\"", 0.0));
    CHECK_STR("p4", search("hot_dog", 0.0));
    CHECK_STR("p4", search("hot-dog", 0.0));
    CHECK_STR("p4", search("HOT_DOG", 0.0));
    CHECK_STR("p5", search("cell_phone", 0.0));
    CHECK_STR("p2,p3,p5", search("\"cell phone\" OR cat", 0.0));
    CHECK_STR("", search("teddy_bear OR traffic_light", 0.0));
}

static void english_words_ignore_case(void) {
    CHECK_STR("p1,p3", search("Dog", 0.0));
    CHECK_STR("p1,p2,p3", search("ANIMAL", 0.0));
}

static void min_score_filters_weak_tags(void) {
    CHECK_STR("p1", search("dog", 0.5));
    CHECK_STR("p5,p1", search("person", 0.8));
    /* An exclusion counts only tags at or above the minimum too. */
    CHECK_STR("p2,p3,p4,p5,p6", search("-dog", 0.5));
    CHECK_STR("", search("dog", 0.95));
}

static void min_score_outside_range_is_rejected(void) {
    picotag_search_options options = options_with(1.5);
    picotag_error error;
    picotag_status status = picotag_search(catalogue, "dog", &options, NULL, NULL, NULL, &error);
    CHECK_STATUS(PICOTAG_ERROR_INVALID_ARGUMENT, status, error);
    CHECK_CONTAINS(error.message, "1.5");
}

/* ---- Results ------------------------------------------------------------- */

typedef struct first_match {
    int calls;
    char path[4096];
    char captured_at[64];
    size_t tag_count;
    char labels[2][32];
    double scores[2];
    const char *korean;
} first_match;

static int keep_first_match(const picotag_search_match *match, void *user) {
    first_match *first = user;
    if (first->calls++ > 0) {
        return 0;
    }
    snprintf(first->path, sizeof(first->path), "%s", match->path);
    snprintf(first->captured_at, sizeof(first->captured_at), "%s",
             match->captured_at != NULL ? match->captured_at : "(null)");
    first->tag_count = match->tag_count;
    for (size_t i = 0; i < match->tag_count && i < 2; i++) {
        snprintf(first->labels[i], sizeof(first->labels[i]), "%s", match->tags[i].label);
        first->scores[i] = match->tags[i].score;
    }
    if (match->tag_count > 0 && match->tags[0].entry != NULL) {
        first->korean = match->tags[0].entry->name_ko;
    }
    return 0;
}

static void match_reports_matched_tags_and_scores(void) {
    first_match first = {0};
    picotag_search_options options = options_with(0.0);
    picotag_error error;
    CHECK_OK(picotag_search(catalogue, "dog OR person -cat", &options, keep_first_match, &first,
                            NULL, &error),
             error);
    /* dog OR (person AND NOT cat): p1 ranks first with dog at 0.9. */
    char expected_path[4096];
    snprintf(expected_path, sizeof(expected_path), "%s/p1.jpg", folder);
    CHECK_STR(expected_path, first.path);
    CHECK_STR("2024-05-01T14:03:59", first.captured_at);
    CHECK_INT(2, first.tag_count);
    CHECK_STR("dog", first.labels[0]);
    CHECK_STR("person", first.labels[1]);
    CHECK(first.scores[0] == 0.9);
    CHECK_STR("개", first.korean);
}

static void exclusion_only_match_has_no_tags(void) {
    first_match first = {0};
    picotag_search_options options = options_with(0.0);
    picotag_error error;
    CHECK_OK(picotag_search(catalogue, "-animal", &options, keep_first_match, &first, NULL,
                            &error),
             error);
    CHECK_INT(3, first.calls);
    CHECK_INT(0, first.tag_count);
}

static void limit_and_early_stop_cut_results(void) {
    picotag_search_options options = options_with(0.0);
    options.limit = 1;
    result_names result = {0};
    picotag_error error;
    int64_t count = -1;
    CHECK_OK(picotag_search(catalogue, "person", &options, collect_name, &result, &count, &error),
             error);
    CHECK_STR("p5", result.names);
    CHECK_INT(1, count);

    options.limit = 0;
    memset(&result, 0, sizeof(result));
    result.stop_after = 2;
    CHECK_OK(picotag_search(catalogue, "person", &options, collect_name, &result, &count, &error),
             error);
    CHECK_STR("p5,p1", result.names);
    CHECK_INT(2, count);
}

/* ---- Unknown words ------------------------------------------------------- */

static void unknown_word_suggests_close_names(void) {
    const char *message = search_error("dgo");
    CHECK_CONTAINS(message, "unknown word \"dgo\" at column 1");
    CHECK_CONTAINS(message, "did you mean dog?");

    message = search_error("cat anmial");
    CHECK_CONTAINS(message, "unknown word \"anmial\" at column 5");
    CHECK_CONTAINS(message, "animal");

    message = search_error("peson");
    CHECK_CONTAINS(message, "person");
}

static void unknown_first_word_suggests_multi_word_name(void) {
    const char *message = search_error("hot dog");
    CHECK_CONTAINS(message, "unknown word \"hot\"");
    CHECK_CONTAINS(message, "\"hot dog\"");

    message = search_error("teddy");
    CHECK_CONTAINS(message, "\"teddy bear\"");
}

static void unknown_korean_word_suggests_close_names(void) {
    const char *message = search_error("고양");
    CHECK_CONTAINS(message, "unknown word \"고양\"");
    CHECK_CONTAINS(message, "고양이");

    message = search_error("걔");
    CHECK_CONTAINS(message, "개");
}

static void unknown_word_far_from_all_lists_examples(void) {
    const char *message = search_error("xylophone");
    CHECK_CONTAINS(message, "unknown word \"xylophone\"");
    CHECK_CONTAINS(message, "tag names or categories in English or Korean");
    CHECK_CONTAINS(message, "dog, 개, animal, 동물");
}

static void lowercase_or_is_explained(void) {
    const char *message = search_error("dog or cat");
    CHECK_CONTAINS(message, "unknown word \"or\"");
    CHECK_CONTAINS(message, "OR in capitals");
}

static void sql_injection_is_unknown_word(void) {
    int64_t tags_before = -1;
    picotag_error error;
    CHECK_OK(picotag_catalogue_count(catalogue, NULL, &tags_before, &error), error);

    const char *message = search_error("dog'; DROP TABLE tags; SELECT '");
    CHECK_CONTAINS(message, "unknown word \"dog';\"");
    message = search_error("\"dog') OR 1=1 --\"");
    CHECK_CONTAINS(message, "unknown word \"dog') OR 1=1 --\"");
    message = search_error("x' OR '1'='1");
    CHECK_CONTAINS(message, "unknown word \"x'\"");

    int64_t tags_after = -1;
    CHECK_OK(picotag_catalogue_count(catalogue, NULL, &tags_after, &error), error);
    CHECK_INT(tags_before, tags_after);
    CHECK(tags_after > 0);
}

int main(void) {
    build_library();
    RUN_TEST(parse_or_binds_looser_than_and);
    RUN_TEST(parse_exclusion_binds_tightest);
    RUN_TEST(parse_normalises_words);
    RUN_TEST(parse_reports_syntax_errors_with_column);
    RUN_TEST(parse_limits_words_and_nesting);
    RUN_TEST(single_word_ranks_by_score);
    RUN_TEST(juxtaposed_words_all_match);
    RUN_TEST(or_matches_either_word);
    RUN_TEST(or_binds_looser_than_and_in_results);
    RUN_TEST(exclusion_removes_photos);
    RUN_TEST(supercategory_matches_every_member);
    RUN_TEST(korean_words_match);
    RUN_TEST(korean_jamo_match_syllables);
    RUN_TEST(multi_word_names_quoted_or_joined);
    RUN_TEST(english_words_ignore_case);
    RUN_TEST(min_score_filters_weak_tags);
    RUN_TEST(min_score_outside_range_is_rejected);
    RUN_TEST(match_reports_matched_tags_and_scores);
    RUN_TEST(exclusion_only_match_has_no_tags);
    RUN_TEST(limit_and_early_stop_cut_results);
    RUN_TEST(unknown_word_suggests_close_names);
    RUN_TEST(unknown_first_word_suggests_multi_word_name);
    RUN_TEST(unknown_korean_word_suggests_close_names);
    RUN_TEST(unknown_word_far_from_all_lists_examples);
    RUN_TEST(lowercase_or_is_explained);
    RUN_TEST(sql_injection_is_unknown_word);
    picotag_catalogue_close(catalogue);
    remove_scratch_folder(folder);
    return harness_finish();
}
