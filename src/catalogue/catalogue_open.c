/* Opening and closing a catalogue, its prepared statements, and queries
 * about the whole database. */
#include <stdlib.h>
#include <string.h>

#include "catalogue/catalogue_internal.h"

#define DEFAULT_BUSY_TIMEOUT_MS 5000
#define DEFAULT_BATCH_PHOTOS 256
#define DEFAULT_BATCH_MILLISECONDS 1000

/* STRICT tables need SQLite 3.37.0. */
#define MINIMUM_SQLITE_VERSION 3037000

static const char *const statement_sql[STATEMENT_COUNT] = {
    [STATEMENT_LOOKUP_PHOTO] =
        "SELECT id, size_bytes, mtime_ns, model_id, content_hash, width, height, captured_at"
        " FROM photos WHERE path = ?1",

    [STATEMENT_UPSERT_PHOTO] =
        "INSERT INTO photos (path, size_bytes, mtime_ns, content_hash, width, height,"
        "                    captured_at, model_id, tagged_at)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))"
        " ON CONFLICT (path) DO UPDATE SET"
        "  size_bytes = excluded.size_bytes, mtime_ns = excluded.mtime_ns,"
        "  content_hash = excluded.content_hash, width = excluded.width,"
        "  height = excluded.height, captured_at = excluded.captured_at,"
        "  model_id = excluded.model_id, tagged_at = excluded.tagged_at"
        " RETURNING id",

    [STATEMENT_DELETE_TAGS] = "DELETE FROM tags WHERE photo_id = ?1",

    [STATEMENT_INSERT_TAG] =
        "INSERT INTO tags (photo_id, class_index, label, score, logit, model_id)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",

    [STATEMENT_FIND_BY_HASH] =
        "SELECT id, path, model_id FROM photos"
        " WHERE content_hash = ?1 AND size_bytes = ?2 AND path != ?3 ORDER BY id",

    [STATEMENT_MOVE_PHOTO] =
        "UPDATE photos SET path = ?2, size_bytes = ?3, mtime_ns = ?4 WHERE id = ?1",

    [STATEMENT_DELETE_PHOTO] = "DELETE FROM photos WHERE id = ?1 AND path = ?2",

    [STATEMENT_UPDATE_FILE_TIMES] =
        "UPDATE photos SET size_bytes = ?2, mtime_ns = ?3 WHERE id = ?1",

    [STATEMENT_SELECT_PHOTO_TAGS] =
        "SELECT class_index, label, score, logit FROM tags WHERE photo_id = ?1"
        " ORDER BY score DESC, class_index",
};

sqlite3_stmt *catalogue_statement(picotag_catalogue *catalogue, catalogue_statement_id id,
                                  picotag_error *error) {
    sqlite3_stmt *statement = catalogue->statements[id];
    if (statement == NULL) {
        int rc = sqlite3_prepare_v3(catalogue->db, statement_sql[id], -1,
                                    SQLITE_PREPARE_PERSISTENT, &statement, NULL);
        if (rc != SQLITE_OK) {
            catalogue_sqlite_error(catalogue, rc, "cannot prepare a query", error);
            sqlite3_finalize(statement);
            return NULL;
        }
        catalogue->statements[id] = statement;
    }
    sqlite3_reset(statement);
    sqlite3_clear_bindings(statement);
    return statement;
}

picotag_status catalogue_step_done(picotag_catalogue *catalogue, sqlite3_stmt *statement,
                                   const char *action, picotag_error *error) {
    int rc = sqlite3_step(statement);
    picotag_status status = PICOTAG_OK;
    if (rc != SQLITE_DONE) {
        status = catalogue_sqlite_error(catalogue, rc, action, error);
    }
    sqlite3_reset(statement);
    return status;
}

picotag_status catalogue_exec(picotag_catalogue *catalogue, const char *sql, const char *action,
                              picotag_error *error) {
    int rc = sqlite3_exec(catalogue->db, sql, NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        return catalogue_sqlite_error(catalogue, rc, action, error);
    }
    return PICOTAG_OK;
}

static int option_or_default(int value, int default_value) {
    return value > 0 ? value : default_value;
}

static picotag_status configure_connection(picotag_catalogue *catalogue, picotag_error *error) {
    sqlite3_extended_result_codes(catalogue->db, 1);
    sqlite3_busy_timeout(catalogue->db, catalogue->busy_timeout_ms);

    /* The first statement reads the file, so a file that is not a database
     * fails here with SQLITE_NOTADB. */
    picotag_status status = catalogue_exec(catalogue, "PRAGMA foreign_keys = ON",
                                           "cannot open the catalogue", error);
    if (status != PICOTAG_OK || catalogue->read_only) {
        return status;
    }

    if (sqlite3_db_readonly(catalogue->db, "main") == 1) {
        return picotag_error_set(error, PICOTAG_ERROR_IO,
                                 "%s: the database file is read-only; check its permissions, or "
                                 "open the catalogue read-only to search it",
                                 catalogue->path);
    }

    /* WAL: readers never block the writer, and a killed writer leaves a
     * consistent database, because a transaction counts only once its
     * commit record is in the log. synchronous=FULL also makes each commit
     * survive power loss, which costs one fsync per batch. A file system
     * without shared memory (some network mounts) keeps the rollback
     * journal, which is also atomic. */
    status = catalogue_exec(catalogue, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL",
                            "cannot configure the database", error);
    return status;
}

picotag_status picotag_catalogue_open(const char *path, const picotag_catalogue_options *options,
                                      picotag_catalogue **catalogue, picotag_error *error) {
    if (catalogue == NULL || path == NULL || path[0] == '\0') {
        return picotag_error_set(error, PICOTAG_ERROR_INVALID_ARGUMENT,
                                 "picotag_catalogue_open: the catalogue path is missing");
    }
    *catalogue = NULL;
    if (sqlite3_libversion_number() < MINIMUM_SQLITE_VERSION) {
        return picotag_error_set(error, PICOTAG_ERROR_UNSUPPORTED,
                                 "%s: SQLite %s is too old; the catalogue needs 3.37.0 or newer",
                                 path, sqlite3_libversion());
    }

    picotag_catalogue_options defaults = {0};
    if (options == NULL) {
        options = &defaults;
    }

    picotag_catalogue *opened = calloc(1, sizeof(*opened));
    char *path_copy = strdup(path);
    if (opened == NULL || path_copy == NULL) {
        free(opened);
        free(path_copy);
        return picotag_error_set(error, PICOTAG_ERROR_OUT_OF_MEMORY,
                                 "%s: out of memory opening the catalogue", path);
    }
    opened->path = path_copy;
    opened->read_only = options->read_only != 0;
    opened->busy_timeout_ms = option_or_default(options->busy_timeout_ms, DEFAULT_BUSY_TIMEOUT_MS);
    opened->batch_photos = option_or_default(options->batch_photos, DEFAULT_BATCH_PHOTOS);
    opened->batch_milliseconds =
        option_or_default(options->batch_milliseconds, DEFAULT_BATCH_MILLISECONDS);

    int flags = opened->read_only ? SQLITE_OPEN_READONLY
                                  : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    int rc = sqlite3_open_v2(path, &opened->db, flags, NULL);
    picotag_status status = PICOTAG_OK;
    if (rc != SQLITE_OK) {
        status = catalogue_sqlite_error(opened, rc, "cannot open the catalogue", error);
    }
    if (status == PICOTAG_OK) {
        status = configure_connection(opened, error);
    }
    if (status == PICOTAG_OK) {
        status = catalogue_schema_prepare(opened->db, opened->path, opened->read_only, error);
    }
    if (status != PICOTAG_OK) {
        picotag_catalogue_close(opened);
        return status;
    }

    *catalogue = opened;
    return PICOTAG_OK;
}

void picotag_catalogue_close(picotag_catalogue *catalogue) {
    if (catalogue == NULL) {
        return;
    }
    for (int i = 0; i < STATEMENT_COUNT; i++) {
        sqlite3_finalize(catalogue->statements[i]);
    }
    if (catalogue->db != NULL && !sqlite3_get_autocommit(catalogue->db)) {
        sqlite3_exec(catalogue->db, "ROLLBACK", NULL, NULL, NULL);
    }
    /* Every statement was finalized above, so the connection closes now
     * rather than lingering until its last statement is finalized. */
    sqlite3_close_v2(catalogue->db);
    free(catalogue->path);
    free(catalogue);
}

const char *picotag_catalogue_path(const picotag_catalogue *catalogue) {
    return catalogue->path;
}

picotag_status picotag_catalogue_check(picotag_catalogue *catalogue, picotag_error *error) {
    sqlite3_stmt *statement = NULL;
    int rc = sqlite3_prepare_v2(catalogue->db, "PRAGMA integrity_check(1)", -1, &statement, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(statement);
    }
    if (rc != SQLITE_ROW) {
        picotag_status status =
            catalogue_sqlite_error(catalogue, rc, "cannot check the database", error);
        sqlite3_finalize(statement);
        return status;
    }

    const char *verdict = (const char *)sqlite3_column_text(statement, 0);
    picotag_status status = PICOTAG_OK;
    if (verdict == NULL || strcmp(verdict, "ok") != 0) {
        status = picotag_error_set(error, PICOTAG_ERROR_FORMAT,
                                   "%s: the database is damaged: %s; restore it from a backup",
                                   catalogue->path, verdict != NULL ? verdict : "(no verdict)");
    }
    sqlite3_finalize(statement);
    return status;
}

static picotag_status count_rows(picotag_catalogue *catalogue, const char *sql, int64_t *count,
                                 picotag_error *error) {
    sqlite3_stmt *statement = NULL;
    int rc = sqlite3_prepare_v2(catalogue->db, sql, -1, &statement, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(statement);
    }
    if (rc != SQLITE_ROW) {
        picotag_status status =
            catalogue_sqlite_error(catalogue, rc, "cannot count the records", error);
        sqlite3_finalize(statement);
        return status;
    }
    *count = sqlite3_column_int64(statement, 0);
    sqlite3_finalize(statement);
    return PICOTAG_OK;
}

picotag_status picotag_catalogue_count(picotag_catalogue *catalogue, int64_t *photos,
                                       int64_t *tags, picotag_error *error) {
    picotag_status status = PICOTAG_OK;
    if (photos != NULL) {
        status = count_rows(catalogue, "SELECT count(*) FROM photos", photos, error);
    }
    if (status == PICOTAG_OK && tags != NULL) {
        status = count_rows(catalogue, "SELECT count(*) FROM tags", tags, error);
    }
    return status;
}
