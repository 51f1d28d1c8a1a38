/* The catalogue handle and the helpers its source files share. */
#ifndef PICOTAG_CATALOGUE_INTERNAL_H
#define PICOTAG_CATALOGUE_INTERNAL_H

#include <sqlite3.h>
#include <stdint.h>

#include "engine/error.h"
#include "picotag_catalogue.h"

/* Prepared once per handle, on first use, and kept until close. */
typedef enum catalogue_statement_id {
    STATEMENT_LOOKUP_PHOTO,
    STATEMENT_UPSERT_PHOTO,
    STATEMENT_DELETE_TAGS,
    STATEMENT_INSERT_TAG,
    STATEMENT_FIND_BY_HASH,
    STATEMENT_MOVE_PHOTO,
    STATEMENT_DELETE_PHOTO,
    STATEMENT_UPDATE_FILE_TIMES,
    STATEMENT_SELECT_PHOTO_TAGS,
    STATEMENT_COUNT
} catalogue_statement_id;

struct picotag_catalogue {
    sqlite3 *db;
    char *path;
    int read_only;
    int busy_timeout_ms;
    int batch_photos;
    int batch_milliseconds;

    int64_t model_id;            /* 0 until picotag_catalogue_use_model */

    int batch_open;
    int batch_writes;            /* writes since the batch's transaction began */
    int64_t batch_started_ms;    /* CLOCK_MONOTONIC, milliseconds */

    sqlite3_stmt *statements[STATEMENT_COUNT];
};

/* Fills `error` for a failed SQLite call: the database path, what was being
 * done, an explanation of the result code with what to do, and SQLite's own
 * message. Returns the picotag_status that the code maps to. */
picotag_status catalogue_sqlite_error(const picotag_catalogue *catalogue, int result_code,
                                      const char *action, picotag_error *error);

/* The same for a connection that has no handle yet (while opening). */
picotag_status catalogue_sqlite_error_for(sqlite3 *db, const char *path, int result_code,
                                          const char *action, picotag_error *error);

/* Returns the cached prepared statement, reset and with its bindings
 * cleared, or NULL with `error` filled. */
sqlite3_stmt *catalogue_statement(picotag_catalogue *catalogue, catalogue_statement_id id,
                                  picotag_error *error);

/* Runs SQL without results (several statements allowed). */
picotag_status catalogue_exec(picotag_catalogue *catalogue, const char *sql, const char *action,
                              picotag_error *error);

/* Every write goes through a write scope. Inside an open batch the scope is
 * a savepoint, so a failed write undoes only itself. Outside a batch it is
 * its own BEGIN IMMEDIATE transaction. */
typedef struct catalogue_write_scope {
    int in_batch;
    int counts_as_photo;   /* set by the caller: this write counts towards batch_photos */
} catalogue_write_scope;

/* Starts a write scope; the caller sets scope->counts_as_photo afterwards. */
picotag_status catalogue_write_begin(picotag_catalogue *catalogue, catalogue_write_scope *scope,
                                     const char *action, picotag_error *error);

/* Steps a statement that returns no rows and resets it. */
picotag_status catalogue_step_done(picotag_catalogue *catalogue, sqlite3_stmt *statement,
                                   const char *action, picotag_error *error);

/* Ends the scope: commits (or releases the savepoint) when `status` is
 * PICOTAG_OK and undoes the writes otherwise. Returns `status`, or the
 * commit's failure. In a batch, a successful photo write counts towards the
 * batch, which commits when it is due. */
picotag_status catalogue_write_end(picotag_catalogue *catalogue, catalogue_write_scope *scope,
                                   picotag_status status, const char *action,
                                   picotag_error *error);

/* Fails with PICOTAG_ERROR_INVALID_ARGUMENT unless `path` is a non-empty
 * absolute path. `what` names the argument in the message. */
picotag_status catalogue_check_path(const picotag_catalogue *catalogue, const char *path,
                                    const char *what, picotag_error *error);

/* Creates or upgrades the schema; defined in catalogue_schema.c. */
picotag_status catalogue_schema_prepare(sqlite3 *db, const char *path, int read_only,
                                        picotag_error *error);

#endif
