/* Opening the catalogue for a command: --catalog FILE, or the default path. */
#ifndef PICOTAG_TOOLS_TOOL_CATALOGUE_H
#define PICOTAG_TOOLS_TOOL_CATALOGUE_H

#include "picotag_catalogue.h"
#include "tools/tool_model.h"

/* Opens `option` (--catalog) or the default catalogue for writing and makes
 * `model` its current model. On failure prints "picotag COMMAND: ..." on
 * stderr and returns NULL. */
picotag_catalogue *tool_catalogue_open_for_tagging(const char *command, const char *option,
                                                   const tool_model *model);

/* Opens `option` or the default catalogue read-only. On failure, including
 * a catalogue that does not exist yet, prints a message and returns NULL. */
picotag_catalogue *tool_catalogue_open_for_reading(const char *command, const char *option);

#endif
