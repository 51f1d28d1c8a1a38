/* Running a search against the catalogue. */
#include <stdlib.h>
#include <string.h>

#include "catalogue/catalogue_internal.h"
#include "catalogue/search_query.h"

typedef struct search_run {
    picotag_catalogue *catalogue;
    const picotag_search_options *options;
    search_sql sql;
    sqlite3_stmt *select;
    sqlite3_stmt *tags;          /* NULL for a query of exclusions only */

    picotag_search_tag *matched; /* tags of the current photo */
    size_t matched_count;
    size_t matched_capacity;
} search_run;

static picotag_status validate_options(const picotag_catalogue *catalogue,
                                       const picotag_search_options *options,
                                       picotag_error *error) {
    if (options == NULL || (options->labels == NULL && options->label_count > 0)) {
        return picotag_error_set(error, PICOTAG_ERROR_INVALID_ARGUMENT,
                                 "%s: search: the options and their label table are required",
                                 catalogue->path);
    }
    if (!(options->min_score >= 0.0 && options->min_score <= 1.0)) {
        return picotag_error_set(error, PICOTAG_ERROR_INVALID_ARGUMENT,
                                 "search: minimum score %g is outside 0 to 1", options->min_score);
    }
    if (options->limit < 0) {
        return picotag_error_set(error, PICOTAG_ERROR_INVALID_ARGUMENT,
                                 "search: limit %lld is negative; 0 means no limit",
                                 (long long)options->limit);
    }
    return PICOTAG_OK;
}

static void bind_label_name(sqlite3_stmt *statement, int parameter,
                            const picotag_search_options *options, int label) {
    const char *name = options->labels[label].name_en;
    if (name != NULL) {
        sqlite3_bind_text(statement, parameter, name, -1, SQLITE_STATIC);
    }
}

static picotag_status prepare_statements(search_run *run, picotag_error *error) {
    picotag_catalogue *catalogue = run->catalogue;
    const picotag_search_options *options = run->options;

    int rc = sqlite3_prepare_v2(catalogue->db, run->sql.select_sql, -1, &run->select, NULL);
    if (rc == SQLITE_OK && run->sql.tags_sql != NULL) {
        rc = sqlite3_prepare_v2(catalogue->db, run->sql.tags_sql, -1, &run->tags, NULL);
    }
    if (rc != SQLITE_OK) {
        return catalogue_sqlite_error(catalogue, rc, "cannot prepare the search", error);
    }

    sqlite3_bind_double(run->select, 1, options->min_score);
    sqlite3_bind_int64(run->select, 2, options->limit > 0 ? options->limit : -1);
    for (int i = 0; i < run->sql.bound_label_count; i++) {
        bind_label_name(run->select, 3 + i, options, run->sql.bound_labels[i]);
    }
    if (run->tags != NULL) {
        sqlite3_bind_double(run->tags, 2, options->min_score);
        for (int i = 0; i < run->sql.positive_label_count; i++) {
            bind_label_name(run->tags, 3 + i, options, run->sql.positive_labels[i]);
        }
    }
    return PICOTAG_OK;
}

static void release_matched(search_run *run) {
    for (size_t i = 0; i < run->matched_count; i++) {
        free((char *)run->matched[i].label);
    }
    run->matched_count = 0;
}

static const picotag_label *label_entry(const picotag_search_options *options,
                                        const char *name) {
    for (int i = 0; i < options->label_count; i++) {
        if (options->labels[i].name_en != NULL && strcmp(options->labels[i].name_en, name) == 0) {
            return &options->labels[i];
        }
    }
    return NULL;
}

static picotag_status add_matched(search_run *run, sqlite3_stmt *statement,
                                  picotag_error *error) {
    if (run->matched_count == run->matched_capacity) {
        size_t capacity = run->matched_capacity == 0 ? 8 : run->matched_capacity * 2;
        picotag_search_tag *grown = realloc(run->matched, capacity * sizeof(*grown));
        if (grown == NULL) {
            return picotag_error_set(error, PICOTAG_ERROR_OUT_OF_MEMORY,
                                     "search: out of memory reading tags");
        }
        run->matched = grown;
        run->matched_capacity = capacity;
    }
    const char *label = (const char *)sqlite3_column_text(statement, 0);
    char *copy = strdup(label != NULL ? label : "");
    if (copy == NULL) {
        return picotag_error_set(error, PICOTAG_ERROR_OUT_OF_MEMORY,
                                 "search: out of memory reading tags");
    }
    picotag_search_tag *tag = &run->matched[run->matched_count++];
    tag->label = copy;
    tag->class_index = sqlite3_column_int(statement, 1);
    tag->score = sqlite3_column_double(statement, 2);
    tag->entry = label_entry(run->options, copy);
    return PICOTAG_OK;
}

/* Reads the current photo's tags that the query's positive words matched. */
static picotag_status read_matched_tags(search_run *run, int64_t photo_id,
                                        picotag_error *error) {
    release_matched(run);
    if (run->tags == NULL) {
        return PICOTAG_OK;
    }
    sqlite3_reset(run->tags);
    sqlite3_bind_int64(run->tags, 1, photo_id);

    picotag_status status = PICOTAG_OK;
    int rc;
    while (status == PICOTAG_OK && (rc = sqlite3_step(run->tags)) == SQLITE_ROW) {
        status = add_matched(run, run->tags, error);
    }
    if (status == PICOTAG_OK && rc != SQLITE_DONE) {
        status = catalogue_sqlite_error(run->catalogue, rc, "cannot read matched tags", error);
    }
    sqlite3_reset(run->tags);
    return status;
}

static picotag_status report_matches(search_run *run, picotag_search_callback callback,
                                     void *user, int64_t *count, picotag_error *error) {
    picotag_status status = PICOTAG_OK;
    int rc;
    while ((rc = sqlite3_step(run->select)) == SQLITE_ROW) {
        picotag_search_match match = {
            .photo_id = sqlite3_column_int64(run->select, 0),
            .path = (const char *)sqlite3_column_text(run->select, 1),
            .captured_at = (const char *)sqlite3_column_text(run->select, 2),
        };
        status = read_matched_tags(run, match.photo_id, error);
        if (status != PICOTAG_OK) {
            return status;
        }
        match.tags = run->matched;
        match.tag_count = run->matched_count;
        (*count)++;
        if (callback != NULL && callback(&match, user) != 0) {
            return PICOTAG_OK;
        }
    }
    if (rc != SQLITE_DONE) {
        status = catalogue_sqlite_error(run->catalogue, rc, "cannot run the search", error);
    }
    return status;
}

picotag_status picotag_search(picotag_catalogue *catalogue, const char *query,
                              const picotag_search_options *options,
                              picotag_search_callback callback, void *user, int64_t *match_count,
                              picotag_error *error) {
    if (match_count != NULL) {
        *match_count = 0;
    }
    picotag_status status = validate_options(catalogue, options, error);
    if (status != PICOTAG_OK) {
        return status;
    }

    search_query parsed = {0};
    search_run run = {.catalogue = catalogue, .options = options};
    status = search_query_parse(query, &parsed, error);
    if (status == PICOTAG_OK) {
        status = search_query_resolve(&parsed, options->labels, options->label_count, error);
    }
    if (status == PICOTAG_OK) {
        status = search_sql_build(&parsed, &run.sql, error);
    }
    if (status == PICOTAG_OK) {
        status = prepare_statements(&run, error);
    }

    int64_t count = 0;
    if (status == PICOTAG_OK) {
        status = report_matches(&run, callback, user, &count, error);
    }
    if (match_count != NULL) {
        *match_count = count;
    }

    release_matched(&run);
    free(run.matched);
    sqlite3_finalize(run.select);
    sqlite3_finalize(run.tags);
    search_sql_free(&run.sql);
    search_query_free(&parsed);
    return status;
}
