/*
 * The command's own messages to people, in English and Korean: table
 * headers, the summary line, the lead-ins of per-photo errors. Tag and group
 * names come from the model; errors from the libraries stay in English.
 */
#ifndef PICOTAG_TOOLS_MESSAGES_H
#define PICOTAG_TOOLS_MESSAGES_H

#include <stdint.h>
#include <stdio.h>

#include "picotag_tagger.h"

typedef enum message_id {
    MESSAGE_TABLE_PHOTO,
    MESSAGE_TABLE_TAGS,
    MESSAGE_NO_TAGS,
    MESSAGE_PROGRESS_UNIT,
    MESSAGE_CANNOT_READ_PHOTO,
    MESSAGE_CANNOT_RUN_MODEL,
    MESSAGE_CANNOT_WRITE_SIDECAR,
    MESSAGE_CANNOT_READ_FOLDER,
    MESSAGE_CANNOT_FIND_PATH,
    MESSAGE_NOT_A_PHOTO_OR_FOLDER,
    MESSAGE_NO_MATCHES,
    MESSAGE_WATCH_MOVED,
    MESSAGE_WATCH_REMOVED,
    MESSAGE_WATCH_RESCANNING,
    MESSAGE_WATCH_CANNOT_WATCH_FOLDER,
    MESSAGE_COUNT
} message_id;

/* Returns the message in `language`; the text has no trailing newline. */
const char *message_text(picotag_language language, message_id id);

/* Returns Korean when the first set of LC_ALL, LC_MESSAGES and LANG (the
 * POSIX order of precedence) starts with "ko", English otherwise. */
picotag_language language_from_environment(void);

/* Parses "ko" or "en" (as --lang takes them); returns 0 for anything else. */
int language_parse(const char *text, picotag_language *language);

/* Counts of one run of `picotag tag` or `picotag watch`. */
typedef struct run_counts {
    int64_t tagged;
    int64_t unchanged;
    int64_t moved;
    int64_t removed;
    int64_t failed;
} run_counts;

/* Prints "Tagged 3 photos, 2 unchanged, 1 moved, 0 failed (0.4 s)." or its
 * Korean form, with a newline. */
void message_print_tag_summary(FILE *stream, picotag_language language,
                               const run_counts *counts, double seconds);

/* Prints "Watching 4 folders; press Ctrl+C to stop." or its Korean form. */
void message_print_watch_started(FILE *stream, picotag_language language, int64_t folders);

/* Prints the counts of a watch session when it stops. */
void message_print_watch_summary(FILE *stream, picotag_language language,
                                 const run_counts *counts);

#endif
