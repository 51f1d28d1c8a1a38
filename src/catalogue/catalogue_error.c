/* Error messages for failed SQLite calls and invalid catalogue arguments. */
#include <stdio.h>

#include "catalogue/catalogue_internal.h"

/* Maps a SQLite result code to a status and a sentence that explains what
 * is wrong and what the person can do about it. */
static picotag_status explain_result(int result_code, char *explanation, size_t capacity,
                                     int busy_timeout_ms) {
    switch (result_code & 0xff) {
    case SQLITE_BUSY:
        if (busy_timeout_ms > 0) {
            snprintf(explanation, capacity,
                     "the database is locked by another process (waited %d ms); retry when "
                     "the other picotag finishes",
                     busy_timeout_ms);
        } else {
            snprintf(explanation, capacity,
                     "the database is locked by another process; retry when the other "
                     "picotag finishes");
        }
        return PICOTAG_ERROR_IO;
    case SQLITE_LOCKED:
        snprintf(explanation, capacity, "a table is locked by another statement");
        return PICOTAG_ERROR_IO;
    case SQLITE_READONLY:
        snprintf(explanation, capacity,
                 "the database is read-only; check the permissions of the file and its folder");
        return PICOTAG_ERROR_IO;
    case SQLITE_NOTADB:
        snprintf(explanation, capacity,
                 "the file is not a SQLite database; give another catalogue path");
        return PICOTAG_ERROR_FORMAT;
    case SQLITE_CORRUPT:
        snprintf(explanation, capacity,
                 "the database file is damaged; restore it from a backup");
        return PICOTAG_ERROR_FORMAT;
    case SQLITE_FULL:
        snprintf(explanation, capacity, "the disk is full");
        return PICOTAG_ERROR_IO;
    case SQLITE_CANTOPEN:
        snprintf(explanation, capacity,
                 "cannot open the database file; check that its folder exists and is writable");
        return PICOTAG_ERROR_IO;
    case SQLITE_PERM:
    case SQLITE_AUTH:
        snprintf(explanation, capacity, "permission denied");
        return PICOTAG_ERROR_IO;
    case SQLITE_IOERR:
        snprintf(explanation, capacity, "an I/O error occurred");
        return PICOTAG_ERROR_IO;
    case SQLITE_NOMEM:
        snprintf(explanation, capacity, "out of memory");
        return PICOTAG_ERROR_OUT_OF_MEMORY;
    case SQLITE_CONSTRAINT:
        snprintf(explanation, capacity, "a value breaks a constraint of the schema");
        return PICOTAG_ERROR_INVALID_ARGUMENT;
    case SQLITE_TOOBIG:
        snprintf(explanation, capacity, "a value is too large for SQLite");
        return PICOTAG_ERROR_INVALID_ARGUMENT;
    default:
        snprintf(explanation, capacity, "SQLite failed with result code %d", result_code);
        return PICOTAG_ERROR_IO;
    }
}

static picotag_status format_sqlite_error(sqlite3 *db, const char *path, int result_code,
                                          int busy_timeout_ms, const char *action,
                                          picotag_error *error) {
    char explanation[160];
    picotag_status status =
        explain_result(result_code, explanation, sizeof(explanation), busy_timeout_ms);

    /* sqlite3_errmsg describes the most recent failure on this connection,
     * which is the one being reported because callers report at once. */
    const char *sqlite_message = db != NULL ? sqlite3_errmsg(db) : sqlite3_errstr(result_code);
    return picotag_error_set(error, status, "%s: %s: %s (SQLite: %s)", path, action, explanation,
                             sqlite_message);
}

picotag_status catalogue_sqlite_error(const picotag_catalogue *catalogue, int result_code,
                                      const char *action, picotag_error *error) {
    return format_sqlite_error(catalogue->db, catalogue->path, result_code,
                               catalogue->busy_timeout_ms, action, error);
}

picotag_status catalogue_sqlite_error_for(sqlite3 *db, const char *path, int result_code,
                                          const char *action, picotag_error *error) {
    return format_sqlite_error(db, path, result_code, 0, action, error);
}

picotag_status catalogue_check_path(const picotag_catalogue *catalogue, const char *path,
                                    const char *what, picotag_error *error) {
    if (path == NULL || path[0] == '\0') {
        return picotag_error_set(error, PICOTAG_ERROR_INVALID_ARGUMENT, "%s: %s is missing",
                                 catalogue->path, what);
    }
    if (path[0] != '/') {
        return picotag_error_set(error, PICOTAG_ERROR_INVALID_ARGUMENT,
                                 "%s: %s \"%s\" is relative; the catalogue stores absolute paths",
                                 catalogue->path, what, path);
    }
    return PICOTAG_OK;
}
