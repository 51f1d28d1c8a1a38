/* Catalogue storage: schema, rescan decisions, moved photos, model changes,
 * pruning, batches, and the errors of every kind of bad database. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "catalogue_fixture.h"

static char *folder;
static char database[600];

static picotag_catalogue *open_catalogue(const picotag_catalogue_options *options) {
    picotag_catalogue *catalogue = NULL;
    picotag_error error;
    picotag_status status = picotag_catalogue_open(database, options, &catalogue, &error);
    CHECK_OK(status, error);
    if (catalogue != NULL) {
        status = picotag_catalogue_use_model(catalogue, &model_a, NULL, &error);
        CHECK_OK(status, error);
    }
    return catalogue;
}

/* Gives each test a fresh folder and catalogue path. */
static void fresh_folder(void) {
    remove_scratch_folder(folder);
    folder = make_scratch_folder();
    snprintf(database, sizeof(database), "%s/catalog.sqlite", folder);
}

static int64_t count_photos(picotag_catalogue *catalogue) {
    int64_t photos = -1;
    picotag_error error;
    picotag_status status = picotag_catalogue_count(catalogue, &photos, NULL, &error);
    CHECK_OK(status, error);
    return photos;
}

typedef struct collected_tags {
    int count;
    char labels[8][32];
    double scores[8];
} collected_tags;

static void collect_tag(const picotag_tag *tag, void *user) {
    collected_tags *collected = user;
    if (collected->count < 8) {
        snprintf(collected->labels[collected->count], 32, "%s", tag->label);
        collected->scores[collected->count] = tag->score;
        collected->count++;
    }
}

static collected_tags tags_of(picotag_catalogue *catalogue, const char *path, int *found) {
    collected_tags collected = {0};
    picotag_error error;
    picotag_status status =
        picotag_catalogue_photo_tags(catalogue, path, collect_tag, &collected, found, &error);
    CHECK_OK(status, error);
    return collected;
}

static picotag_photo_lookup lookup(picotag_catalogue *catalogue, const photo_file *photo) {
    picotag_photo_lookup result = {0};
    picotag_error error;
    picotag_status status = picotag_catalogue_lookup(catalogue, photo->path, photo->size_bytes,
                                                     photo->mtime_ns, &result, &error);
    CHECK_OK(status, error);
    return result;
}

static picotag_photo_lookup match_content(picotag_catalogue *catalogue,
                                          const photo_file *photo) {
    picotag_photo_lookup result = {0};
    picotag_error error;
    picotag_status status = picotag_catalogue_match_content(
        catalogue, photo->path, photo->size_bytes, photo->mtime_ns, photo->hash, &result, &error);
    CHECK_OK(status, error);
    return result;
}

/* ---- Content hash and default path --------------------------------------- */

static void content_hash_matches_sha256_test_vector(void) {
    /* FIPS 180-2, appendix B.1: SHA-256("abc"). */
    static const uint8_t expected[PICOTAG_CONTENT_HASH_BYTES] = {
        0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40, 0xde, 0x5d, 0xae, 0x22,
        0x23, 0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00,
        0x15, 0xad};
    uint8_t from_memory[PICOTAG_CONTENT_HASH_BYTES];
    picotag_error error;
    CHECK_OK(picotag_content_hash_memory("abc", 3, from_memory, &error), error);
    CHECK(memcmp(expected, from_memory, sizeof(expected)) == 0);

    fresh_folder();
    char path[600];
    snprintf(path, sizeof(path), "%s/abc.jpg", folder);
    CHECK(write_text_file(path, "abc"));
    uint8_t from_file[PICOTAG_CONTENT_HASH_BYTES];
    int64_t size = -1;
    CHECK_OK(picotag_content_hash_file(path, from_file, &size, &error), error);
    CHECK(memcmp(expected, from_file, sizeof(expected)) == 0);
    CHECK_INT(3, size);
}

static void content_hash_of_missing_file_names_it(void) {
    uint8_t hash[PICOTAG_CONTENT_HASH_BYTES];
    picotag_error error;
    picotag_status status = picotag_content_hash_file("/nonexistent/picotag.jpg", hash, NULL,
                                                      &error);
    CHECK_STATUS(PICOTAG_ERROR_IO, status, error);
    CHECK_CONTAINS(error.message, "/nonexistent/picotag.jpg");
}

static void default_path_follows_xdg_data_home(void) {
    fresh_folder();
    char data_home[600];
    snprintf(data_home, sizeof(data_home), "%s/data", folder);
    setenv("XDG_DATA_HOME", data_home, 1);

    char path[1024];
    picotag_error error;
    CHECK_OK(picotag_catalogue_default_path(path, sizeof(path), &error), error);
    char expected[1024];
    snprintf(expected, sizeof(expected), "%s/picotag/catalog.sqlite", data_home);
    CHECK_STR(expected, path);

    char created[700];
    snprintf(created, sizeof(created), "%s/picotag", data_home);
    struct stat info;
    CHECK(stat(created, &info) == 0);
    CHECK(S_ISDIR(info.st_mode));
    CHECK_INT(0700, info.st_mode & 0777);
    unsetenv("XDG_DATA_HOME");
}

static void default_path_ignores_relative_xdg_data_home(void) {
    fresh_folder();
    char *saved_home = getenv("HOME") != NULL ? strdup(getenv("HOME")) : NULL;
    setenv("XDG_DATA_HOME", "relative/data", 1);
    setenv("HOME", folder, 1);

    char path[1024];
    picotag_error error;
    CHECK_OK(picotag_catalogue_default_path(path, sizeof(path), &error), error);
    char expected[1024];
    snprintf(expected, sizeof(expected), "%s/.local/share/picotag/catalog.sqlite", folder);
    CHECK_STR(expected, path);

    char small[8];
    picotag_status status = picotag_catalogue_default_path(small, sizeof(small), &error);
    CHECK_STATUS(PICOTAG_ERROR_INVALID_ARGUMENT, status, error);
    CHECK_CONTAINS(error.message, "bytes");

    unsetenv("XDG_DATA_HOME");
    if (saved_home != NULL) {
        setenv("HOME", saved_home, 1);
        free(saved_home);
    }
}

/* ---- Schema -------------------------------------------------------------- */

static void open_creates_versioned_wal_schema(void) {
    fresh_folder();
    picotag_catalogue *catalogue = open_catalogue(NULL);
    CHECK_STR(database, picotag_catalogue_path(catalogue));
    CHECK_INT(1, query_integer(database, "PRAGMA user_version"));
    CHECK_INT(0x50746167, query_integer(database, "PRAGMA application_id"));
    CHECK_INT(1, query_integer(database,
                               "SELECT count(*) FROM pragma_journal_mode WHERE journal_mode = "
                               "'wal'"));
    CHECK_INT(1, query_integer(database, "SELECT count(*) FROM sqlite_schema WHERE name = "
                                         "'tags_by_label'"));
    picotag_catalogue_close(catalogue);

    /* Opening again finds the schema in place and changes nothing. */
    catalogue = open_catalogue(NULL);
    CHECK_INT(1, query_integer(database, "PRAGMA user_version"));
    picotag_catalogue_close(catalogue);
}

static void open_rejects_file_that_is_not_database(void) {
    fresh_folder();
    CHECK(write_text_file(database, "these are my holiday notes, not a database\n"
                                    "...........................................\n"
                                    "...........................................\n"));
    picotag_catalogue *catalogue = NULL;
    picotag_error error;
    picotag_status status = picotag_catalogue_open(database, NULL, &catalogue, &error);
    CHECK_STATUS(PICOTAG_ERROR_FORMAT, status, error);
    CHECK(catalogue == NULL);
    CHECK_CONTAINS(error.message, database);
    CHECK_CONTAINS(error.message, "not a SQLite database");
}

static void open_rejects_database_of_another_program(void) {
    fresh_folder();
    sqlite3 *db = NULL;
    CHECK(sqlite3_open(database, &db) == SQLITE_OK);
    CHECK(sqlite3_exec(db, "CREATE TABLE invoices (id INTEGER)", NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(db);

    picotag_catalogue *catalogue = NULL;
    picotag_error error;
    picotag_status status = picotag_catalogue_open(database, NULL, &catalogue, &error);
    CHECK_STATUS(PICOTAG_ERROR_FORMAT, status, error);
    CHECK_CONTAINS(error.message, "not a picotag catalogue");
    CHECK_CONTAINS(error.message, database);
    /* Nothing was added to the other program's database. */
    CHECK_INT(1, query_integer(database, "SELECT count(*) FROM sqlite_schema"));
}

static void open_rejects_schema_from_newer_version(void) {
    fresh_folder();
    picotag_catalogue *catalogue = open_catalogue(NULL);
    picotag_catalogue_close(catalogue);
    sqlite3 *db = NULL;
    CHECK(sqlite3_open(database, &db) == SQLITE_OK);
    CHECK(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(db);

    picotag_error error;
    picotag_status status = picotag_catalogue_open(database, NULL, &catalogue, &error);
    CHECK_STATUS(PICOTAG_ERROR_UNSUPPORTED, status, error);
    CHECK_CONTAINS(error.message, "version 99");
    CHECK_CONTAINS(error.message, "newer picotag");
}

static void open_in_missing_folder_names_file(void) {
    fresh_folder();
    char path[700];
    snprintf(path, sizeof(path), "%s/no-such-folder/catalog.sqlite", folder);
    picotag_catalogue *catalogue = NULL;
    picotag_error error;
    picotag_status status = picotag_catalogue_open(path, NULL, &catalogue, &error);
    CHECK_STATUS(PICOTAG_ERROR_IO, status, error);
    CHECK_CONTAINS(error.message, path);
    CHECK_CONTAINS(error.message, "cannot open");
}

static void read_only_open_rejects_writes(void) {
    fresh_folder();
    picotag_catalogue *writer = open_catalogue(NULL);
    picotag_catalogue_close(writer);

    picotag_catalogue_options options = {.read_only = 1};
    picotag_catalogue *reader = NULL;
    picotag_error error;
    CHECK_OK(picotag_catalogue_open(database, &options, &reader, &error), error);
    if (reader == NULL) {
        return;
    }
    picotag_status status = picotag_catalogue_use_model(reader, &model_a, NULL, &error);
    CHECK_STATUS(PICOTAG_ERROR_INVALID_ARGUMENT, status, error);
    CHECK_CONTAINS(error.message, "read-only");
    CHECK_CONTAINS(error.message, database);
    picotag_catalogue_close(reader);
}

static void read_only_file_is_reported(void) {
    if (geteuid() == 0) {
        harness_skip("running as root, which writes read-only files anyway");
        return;
    }
    fresh_folder();
    picotag_catalogue *writer = open_catalogue(NULL);
    picotag_catalogue_close(writer);
    CHECK(chmod(database, 0444) == 0);

    picotag_catalogue *catalogue = NULL;
    picotag_error error;
    picotag_status status = picotag_catalogue_open(database, NULL, &catalogue, &error);
    CHECK_STATUS(PICOTAG_ERROR_IO, status, error);
    CHECK_CONTAINS(error.message, database);
    CHECK_CONTAINS(error.message, "read-only");
    picotag_catalogue_close(catalogue);
}

static void locked_database_names_file_and_wait(void) {
    fresh_folder();
    picotag_catalogue *holder = open_catalogue(NULL);
    picotag_catalogue_options options = {.busy_timeout_ms = 50};
    picotag_catalogue *waiter = open_catalogue(&options);
    if (holder == NULL || waiter == NULL) {
        picotag_catalogue_close(holder);
        picotag_catalogue_close(waiter);
        return;
    }

    /* The holder's open batch keeps SQLite's write lock after its first write. */
    picotag_error error;
    photo_file first = virtual_photo(folder, 1);
    picotag_tag dog = make_tag(LABEL_DOG, 0.9);
    CHECK_OK(picotag_catalogue_begin(holder, &error), error);
    CHECK_OK(record_photo(holder, &first, &dog, 1, &error), error);

    photo_file second = virtual_photo(folder, 2);
    picotag_status status = record_photo(waiter, &second, &dog, 1, &error);
    CHECK_STATUS(PICOTAG_ERROR_IO, status, error);
    CHECK_CONTAINS(error.message, database);
    CHECK_CONTAINS(error.message, "locked by another process");
    CHECK_CONTAINS(error.message, "50 ms");

    CHECK_OK(picotag_catalogue_commit(holder, &error), error);
    CHECK_OK(record_photo(waiter, &second, &dog, 1, &error), error);
    CHECK_INT(2, count_photos(waiter));
    picotag_catalogue_close(holder);
    picotag_catalogue_close(waiter);
}

/* ---- Rescans ------------------------------------------------------------- */

static void rescan_skips_unchanged_photo(void) {
    fresh_folder();
    picotag_catalogue *catalogue = open_catalogue(NULL);
    photo_file photo;
    CHECK(make_photo_file(folder, "beach.jpg", "beach pixels", &photo));

    CHECK_INT(PICOTAG_PHOTO_NEW, lookup(catalogue, &photo).decision);
    picotag_tag tags[] = {make_tag(LABEL_PERSON, 0.8), make_tag(LABEL_DOG, 0.6)};
    picotag_error error;
    CHECK_OK(record_photo(catalogue, &photo, tags, 2, &error), error);

    picotag_photo_lookup found = lookup(catalogue, &photo);
    CHECK_INT(PICOTAG_PHOTO_UNCHANGED, found.decision);
    CHECK(found.photo_id > 0);
    picotag_catalogue_close(catalogue);
}

static void lookup_returns_recorded_dimensions(void) {
    fresh_folder();
    picotag_catalogue *catalogue = open_catalogue(NULL);
    photo_file photo;
    CHECK(make_photo_file(folder, "harbour.jpg", "harbour pixels", &photo));

    picotag_photo_lookup before = lookup(catalogue, &photo);
    CHECK_INT(0, before.width);
    CHECK_INT(0, before.height);

    picotag_tag tags[] = {make_tag(LABEL_PERSON, 0.8)};
    picotag_error error;
    CHECK_OK(record_photo(catalogue, &photo, tags, 1, &error), error);
    picotag_photo_lookup after = lookup(catalogue, &photo);
    CHECK_INT(PICOTAG_PHOTO_UNCHANGED, after.decision);
    CHECK_INT(640, after.width);
    CHECK_INT(480, after.height);
    picotag_catalogue_close(catalogue);
}

static void lookup_returns_recorded_capture_time(void) {
    fresh_folder();
    picotag_catalogue *catalogue = open_catalogue(NULL);
    photo_file photo;
    CHECK(make_photo_file(folder, "market.jpg", "market pixels", &photo));
    picotag_photo_lookup found = lookup(catalogue, &photo);
    CHECK_STR("", found.captured_at);

    picotag_photo_record record = {.path = photo.path,
                                   .size_bytes = photo.size_bytes,
                                   .mtime_ns = photo.mtime_ns,
                                   .captured_at = "2021-07-04T15:30:12.125+09:00"};
    memcpy(record.content_hash, photo.hash, PICOTAG_CONTENT_HASH_BYTES);
    picotag_error error;
    CHECK_OK(picotag_catalogue_record(catalogue, &record, NULL, 0, NULL, &error), error);
    found = lookup(catalogue, &photo);
    CHECK_STR("2021-07-04T15:30:12.125+09:00", found.captured_at);

    record.captured_at = NULL;
    CHECK_OK(picotag_catalogue_record(catalogue, &record, NULL, 0, NULL, &error), error);
    found = lookup(catalogue, &photo);
    CHECK_STR("", found.captured_at);

    /* A fraction too long for the lookup's buffer reads as unknown. */
    record.captured_at = "2021-07-04T15:30:12.12345678901234567890+09:00";
    CHECK_OK(picotag_catalogue_record(catalogue, &record, NULL, 0, NULL, &error), error);
    found = lookup(catalogue, &photo);
    CHECK_STR("", found.captured_at);
    picotag_catalogue_close(catalogue);
}

static void rescan_retags_changed_photo(void) {
    fresh_folder();
    picotag_catalogue *catalogue = open_catalogue(NULL);
    photo_file photo;
    CHECK(make_photo_file(folder, "park.jpg", "park pixels", &photo));
    picotag_tag before[] = {make_tag(LABEL_PERSON, 0.8), make_tag(LABEL_DOG, 0.6)};
    picotag_error error;
    CHECK_OK(record_photo(catalogue, &photo, before, 2, &error), error);

    /* Edited in place: new size and mtime. */
    photo_file edited = photo;
    edited.size_bytes += 10;
    edited.mtime_ns += 1000000000;
    CHECK_INT(PICOTAG_PHOTO_CHANGED, lookup(catalogue, &edited).decision);
    edited.hash[0] ^= 0xff;
    CHECK_INT(PICOTAG_PHOTO_CHANGED, match_content(catalogue, &edited).decision);

    picotag_tag after[] = {make_tag(LABEL_CAT, 0.7)};
    CHECK_OK(record_photo(catalogue, &edited, after, 1, &error), error);
    CHECK_INT(PICOTAG_PHOTO_UNCHANGED, lookup(catalogue, &edited).decision);

    int found = 0;
    collected_tags collected = tags_of(catalogue, edited.path, &found);
    CHECK(found);
    CHECK_INT(1, collected.count);
    CHECK_STR("cat", collected.labels[0]);
    CHECK_INT(1, count_photos(catalogue));
    picotag_catalogue_close(catalogue);
}

static void touched_photo_keeps_tags_without_retag(void) {
    fresh_folder();
    picotag_catalogue *catalogue = open_catalogue(NULL);
    photo_file photo;
    CHECK(make_photo_file(folder, "touched.jpg", "same pixels", &photo));
    picotag_tag dog = make_tag(LABEL_DOG, 0.9);
    picotag_error error;
    CHECK_OK(record_photo(catalogue, &photo, &dog, 1, &error), error);

    photo_file touched = photo;
    touched.mtime_ns += 5000000000LL;
    CHECK_INT(PICOTAG_PHOTO_CHANGED, lookup(catalogue, &touched).decision);
    picotag_photo_lookup matched = match_content(catalogue, &touched);
    CHECK_INT(PICOTAG_PHOTO_UNCHANGED, matched.decision);
    CHECK_INT(0, matched.moved);
    CHECK_INT(PICOTAG_PHOTO_UNCHANGED, lookup(catalogue, &touched).decision);
    CHECK_INT(1, tags_of(catalogue, photo.path, NULL).count);
    picotag_catalogue_close(catalogue);
}

static void photo_tags_come_highest_score_first(void) {
    fresh_folder();
    picotag_catalogue *catalogue = open_catalogue(NULL);
    photo_file photo = virtual_photo(folder, 1);
    picotag_tag tags[] = {make_tag(LABEL_CAT, 0.3), make_tag(LABEL_PERSON, 0.95),
                          make_tag(LABEL_DOG, 0.5)};
    picotag_error error;
    CHECK_OK(record_photo(catalogue, &photo, tags, 3, &error), error);

    collected_tags collected = tags_of(catalogue, photo.path, NULL);
    CHECK_INT(3, collected.count);
    CHECK_STR("person", collected.labels[0]);
    CHECK_STR("dog", collected.labels[1]);
    CHECK_STR("cat", collected.labels[2]);

    int found = 1;
    photo_file unknown = virtual_photo(folder, 2);
    CHECK_INT(0, tags_of(catalogue, unknown.path, &found).count);
    CHECK_INT(0, found);
    picotag_catalogue_close(catalogue);
}

static void photo_without_tags_counts_as_tagged(void) {
    fresh_folder();
    picotag_catalogue *catalogue = open_catalogue(NULL);
    photo_file photo = virtual_photo(folder, 1);
    picotag_error error;
    CHECK_OK(record_photo(catalogue, &photo, NULL, 0, &error), error);
    CHECK_INT(PICOTAG_PHOTO_UNCHANGED, lookup(catalogue, &photo).decision);
    picotag_catalogue_close(catalogue);
}

/* ---- Moved photos -------------------------------------------------------- */

static void moved_photo_keeps_record_and_tags(void) {
    fresh_folder();
    picotag_catalogue *catalogue = open_catalogue(NULL);
    photo_file original;
    CHECK(make_photo_file(folder, "IMG_0001.jpg", "puppy pixels", &original));
    picotag_tag tags[] = {make_tag(LABEL_DOG, 0.9), make_tag(LABEL_PERSON, 0.4)};
    picotag_error error;
    int64_t id = 0;
    picotag_photo_record record = {.path = original.path,
                                   .size_bytes = original.size_bytes,
                                   .mtime_ns = original.mtime_ns};
    memcpy(record.content_hash, original.hash, sizeof(record.content_hash));
    CHECK_OK(picotag_catalogue_record(catalogue, &record, tags, 2, &id, &error), error);

    char moved_path[700];
    snprintf(moved_path, sizeof(moved_path), "%s/puppy.jpg", folder);
    CHECK(rename(original.path, moved_path) == 0);
    photo_file moved;
    CHECK(read_photo_file(moved_path, &moved));

    CHECK_INT(PICOTAG_PHOTO_NEW, lookup(catalogue, &moved).decision);
    picotag_photo_lookup matched = match_content(catalogue, &moved);
    CHECK_INT(PICOTAG_PHOTO_UNCHANGED, matched.decision);
    CHECK_INT(1, matched.moved);
    CHECK_INT(id, matched.photo_id);

    CHECK_INT(PICOTAG_PHOTO_UNCHANGED, lookup(catalogue, &moved).decision);
    CHECK_INT(PICOTAG_PHOTO_NEW, lookup(catalogue, &original).decision);
    CHECK_INT(2, tags_of(catalogue, moved_path, NULL).count);
    CHECK_INT(1, count_photos(catalogue));
    picotag_catalogue_close(catalogue);
}

static void copied_photo_is_new_not_moved(void) {
    fresh_folder();
    picotag_catalogue *catalogue = open_catalogue(NULL);
    photo_file original;
    CHECK(make_photo_file(folder, "original.jpg", "kitten pixels", &original));
    picotag_tag cat = make_tag(LABEL_CAT, 0.8);
    picotag_error error;
    CHECK_OK(record_photo(catalogue, &original, &cat, 1, &error), error);

    photo_file copy;
    CHECK(make_photo_file(folder, "copy.jpg", "kitten pixels", &copy));
    picotag_photo_lookup matched = match_content(catalogue, &copy);
    CHECK_INT(PICOTAG_PHOTO_NEW, matched.decision);
    CHECK_INT(0, matched.moved);
    CHECK_INT(PICOTAG_PHOTO_UNCHANGED, lookup(catalogue, &original).decision);
    CHECK_INT(1, count_photos(catalogue));
    picotag_catalogue_close(catalogue);
}

static void photo_moved_over_another_replaces_it(void) {
    fresh_folder();
    picotag_catalogue *catalogue = open_catalogue(NULL);
    photo_file first;
    photo_file second;
    CHECK(make_photo_file(folder, "first.jpg", "first pixels", &first));
    CHECK(make_photo_file(folder, "second.jpg", "second pixels, longer", &second));
    picotag_tag dog = make_tag(LABEL_DOG, 0.9);
    picotag_tag cat = make_tag(LABEL_CAT, 0.7);
    picotag_error error;
    CHECK_OK(record_photo(catalogue, &first, &dog, 1, &error), error);
    CHECK_OK(record_photo(catalogue, &second, &cat, 1, &error), error);
    int64_t second_id = lookup(catalogue, &second).photo_id;

    /* mv second.jpg first.jpg */
    CHECK(rename(second.path, first.path) == 0);
    photo_file replaced;
    CHECK(read_photo_file(first.path, &replaced));
    CHECK_INT(PICOTAG_PHOTO_CHANGED, lookup(catalogue, &replaced).decision);
    picotag_photo_lookup matched = match_content(catalogue, &replaced);
    CHECK_INT(PICOTAG_PHOTO_UNCHANGED, matched.decision);
    CHECK_INT(1, matched.moved);
    CHECK_INT(second_id, matched.photo_id);

    collected_tags collected = tags_of(catalogue, first.path, NULL);
    CHECK_INT(1, collected.count);
    CHECK_STR("cat", collected.labels[0]);
    CHECK_INT(1, count_photos(catalogue));
    picotag_catalogue_close(catalogue);
}

/* ---- Model changes ------------------------------------------------------- */

static void model_change_triggers_retag(void) {
    fresh_folder();
    picotag_catalogue *catalogue = open_catalogue(NULL);
    photo_file photo = virtual_photo(folder, 1);
    picotag_tag dog = make_tag(LABEL_DOG, 0.9);
    picotag_error error;
    CHECK_OK(record_photo(catalogue, &photo, &dog, 1, &error), error);

    int64_t model_b_id = 0;
    CHECK_OK(picotag_catalogue_use_model(catalogue, &model_b, &model_b_id, &error), error);
    CHECK_INT(PICOTAG_PHOTO_MODEL_CHANGED, lookup(catalogue, &photo).decision);
    CHECK_INT(PICOTAG_PHOTO_MODEL_CHANGED, match_content(catalogue, &photo).decision);

    CHECK_OK(record_photo(catalogue, &photo, &dog, 1, &error), error);
    CHECK_INT(PICOTAG_PHOTO_UNCHANGED, lookup(catalogue, &photo).decision);
    char sql[128];
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM tags WHERE model_id = %lld",
             (long long)model_b_id);
    CHECK_INT(1, query_integer(database, sql));

    /* The same identity again is the same model row. */
    int64_t again = 0;
    CHECK_OK(picotag_catalogue_use_model(catalogue, &model_b, &again, &error), error);
    CHECK_INT(model_b_id, again);
    CHECK_OK(picotag_catalogue_use_model(catalogue, &model_a, NULL, &error), error);
    CHECK_INT(PICOTAG_PHOTO_MODEL_CHANGED, lookup(catalogue, &photo).decision);
    CHECK_INT(2, query_integer(database, "SELECT count(*) FROM models"));
    picotag_catalogue_close(catalogue);
}

static void lookup_without_model_is_rejected(void) {
    fresh_folder();
    picotag_catalogue *catalogue = NULL;
    picotag_error error;
    CHECK_OK(picotag_catalogue_open(database, NULL, &catalogue, &error), error);
    if (catalogue == NULL) {
        return;
    }
    photo_file photo = virtual_photo(folder, 1);
    picotag_photo_lookup result;
    picotag_status status = picotag_catalogue_lookup(catalogue, photo.path, 1, 1, &result,
                                                     &error);
    CHECK_STATUS(PICOTAG_ERROR_INVALID_ARGUMENT, status, error);
    CHECK_CONTAINS(error.message, "picotag_catalogue_use_model");
    picotag_catalogue_close(catalogue);
}

/* ---- Validation ---------------------------------------------------------- */

static void record_rejects_invalid_input(void) {
    fresh_folder();
    picotag_catalogue *catalogue = open_catalogue(NULL);
    photo_file photo = virtual_photo(folder, 1);
    picotag_error error;

    picotag_tag twice[] = {make_tag(LABEL_DOG, 0.9), make_tag(LABEL_DOG, 0.8)};
    picotag_status status = record_photo(catalogue, &photo, twice, 2, &error);
    CHECK_STATUS(PICOTAG_ERROR_INVALID_ARGUMENT, status, error);
    CHECK_CONTAINS(error.message, "tagged twice");

    picotag_tag too_high = make_tag(LABEL_DOG, 1.5);
    status = record_photo(catalogue, &photo, &too_high, 1, &error);
    CHECK_STATUS(PICOTAG_ERROR_INVALID_ARGUMENT, status, error);
    CHECK_CONTAINS(error.message, "score 1.5");

    photo_file relative = photo;
    snprintf(relative.path, sizeof(relative.path), "photos/a.jpg");
    picotag_tag dog = make_tag(LABEL_DOG, 0.9);
    status = record_photo(catalogue, &relative, &dog, 1, &error);
    CHECK_STATUS(PICOTAG_ERROR_INVALID_ARGUMENT, status, error);
    CHECK_CONTAINS(error.message, "relative");

    picotag_photo_record record = {.path = photo.path, .captured_at = "2024:05:01 14:03:59"};
    status = picotag_catalogue_record(catalogue, &record, NULL, 0, NULL, &error);
    CHECK_STATUS(PICOTAG_ERROR_INVALID_ARGUMENT, status, error);
    CHECK_CONTAINS(error.message, "ISO 8601");

    record.captured_at = "2024-05-01T14:03:59.250+09:00";
    CHECK_OK(picotag_catalogue_record(catalogue, &record, NULL, 0, NULL, &error), error);
    CHECK_INT(1, count_photos(catalogue));
    picotag_catalogue_close(catalogue);
}

/* ---- Pruning ------------------------------------------------------------- */

static void collect_pruned(const char *path, void *user) {
    char *names = user;
    const char *slash = strrchr(path, '/');
    strcat(names, slash != NULL ? slash + 1 : path);
    strcat(names, ";");
}

static void prune_removes_only_missing_files(void) {
    fresh_folder();
    picotag_catalogue *catalogue = open_catalogue(NULL);
    photo_file kept;
    photo_file deleted;
    CHECK(make_photo_file(folder, "kept.jpg", "kept", &kept));
    CHECK(make_photo_file(folder, "deleted.jpg", "deleted", &deleted));
    picotag_tag dog = make_tag(LABEL_DOG, 0.9);
    picotag_error error;
    CHECK_OK(record_photo(catalogue, &kept, &dog, 1, &error), error);
    CHECK_OK(record_photo(catalogue, &deleted, &dog, 1, &error), error);
    CHECK(unlink(deleted.path) == 0);

    char names[256] = "";
    int64_t removed = -1;
    CHECK_OK(picotag_catalogue_prune(catalogue, NULL, collect_pruned, names, &removed, &error),
             error);
    CHECK_INT(1, removed);
    CHECK_STR("deleted.jpg;", names);
    CHECK_INT(1, count_photos(catalogue));
    CHECK_INT(1, query_integer(database, "SELECT count(*) FROM tags"));
    CHECK_INT(PICOTAG_PHOTO_UNCHANGED, lookup(catalogue, &kept).decision);
    picotag_catalogue_close(catalogue);
}

static void prune_limited_to_folder(void) {
    fresh_folder();
    picotag_catalogue *catalogue = open_catalogue(NULL);
    char inside[700];
    char sibling[700];
    snprintf(inside, sizeof(inside), "%s/trip", folder);
    snprintf(sibling, sizeof(sibling), "%s/trip-2", folder);
    CHECK(mkdir(inside, 0700) == 0);

    /* None of these files exist; only the one under trip/ may go. */
    photo_file under = virtual_photo(inside, 1);
    photo_file beside = virtual_photo(sibling, 2);
    picotag_error error;
    CHECK_OK(record_photo(catalogue, &under, NULL, 0, &error), error);
    CHECK_OK(record_photo(catalogue, &beside, NULL, 0, &error), error);

    char names[256] = "";
    int64_t removed = -1;
    char with_slash[710];
    snprintf(with_slash, sizeof(with_slash), "%s/", inside);
    CHECK_OK(picotag_catalogue_prune(catalogue, with_slash, collect_pruned, names, &removed,
                                     &error),
             error);
    CHECK_INT(1, removed);
    CHECK_STR("photo-00001.jpg;", names);
    CHECK_INT(1, count_photos(catalogue));
    picotag_catalogue_close(catalogue);
}

static void prune_of_missing_folder_removes_nothing(void) {
    fresh_folder();
    picotag_catalogue *catalogue = open_catalogue(NULL);
    char unmounted[700];
    snprintf(unmounted, sizeof(unmounted), "%s/usb-drive", folder);
    photo_file photo = virtual_photo(unmounted, 1);
    picotag_error error;
    CHECK_OK(record_photo(catalogue, &photo, NULL, 0, &error), error);

    int64_t removed = -1;
    picotag_status status =
        picotag_catalogue_prune(catalogue, unmounted, NULL, NULL, &removed, &error);
    CHECK_STATUS(PICOTAG_ERROR_IO, status, error);
    CHECK_CONTAINS(error.message, unmounted);
    CHECK_CONTAINS(error.message, "nothing was removed");
    CHECK_INT(0, removed);
    CHECK_INT(1, count_photos(catalogue));
    picotag_catalogue_close(catalogue);
}

static void prune_rejected_inside_batch(void) {
    fresh_folder();
    picotag_catalogue *catalogue = open_catalogue(NULL);
    picotag_error error;
    CHECK_OK(picotag_catalogue_begin(catalogue, &error), error);
    picotag_status status = picotag_catalogue_prune(catalogue, NULL, NULL, NULL, NULL, &error);
    CHECK_STATUS(PICOTAG_ERROR_INVALID_ARGUMENT, status, error);
    CHECK_CONTAINS(error.message, "batch");
    CHECK_OK(picotag_catalogue_commit(catalogue, &error), error);
    picotag_catalogue_close(catalogue);
}

/* ---- Batches ------------------------------------------------------------- */

static void batch_commits_every_n_photos(void) {
    fresh_folder();
    picotag_catalogue_options options = {.batch_photos = 3, .batch_milliseconds = 600000};
    picotag_catalogue *catalogue = open_catalogue(&options);
    picotag_error error;
    CHECK_OK(picotag_catalogue_begin(catalogue, &error), error);

    picotag_tag dog = make_tag(LABEL_DOG, 0.9);
    for (int i = 0; i < 7; i++) {
        photo_file photo = virtual_photo(folder, i);
        CHECK_OK(record_photo(catalogue, &photo, &dog, 1, &error), error);
    }
    /* Another connection reads the two committed batches, not the seventh. */
    CHECK_INT(6, query_integer(database, "SELECT count(*) FROM photos"));
    CHECK_INT(7, count_photos(catalogue));

    CHECK_OK(picotag_catalogue_commit(catalogue, &error), error);
    CHECK_INT(7, query_integer(database, "SELECT count(*) FROM photos"));
    picotag_catalogue_close(catalogue);
}

static void batch_commits_after_time_limit(void) {
    fresh_folder();
    picotag_catalogue_options options = {.batch_photos = 1000, .batch_milliseconds = 20};
    picotag_catalogue *catalogue = open_catalogue(&options);
    picotag_error error;
    CHECK_OK(picotag_catalogue_begin(catalogue, &error), error);

    picotag_tag dog = make_tag(LABEL_DOG, 0.9);
    photo_file first = virtual_photo(folder, 1);
    CHECK_OK(record_photo(catalogue, &first, &dog, 1, &error), error);
    CHECK_INT(0, query_integer(database, "SELECT count(*) FROM photos"));
    usleep(40 * 1000);
    photo_file second = virtual_photo(folder, 2);
    CHECK_OK(record_photo(catalogue, &second, &dog, 1, &error), error);
    CHECK_INT(2, query_integer(database, "SELECT count(*) FROM photos"));

    CHECK_OK(picotag_catalogue_commit(catalogue, &error), error);
    picotag_catalogue_close(catalogue);
}

static void rollback_discards_uncommitted_photos(void) {
    fresh_folder();
    picotag_catalogue_options options = {.batch_photos = 2, .batch_milliseconds = 600000};
    picotag_catalogue *catalogue = open_catalogue(&options);
    picotag_error error;
    CHECK_OK(picotag_catalogue_begin(catalogue, &error), error);
    picotag_tag cat = make_tag(LABEL_CAT, 0.9);
    for (int i = 0; i < 3; i++) {
        photo_file photo = virtual_photo(folder, i);
        CHECK_OK(record_photo(catalogue, &photo, &cat, 1, &error), error);
    }
    CHECK_OK(picotag_catalogue_rollback(catalogue, &error), error);
    CHECK_INT(2, count_photos(catalogue));

    picotag_status status = picotag_catalogue_commit(catalogue, &error);
    CHECK_STATUS(PICOTAG_ERROR_INVALID_ARGUMENT, status, error);
    CHECK_CONTAINS(error.message, "no batch is open");
    picotag_catalogue_close(catalogue);
}

static void close_rolls_back_open_batch(void) {
    fresh_folder();
    picotag_catalogue_options options = {.batch_photos = 100, .batch_milliseconds = 600000};
    picotag_catalogue *catalogue = open_catalogue(&options);
    picotag_error error;
    CHECK_OK(picotag_catalogue_begin(catalogue, &error), error);
    photo_file photo = virtual_photo(folder, 1);
    CHECK_OK(record_photo(catalogue, &photo, NULL, 0, &error), error);
    picotag_catalogue_close(catalogue);

    CHECK_INT(0, query_integer(database, "SELECT count(*) FROM photos"));
}

static void rescan_takes_no_write_lock(void) {
    fresh_folder();
    picotag_catalogue *scanner = open_catalogue(NULL);
    picotag_error error;
    photo_file photo = virtual_photo(folder, 1);
    CHECK_OK(record_photo(scanner, &photo, NULL, 0, &error), error);

    /* A batch that only looks up unchanged photos leaves others free to write. */
    CHECK_OK(picotag_catalogue_begin(scanner, &error), error);
    CHECK_INT(PICOTAG_PHOTO_UNCHANGED, lookup(scanner, &photo).decision);
    picotag_catalogue_options options = {.busy_timeout_ms = 50};
    picotag_catalogue *other = open_catalogue(&options);
    photo_file second = virtual_photo(folder, 2);
    CHECK_OK(record_photo(other, &second, NULL, 0, &error), error);
    CHECK_OK(picotag_catalogue_commit(scanner, &error), error);
    picotag_catalogue_close(other);
    picotag_catalogue_close(scanner);
}

static void check_reports_healthy_database(void) {
    fresh_folder();
    picotag_catalogue *catalogue = open_catalogue(NULL);
    picotag_error error;
    CHECK_OK(picotag_catalogue_check(catalogue, &error), error);
    picotag_catalogue_close(catalogue);
}

int main(void) {
    RUN_TEST(content_hash_matches_sha256_test_vector);
    RUN_TEST(content_hash_of_missing_file_names_it);
    RUN_TEST(default_path_follows_xdg_data_home);
    RUN_TEST(default_path_ignores_relative_xdg_data_home);
    RUN_TEST(open_creates_versioned_wal_schema);
    RUN_TEST(open_rejects_file_that_is_not_database);
    RUN_TEST(open_rejects_database_of_another_program);
    RUN_TEST(open_rejects_schema_from_newer_version);
    RUN_TEST(open_in_missing_folder_names_file);
    RUN_TEST(read_only_open_rejects_writes);
    RUN_TEST(read_only_file_is_reported);
    RUN_TEST(locked_database_names_file_and_wait);
    RUN_TEST(rescan_skips_unchanged_photo);
    RUN_TEST(lookup_returns_recorded_dimensions);
    RUN_TEST(lookup_returns_recorded_capture_time);
    RUN_TEST(rescan_retags_changed_photo);
    RUN_TEST(touched_photo_keeps_tags_without_retag);
    RUN_TEST(photo_tags_come_highest_score_first);
    RUN_TEST(photo_without_tags_counts_as_tagged);
    RUN_TEST(moved_photo_keeps_record_and_tags);
    RUN_TEST(copied_photo_is_new_not_moved);
    RUN_TEST(photo_moved_over_another_replaces_it);
    RUN_TEST(model_change_triggers_retag);
    RUN_TEST(lookup_without_model_is_rejected);
    RUN_TEST(record_rejects_invalid_input);
    RUN_TEST(prune_removes_only_missing_files);
    RUN_TEST(prune_limited_to_folder);
    RUN_TEST(prune_of_missing_folder_removes_nothing);
    RUN_TEST(prune_rejected_inside_batch);
    RUN_TEST(batch_commits_every_n_photos);
    RUN_TEST(batch_commits_after_time_limit);
    RUN_TEST(rollback_discards_uncommitted_photos);
    RUN_TEST(close_rolls_back_open_batch);
    RUN_TEST(rescan_takes_no_write_lock);
    RUN_TEST(check_reports_healthy_database);
    remove_scratch_folder(folder);
    return harness_finish();
}
