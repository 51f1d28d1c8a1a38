/* EXIF orientation and capture time, read with libexif. */
#include <stdlib.h>
#include <string.h>

#include <libexif/exif-data.h>

#include "image/image_internal.h"

static const uint8_t exif_header[6] = {'E', 'x', 'i', 'f', 0, 0};

/* "YYYY:MM:DD HH:MM:SS", the EXIF date and time without its NUL. */
#define EXIF_DATE_TIME_LENGTH 19
/* "+HH:MM", an EXIF OffsetTime value without its NUL. */
#define EXIF_OFFSET_LENGTH 6
/* UTC offsets in use range from -12:00 to +14:00. */
#define MAX_OFFSET_HOURS 14

static int orientation_from_loaded(ExifData *exif)
{
    ExifEntry *entry = exif_content_get_entry(exif->ifd[EXIF_IFD_0], EXIF_TAG_ORIENTATION);
    if (!entry || entry->format != EXIF_FORMAT_SHORT || entry->components < 1 || !entry->data ||
        entry->size < 2)
        return 1;

    int value = exif_get_short(entry->data, exif_data_get_byte_order(exif));
    return value >= 1 && value <= 8 ? value : 1;
}

/* Reads `count` decimal digits; -1 when any is not a digit. */
static int parse_digits(const char *text, int count)
{
    int value = 0;
    for (int i = 0; i < count; i++) {
        if (text[i] < '0' || text[i] > '9')
            return -1;
        value = value * 10 + (text[i] - '0');
    }
    return value;
}

static int days_in_month(int year, int month)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return month == 2 && leap ? 29 : days[month - 1];
}

/* The length of an ASCII value up to its first NUL, or -1 when anything
 * but NULs and spaces follows the first `length` characters. Cameras pad
 * fixed-size fields with either. */
static long text_length(const char *text, size_t size, size_t length)
{
    size_t end = 0;
    while (end < size && text[end] != '\0')
        end++;
    if (end < length)
        return (long)end;
    for (size_t i = length; i < end; i++)
        if (text[i] != ' ')
            return -1;
    return (long)length;
}

/* Checks an EXIF "+HH:MM" offset and appends it to `out`. */
static void append_offset(const char *offset, size_t offset_size, char *out)
{
    if (!offset || text_length(offset, offset_size, EXIF_OFFSET_LENGTH) != EXIF_OFFSET_LENGTH)
        return;
    if ((offset[0] != '+' && offset[0] != '-') || offset[3] != ':')
        return;
    int hours = parse_digits(offset + 1, 2), minutes = parse_digits(offset + 4, 2);
    if (hours < 0 || minutes < 0 || minutes > 59 || hours > MAX_OFFSET_HOURS ||
        (hours == MAX_OFFSET_HOURS && minutes != 0))
        return;
    size_t length = strlen(out);
    memcpy(out + length, offset, EXIF_OFFSET_LENGTH);
    out[length + EXIF_OFFSET_LENGTH] = '\0';
}

int image_exif_capture_time(const char *date_time, size_t date_time_size, const char *offset,
                            size_t offset_size, char out[PICOTAG_IMAGE_CAPTURE_TIME_BYTES])
{
    out[0] = '\0';
    if (!date_time ||
        text_length(date_time, date_time_size, EXIF_DATE_TIME_LENGTH) != EXIF_DATE_TIME_LENGTH)
        return 0;

    if (date_time[4] != ':' || date_time[7] != ':' || date_time[10] != ' ' ||
        date_time[13] != ':' || date_time[16] != ':')
        return 0;
    int year = parse_digits(date_time, 4), month = parse_digits(date_time + 5, 2);
    int day = parse_digits(date_time + 8, 2), hour = parse_digits(date_time + 11, 2);
    int minute = parse_digits(date_time + 14, 2), second = parse_digits(date_time + 17, 2);
    /* Unknown fields are written as spaces or zeros ("0000:00:00 00:00:00"),
     * which fail here along with impossible dates such as 2021-02-29. */
    if (year < 1 || month < 1 || month > 12 || day < 1 || day > days_in_month(year, month) ||
        hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59)
        return 0;

    memcpy(out, date_time, EXIF_DATE_TIME_LENGTH);
    out[4] = '-';
    out[7] = '-';
    out[10] = 'T';
    out[EXIF_DATE_TIME_LENGTH] = '\0';
    append_offset(offset, offset_size, out);
    return 1;
}

/* The entry for `tag` in the EXIF sub-IFD or IFD0 (where some writers put
 * the EXIF tags), if it is ASCII text. IFD1 describes the thumbnail and is
 * not searched. */
static ExifEntry *find_text_entry(ExifData *exif, ExifTag tag)
{
    ExifEntry *entry = exif_content_get_entry(exif->ifd[EXIF_IFD_EXIF], tag);
    if (!entry)
        entry = exif_content_get_entry(exif->ifd[EXIF_IFD_0], tag);
    if (!entry || entry->format != EXIF_FORMAT_ASCII || !entry->data || entry->size == 0)
        return NULL;
    return entry;
}

static void capture_time_from_loaded(ExifData *exif, char out[PICOTAG_IMAGE_CAPTURE_TIME_BYTES])
{
    /* Each date tag with the offset tag that belongs to it, in order of
     * preference: when the shutter opened, when it was digitised, when the
     * file was last changed. */
    static const ExifTag tags[3][2] = {
        {EXIF_TAG_DATE_TIME_ORIGINAL, EXIF_TAG_OFFSET_TIME_ORIGINAL},
        {EXIF_TAG_DATE_TIME_DIGITIZED, EXIF_TAG_OFFSET_TIME_DIGITIZED},
        {EXIF_TAG_DATE_TIME, EXIF_TAG_OFFSET_TIME},
    };
    for (int i = 0; i < 3; i++) {
        ExifEntry *date_time = find_text_entry(exif, tags[i][0]);
        if (!date_time)
            continue;
        ExifEntry *offset = find_text_entry(exif, tags[i][1]);
        if (image_exif_capture_time((const char *)date_time->data, date_time->size,
                                    offset ? (const char *)offset->data : NULL,
                                    offset ? offset->size : 0, out))
            return;
    }
    out[0] = '\0';
}

void image_exif_read(const uint8_t *data, size_t size, image_exif_fields *fields)
{
    fields->orientation = 1;
    fields->capture_time[0] = '\0';
    if (!data || size < 8 || size > UINT32_MAX - sizeof exif_header)
        return;

    /* libexif expects the APP1 "Exif\0\0" header; PNG eXIf chunks, HEIF Exif
     * items and some WebP EXIF chunks start directly with the TIFF header. */
    uint8_t *with_header = NULL;
    const uint8_t *exif_bytes = data;
    size_t exif_size = size;
    if (memcmp(data, exif_header, sizeof exif_header) != 0) {
        with_header = malloc(size + sizeof exif_header);
        if (!with_header)
            return;
        memcpy(with_header, exif_header, sizeof exif_header);
        memcpy(with_header + sizeof exif_header, data, size);
        exif_bytes = with_header;
        exif_size = size + sizeof exif_header;
    }

    ExifData *exif = exif_data_new();
    if (exif) {
        /* Read the tags as stored: no entries added or "fixed" by libexif. */
        exif_data_unset_option(exif, EXIF_DATA_OPTION_FOLLOW_SPECIFICATION);
        /* Limitation: libexif 0.6.24 stops reading a directory at an entry
         * whose data lies outside the block and loses the entries after
         * it, the EXIF sub-IFD pointer among them. */
        exif_data_load_data(exif, exif_bytes, (unsigned int)exif_size);
        fields->orientation = orientation_from_loaded(exif);
        capture_time_from_loaded(exif, fields->capture_time);
        exif_data_unref(exif);
    }
    free(with_header);
}

int image_exif_orientation(const uint8_t *data, size_t size)
{
    image_exif_fields fields;
    image_exif_read(data, size, &fields);
    return fields.orientation;
}
