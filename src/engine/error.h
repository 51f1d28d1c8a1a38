/* Filling picotag_error messages. */
#ifndef PICOTAG_ENGINE_ERROR_H
#define PICOTAG_ENGINE_ERROR_H

#include <stdarg.h>

#include "picotag.h"

#if defined(__GNUC__)
#define PICOTAG_PRINTF_FORMAT(format_index, first_argument) \
    __attribute__((format(printf, format_index, first_argument)))
#else
#define PICOTAG_PRINTF_FORMAT(format_index, first_argument)
#endif

/* Formats a message into `error` (which may be NULL) and returns `status`,
 * so that a failing path reads `return picotag_error_set(error, ...);`.
 * A message longer than the buffer is cut, never overrun. */
picotag_status picotag_error_set(picotag_error *error, picotag_status status, const char *format,
                                 ...) PICOTAG_PRINTF_FORMAT(3, 4);

/* Like picotag_error_set, with "prefix: " before the message. */
picotag_status picotag_error_set_prefixed(picotag_error *error, picotag_status status,
                                          const char *prefix, const char *format, va_list args)
    PICOTAG_PRINTF_FORMAT(4, 0);

/* Empties the message, so that a successful call leaves "" behind. */
void picotag_error_clear(picotag_error *error);

#endif
