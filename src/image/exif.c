/* EXIF orientation, read with libexif. */
#include <stdlib.h>
#include <string.h>

#include <libexif/exif-data.h>

#include "image/image_internal.h"

static const uint8_t exif_header[6] = {'E', 'x', 'i', 'f', 0, 0};

static int orientation_from_loaded(ExifData *exif)
{
    ExifEntry *entry = exif_content_get_entry(exif->ifd[EXIF_IFD_0], EXIF_TAG_ORIENTATION);
    if (!entry || entry->format != EXIF_FORMAT_SHORT || entry->components < 1 || !entry->data ||
        entry->size < 2)
        return 1;

    int value = exif_get_short(entry->data, exif_data_get_byte_order(exif));
    return value >= 1 && value <= 8 ? value : 1;
}

int image_exif_orientation(const uint8_t *data, size_t size)
{
    if (!data || size < 8 || size > UINT32_MAX - sizeof exif_header)
        return 1;

    /* libexif expects the APP1 "Exif\0\0" header; PNG eXIf chunks and some
     * WebP EXIF chunks start directly with the TIFF header. */
    uint8_t *with_header = NULL;
    const uint8_t *exif_bytes = data;
    size_t exif_size = size;
    if (memcmp(data, exif_header, sizeof exif_header) != 0) {
        with_header = malloc(size + sizeof exif_header);
        if (!with_header)
            return 1;
        memcpy(with_header, exif_header, sizeof exif_header);
        memcpy(with_header + sizeof exif_header, data, size);
        exif_bytes = with_header;
        exif_size = size + sizeof exif_header;
    }

    int orientation = 1;
    ExifData *exif = exif_data_new();
    if (exif) {
        /* Read the tags as stored: no entries added or "fixed" by libexif. */
        exif_data_unset_option(exif, EXIF_DATA_OPTION_FOLLOW_SPECIFICATION);
        exif_data_load_data(exif, exif_bytes, (unsigned int)exif_size);
        orientation = orientation_from_loaded(exif);
        exif_data_unref(exif);
    }
    free(with_header);
    return orientation;
}
