/* Photo records: rescan decisions, moved photos, recording tags. */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "catalogue/catalogue_internal.h"
#include "engine/utf8.h"

typedef struct stored_photo {
    int64_t id;
    int64_t size_bytes;
    int64_t mtime_ns;
    int64_t model_id;       /* 0 when never tagged */
    uint8_t content_hash[PICOTAG_CONTENT_HASH_BYTES];
    int32_t width;          /* pixels; 0 when NULL in the database */
    int32_t height;
    char captured_at[PICOTAG_CAPTURED_AT_BYTES];   /* empty when NULL or too long */
} stored_photo;

static void bind_path(sqlite3_stmt *statement, int index, const char *path) {
    sqlite3_bind_blob(statement, index, path, (int)strlen(path), SQLITE_STATIC);
}

/* Reads the record at `path`, setting *found to whether there is one. */
static picotag_status find_photo(picotag_catalogue *catalogue, const char *path,
                                 stored_photo *photo, int *found, picotag_error *error) {
    sqlite3_stmt *statement = catalogue_statement(catalogue, STATEMENT_LOOKUP_PHOTO, error);
    if (statement == NULL) {
        return PICOTAG_ERROR_IO;
    }
    bind_path(statement, 1, path);

    int rc = sqlite3_step(statement);
    picotag_status status = PICOTAG_OK;
    *found = 0;
    if (rc == SQLITE_ROW) {
        *found = 1;
        photo->id = sqlite3_column_int64(statement, 0);
        photo->size_bytes = sqlite3_column_int64(statement, 1);
        photo->mtime_ns = sqlite3_column_int64(statement, 2);
        photo->model_id = sqlite3_column_int64(statement, 3);
        const void *hash = sqlite3_column_blob(statement, 4);
        if (hash != NULL && sqlite3_column_bytes(statement, 4) == PICOTAG_CONTENT_HASH_BYTES) {
            memcpy(photo->content_hash, hash, PICOTAG_CONTENT_HASH_BYTES);
        } else {
            memset(photo->content_hash, 0, PICOTAG_CONTENT_HASH_BYTES);
        }
        photo->width = sqlite3_column_int(statement, 5);
        photo->height = sqlite3_column_int(statement, 6);
        const unsigned char *captured_at = sqlite3_column_text(statement, 7);
        const int captured_at_bytes = sqlite3_column_bytes(statement, 7);
        photo->captured_at[0] = '\0';
        if (captured_at != NULL && captured_at_bytes < PICOTAG_CAPTURED_AT_BYTES) {
            memcpy(photo->captured_at, captured_at, (size_t)captured_at_bytes + 1);
        }
    } else if (rc != SQLITE_DONE) {
        status = catalogue_sqlite_error(catalogue, rc, "cannot look up a photo", error);
    }
    sqlite3_reset(statement);
    return status;
}

static picotag_status require_model(const picotag_catalogue *catalogue, const char *function,
                                    picotag_error *error) {
    if (catalogue->model_id == 0) {
        return picotag_error_set(error, PICOTAG_ERROR_INVALID_ARGUMENT,
                                 "%s: %s needs the current model; call "
                                 "picotag_catalogue_use_model first",
                                 catalogue->path, function);
    }
    return PICOTAG_OK;
}

static picotag_photo_decision decision_for_model(const picotag_catalogue *catalogue,
                                                 int64_t model_id) {
    return model_id == catalogue->model_id ? PICOTAG_PHOTO_UNCHANGED : PICOTAG_PHOTO_MODEL_CHANGED;
}

picotag_status picotag_catalogue_lookup(picotag_catalogue *catalogue, const char *path,
                                        int64_t size_bytes, int64_t mtime_ns,
                                        picotag_photo_lookup *result, picotag_error *error) {
    picotag_status status = catalogue_check_path(catalogue, path, "the photo path", error);
    if (status == PICOTAG_OK) {
        status = require_model(catalogue, "picotag_catalogue_lookup", error);
    }
    if (status != PICOTAG_OK) {
        return status;
    }

    stored_photo stored;
    int found = 0;
    status = find_photo(catalogue, path, &stored, &found, error);
    if (status != PICOTAG_OK) {
        return status;
    }

    memset(result, 0, sizeof(*result));
    if (!found) {
        result->decision = PICOTAG_PHOTO_NEW;
        return PICOTAG_OK;
    }
    result->photo_id = stored.id;
    result->width = stored.width;
    result->height = stored.height;
    memcpy(result->captured_at, stored.captured_at, sizeof(result->captured_at));
    if (stored.size_bytes != size_bytes || stored.mtime_ns != mtime_ns) {
        result->decision = PICOTAG_PHOTO_CHANGED;
    } else {
        result->decision = decision_for_model(catalogue, stored.model_id);
    }
    return PICOTAG_OK;
}

/* A record's file is gone only when stat fails with ENOENT or ENOTDIR. A
 * permission or I/O failure proves nothing, so the record stays. */
static int file_is_gone(const char *path) {
    struct stat info;
    if (stat(path, &info) == 0) {
        return 0;
    }
    return errno == ENOENT || errno == ENOTDIR;
}

typedef struct moved_candidate {
    int64_t id;
    int64_t model_id;
} moved_candidate;

/* Finds the first record with this content whose file no longer exists. */
static picotag_status find_moved_photo(picotag_catalogue *catalogue, const char *path,
                                       int64_t size_bytes, const uint8_t *hash,
                                       moved_candidate *candidate, int *found,
                                       picotag_error *error) {
    sqlite3_stmt *statement = catalogue_statement(catalogue, STATEMENT_FIND_BY_HASH, error);
    if (statement == NULL) {
        return PICOTAG_ERROR_IO;
    }
    sqlite3_bind_blob(statement, 1, hash, PICOTAG_CONTENT_HASH_BYTES, SQLITE_STATIC);
    sqlite3_bind_int64(statement, 2, size_bytes);
    bind_path(statement, 3, path);

    *found = 0;
    int rc;
    while ((rc = sqlite3_step(statement)) == SQLITE_ROW) {
        const char *old_path = (const char *)sqlite3_column_text(statement, 1);
        if (old_path != NULL && file_is_gone(old_path)) {
            candidate->id = sqlite3_column_int64(statement, 0);
            candidate->model_id = sqlite3_column_int64(statement, 2);
            *found = 1;
            break;
        }
    }

    picotag_status status = PICOTAG_OK;
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        status = catalogue_sqlite_error(catalogue, rc, "cannot look up a photo by content", error);
    }
    sqlite3_reset(statement);
    return status;
}

static picotag_status update_file_times(picotag_catalogue *catalogue, int64_t photo_id,
                                        int64_t size_bytes, int64_t mtime_ns,
                                        picotag_error *error) {
    sqlite3_stmt *statement = catalogue_statement(catalogue, STATEMENT_UPDATE_FILE_TIMES, error);
    if (statement == NULL) {
        return PICOTAG_ERROR_IO;
    }
    sqlite3_bind_int64(statement, 1, photo_id);
    sqlite3_bind_int64(statement, 2, size_bytes);
    sqlite3_bind_int64(statement, 3, mtime_ns);
    return catalogue_step_done(catalogue, statement, "cannot update a photo's size and mtime",
                               error);
}

static picotag_status delete_photo(picotag_catalogue *catalogue, int64_t photo_id,
                                   const char *path, picotag_error *error) {
    sqlite3_stmt *statement = catalogue_statement(catalogue, STATEMENT_DELETE_PHOTO, error);
    if (statement == NULL) {
        return PICOTAG_ERROR_IO;
    }
    sqlite3_bind_int64(statement, 1, photo_id);
    bind_path(statement, 2, path);
    return catalogue_step_done(catalogue, statement, "cannot remove a photo", error);
}

static picotag_status move_photo(picotag_catalogue *catalogue, int64_t photo_id,
                                 const char *path, int64_t size_bytes, int64_t mtime_ns,
                                 picotag_error *error) {
    sqlite3_stmt *statement = catalogue_statement(catalogue, STATEMENT_MOVE_PHOTO, error);
    if (statement == NULL) {
        return PICOTAG_ERROR_IO;
    }
    sqlite3_bind_int64(statement, 1, photo_id);
    bind_path(statement, 2, path);
    sqlite3_bind_int64(statement, 3, size_bytes);
    sqlite3_bind_int64(statement, 4, mtime_ns);
    return catalogue_step_done(catalogue, statement, "cannot move a photo's record", error);
}

/* The body of picotag_catalogue_match_content, inside its write scope. */
static picotag_status match_content_in_scope(picotag_catalogue *catalogue, const char *path,
                                             int64_t size_bytes, int64_t mtime_ns,
                                             const uint8_t *hash, picotag_photo_lookup *result,
                                             catalogue_write_scope *scope,
                                             picotag_error *error) {
    stored_photo stored;
    int found = 0;
    picotag_status status = find_photo(catalogue, path, &stored, &found, error);
    if (status != PICOTAG_OK) {
        return status;
    }

    if (found && memcmp(stored.content_hash, hash, PICOTAG_CONTENT_HASH_BYTES) == 0) {
        result->photo_id = stored.id;
        result->decision = decision_for_model(catalogue, stored.model_id);
        if (stored.size_bytes != size_bytes || stored.mtime_ns != mtime_ns) {
            scope->counts_as_photo = 1;
            status = update_file_times(catalogue, stored.id, size_bytes, mtime_ns, error);
        }
        return status;
    }

    moved_candidate candidate;
    int moved = 0;
    status = find_moved_photo(catalogue, path, size_bytes, hash, &candidate, &moved, error);
    if (status != PICOTAG_OK) {
        return status;
    }
    if (!moved) {
        result->photo_id = found ? stored.id : 0;
        result->decision = found ? PICOTAG_PHOTO_CHANGED : PICOTAG_PHOTO_NEW;
        return PICOTAG_OK;
    }

    /* The moved photo replaced the file at `path`, whose old content (and
     * its tags) is no longer anywhere on disk under this path. */
    scope->counts_as_photo = 1;
    if (found) {
        status = delete_photo(catalogue, stored.id, path, error);
    }
    if (status == PICOTAG_OK) {
        status = move_photo(catalogue, candidate.id, path, size_bytes, mtime_ns, error);
    }
    if (status == PICOTAG_OK) {
        result->photo_id = candidate.id;
        result->moved = 1;
        result->decision = decision_for_model(catalogue, candidate.model_id);
    }
    return status;
}

picotag_status picotag_catalogue_match_content(picotag_catalogue *catalogue, const char *path,
                                               int64_t size_bytes, int64_t mtime_ns,
                                               const uint8_t hash[PICOTAG_CONTENT_HASH_BYTES],
                                               picotag_photo_lookup *result,
                                               picotag_error *error) {
    picotag_status status = catalogue_check_path(catalogue, path, "the photo path", error);
    if (status == PICOTAG_OK) {
        status = require_model(catalogue, "picotag_catalogue_match_content", error);
    }
    if (status != PICOTAG_OK) {
        return status;
    }
    memset(result, 0, sizeof(*result));

    catalogue_write_scope scope;
    const char *action = "cannot match a photo by content";
    status = catalogue_write_begin(catalogue, &scope, action, error);
    if (status != PICOTAG_OK) {
        return status;
    }
    status = match_content_in_scope(catalogue, path, size_bytes, mtime_ns, hash, result, &scope,
                                    error);
    status = catalogue_write_end(catalogue, &scope, status, action, error);
    if (status != PICOTAG_OK) {
        memset(result, 0, sizeof(*result));
    }
    return status;
}

/* ---- Recording ----------------------------------------------------------- */

static int is_digits(const char *text, int count) {
    for (int i = 0; i < count; i++) {
        if (text[i] < '0' || text[i] > '9') {
            return 0;
        }
    }
    return 1;
}

/* Accepts "YYYY-MM-DDTHH:MM:SS", then an optional ".fraction", then an
 * optional "Z" or "+HH:MM" / "-HH:MM". One shape keeps the text sortable. */
static int is_iso_timestamp(const char *text) {
    static const char shape[] = "dddd-dd-ddTdd:dd:dd";
    for (int i = 0; shape[i] != '\0'; i++) {
        if (shape[i] == 'd' ? !is_digits(text + i, 1) : text[i] != shape[i]) {
            return 0;
        }
    }
    const char *rest = text + sizeof(shape) - 1;
    if (rest[0] == '.') {
        int digits = 0;
        while (is_digits(rest + 1 + digits, 1)) {
            digits++;
        }
        if (digits == 0) {
            return 0;
        }
        rest += 1 + digits;
    }
    if (rest[0] == 'Z') {
        return rest[1] == '\0';
    }
    if (rest[0] == '+' || rest[0] == '-') {
        return is_digits(rest + 1, 2) && rest[3] == ':' && is_digits(rest + 4, 2) &&
               rest[6] == '\0';
    }
    return rest[0] == '\0';
}

static picotag_status validate_photo(const picotag_catalogue *catalogue,
                                     const picotag_photo_record *photo, picotag_error *error) {
    if (photo->size_bytes < 0 || photo->width < 0 || photo->height < 0) {
        return picotag_error_set(error, PICOTAG_ERROR_INVALID_ARGUMENT,
                                 "%s: photo %s: negative size (%lld bytes) or dimensions "
                                 "(%d x %d pixels)",
                                 catalogue->path, photo->path, (long long)photo->size_bytes,
                                 (int)photo->width, (int)photo->height);
    }
    if (photo->captured_at != NULL && !is_iso_timestamp(photo->captured_at)) {
        return picotag_error_set(error, PICOTAG_ERROR_INVALID_ARGUMENT,
                                 "%s: photo %s: capture time \"%s\" is not ISO 8601 "
                                 "(expected e.g. 2024-05-01T14:03:59)",
                                 catalogue->path, photo->path, photo->captured_at);
    }
    return PICOTAG_OK;
}

static picotag_status validate_tags(const picotag_catalogue *catalogue, const char *photo_path,
                                    const picotag_tag *tags, size_t tag_count,
                                    picotag_error *error) {
    if (tag_count > PICOTAG_MAX_CLASSES || (tag_count > 0 && tags == NULL)) {
        return picotag_error_set(error, PICOTAG_ERROR_INVALID_ARGUMENT,
                                 "%s: photo %s: %zu tags given; at most %d, one per class",
                                 catalogue->path, photo_path, tag_count, PICOTAG_MAX_CLASSES);
    }

    uint8_t seen[PICOTAG_MAX_CLASSES / 8] = {0};
    for (size_t i = 0; i < tag_count; i++) {
        const picotag_tag *tag = &tags[i];
        if (tag->class_index < 0 || tag->class_index >= PICOTAG_MAX_CLASSES) {
            return picotag_error_set(error, PICOTAG_ERROR_INVALID_ARGUMENT,
                                     "%s: photo %s: tag %zu has class index %d; valid: 0 to %d",
                                     catalogue->path, photo_path, i, (int)tag->class_index,
                                     PICOTAG_MAX_CLASSES - 1);
        }
        size_t label_bytes = tag->label != NULL ? strlen(tag->label) : 0;
        size_t invalid_offset = 0;
        if (label_bytes == 0 ||
            !picotag_utf8_validate((const uint8_t *)tag->label, label_bytes, &invalid_offset)) {
            return picotag_error_set(error, PICOTAG_ERROR_INVALID_ARGUMENT,
                                     "%s: photo %s: tag of class %d has an empty or invalid UTF-8 "
                                     "label",
                                     catalogue->path, photo_path, (int)tag->class_index);
        }
        if (!(tag->score >= 0.0 && tag->score <= 1.0)) {
            return picotag_error_set(error, PICOTAG_ERROR_INVALID_ARGUMENT,
                                     "%s: photo %s: tag \"%s\" has score %g; valid: 0 to 1",
                                     catalogue->path, photo_path, tag->label, tag->score);
        }
        uint8_t bit = (uint8_t)(1u << (tag->class_index % 8));
        if (seen[tag->class_index / 8] & bit) {
            return picotag_error_set(error, PICOTAG_ERROR_INVALID_ARGUMENT,
                                     "%s: photo %s: class %d (\"%s\") is tagged twice",
                                     catalogue->path, photo_path, (int)tag->class_index,
                                     tag->label);
        }
        seen[tag->class_index / 8] |= bit;
    }
    return PICOTAG_OK;
}

static picotag_status upsert_photo(picotag_catalogue *catalogue,
                                   const picotag_photo_record *photo, int64_t *photo_id,
                                   picotag_error *error) {
    sqlite3_stmt *statement = catalogue_statement(catalogue, STATEMENT_UPSERT_PHOTO, error);
    if (statement == NULL) {
        return PICOTAG_ERROR_IO;
    }
    bind_path(statement, 1, photo->path);
    sqlite3_bind_int64(statement, 2, photo->size_bytes);
    sqlite3_bind_int64(statement, 3, photo->mtime_ns);
    sqlite3_bind_blob(statement, 4, photo->content_hash, PICOTAG_CONTENT_HASH_BYTES,
                      SQLITE_STATIC);
    if (photo->width > 0 && photo->height > 0) {
        sqlite3_bind_int(statement, 5, photo->width);
        sqlite3_bind_int(statement, 6, photo->height);
    }
    if (photo->captured_at != NULL) {
        sqlite3_bind_text(statement, 7, photo->captured_at, -1, SQLITE_STATIC);
    }
    sqlite3_bind_int64(statement, 8, catalogue->model_id);

    /* RETURNING makes every change on the first step; stepping on to
     * SQLITE_DONE finishes the statement. */
    int rc = sqlite3_step(statement);
    if (rc == SQLITE_ROW) {
        *photo_id = sqlite3_column_int64(statement, 0);
        rc = sqlite3_step(statement);
    }
    picotag_status status = PICOTAG_OK;
    if (rc != SQLITE_DONE) {
        status = catalogue_sqlite_error(catalogue, rc, "cannot record a photo", error);
    }
    sqlite3_reset(statement);
    return status;
}

static picotag_status replace_tags(picotag_catalogue *catalogue, int64_t photo_id,
                                   const picotag_tag *tags, size_t tag_count,
                                   picotag_error *error) {
    sqlite3_stmt *statement = catalogue_statement(catalogue, STATEMENT_DELETE_TAGS, error);
    if (statement == NULL) {
        return PICOTAG_ERROR_IO;
    }
    sqlite3_bind_int64(statement, 1, photo_id);
    picotag_status status =
        catalogue_step_done(catalogue, statement, "cannot remove a photo's old tags", error);

    for (size_t i = 0; i < tag_count && status == PICOTAG_OK; i++) {
        statement = catalogue_statement(catalogue, STATEMENT_INSERT_TAG, error);
        if (statement == NULL) {
            return PICOTAG_ERROR_IO;
        }
        sqlite3_bind_int64(statement, 1, photo_id);
        sqlite3_bind_int(statement, 2, tags[i].class_index);
        sqlite3_bind_text(statement, 3, tags[i].label, -1, SQLITE_STATIC);
        sqlite3_bind_double(statement, 4, tags[i].score);
        sqlite3_bind_int(statement, 5, tags[i].logit);
        sqlite3_bind_int64(statement, 6, catalogue->model_id);
        status = catalogue_step_done(catalogue, statement, "cannot record a tag", error);
    }
    return status;
}

picotag_status picotag_catalogue_record(picotag_catalogue *catalogue,
                                        const picotag_photo_record *photo,
                                        const picotag_tag *tags, size_t tag_count,
                                        int64_t *photo_id, picotag_error *error) {
    if (photo == NULL) {
        return picotag_error_set(error, PICOTAG_ERROR_INVALID_ARGUMENT,
                                 "%s: picotag_catalogue_record: the photo is missing",
                                 catalogue->path);
    }
    picotag_status status = catalogue_check_path(catalogue, photo->path, "the photo path", error);
    if (status == PICOTAG_OK) {
        status = require_model(catalogue, "picotag_catalogue_record", error);
    }
    if (status == PICOTAG_OK) {
        status = validate_photo(catalogue, photo, error);
    }
    if (status == PICOTAG_OK) {
        status = validate_tags(catalogue, photo->path, tags, tag_count, error);
    }
    if (status != PICOTAG_OK) {
        return status;
    }

    catalogue_write_scope scope;
    status = catalogue_write_begin(catalogue, &scope, "cannot record a photo", error);
    if (status != PICOTAG_OK) {
        return status;
    }
    scope.counts_as_photo = 1;

    int64_t id = 0;
    status = upsert_photo(catalogue, photo, &id, error);
    if (status == PICOTAG_OK) {
        status = replace_tags(catalogue, id, tags, tag_count, error);
    }
    status = catalogue_write_end(catalogue, &scope, status, "cannot record a photo", error);
    if (status == PICOTAG_OK && photo_id != NULL) {
        *photo_id = id;
    }
    return status;
}

picotag_status picotag_catalogue_photo_tags(picotag_catalogue *catalogue, const char *path,
                                            picotag_tag_callback callback, void *user,
                                            int *found, picotag_error *error) {
    picotag_status status = catalogue_check_path(catalogue, path, "the photo path", error);
    if (status != PICOTAG_OK) {
        return status;
    }

    stored_photo stored;
    int exists = 0;
    status = find_photo(catalogue, path, &stored, &exists, error);
    if (found != NULL) {
        *found = exists;
    }
    if (status != PICOTAG_OK || !exists) {
        return status;
    }

    sqlite3_stmt *statement = catalogue_statement(catalogue, STATEMENT_SELECT_PHOTO_TAGS, error);
    if (statement == NULL) {
        return PICOTAG_ERROR_IO;
    }
    sqlite3_bind_int64(statement, 1, stored.id);
    int rc;
    while ((rc = sqlite3_step(statement)) == SQLITE_ROW) {
        picotag_tag tag = {
            .class_index = sqlite3_column_int(statement, 0),
            .label = (const char *)sqlite3_column_text(statement, 1),
            .score = sqlite3_column_double(statement, 2),
            .logit = sqlite3_column_int(statement, 3),
        };
        if (callback != NULL) {
            callback(&tag, user);
        }
    }
    if (rc != SQLITE_DONE) {
        status = catalogue_sqlite_error(catalogue, rc, "cannot read a photo's tags", error);
    }
    sqlite3_reset(statement);
    return status;
}

/* ---- Models -------------------------------------------------------------- */

static int is_present(const char *text) {
    return text != NULL && text[0] != '\0';
}

static picotag_status register_model(picotag_catalogue *catalogue,
                                     const picotag_catalogue_model *model, int64_t *model_id,
                                     picotag_error *error) {
    static const char insert_sql[] =
        "INSERT INTO models (name, identity, arch, created_at)"
        " VALUES (?1, ?2, ?3, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))"
        " ON CONFLICT (identity) DO NOTHING";
    static const char select_sql[] = "SELECT id FROM models WHERE identity = ?1";
    const char *action = "cannot register the model";

    sqlite3_stmt *statement = NULL;
    int rc = sqlite3_prepare_v2(catalogue->db, insert_sql, -1, &statement, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(statement, 1, model->name, -1, SQLITE_STATIC);
        sqlite3_bind_text(statement, 2, model->identity, -1, SQLITE_STATIC);
        sqlite3_bind_text(statement, 3, model->arch, -1, SQLITE_STATIC);
        rc = sqlite3_step(statement);
    }
    sqlite3_finalize(statement);
    if (rc != SQLITE_DONE) {
        return catalogue_sqlite_error(catalogue, rc, action, error);
    }

    statement = NULL;
    rc = sqlite3_prepare_v2(catalogue->db, select_sql, -1, &statement, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(statement, 1, model->identity, -1, SQLITE_STATIC);
        rc = sqlite3_step(statement);
    }
    if (rc == SQLITE_ROW) {
        *model_id = sqlite3_column_int64(statement, 0);
    }
    sqlite3_finalize(statement);
    if (rc != SQLITE_ROW) {
        return catalogue_sqlite_error(catalogue, rc, action, error);
    }
    return PICOTAG_OK;
}

picotag_status picotag_catalogue_use_model(picotag_catalogue *catalogue,
                                           const picotag_catalogue_model *model,
                                           int64_t *model_id, picotag_error *error) {
    if (model == NULL || !is_present(model->name) || !is_present(model->identity) ||
        !is_present(model->arch)) {
        return picotag_error_set(error, PICOTAG_ERROR_INVALID_ARGUMENT,
                                 "%s: picotag_catalogue_use_model: the model's name, identity "
                                 "and arch must all be given",
                                 catalogue->path);
    }

    catalogue_write_scope scope;
    const char *action = "cannot register the model";
    picotag_status status = catalogue_write_begin(catalogue, &scope, action, error);
    if (status != PICOTAG_OK) {
        return status;
    }
    int64_t id = 0;
    status = register_model(catalogue, model, &id, error);
    status = catalogue_write_end(catalogue, &scope, status, action, error);
    if (status != PICOTAG_OK) {
        return status;
    }

    catalogue->model_id = id;
    if (model_id != NULL) {
        *model_id = id;
    }
    return PICOTAG_OK;
}
