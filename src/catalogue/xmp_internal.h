/* XMP sidecar internals: merging picotag's keywords into an XMP document,
 * and replacing a file atomically. */
#ifndef PICOTAG_XMP_INTERNAL_H
#define PICOTAG_XMP_INTERNAL_H

#include <stddef.h>
#include <sys/stat.h>

#include "picotag_catalogue.h"

/* Root of picotag's hierarchical keywords: "picotag|animal|dog". */
#define XMP_HIERARCHY_ROOT "picotag"
/* Namespace of the property that lists the dc:subject keywords picotag added
 * (picotag:Keywords), so that a later run removes those and no others. The
 * .invalid top-level domain (RFC 2606) can never belong to anyone. */
#define XMP_PICOTAG_NAMESPACE "http://ns.picotag.invalid/1.0/"

/* Largest sidecar picotag reads, in bytes. */
#define XMP_MAX_SIDECAR_BYTES (16 * 1024 * 1024)

/* Merges `keywords` into the XMP document `input` (`input_length` bytes),
 * or into a new document when `input` is NULL. `name` names the sidecar in
 * messages. On success *changed is set when the result differs in meaning
 * from the input, and then *output (free with free()) contains the
 * serialised document. Otherwise *output is NULL. */
picotag_status xmp_merge_keywords(const char *input, size_t input_length, const char *name,
                                  const picotag_xmp_keyword *keywords, size_t keyword_count,
                                  char **output, size_t *output_length, int *changed,
                                  picotag_error *error);

/* Replaces (or creates) the file at `path` with `data`. Writes a temporary
 * file in the same folder, fsyncs it, renames it over `path` and fsyncs the
 * folder, so that readers, and the disk after a crash, have the old file or
 * the new one and nothing in between. `original` is the lstat of the file
 * being replaced, or NULL when creating. The new file keeps the old one's
 * mode and owner, and a file that someone else changed or created meanwhile
 * is left alone with an error. */
picotag_status atomic_file_replace(const char *path, const void *data, size_t length,
                                   const struct stat *original, picotag_error *error);

#endif
