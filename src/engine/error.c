#include "engine/error.h"

#include <stdio.h>

picotag_status picotag_error_set(picotag_error *error, picotag_status status, const char *format,
                                 ...) {
    if (error == NULL) {
        return status;
    }
    va_list args;
    va_start(args, format);
    vsnprintf(error->message, sizeof(error->message), format, args);
    va_end(args);
    return status;
}

picotag_status picotag_error_set_prefixed(picotag_error *error, picotag_status status,
                                          const char *prefix, const char *format, va_list args) {
    if (error == NULL) {
        return status;
    }
    int used = snprintf(error->message, sizeof(error->message), "%s: ", prefix);
    if (used < 0) {
        used = 0;
    }
    if ((size_t)used < sizeof(error->message)) {
        vsnprintf(error->message + used, sizeof(error->message) - (size_t)used, format, args);
    }
    return status;
}

void picotag_error_clear(picotag_error *error) {
    if (error != NULL) {
        error->message[0] = '\0';
    }
}
