/* A one-line progress bar redrawn in place with a carriage return. */
#include "tools/progress.h"

#include <stdio.h>
#include <unistd.h>

#include "tools/messages.h"

/* Columns of the bar between its brackets. */
#define BAR_COLUMNS 30

void progress_init(progress_bar *bar, size_t total, picotag_language language) {
    bar->enabled = total > 0 && isatty(STDERR_FILENO);
    bar->drawn = 0;
    bar->total = total;
    bar->language = language;
}

void progress_draw(progress_bar *bar, size_t done) {
    if (!bar->enabled) {
        return;
    }
    const size_t filled = bar->total > 0 ? done * BAR_COLUMNS / bar->total : BAR_COLUMNS;
    char cells[BAR_COLUMNS + 1];
    for (size_t i = 0; i < BAR_COLUMNS; i++) {
        cells[i] = i < filled ? '=' : (i == filled ? '>' : ' ');
    }
    cells[BAR_COLUMNS] = '\0';
    const char *unit = message_text(bar->language, MESSAGE_PROGRESS_UNIT);
    const char *space = bar->language == PICOTAG_LANGUAGE_KOREAN ? "" : " ";
    fprintf(stderr, "\r[%s] %zu/%zu%s%s", cells, done, bar->total, space, unit);
    fflush(stderr);
    bar->drawn = 1;
}

void progress_clear(progress_bar *bar) {
    if (!bar->drawn) {
        return;
    }
    /* Carriage return, then erase to the end of the line (ECMA-48 EL). */
    fputs("\r\033[K", stderr);
    fflush(stderr);
    bar->drawn = 0;
}
