#include "picotag.h"

const char *picotag_status_name(picotag_status status) {
    switch (status) {
    case PICOTAG_OK:
        return "ok";
    case PICOTAG_ERROR_IO:
        return "I/O error";
    case PICOTAG_ERROR_FORMAT:
        return "format error";
    case PICOTAG_ERROR_UNSUPPORTED:
        return "unsupported";
    case PICOTAG_ERROR_INVALID_ARGUMENT:
        return "invalid argument";
    case PICOTAG_ERROR_OUT_OF_MEMORY:
        return "out of memory";
    }
    return "unknown status";
}

const char *picotag_version(void) {
    return PICOTAG_VERSION;
}
