/*
 * picotag catalogue: one SQLite database of the photos picotag has tagged,
 * their tags and the models that produced them. Beside it are the search
 * language over those tags and the XMP sidecars that carry the tags to
 * photo managers.
 *
 * Nothing here decodes a photo or runs the network. `picotag tag` does that
 * and calls this API with the results. A scan, with error handling shortened:
 *
 *     picotag_catalogue *cat;
 *     picotag_catalogue_open(path, NULL, &cat, &err);
 *     picotag_catalogue_use_model(cat, &model_identity, NULL, &err);
 *     picotag_catalogue_begin(cat, &err);
 *     for each photo file (absolute path, stat gives size and mtime):
 *         picotag_photo_lookup found;
 *         picotag_catalogue_lookup(cat, path, size, mtime_ns, &found, &err);
 *         if (found.decision == PICOTAG_PHOTO_UNCHANGED) continue;
 *         picotag_content_hash_file(path, hash, NULL, &err);
 *         picotag_catalogue_match_content(cat, path, size, mtime_ns, hash, &found, &err);
 *         if (found.decision == PICOTAG_PHOTO_UNCHANGED) continue;  // moved or touched
 *         ... decode, run the network, pick tags ...
 *         picotag_catalogue_record(cat, &photo, tags, tag_count, NULL, &err);
 *     picotag_catalogue_commit(cat, &err);
 *     picotag_catalogue_close(cat);
 *
 * A catalogue handle is used by one thread at a time. Several processes may
 * open the same catalogue: SQLite's WAL mode lets readers run beside one
 * writer, and a second writer waits up to the busy timeout.
 *
 * Every function returns a picotag_status and, when `error` is not NULL,
 * fills it with a message that names the database file (or the sidecar, or
 * the search word) at fault.
 */
#ifndef PICOTAG_CATALOGUE_H
#define PICOTAG_CATALOGUE_H

#include <stddef.h>
#include <stdint.h>

#include "picotag.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Content hash -------------------------------------------------------- */

/* SHA-256 of a photo file's bytes: the identity that recognises a moved photo. */
#define PICOTAG_CONTENT_HASH_BYTES 32

/* Computes the SHA-256 of the whole file at `path`. *size_bytes (may be NULL)
 * receives the number of bytes hashed. */
PICOTAG_API picotag_status picotag_content_hash_file(const char *path,
                                                     uint8_t hash[PICOTAG_CONTENT_HASH_BYTES],
                                                     int64_t *size_bytes, picotag_error *error);

/* Computes the SHA-256 of `size` bytes in memory. */
PICOTAG_API picotag_status picotag_content_hash_memory(const void *data, size_t size,
                                                       uint8_t hash[PICOTAG_CONTENT_HASH_BYTES],
                                                       picotag_error *error);

/* ---- Opening a catalogue ------------------------------------------------- */

typedef struct picotag_catalogue picotag_catalogue;

/* Writes the default catalogue path into `path`:
 * $XDG_DATA_HOME/picotag/catalog.sqlite when XDG_DATA_HOME is an absolute
 * path, else $HOME/.local/share/picotag/catalog.sqlite (the home folder comes
 * from the password database when HOME is unset). Creates the missing
 * folders with mode 0700. Fails with PICOTAG_ERROR_INVALID_ARGUMENT when
 * `capacity` bytes cannot hold the path and its NUL. */
PICOTAG_API picotag_status picotag_catalogue_default_path(char *path, size_t capacity,
                                                          picotag_error *error);

typedef struct picotag_catalogue_options {
    /* Non-zero: open without write access (search, listing). Fails if the
     * catalogue does not exist or has an older schema. */
    int read_only;
    /* Milliseconds to wait for another process that holds the write lock
     * before failing with "database is locked"; 0 means 5000. */
    int busy_timeout_ms;
    /* A batch commits after this many written photos; 0 means 256. */
    int batch_photos;
    /* A batch commits at the first write this many milliseconds after it
     * began; 0 means 1000. */
    int batch_milliseconds;
} picotag_catalogue_options;

/* Opens the catalogue at `path`, creating it (but not its folder) when it
 * does not exist, and upgrades an older schema. `options` may be NULL.
 * Rejects a file that is not a SQLite database, a SQLite database that
 * belongs to another program, and a catalogue written by a newer picotag. */
PICOTAG_API picotag_status picotag_catalogue_open(const char *path,
                                                  const picotag_catalogue_options *options,
                                                  picotag_catalogue **catalogue,
                                                  picotag_error *error);

/* Closes the catalogue. A batch that is still open is rolled back: call
 * picotag_catalogue_commit first to keep it. NULL is accepted. */
PICOTAG_API void picotag_catalogue_close(picotag_catalogue *catalogue);

/* Returns the path the catalogue was opened with. */
PICOTAG_API const char *picotag_catalogue_path(const picotag_catalogue *catalogue);

/* Runs SQLite's integrity_check; PICOTAG_ERROR_FORMAT with the first problem
 * when the database is damaged. Reads the whole file: slow on large ones. */
PICOTAG_API picotag_status picotag_catalogue_check(picotag_catalogue *catalogue,
                                                   picotag_error *error);

/* Counts the catalogued photos and tags. Either pointer may be NULL. */
PICOTAG_API picotag_status picotag_catalogue_count(picotag_catalogue *catalogue, int64_t *photos,
                                                   int64_t *tags, picotag_error *error);

/* ---- Models -------------------------------------------------------------- */

typedef struct picotag_catalogue_model {
    const char *name;      /* for people, e.g. "resnet18-coco" */
    /* Identity that decides whether two models are the same, intended to be
     * the hex SHA-256 of the model file. Photos tagged under another identity
     * are re-tagged. */
    const char *identity;
    const char *arch;      /* e.g. "resnet18" */
} picotag_catalogue_model;

/* Registers the model (once per identity) and makes it the current model,
 * the one that lookups compare against and that records are attributed to.
 * *model_id (may be NULL) receives its row id. */
PICOTAG_API picotag_status picotag_catalogue_use_model(picotag_catalogue *catalogue,
                                                       const picotag_catalogue_model *model,
                                                       int64_t *model_id, picotag_error *error);

/* ---- Batches ------------------------------------------------------------- */

/* Starts a batch: the writes that follow share transactions, committed every
 * batch_photos photos or batch_milliseconds, so that a scan costs one fsync
 * per batch instead of one per photo. A process killed mid-batch loses the
 * uncommitted photos of that batch and nothing else; the database stays
 * consistent. The batch's transaction, and SQLite's write lock with it,
 * starts at the first write, so a rescan that writes nothing locks nothing. */
PICOTAG_API picotag_status picotag_catalogue_begin(picotag_catalogue *catalogue,
                                                   picotag_error *error);

/* Commits the open batch and ends it. */
PICOTAG_API picotag_status picotag_catalogue_commit(picotag_catalogue *catalogue,
                                                    picotag_error *error);

/* Discards the uncommitted part of the open batch and ends it. */
PICOTAG_API picotag_status picotag_catalogue_rollback(picotag_catalogue *catalogue,
                                                      picotag_error *error);

/* ---- Photos -------------------------------------------------------------- */

/* Capacity of picotag_photo_lookup.captured_at, NUL included: enough for a
 * capture time with a UTC offset and a fraction of up to 9 digits,
 * "2024-05-01T14:03:59.123456789+09:00". */
#define PICOTAG_CAPTURED_AT_BYTES 40

typedef enum picotag_photo_decision {
    PICOTAG_PHOTO_NEW = 0,           /* no record: hash it, then tag it */
    PICOTAG_PHOTO_UNCHANGED = 1,     /* same file, tagged by the current model: skip */
    PICOTAG_PHOTO_CHANGED = 2,       /* size or mtime (or content) differ: re-tag */
    PICOTAG_PHOTO_MODEL_CHANGED = 3  /* same file, tagged by another model: re-tag */
} picotag_photo_decision;

typedef struct picotag_photo_lookup {
    picotag_photo_decision decision;
    int64_t photo_id;   /* the record's id; 0 for PICOTAG_PHOTO_NEW */
    /* picotag_catalogue_match_content only: non-zero when the record of a
     * photo whose old path no longer exists moved to this path. */
    int moved;
    /* picotag_catalogue_lookup only: the recorded size in pixels of the
     * photo at this path; 0 when unknown or when there is no record. */
    int32_t width;
    int32_t height;
    /* picotag_catalogue_lookup only: the recorded capture time (see
     * picotag_photo_record.captured_at); empty when unknown, when there is
     * no record, or when the stored text does not fit. */
    char captured_at[PICOTAG_CAPTURED_AT_BYTES];
} picotag_photo_lookup;

/* Decides from the file's size (bytes) and mtime (nanoseconds since the
 * epoch) alone, without reading the photo. Paths are absolute; the bytes are
 * compared exactly, so callers pass them in one canonical form. */
PICOTAG_API picotag_status picotag_catalogue_lookup(picotag_catalogue *catalogue,
                                                    const char *path, int64_t size_bytes,
                                                    int64_t mtime_ns,
                                                    picotag_photo_lookup *result,
                                                    picotag_error *error);

/* Decides again from the content hash, for a photo that lookup called NEW or
 * CHANGED, and updates the record when the content is known:
 * - the path's record has the same hash (the file was touched or copied back):
 *   its size and mtime are updated; UNCHANGED or MODEL_CHANGED;
 * - another record has the same hash and size and its path no longer exists
 *   (the photo was moved or renamed): that record, with its tags, moves to
 *   `path` and replaces any record of different content there. `moved` is
 *   set, and the decision is UNCHANGED or MODEL_CHANGED;
 * - otherwise NEW or CHANGED, and nothing is written.
 * Counts as one write in an open batch when it writes. */
PICOTAG_API picotag_status picotag_catalogue_match_content(
    picotag_catalogue *catalogue, const char *path, int64_t size_bytes, int64_t mtime_ns,
    const uint8_t hash[PICOTAG_CONTENT_HASH_BYTES], picotag_photo_lookup *result,
    picotag_error *error);

typedef struct picotag_photo_record {
    const char *path;          /* absolute */
    int64_t size_bytes;
    int64_t mtime_ns;          /* nanoseconds since the epoch */
    uint8_t content_hash[PICOTAG_CONTENT_HASH_BYTES];
    /* Pixels as displayed, after the EXIF orientation or the HEIF rotation;
     * 0 = unknown. */
    int32_t width;
    int32_t height;            /* pixels; 0 = unknown */
    /* EXIF capture time as ISO 8601 text, "2024-05-01T14:03:59" with an
     * optional fraction and UTC offset; NULL when the photo has none. */
    const char *captured_at;
} picotag_photo_record;

typedef struct picotag_tag {
    int32_t class_index;       /* 0 .. PICOTAG_MAX_CLASSES - 1 */
    const char *label;         /* English label name: the key search matches */
    double score;              /* 0..1, for people and for --min-score */
    int32_t logit;             /* the integer the threshold was compared with */
} picotag_tag;

/* Inserts or updates the photo's record and replaces all its tags with
 * `tags` (which may be empty: the model found nothing), in one transaction
 * or savepoint, so a failure keeps the old tags. Attributes the tags to the
 * current model. *photo_id may be NULL. */
PICOTAG_API picotag_status picotag_catalogue_record(picotag_catalogue *catalogue,
                                                    const picotag_photo_record *photo,
                                                    const picotag_tag *tags, size_t tag_count,
                                                    int64_t *photo_id, picotag_error *error);

/* Calls `callback` with each tag of the photo at `path`, highest score
 * first. *found (may be NULL) is set to whether the photo has a record. */
typedef void (*picotag_tag_callback)(const picotag_tag *tag, void *user);
PICOTAG_API picotag_status picotag_catalogue_photo_tags(picotag_catalogue *catalogue,
                                                        const char *path,
                                                        picotag_tag_callback callback, void *user,
                                                        int *found, picotag_error *error);

/* Removes the records of photos whose files no longer exist (stat fails with
 * ENOENT or ENOTDIR; any other failure keeps the record). `folder` limits the
 * work to photos under that absolute folder, which must exist, so that an
 * unmounted drive does not empty the catalogue; NULL checks every photo.
 * After the removal is committed, `callback` (may be NULL) receives each
 * removed path. Fails while a batch is open. */
typedef void (*picotag_prune_callback)(const char *path, void *user);
PICOTAG_API picotag_status picotag_catalogue_prune(picotag_catalogue *catalogue,
                                                   const char *folder,
                                                   picotag_prune_callback callback, void *user,
                                                   int64_t *removed, picotag_error *error);

/* ---- Search -------------------------------------------------------------- */

/* The search language is described in docs/SEARCH.md:
 *     dog cat            photos with a dog and a cat
 *     dog OR cat         photos with either (OR binds looser than AND)
 *     animal -cat        any animal but no cat
 *     "hot dog" 사람      multi-word names quoted (or hot_dog); Korean names
 */

typedef struct picotag_search_options {
    /* The label table of the current model: index = class index. Words are
     * looked up in name_en, name_ko, group_en and group_ko; threshold and
     * logit_scale are not used. */
    const picotag_label *labels;
    int label_count;
    /* A tag counts only when its score >= min_score (0..1). 0 counts every
     * recorded tag. Applies to excluded words too: "-dog" keeps photos whose
     * dog score is below min_score. */
    double min_score;
    /* At most this many photos; 0 means no limit. */
    int64_t limit;
} picotag_search_options;

typedef struct picotag_search_tag {
    const char *label;             /* English label name as recorded */
    int32_t class_index;           /* as recorded */
    double score;
    /* The entry of options.labels with this English name, or NULL when the
     * current model has no such label. */
    const picotag_label *entry;
} picotag_search_tag;

typedef struct picotag_search_match {
    int64_t photo_id;
    const char *path;
    const char *captured_at;       /* NULL when unknown */
    /* The photo's tags that a word of the query (outside an exclusion)
     * matched, highest score first; empty for a query of exclusions only. */
    const picotag_search_tag *tags;
    size_t tag_count;
} picotag_search_match;

/* Returns 0 to continue, non-zero to stop the search early. */
typedef int (*picotag_search_callback)(const picotag_search_match *match, void *user);

/* Runs a query and calls `callback` for each matching photo, best score
 * first, then by path. *match_count (may be NULL) receives the number of
 * callbacks made. An unknown word fails with PICOTAG_ERROR_INVALID_ARGUMENT
 * and a message that names it and lists close matches; so does a syntax
 * error, with its column. */
PICOTAG_API picotag_status picotag_search(picotag_catalogue *catalogue, const char *query,
                                          const picotag_search_options *options,
                                          picotag_search_callback callback, void *user,
                                          int64_t *match_count, picotag_error *error);

/* ---- XMP sidecars -------------------------------------------------------- */

typedef enum picotag_xmp_naming {
    /* photo.jpg -> photo.jpg.xmp: digiKam, darktable, RawTherapee. Default. */
    PICOTAG_XMP_APPEND_EXTENSION = 0,
    /* photo.jpg -> photo.xmp: Lightroom, Capture One. Two photos that differ
     * only in extension share one sidecar. */
    PICOTAG_XMP_REPLACE_EXTENSION = 1
} picotag_xmp_naming;

/* Writes the sidecar path for `photo_path` into `sidecar_path`. */
PICOTAG_API picotag_status picotag_xmp_sidecar_path(const char *photo_path,
                                                    picotag_xmp_naming naming,
                                                    char *sidecar_path, size_t capacity,
                                                    picotag_error *error);

typedef struct picotag_xmp_keyword {
    const char *name;    /* e.g. "dog" or "개": a dc:subject keyword */
    /* Supercategory in the same language, e.g. "animal" or "동물", giving
     * the hierarchical keyword "picotag|animal|dog". NULL, or equal to
     * `name`, gives "picotag|dog". */
    const char *group;
} picotag_xmp_keyword;

typedef enum picotag_xmp_result {
    PICOTAG_XMP_UNCHANGED = 0,   /* the sidecar already had these keywords; not written */
    PICOTAG_XMP_CREATED = 1,
    PICOTAG_XMP_UPDATED = 2
} picotag_xmp_result;

/* Writes picotag's keywords into the sidecar at `sidecar_path` (which must
 * end in ".xmp"), creating it when it does not exist. An existing sidecar is
 * merged: every other property and every keyword that picotag did not write
 * stays; only picotag's previous keywords are replaced (docs/CATALOGUE.md
 * gives the rule). The new file replaces the old one atomically; on any
 * error the old sidecar is left as it was. A sidecar that cannot be merged
 * safely (not XMP, a DOCTYPE, dc:subject not an rdf:Bag or rdf:Seq) fails
 * with PICOTAG_ERROR_FORMAT or PICOTAG_ERROR_UNSUPPORTED and is not touched.
 * With no keywords and no sidecar, nothing is created. *result may be NULL. */
PICOTAG_API picotag_status picotag_xmp_write_keywords(const char *sidecar_path,
                                                      const picotag_xmp_keyword *keywords,
                                                      size_t keyword_count,
                                                      picotag_xmp_result *result,
                                                      picotag_error *error);

#ifdef __cplusplus
}
#endif

#endif
