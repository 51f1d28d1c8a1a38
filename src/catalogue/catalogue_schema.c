/*
 * The catalogue's schema and its migrations.
 *
 * PRAGMA user_version contains the schema version and PRAGMA application_id
 * marks the file as a picotag catalogue, so that picotag never adds its
 * tables to another program's database. schema_migrations[v] upgrades
 * version v to v + 1; a new schema version appends one entry and never
 * edits an old one, because catalogues at every older version exist.
 * Upgrades run in one write transaction: a crash leaves the old version.
 */
#include <stdio.h>

#include "catalogue/catalogue_internal.h"

/* "Ptag" in ASCII, big-endian, as `file` and sqlite3 show it. */
#define CATALOGUE_APPLICATION_ID 0x50746167

/*
 * Version 1.
 *
 * photos.path is a BLOB: a POSIX file name is a byte string, and a BLOB keeps
 * names in any encoding exact and compares them with memcmp. Tables are
 * STRICT so that a value of the wrong type is rejected, not converted.
 * tags.label (the English label name) is what search matches, because class
 * indices may differ between models while label names do not.
 */
static const char schema_version_1[] =
    "CREATE TABLE models ("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL,"
    "  identity TEXT NOT NULL UNIQUE,"
    "  arch TEXT NOT NULL,"
    "  created_at TEXT NOT NULL"
    ") STRICT;"

    "CREATE TABLE photos ("
    "  id INTEGER PRIMARY KEY,"
    "  path BLOB NOT NULL UNIQUE,"
    "  size_bytes INTEGER NOT NULL CHECK (size_bytes >= 0),"
    "  mtime_ns INTEGER NOT NULL,"
    "  content_hash BLOB NOT NULL CHECK (length(content_hash) = 32),"
    "  width INTEGER CHECK (width > 0),"
    "  height INTEGER CHECK (height > 0),"
    "  captured_at TEXT,"
    "  model_id INTEGER REFERENCES models(id),"
    "  tagged_at TEXT NOT NULL"
    ") STRICT;"

    "CREATE INDEX photos_by_content_hash ON photos(content_hash);"

    "CREATE TABLE tags ("
    "  photo_id INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,"
    "  class_index INTEGER NOT NULL CHECK (class_index >= 0),"
    "  label TEXT NOT NULL,"
    "  score REAL NOT NULL CHECK (score >= 0.0 AND score <= 1.0),"
    "  logit INTEGER NOT NULL,"
    "  model_id INTEGER NOT NULL REFERENCES models(id),"
    "  PRIMARY KEY (photo_id, class_index)"
    ") STRICT, WITHOUT ROWID;"

    /* Search reads tags by label and score and needs the photo id only. */
    "CREATE INDEX tags_by_label ON tags(label, score, photo_id);";

static const char *const schema_migrations[] = {schema_version_1};

#define SCHEMA_VERSION ((int)(sizeof(schema_migrations) / sizeof(schema_migrations[0])))

static picotag_status read_pragma_integer(sqlite3 *db, const char *path, const char *sql,
                                          int64_t *value, picotag_error *error) {
    sqlite3_stmt *statement = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &statement, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(statement);
    }
    if (rc != SQLITE_ROW) {
        picotag_status status =
            catalogue_sqlite_error_for(db, path, rc, "cannot read the schema version", error);
        sqlite3_finalize(statement);
        return status;
    }
    *value = sqlite3_column_int64(statement, 0);
    sqlite3_finalize(statement);
    return PICOTAG_OK;
}

static picotag_status exec_on(sqlite3 *db, const char *path, const char *sql, const char *action,
                              picotag_error *error) {
    int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        return catalogue_sqlite_error_for(db, path, rc, action, error);
    }
    return PICOTAG_OK;
}

/* Checks that the file is a picotag catalogue this version can use, or an
 * empty database that may become one. */
static picotag_status check_identity(sqlite3 *db, const char *path, int64_t application_id,
                                     int64_t version, picotag_error *error) {
    if (application_id != 0 && application_id != CATALOGUE_APPLICATION_ID) {
        return picotag_error_set(error, PICOTAG_ERROR_FORMAT,
                                 "%s: not a picotag catalogue (SQLite application_id is 0x%llx); "
                                 "give another catalogue path",
                                 path, (unsigned long long)application_id);
    }
    if (version > SCHEMA_VERSION) {
        return picotag_error_set(error, PICOTAG_ERROR_UNSUPPORTED,
                                 "%s: catalogue schema version %lld was written by a newer "
                                 "picotag; this one reads versions up to %d",
                                 path, (long long)version, SCHEMA_VERSION);
    }
    if (version == 0) {
        int64_t object_count = 0;
        picotag_status status = read_pragma_integer(
            db, path, "SELECT count(*) FROM sqlite_schema", &object_count, error);
        if (status != PICOTAG_OK) {
            return status;
        }
        if (object_count > 0) {
            return picotag_error_set(error, PICOTAG_ERROR_FORMAT,
                                     "%s: not a picotag catalogue (a SQLite database with %lld "
                                     "tables or indexes of another program); give another "
                                     "catalogue path",
                                     path, (long long)object_count);
        }
    }
    return PICOTAG_OK;
}

static picotag_status read_identity(sqlite3 *db, const char *path, int64_t *application_id,
                                    int64_t *version, picotag_error *error) {
    picotag_status status =
        read_pragma_integer(db, path, "PRAGMA application_id", application_id, error);
    if (status == PICOTAG_OK) {
        status = read_pragma_integer(db, path, "PRAGMA user_version", version, error);
    }
    return status;
}

static picotag_status migrate(sqlite3 *db, const char *path, int64_t from_version,
                              picotag_error *error) {
    for (int64_t version = from_version; version < SCHEMA_VERSION; version++) {
        char action[64];
        snprintf(action, sizeof(action), "cannot upgrade the schema to version %lld",
                 (long long)(version + 1));
        picotag_status status = exec_on(db, path, schema_migrations[version], action, error);
        if (status != PICOTAG_OK) {
            return status;
        }
    }

    char sql[96];
    snprintf(sql, sizeof(sql), "PRAGMA user_version = %d; PRAGMA application_id = %d",
             SCHEMA_VERSION, CATALOGUE_APPLICATION_ID);
    return exec_on(db, path, sql, "cannot record the schema version", error);
}

picotag_status catalogue_schema_prepare(sqlite3 *db, const char *path, int read_only,
                                        picotag_error *error) {
    int64_t application_id = 0;
    int64_t version = 0;
    picotag_status status = read_identity(db, path, &application_id, &version, error);
    if (status != PICOTAG_OK) {
        return status;
    }
    status = check_identity(db, path, application_id, version, error);
    if (status != PICOTAG_OK || version == SCHEMA_VERSION) {
        return status;
    }

    if (read_only) {
        if (version == 0) {
            return picotag_error_set(error, PICOTAG_ERROR_FORMAT,
                                     "%s: the catalogue is empty; tag some photos first", path);
        }
        return picotag_error_set(error, PICOTAG_ERROR_UNSUPPORTED,
                                 "%s: catalogue schema version %lld needs an upgrade to %d, "
                                 "which a read-only open cannot do; open it once for writing",
                                 path, (long long)version, SCHEMA_VERSION);
    }

    /* Another process may upgrade at the same time: decide again under the
     * write lock. */
    status = exec_on(db, path, "BEGIN IMMEDIATE", "cannot start the schema upgrade", error);
    if (status != PICOTAG_OK) {
        return status;
    }
    status = read_identity(db, path, &application_id, &version, error);
    if (status == PICOTAG_OK) {
        status = check_identity(db, path, application_id, version, error);
    }
    if (status == PICOTAG_OK && version < SCHEMA_VERSION) {
        status = migrate(db, path, version, error);
    }
    if (status == PICOTAG_OK) {
        return exec_on(db, path, "COMMIT", "cannot commit the schema upgrade", error);
    }
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return status;
}
