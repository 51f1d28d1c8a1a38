/*
 * Transactions: batches of writes and the write scope of each operation.
 *
 * A batch is a mode, not a transaction: its transaction starts at the first
 * write (BEGIN IMMEDIATE takes SQLite's write lock) and commits when it has
 * batch_photos writes or is batch_milliseconds old, and the next write starts
 * another one. A rescan that finds nothing to write never takes the lock.
 * Each write runs inside a savepoint of the batch's transaction, so a failed
 * write undoes itself and leaves the batch's other writes in place.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "catalogue/catalogue_internal.h"

static int64_t monotonic_milliseconds(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

/* SQLite rolls back the whole transaction by itself after some failures
 * (SQLITE_FULL, SQLITE_IOERR, SQLITE_NOMEM among them). Detects that, ends
 * the batch's transaction, and adds to `error` how many writes were lost. */
static void notice_automatic_rollback(picotag_catalogue *catalogue, picotag_error *error) {
    if (!catalogue->batch_open || !sqlite3_get_autocommit(catalogue->db)) {
        return;
    }
    int lost = catalogue->batch_writes;
    catalogue->batch_writes = 0;
    if (error != NULL && lost > 0) {
        size_t used = strnlen(error->message, sizeof(error->message));
        snprintf(error->message + used, sizeof(error->message) - used,
                 "; SQLite rolled back the batch, so the last %d photo writes are not recorded",
                 lost);
    }
}

static picotag_status start_batch_transaction(picotag_catalogue *catalogue, const char *action,
                                              picotag_error *error) {
    if (!sqlite3_get_autocommit(catalogue->db)) {
        return PICOTAG_OK;
    }
    picotag_status status = catalogue_exec(catalogue, "BEGIN IMMEDIATE", action, error);
    if (status == PICOTAG_OK) {
        catalogue->batch_writes = 0;
        catalogue->batch_started_ms = monotonic_milliseconds();
    }
    return status;
}

static int batch_is_due(const picotag_catalogue *catalogue) {
    if (catalogue->batch_writes >= catalogue->batch_photos) {
        return 1;
    }
    return monotonic_milliseconds() - catalogue->batch_started_ms >=
           catalogue->batch_milliseconds;
}

static picotag_status commit_batch_transaction(picotag_catalogue *catalogue,
                                               picotag_error *error) {
    if (sqlite3_get_autocommit(catalogue->db)) {
        return PICOTAG_OK;
    }
    picotag_status status = catalogue_exec(catalogue, "COMMIT", "cannot commit the batch", error);
    if (status == PICOTAG_OK) {
        catalogue->batch_writes = 0;
    } else {
        notice_automatic_rollback(catalogue, error);
    }
    return status;
}

picotag_status catalogue_write_begin(picotag_catalogue *catalogue, catalogue_write_scope *scope,
                                     const char *action, picotag_error *error) {
    if (catalogue->read_only) {
        return picotag_error_set(error, PICOTAG_ERROR_INVALID_ARGUMENT,
                                 "%s: %s: the catalogue was opened read-only", catalogue->path,
                                 action);
    }

    scope->in_batch = catalogue->batch_open;
    scope->counts_as_photo = 0;
    if (!scope->in_batch) {
        return catalogue_exec(catalogue, "BEGIN IMMEDIATE", action, error);
    }

    picotag_status status = start_batch_transaction(catalogue, action, error);
    if (status == PICOTAG_OK) {
        status = catalogue_exec(catalogue, "SAVEPOINT picotag_write", action, error);
    }
    return status;
}

picotag_status catalogue_write_end(picotag_catalogue *catalogue, catalogue_write_scope *scope,
                                   picotag_status status, const char *action,
                                   picotag_error *error) {
    if (!scope->in_batch) {
        if (status == PICOTAG_OK) {
            status = catalogue_exec(catalogue, "COMMIT", action, error);
        }
        if (status != PICOTAG_OK && !sqlite3_get_autocommit(catalogue->db)) {
            sqlite3_exec(catalogue->db, "ROLLBACK", NULL, NULL, NULL);
        }
        return status;
    }

    if (status != PICOTAG_OK) {
        /* After an automatic rollback there is no savepoint left to undo. */
        if (!sqlite3_get_autocommit(catalogue->db)) {
            sqlite3_exec(catalogue->db, "ROLLBACK TO picotag_write; RELEASE picotag_write", NULL,
                         NULL, NULL);
        }
        notice_automatic_rollback(catalogue, error);
        return status;
    }

    status = catalogue_exec(catalogue, "RELEASE picotag_write", action, error);
    if (status != PICOTAG_OK) {
        notice_automatic_rollback(catalogue, error);
        return status;
    }
    if (scope->counts_as_photo) {
        catalogue->batch_writes++;
    }
    if (batch_is_due(catalogue)) {
        status = commit_batch_transaction(catalogue, error);
    }
    return status;
}

picotag_status picotag_catalogue_begin(picotag_catalogue *catalogue, picotag_error *error) {
    if (catalogue->batch_open) {
        return picotag_error_set(error, PICOTAG_ERROR_INVALID_ARGUMENT,
                                 "%s: a batch is already open", catalogue->path);
    }
    if (catalogue->read_only) {
        return picotag_error_set(error, PICOTAG_ERROR_INVALID_ARGUMENT,
                                 "%s: cannot start a batch: the catalogue was opened read-only",
                                 catalogue->path);
    }
    catalogue->batch_open = 1;
    catalogue->batch_writes = 0;
    return PICOTAG_OK;
}

picotag_status picotag_catalogue_commit(picotag_catalogue *catalogue, picotag_error *error) {
    if (!catalogue->batch_open) {
        return picotag_error_set(error, PICOTAG_ERROR_INVALID_ARGUMENT,
                                 "%s: no batch is open to commit", catalogue->path);
    }

    /* A failed COMMIT that SQLite did not roll back leaves the batch open,
     * so the caller can retry the commit or roll back. */
    picotag_status status = commit_batch_transaction(catalogue, error);
    if (status == PICOTAG_OK || sqlite3_get_autocommit(catalogue->db)) {
        catalogue->batch_open = 0;
    }
    return status;
}

picotag_status picotag_catalogue_rollback(picotag_catalogue *catalogue, picotag_error *error) {
    if (!catalogue->batch_open) {
        return picotag_error_set(error, PICOTAG_ERROR_INVALID_ARGUMENT,
                                 "%s: no batch is open to roll back", catalogue->path);
    }
    picotag_status status = PICOTAG_OK;
    if (!sqlite3_get_autocommit(catalogue->db)) {
        status = catalogue_exec(catalogue, "ROLLBACK", "cannot roll back the batch", error);
    }
    catalogue->batch_open = 0;
    catalogue->batch_writes = 0;
    return status;
}
