/* Shared setup for catalogue tests: photo files, models and records. */
#ifndef PICOTAG_CATALOGUE_FIXTURE_H
#define PICOTAG_CATALOGUE_FIXTURE_H

#include <sqlite3.h>
#include <sys/stat.h>

#include "picotag_catalogue.h"
#include "test_harness.h"
#include "test_labels.h"

static const picotag_catalogue_model model_a = {"resnet18-coco", "identity-a", "resnet18"};
static const picotag_catalogue_model model_b = {"resnet34-coco", "identity-b", "resnet34"};

/* The file facts a scan reads with stat. */
typedef struct photo_file {
    char path[4096];
    int64_t size_bytes;
    int64_t mtime_ns;
    uint8_t hash[PICOTAG_CONTENT_HASH_BYTES];
} photo_file;

/* Reads size, mtime and content hash of an existing file. */
static inline int read_photo_file(const char *path, photo_file *photo) {
    struct stat info;
    if (stat(path, &info) != 0) {
        return 0;
    }
    snprintf(photo->path, sizeof(photo->path), "%s", path);
    photo->size_bytes = (int64_t)info.st_size;
    photo->mtime_ns = (int64_t)info.st_mtim.tv_sec * 1000000000 + info.st_mtim.tv_nsec;
    picotag_error error;
    return picotag_content_hash_file(path, photo->hash, NULL, &error) == PICOTAG_OK;
}

/* Writes a stand-in photo (its content makes its hash) and reads its facts. */
static inline int make_photo_file(const char *folder, const char *name, const char *content,
                           photo_file *photo) {
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", folder, name);
    return write_text_file(path, content) && read_photo_file(path, photo);
}

static inline picotag_tag make_tag(int label, double score) {
    picotag_tag tag = {label, test_labels[label].name_en, score, (int32_t)(score * 100) - 50};
    return tag;
}

/* Records the photo with the given tags; returns the status. */
static inline picotag_status record_photo(picotag_catalogue *catalogue, const photo_file *photo,
                                   const picotag_tag *tags, size_t tag_count,
                                   picotag_error *error) {
    picotag_photo_record record = {0};
    record.path = photo->path;
    record.size_bytes = photo->size_bytes;
    record.mtime_ns = photo->mtime_ns;
    memcpy(record.content_hash, photo->hash, PICOTAG_CONTENT_HASH_BYTES);
    record.width = 640;
    record.height = 480;
    record.captured_at = "2024-05-01T14:03:59";
    return picotag_catalogue_record(catalogue, &record, tags, tag_count, NULL, error);
}

/* A photo that need not exist on disk: path, size and mtime only. */
static inline photo_file virtual_photo(const char *folder, int number) {
    photo_file photo = {0};
    snprintf(photo.path, sizeof(photo.path), "%s/photo-%05d.jpg", folder, number);
    photo.size_bytes = 1000 + number;
    photo.mtime_ns = 1700000000000000000LL + number;
    picotag_error error;
    picotag_content_hash_memory(photo.path, strlen(photo.path), photo.hash, &error);
    return photo;
}

/* Runs one integer-valued SQL query on the database file with a separate
 * connection, as an independent reader; returns -1 on failure. */
static inline long long query_integer(const char *database, const char *sql) {
    sqlite3 *db = NULL;
    long long value = -1;
    if (sqlite3_open_v2(database, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
        sqlite3_stmt *statement = NULL;
        if (sqlite3_prepare_v2(db, sql, -1, &statement, NULL) == SQLITE_OK &&
            sqlite3_step(statement) == SQLITE_ROW) {
            value = sqlite3_column_int64(statement, 0);
        }
        sqlite3_finalize(statement);
    }
    sqlite3_close(db);
    return value;
}

#endif
