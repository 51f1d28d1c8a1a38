/* A progress bar on stderr, drawn only when stderr is a terminal, so logs
 * and pipes never see it. */
#ifndef PICOTAG_TOOLS_PROGRESS_H
#define PICOTAG_TOOLS_PROGRESS_H

#include <stddef.h>

#include "picotag_tagger.h"

typedef struct progress_bar {
    int enabled;
    int drawn;             /* a bar is on the terminal's last line */
    size_t total;
    picotag_language language;
} progress_bar;

/* Enables the bar when stderr is a terminal and `total` is above 0. */
void progress_init(progress_bar *bar, size_t total, picotag_language language);

/* Draws "[=====>    ] 45/120 photos" over the previous bar. */
void progress_draw(progress_bar *bar, size_t done);

/* Erases the bar, so that the lines that follow start at column 0. */
void progress_clear(progress_bar *bar);

#endif
