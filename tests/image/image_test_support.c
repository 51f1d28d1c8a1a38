#include "image_test_support.h"

#include <math.h>
#include <dirent.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jpeglib.h>
#include <png.h>

const char *test_hard_inputs_expected_dir(void)
{
    const char *dir = getenv("PICOTAG_HARD_INPUTS");
    return dir && *dir ? dir : PICOTAG_HARD_INPUTS_DIR;
}

const char *test_hard_inputs_dir(void)
{
    const char *dir = test_hard_inputs_expected_dir();
    struct stat info;
    if (stat(dir, &info) != 0 || !S_ISDIR(info.st_mode))
        return NULL;
    return dir;
}

const char *test_input_path(const char *relative)
{
    static char path[4096];
    const char *dir = test_hard_inputs_dir();
    snprintf(path, sizeof path, "%s/%s", dir ? dir : "(missing hard-inputs)", relative);
    return path;
}

uint8_t *test_read_file(const char *path, size_t *size)
{
    FILE *file = fopen(path, "rb");
    if (!file)
        return NULL;
    uint8_t *data = NULL;
    if (fseek(file, 0, SEEK_END) == 0) {
        long length = ftell(file);
        if (length >= 0 && fseek(file, 0, SEEK_SET) == 0) {
            data = malloc((size_t)length + 1);
            if (data && fread(data, 1, (size_t)length, file) != (size_t)length) {
                free(data);
                data = NULL;
            }
            *size = (size_t)length;
        }
    }
    fclose(file);
    return data;
}

static char temp_dir[256];

/* Removes the test's temporary folder and the files written into it, at exit. */
static void remove_temp_dir(void)
{
    DIR *folder = opendir(temp_dir);
    if (folder) {
        struct dirent *entry;
        while ((entry = readdir(folder)) != NULL) {
            if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0)
                continue;
            char path[512];
            snprintf(path, sizeof path, "%s/%s", temp_dir, entry->d_name);
            unlink(path);
        }
        closedir(folder);
    }
    rmdir(temp_dir);
}

const char *test_write_temp_file(const char *name, const void *data, size_t size)
{
    static char path[512];
    if (!temp_dir[0]) {
        const char *base = getenv("TMPDIR");
        snprintf(temp_dir, sizeof temp_dir, "%s/picotag-image-test-XXXXXX", base && *base ? base : "/tmp");
        if (!mkdtemp(temp_dir)) {
            temp_dir[0] = 0;
            return NULL;
        }
        atexit(remove_temp_dir);
    }
    snprintf(path, sizeof path, "%s/%s", temp_dir, name);
    FILE *file = fopen(path, "wb");
    if (!file)
        return NULL;
    size_t written = fwrite(data, 1, size, file);
    int closed = fclose(file);
    return written == size && closed == 0 ? path : NULL;
}

/* ---- PNG writer ---------------------------------------------------------- */

typedef struct memory_sink {
    uint8_t *data;
    size_t size;
    size_t capacity;
    int failed;
} memory_sink;

static void sink_append(memory_sink *sink, const uint8_t *bytes, size_t length)
{
    if (sink->failed)
        return;
    if (sink->size + length > sink->capacity) {
        size_t capacity = sink->capacity ? sink->capacity * 2 : 4096;
        while (capacity < sink->size + length)
            capacity *= 2;
        uint8_t *grown = realloc(sink->data, capacity);
        if (!grown) {
            sink->failed = 1;
            return;
        }
        sink->data = grown;
        sink->capacity = capacity;
    }
    memcpy(sink->data + sink->size, bytes, length);
    sink->size += length;
}

static void png_write_to_sink(png_structp png, png_bytep bytes, size_t length)
{
    sink_append(png_get_io_ptr(png), bytes, length);
}

static void png_flush_nothing(png_structp png)
{
    (void)png;
}

uint8_t *test_png_encode(uint32_t width, uint32_t height, int color_type, int bit_depth,
                         const uint8_t *rows, size_t *size)
{
    memory_sink *sink = calloc(1, sizeof *sink);
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!sink || !png || !info || setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        if (sink)
            free(sink->data);
        free(sink);
        return NULL;
    }

    png_set_write_fn(png, sink, png_write_to_sink, png_flush_nothing);
    png_set_IHDR(png, info, width, height, bit_depth, color_type, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    size_t row_bytes = png_get_rowbytes(png, info);
    for (uint32_t y = 0; y < height; y++)
        png_write_row(png, rows + (size_t)y * row_bytes);
    png_write_end(png, info);
    png_destroy_write_struct(&png, &info);

    uint8_t *data = sink->failed ? NULL : sink->data;
    if (!data)
        free(sink->data);
    *size = sink->size;
    free(sink);
    return data;
}

/* ---- JPEG writer --------------------------------------------------------- */

typedef struct jpeg_writer {
    struct jpeg_compress_struct cinfo;
    struct jpeg_error_mgr error_manager;
    jmp_buf jump;
    unsigned char *buffer; /* in the heap struct so that it survives longjmp */
    unsigned long length;
} jpeg_writer;

static void jpeg_writer_on_error(j_common_ptr cinfo)
{
    jpeg_writer *writer = (jpeg_writer *)(void *)cinfo;
    longjmp(writer->jump, 1);
}

/* Fills `scans` with the script of test_jpeg_encode_many_scans; returns the
 * scan count. */
static int many_scans_script(int refinements, jpeg_scan_info *scans)
{
    int count = 0;
    for (int component = 0; component < 3; component++) {
        jpeg_scan_info dc = {1, {component, 0, 0, 0}, 0, 0, 0, 0};
        scans[count++] = dc;
        for (int coefficient = 1; coefficient < 64; coefficient++) {
            jpeg_scan_info first = {1, {component, 0, 0, 0}, coefficient, coefficient, 0, refinements};
            scans[count++] = first;
            for (int bit = refinements; bit > 0; bit--) {
                jpeg_scan_info refine = {1, {component, 0, 0, 0}, coefficient, coefficient, bit, bit - 1};
                scans[count++] = refine;
            }
        }
    }
    return count;
}

static uint8_t *jpeg_encode(uint32_t width, uint32_t height, int components, int quality,
                            const uint8_t *samples, const jpeg_scan_info *scans, int scan_count,
                            size_t *size)
{
    jpeg_writer *writer = calloc(1, sizeof *writer);
    if (!writer)
        return NULL;

    writer->cinfo.err = jpeg_std_error(&writer->error_manager);
    writer->error_manager.error_exit = jpeg_writer_on_error;
    if (setjmp(writer->jump)) {
        jpeg_destroy_compress(&writer->cinfo);
        free(writer->buffer);
        free(writer);
        return NULL;
    }

    jpeg_create_compress(&writer->cinfo);
    jpeg_mem_dest(&writer->cinfo, &writer->buffer, &writer->length);
    writer->cinfo.image_width = width;
    writer->cinfo.image_height = height;
    writer->cinfo.input_components = components;
    writer->cinfo.in_color_space = components == 1 ? JCS_GRAYSCALE
                                   : components == 4 ? JCS_CMYK
                                                     : JCS_RGB;
    jpeg_set_defaults(&writer->cinfo);
    jpeg_set_quality(&writer->cinfo, quality, TRUE);
    if (scans) {
        writer->cinfo.scan_info = scans;
        writer->cinfo.num_scans = scan_count;
    }
    jpeg_start_compress(&writer->cinfo, TRUE);
    while (writer->cinfo.next_scanline < height) {
        JSAMPROW row = (JSAMPROW)(samples + (size_t)writer->cinfo.next_scanline * width *
                                                (size_t)components);
        jpeg_write_scanlines(&writer->cinfo, &row, 1);
    }
    jpeg_finish_compress(&writer->cinfo);
    jpeg_destroy_compress(&writer->cinfo);
    unsigned char *buffer = writer->buffer;
    *size = writer->length;
    free(writer);
    return buffer;
}

uint8_t *test_jpeg_encode(uint32_t width, uint32_t height, int components, int quality,
                          const uint8_t *samples, size_t *size)
{
    return jpeg_encode(width, height, components, quality, samples, NULL, 0, size);
}

uint8_t *test_jpeg_encode_many_scans(uint32_t width, uint32_t height, const uint8_t *samples,
                                     int refinements, size_t *size)
{
    if (refinements < 0 || refinements > 10)
        return NULL;
    jpeg_scan_info *scans = malloc(3 * (1 + 63 * (size_t)(1 + refinements)) * sizeof *scans);
    if (!scans)
        return NULL;
    int scan_count = many_scans_script(refinements, scans);
    uint8_t *jpeg = jpeg_encode(width, height, 3, 90, samples, scans, scan_count, size);
    free(scans);
    return jpeg;
}

/* ---- Comparisons --------------------------------------------------------- */

double *test_grey_thumbnail(const uint8_t *rgb, int height, int width, int thumb_height,
                            int thumb_width)
{
    size_t count = (size_t)thumb_height * (size_t)thumb_width;
    uint8_t *small = malloc(count * 3);
    double *grey = malloc(count * sizeof *grey);
    if (!small || !grey ||
        picotag_image_resize_rgb8(rgb, height, width, small, thumb_height, thumb_width) !=
            PICOTAG_OK) {
        free(small);
        free(grey);
        return NULL;
    }
    for (size_t i = 0; i < count; i++)
        grey[i] = (small[i * 3] + small[i * 3 + 1] + small[i * 3 + 2]) / 3.0;
    free(small);
    return grey;
}

double test_normalized_correlation(const double *a, const double *b, size_t count)
{
    double mean_a = 0, mean_b = 0;
    for (size_t i = 0; i < count; i++) {
        mean_a += a[i];
        mean_b += b[i];
    }
    mean_a /= (double)count;
    mean_b /= (double)count;

    double product = 0, energy_a = 0, energy_b = 0;
    for (size_t i = 0; i < count; i++) {
        product += (a[i] - mean_a) * (b[i] - mean_b);
        energy_a += (a[i] - mean_a) * (a[i] - mean_a);
        energy_b += (b[i] - mean_b) * (b[i] - mean_b);
    }
    if (energy_a == 0 || energy_b == 0)
        return 0;
    return product / sqrt(energy_a * energy_b);
}

void test_transform_plane(const double *source, int height, int width, int flip_vertical,
                          int flip_horizontal, int transpose, double *out)
{
    int out_width = transpose ? height : width;
    for (int y = 0; y < height; y++) {
        for (int x = 0; x < width; x++) {
            int sy = flip_vertical ? height - 1 - y : y;
            int sx = flip_horizontal ? width - 1 - x : x;
            int oy = transpose ? x : y;
            int ox = transpose ? y : x;
            out[(size_t)oy * (size_t)out_width + (size_t)ox] =
                source[(size_t)sy * (size_t)width + (size_t)sx];
        }
    }
}

double test_mean_abs_difference(const uint8_t *a, const uint8_t *b, size_t count)
{
    double sum = 0;
    for (size_t i = 0; i < count; i++)
        sum += abs((int)a[i] - (int)b[i]);
    return count ? sum / (double)count : 0;
}

int test_max_abs_difference(const uint8_t *a, const uint8_t *b, size_t count)
{
    int largest = 0;
    for (size_t i = 0; i < count; i++) {
        int difference = abs((int)a[i] - (int)b[i]);
        if (difference > largest)
            largest = difference;
    }
    return largest;
}
