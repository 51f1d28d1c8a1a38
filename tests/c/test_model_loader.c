/*
 * Model loader: a valid file loads; every kind of damage is rejected with
 * its own message naming the file, the field and the bad value. Most
 * damaged files are resealed with a fresh checksum ("lying" files), so
 * that the structural checks, not the checksum, must catch them.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "picotag.h"
#include "test_check.h"
#include "test_model_writer.h"

#define MODEL_NAME "model.ptm"

static test_model *description;
static test_model_file pristine;

static test_model_file copy_of(const test_model_file *source) {
    test_model_file copy = *source;
    copy.bytes = malloc(source->size);
    memcpy(copy.bytes, source->bytes, source->size);
    return copy;
}

static test_model_file fresh_copy(void) {
    return copy_of(&pristine);
}

static picotag_status load_bytes(const uint8_t *bytes, size_t size, picotag_error *error) {
    picotag_model *model = NULL;
    const picotag_status status = picotag_model_load_memory(bytes, size, MODEL_NAME, &model, error);
    picotag_model_free(model);
    return status;
}

/* Loads the file and checks the status and that the message starts with
 * the file name and contains `needle`. Frees the file. */
static void check_rejected(test_model_file *file, int reseal, picotag_status expected,
                           const char *needle, int line) {
    if (reseal) {
        tm_reseal(file);
    }
    picotag_error error;
    memset(&error, 0, sizeof(error));
    const picotag_status status = load_bytes(file->bytes, file->size, &error);
    if (!test_check_status(expected, status, error.message, __FILE__, line)) {
        tm_file_free(file);
        return;
    }
    test_check_contains(error.message, MODEL_NAME ": ", __FILE__, line);
    test_check_contains(error.message, needle, __FILE__, line);
    tm_file_free(file);
}

#define EXPECT_REJECTED(file, needle) check_rejected(&(file), 1, PICOTAG_ERROR_FORMAT, (needle), __LINE__)

static void check_loads(test_model_file *file, int line) {
    tm_reseal(file);
    picotag_error error = {{0}};
    const picotag_status status = load_bytes(file->bytes, file->size, &error);
    test_check_status(PICOTAG_OK, status, error.message, __FILE__, line);
    tm_file_free(file);
}

#define EXPECT_LOADS(file) check_loads(&(file), __LINE__)

/* Serializes a model description and checks that loading fails with `needle`. */
static void check_description_rejected(test_model *model, const char *needle, int line) {
    test_model_file file;
    tm_serialize(model, &file);
    check_rejected(&file, 0, PICOTAG_ERROR_FORMAT, needle, line);
    tm_destroy(model);
}

#define EXPECT_DESCRIPTION_REJECTED(model, needle) check_description_rejected((model), (needle), __LINE__)

static uint64_t word_at(uint32_t op, uint32_t word) {
    return tm_op_word_offset(&pristine, op, word);
}

/* Offset of element `index` of the I32 tensor that word `word` of op `op` names. */
static uint64_t i32_element(uint32_t op, uint32_t word, uint32_t index) {
    return pristine.tensor_offset[description->ops[op][word]] + 4 * (uint64_t)index;
}

/* ---- A valid file ---------------------------------------------------- */

static void valid_model_loads_with_its_fields(void) {
    picotag_model *model = NULL;
    picotag_error error;
    CHECK_STATUS(PICOTAG_OK, picotag_model_load_memory(pristine.bytes, pristine.size, MODEL_NAME, &model, &error),
                 error.message);
    if (model == NULL) {
        return;
    }
    CHECK_EQ(5, picotag_model_class_count(model));
    CHECK_CONTAINS(picotag_model_label(model, 1)->name_en, "bicycle");
    CHECK_CONTAINS(picotag_model_label(model, 4)->name_ko, "고양이");
    CHECK_CONTAINS(picotag_model_label(model, 3)->group_ko, "동물");
    CHECK_EQ(-300, picotag_model_label(model, 2)->threshold);
    CHECK(picotag_model_label(model, 5) == NULL);
    CHECK(picotag_model_label(model, -1) == NULL);

    const picotag_preprocess *pre = picotag_model_preprocess(model);
    CHECK_EQ(32, pre->input_height);
    CHECK_EQ(36, pre->resize_short);
    CHECK_EQ(124, pre->zero_point[0]);
    CHECK_EQ(104, pre->zero_point[2]);

    CHECK_CONTAINS(picotag_model_meta(model, "arch"), "resnet18-w32");
    CHECK(picotag_model_meta(model, "teacher") == NULL);
    CHECK_EQ(4, picotag_model_meta_count(model));
    const char *key = NULL, *value = NULL;
    picotag_model_meta_entry(model, 1, &key, &value);
    CHECK_CONTAINS(key, "created");
    picotag_model_meta_entry(model, 9, &key, &value);
    CHECK(key == NULL);
    CHECK(value == NULL);

    /* Weights: 8*3*3*3 + 8*3*3*8 * 2 + 16*8 + 16*3*3*8 + 16*3*3*16 + 5*16;
     * biases: 8 + 8 + 8 + 16 + 16 + 16 + 5. */
    picotag_model_summary summary;
    picotag_model_summarize(model, &summary);
    const uint64_t weights = 216 + 576 * 2 + 128 + 1152 + 2304 + 80;
    CHECK_EQ(9, summary.op_count);
    CHECK_EQ(6, summary.conv_count);
    CHECK_EQ(weights, summary.weight_bytes);
    CHECK_EQ(weights + 77, summary.parameter_count);
    CHECK_EQ(pristine.size, summary.file_bytes);
    CHECK_EQ(1, summary.format_version);
    picotag_model_free(model);
}

static void valid_model_loads_from_a_file(void) {
    char path[] = "/tmp/picotag-loader-XXXXXX";
    const int fd = mkstemp(path);
    CHECK(fd >= 0);
    close(fd);
    CHECK_EQ(0, tm_write_file(&pristine, path));
    picotag_model *model = NULL;
    picotag_error error;
    CHECK_STATUS(PICOTAG_OK, picotag_model_load(path, &model, &error), error.message);
    CHECK_EQ(5, picotag_model_class_count(model));
    picotag_model_free(model);
    unlink(path);
}

static void trailing_zero_padding_is_accepted(void) {
    test_model_file file = fresh_copy();
    file.bytes = realloc(file.bytes, file.size + 64);
    memset(file.bytes + file.size, 0, 64);
    file.size += 64;
    tm_put_u64(&file, 16, file.size);
    EXPECT_LOADS(file);
}

/* ---- Header ----------------------------------------------------------- */

static void header_fields_get_their_own_messages(void) {
    typedef struct header_case {
        uint64_t offset;
        int width;            /* bytes */
        uint64_t value;
        picotag_status status;
        const char *needle;
    } header_case;
    const uint64_t size = pristine.size;
    const header_case cases[] = {
        {0, 1, 'Q', PICOTAG_ERROR_FORMAT, "bad magic 51 49 43 4f 54 41 47 00"},
        {7, 1, '!', PICOTAG_ERROR_FORMAT, "not a picotag model file"},
        {8, 4, 2, PICOTAG_ERROR_UNSUPPORTED, "format version 2 is not supported"},
        {8, 4, 0, PICOTAG_ERROR_UNSUPPORTED, "format version 0 is not supported"},
        {12, 4, 65, PICOTAG_ERROR_FORMAT, "header_size is 65, expected 64"},
        {16, 8, size + 64, PICOTAG_ERROR_FORMAT, "header file_size is"},
        {16, 8, size - 1, PICOTAG_ERROR_FORMAT, "the file is truncated or has extra bytes"},
        {28, 4, 0, PICOTAG_ERROR_FORMAT, "section_count 0 is out of range (1 to 64)"},
        {28, 4, 65, PICOTAG_ERROR_FORMAT, "section_count 65 is out of range"},
        {32, 8, 68, PICOTAG_ERROR_FORMAT, "section_table_offset 68 is not a multiple of 8"},
        {32, 8, 0, PICOTAG_ERROR_FORMAT, "section_table_offset 0 overlaps the 64-byte header"},
        {32, 8, 56, PICOTAG_ERROR_FORMAT, "section_table_offset 56 overlaps the 64-byte header"},
        {32, 8, (size - 8) & ~(uint64_t)7, PICOTAG_ERROR_FORMAT, "extends past the end of the file"},
        {32, 8, UINT64_MAX - 7, PICOTAG_ERROR_FORMAT, "section table (8 entries of 24 bytes at offset 18446744073709551608)"},
        {40, 1, 1, PICOTAG_ERROR_FORMAT, "header reserved byte at offset 40 is 0x01"},
        {63, 1, 0x80, PICOTAG_ERROR_FORMAT, "header reserved byte at offset 63 is 0x80"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        test_model_file file = fresh_copy();
        if (cases[i].width == 1) {
            file.bytes[cases[i].offset] = (uint8_t)cases[i].value;
        } else if (cases[i].width == 4) {
            tm_put_u32(&file, cases[i].offset, (uint32_t)cases[i].value);
        } else {
            tm_put_u64(&file, cases[i].offset, cases[i].value);
        }
        check_rejected(&file, 1, cases[i].status, cases[i].needle, __LINE__);
    }
}

static void checksum_mismatch_names_both_values(void) {
    test_model_file file = fresh_copy();
    const uint32_t stored = tm_get_u32(&file, 24);
    tm_put_u32(&file, 24, stored ^ 0x00010000u);
    char needle[96];
    snprintf(needle, sizeof(needle), "checksum mismatch (stored 0x%08x, computed 0x%08x)", stored ^ 0x00010000u,
             stored);
    check_rejected(&file, 0, PICOTAG_ERROR_FORMAT, needle, __LINE__);
}

/* ---- Section table ---------------------------------------------------- */

static void section_table_damage_gets_its_own_messages(void) {
    const uint64_t ops_entry = tm_section_entry_offset(&pristine, TM_OPS);
    const uint64_t ops_offset = pristine.section_offset[TM_OPS];
    const uint64_t ops_size = pristine.section_size[TM_OPS];
    test_model_file file;

    file = fresh_copy();
    tm_put_u32(&file, ops_entry, 9);
    EXPECT_REJECTED(file, "section table entry 2 has unknown type 9");

    file = fresh_copy();
    tm_put_u32(&file, ops_entry, 0);
    EXPECT_REJECTED(file, "section table entry 2 has unknown type 0");

    file = fresh_copy();
    tm_put_u32(&file, ops_entry + 4, 5);
    EXPECT_REJECTED(file, "section table entry 2 (OPS): reserved field is 0x00000005, expected 0");

    file = fresh_copy();
    tm_put_u32(&file, tm_section_entry_offset(&pristine, TM_TENSORS), TM_OPS);
    EXPECT_REJECTED(file, "section table entry 3 (OPS): duplicate section type; section 2 has the same type");

    file = fresh_copy();
    tm_put_u32(&file, 28, 7);
    EXPECT_REJECTED(file, "section META (type 8) is missing");

    file = fresh_copy();
    tm_put_u64(&file, ops_entry + 8, ops_offset + 8);
    char needle[128];
    snprintf(needle, sizeof(needle), "section table entry 2 (OPS): offset %llu is not a multiple of 64",
             (unsigned long long)(ops_offset + 8));
    EXPECT_REJECTED(file, needle);

    file = fresh_copy();
    tm_put_u64(&file, ops_entry + 16, pristine.size);
    EXPECT_REJECTED(file, "section table entry 2 (OPS): offset");
    file = fresh_copy();
    tm_put_u64(&file, ops_entry + 16, pristine.size);
    EXPECT_REJECTED(file, "extends past the end of the file");

    /* offset + size wraps around 2^64. */
    file = fresh_copy();
    tm_put_u64(&file, ops_entry + 8, UINT64_C(0xFFFFFFFFFFFFFFC0));
    EXPECT_REJECTED(file, "offset 18446744073709551552 + size");

    file = fresh_copy();
    tm_put_u64(&file, ops_entry + 16, ops_size + 1);
    snprintf(needle, sizeof(needle), "section table entry 2 (OPS): size %llu is not a multiple of the 128-byte record",
             (unsigned long long)(ops_size + 1));
    EXPECT_REJECTED(file, needle);

    file = fresh_copy();
    tm_put_u64(&file, tm_section_entry_offset(&pristine, TM_PREPROCESS) + 16, 128);
    EXPECT_REJECTED(file, "section table entry 0 (PREPROCESS): size 128, expected 64 (one record)");
}

static void overlapping_sections_are_rejected(void) {
    test_model_file file = fresh_copy();
    tm_put_u64(&file, tm_section_entry_offset(&pristine, TM_OPS) + 8, pristine.section_offset[TM_VALUES]);
    EXPECT_REJECTED(file, "overlaps section table entry 1 (VALUES)");

    file = fresh_copy();
    tm_put_u64(&file, tm_section_entry_offset(&pristine, TM_OPS) + 8, 64);
    EXPECT_REJECTED(file, "section table entry 2 (OPS) at bytes [64, ");
    file = fresh_copy();
    tm_put_u64(&file, tm_section_entry_offset(&pristine, TM_OPS) + 8, 64);
    EXPECT_REJECTED(file, "overlaps the section table");

    file = fresh_copy();
    tm_put_u64(&file, tm_section_entry_offset(&pristine, TM_DATA) + 8, 0);
    EXPECT_REJECTED(file, "overlaps the header");
}

static void non_zero_padding_is_rejected(void) {
    /* VALUES (10 records of 16 bytes) ends before the next multiple of 64. */
    const uint64_t values_end = pristine.section_offset[TM_VALUES] + pristine.section_size[TM_VALUES];
    CHECK(values_end % 64 != 0);
    test_model_file file = fresh_copy();
    file.bytes[values_end + 3] = 0x5A;
    char needle[128];
    snprintf(needle, sizeof(needle), "padding byte at offset %llu after section table entry 1 (VALUES) is 0x5a",
             (unsigned long long)(values_end + 3));
    EXPECT_REJECTED(file, needle);

    /* Shrinking OPS by one record leaves that record's bytes as padding. */
    file = fresh_copy();
    tm_put_u64(&file, tm_section_entry_offset(&pristine, TM_OPS) + 16, pristine.section_size[TM_OPS] - 128);
    EXPECT_REJECTED(file, "after section table entry 2 (OPS)");

    file = fresh_copy();
    file.bytes = realloc(file.bytes, file.size + 64);
    memset(file.bytes + file.size, 0, 64);
    file.bytes[file.size + 10] = 1;
    file.size += 64;
    tm_put_u64(&file, 16, file.size);
    EXPECT_REJECTED(file, "after section table entry 7 (META) is 0x01");
}

/* ---- PREPROCESS -------------------------------------------------------- */

static void preprocess_fields_are_validated(void) {
    const uint64_t pre = pristine.section_offset[TM_PREPROCESS];
    test_model_file file;

    file = fresh_copy();
    tm_put_u32(&file, pre + 0, 7);
    EXPECT_REJECTED(file, "PREPROCESS: input_height 7 is out of range (8 to 4096 pixels)");
    file = fresh_copy();
    tm_put_u32(&file, pre + 4, 4097);
    EXPECT_REJECTED(file, "PREPROCESS: input_width 4097 is out of range");
    file = fresh_copy();
    tm_put_u32(&file, pre + 8, 3);
    EXPECT_REJECTED(file, "PREPROCESS: resize_mode 3 is unknown");
    file = fresh_copy();
    tm_put_u32(&file, pre + 12, 31);
    EXPECT_REJECTED(file, "PREPROCESS: resize_short 31 is smaller than the input size 32x32");
    file = fresh_copy();
    tm_put_u32(&file, pre + 8, 2);
    EXPECT_REJECTED(file, "PREPROCESS: resize_short is 36, expected 0 for resize mode 2");
    file = fresh_copy();
    tm_put_u32(&file, pre + 8, 2);
    tm_put_u32(&file, pre + 12, 0);
    EXPECT_LOADS(file);
    file = fresh_copy();
    tm_put_u32(&file, pre + 16, 2);
    EXPECT_REJECTED(file, "PREPROCESS: interpolation 2 is unknown");
    file = fresh_copy();
    tm_put_u32(&file, pre + 20, 0);
    EXPECT_REJECTED(file, "PREPROCESS: channel_order 0 is unknown (1 = RGB)");
    file = fresh_copy();
    file.bytes[pre + 27] = 9;
    EXPECT_REJECTED(file, "PREPROCESS: fourth zero point byte is 0x09");
    file = fresh_copy();
    tm_put_f32(&file, pre + 28, NAN);
    EXPECT_REJECTED(file, "PREPROCESS: mean of channel R is nan");
    file = fresh_copy();
    tm_put_f32(&file, pre + 44, 0.0f);
    EXPECT_REJECTED(file, "PREPROCESS: std of channel G is 0");
    file = fresh_copy();
    tm_put_f32(&file, pre + 48, -0.5f);
    EXPECT_REJECTED(file, "PREPROCESS: std of channel B is -0.5");
    file = fresh_copy();
    tm_put_f32(&file, pre + 40, INFINITY);
    EXPECT_REJECTED(file, "PREPROCESS: std of channel R is inf");
    file = fresh_copy();
    file.bytes[pre + 25] = 200;
    EXPECT_REJECTED(file, "PREPROCESS: zero point 200 of channel G does not match mean");
    file = fresh_copy();
    file.bytes[pre + 63] = 1;
    EXPECT_REJECTED(file, "PREPROCESS: reserved byte 63 is 0x01");
    file = fresh_copy();
    file.bytes[pre + 56] = 1;
    EXPECT_REJECTED(file, "PREPROCESS: reserved byte 56 is 0x01");
}

/* Bytes 52-55 hold the test-time views: u8 flip, u8 grid, u16 crop. */
static void preprocess_views_are_checked(void) {
    const size_t pre = pristine.section_offset[TM_PREPROCESS];
    static const struct {
        uint8_t flip;
        uint8_t grid;
        uint16_t crop_permille;
        const char *message;
    } invalid[] = {
        {2, 0, 0, "PREPROCESS: view_flip 2 is unknown (0 or 1)"},
        {0, 5, 700, "PREPROCESS: view_grid 5 is over 4"},
        {0, 0, 700, "PREPROCESS: view_crop_permille is 700, expected 0 without a view grid"},
        {0, 2, 0, "PREPROCESS: view_crop_permille 0 is out of range (100 to 999)"},
        {0, 2, 1000, "PREPROCESS: view_crop_permille 1000 is out of range (100 to 999)"},
    };
    for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
        test_model_file bad = fresh_copy();
        bad.bytes[pre + 52] = invalid[i].flip;
        bad.bytes[pre + 53] = invalid[i].grid;
        bad.bytes[pre + 54] = (uint8_t)(invalid[i].crop_permille & 0xff); /* little-endian u16 */
        bad.bytes[pre + 55] = (uint8_t)(invalid[i].crop_permille >> 8);
        EXPECT_REJECTED(bad, invalid[i].message);
    }

    test_model_file file = fresh_copy();
    file.bytes[pre + 52] = 1;
    file.bytes[pre + 53] = 3;
    file.bytes[pre + 54] = 0xf4; /* 500 */
    file.bytes[pre + 55] = 0x01;
    tm_reseal(&file);
    picotag_model *model = NULL;
    picotag_error error = {{0}};
    const picotag_status status =
        picotag_model_load_memory(file.bytes, file.size, MODEL_NAME, &model, &error);
    if (test_check_status(PICOTAG_OK, status, error.message, __FILE__, __LINE__)) {
        const picotag_preprocess *p = picotag_model_preprocess(model);
        CHECK_EQ(1, (int)p->view_flip);
        CHECK_EQ(3, (int)p->view_grid);
        CHECK_EQ(500, (int)p->view_crop_permille);
        CHECK_EQ(20, picotag_preprocess_view_count(p));
    }
    picotag_model_free(model);
    tm_file_free(&file);
}

/* ---- STRINGS ----------------------------------------------------------- */

static void strings_must_end_with_nul(void) {
    test_model_file file = fresh_copy();
    file.bytes[pristine.section_offset[TM_STRINGS] + pristine.section_size[TM_STRINGS] - 1] = 'x';
    EXPECT_REJECTED(file, "section table entry 6 (STRINGS) ends with byte 0x78, expected a NUL byte");
}

/* ---- TENSORS ----------------------------------------------------------- */

static void tensor_descriptors_are_validated(void) {
    const uint64_t t0 = tm_tensor_record_offset(&pristine, 0);   /* stem weight, I8 [8,3,3,3] */
    const uint64_t t1 = tm_tensor_record_offset(&pristine, 1);   /* stem bias, I32 [8] */
    test_model_file file;

    file = fresh_copy();
    tm_put_u32(&file, t0, 5);
    EXPECT_REJECTED(file, "tensor 0: dtype 5 is unknown (1 = U8, 2 = I8, 3 = I32)");
    file = fresh_copy();
    tm_put_u32(&file, t0 + 4, 0);
    EXPECT_REJECTED(file, "tensor 0: ndim 0 is out of range (1 to 4)");
    file = fresh_copy();
    tm_put_u32(&file, t0 + 4, 5);
    EXPECT_REJECTED(file, "tensor 0: ndim 5 is out of range");
    file = fresh_copy();
    tm_put_u32(&file, t0 + 12, 0);
    EXPECT_REJECTED(file, "tensor 0: dims[1] is 0, out of range (1 to 1048576)");
    file = fresh_copy();
    tm_put_u32(&file, t0 + 8, (1u << 20) + 1);
    EXPECT_REJECTED(file, "tensor 0: dims[0] is 1048577");
    file = fresh_copy();
    tm_put_u32(&file, t1 + 16, 5);
    EXPECT_REJECTED(file, "tensor 1: dims[2] is 5, expected 0 beyond ndim 1");
    file = fresh_copy();
    for (int d = 0; d < 4; d++) {
        tm_put_u32(&file, t0 + 8 + 4 * (uint64_t)d, 1u << 20);
    }
    EXPECT_REJECTED(file, "tensor 0: shape [1048576,1048576,1048576,1048576] of I8 needs more bytes than DATA holds");
    file = fresh_copy();
    tm_put_u64(&file, t0 + 32, 217);
    EXPECT_REJECTED(file, "tensor 0: nbytes is 217, expected 216 for shape [8,3,3,3] of I8");
    file = fresh_copy();
    tm_put_u64(&file, t1 + 32, 8);
    EXPECT_REJECTED(file, "tensor 1: nbytes is 8, expected 32 for shape [8] of I32");
    file = fresh_copy();
    tm_put_u64(&file, t0 + 24, 1);
    EXPECT_REJECTED(file, "tensor 0: offset 1 in DATA is not a multiple of 64");
    file = fresh_copy();
    tm_put_u64(&file, t0 + 24, (pristine.section_size[TM_DATA] + 63) & ~(uint64_t)63);
    EXPECT_REJECTED(file, "+ nbytes 216 lies outside DATA");
    file = fresh_copy();
    tm_put_u64(&file, t0 + 24, UINT64_C(0xFFFFFFFFFFFFFFC0));
    EXPECT_REJECTED(file, "tensor 0: offset 18446744073709551552 + nbytes 216 lies outside DATA");
    file = fresh_copy();
    tm_put_u64(&file, t1 + 24, 0);
    EXPECT_REJECTED(file, "tensor 1 at DATA bytes [0, 32) overlaps tensor 0 at [0, 216)");
    file = fresh_copy();
    file.bytes[t0 + 47] = 2;
    EXPECT_REJECTED(file, "tensor 0: reserved byte 47 is 0x02");
}

static void unreferenced_tensor_is_rejected(void) {
    test_model *model = tm_mini_resnet(1);
    const uint32_t dims[1] = {4};
    const int32_t data[4] = {1, 2, 3, 4};
    const uint32_t extra = tm_add_tensor(model, TM_I32, 1, dims, data);
    char needle[64];
    snprintf(needle, sizeof(needle), "tensor %u is not referenced by any operator", extra);
    EXPECT_DESCRIPTION_REJECTED(model, needle);
}

/* ---- VALUES ------------------------------------------------------------ */

static void value_records_are_validated(void) {
    const uint64_t v0 = tm_value_offset(&pristine, 0);
    const uint64_t v1 = tm_value_offset(&pristine, 1);
    test_model_file file;

    file = fresh_copy();
    tm_put_u32(&file, v1, 4);
    EXPECT_REJECTED(file, "value 1: dtype 4 is unknown");
    file = fresh_copy();
    tm_put_u32(&file, v1 + 4, 0);
    EXPECT_REJECTED(file, "value 1: channels 0 is out of range (1 to 65536)");
    file = fresh_copy();
    tm_put_u32(&file, v1 + 4, 65537);
    EXPECT_REJECTED(file, "value 1: channels 65537 is out of range");
    const float bad_steps[] = {NAN, INFINITY, 0.0f, -1.0f};
    const char *const step_needles[] = {"value 1: step nan", "value 1: step inf", "value 1: step 0 ",
                                        "value 1: step -1 "};
    for (int i = 0; i < 4; i++) {
        file = fresh_copy();
        tm_put_f32(&file, v1 + 8, bad_steps[i]);
        EXPECT_REJECTED(file, step_needles[i]);
    }
    file = fresh_copy();
    tm_put_u32(&file, v1 + 12, 3);
    EXPECT_REJECTED(file, "value 1: reserved field is 0x00000003");
    file = fresh_copy();
    tm_put_u32(&file, v0, TM_I8);
    EXPECT_REJECTED(file, "value 0 (the image) is I8 with 3 channels, expected U8 with 3");
    file = fresh_copy();
    tm_put_u32(&file, v0 + 4, 4);
    EXPECT_REJECTED(file, "value 0 (the image) is U8 with 4 channels");
}

static void i32_value_other_than_logits_is_rejected(void) {
    test_model *model = tm_mini_resnet(1);
    tm_add_value(model, TM_I32, 5);
    EXPECT_DESCRIPTION_REJECTED(model, "value 10 is I32, which only the logits (value 9, the FULLY_CONNECTED output) may be");

    test_model_file file = fresh_copy();
    tm_put_u32(&file, tm_value_offset(&pristine, 5), TM_I32);
    EXPECT_REJECTED(file, "op 4 (CONV2D): output value 5 is I32, expected U8 or I8");
}

/* ---- OPS: graph structure ---------------------------------------------- */

static void op_graph_damage_is_rejected(void) {
    test_model_file file;

    file = fresh_copy();
    tm_put_u32(&file, word_at(2, 0), 9);
    EXPECT_REJECTED(file, "op 2: op_type 9 is unknown (1 = CONV2D, 2 = MAXPOOL, 3 = GLOBAL_AVGPOOL, 4 = FULLY_CONNECTED)");
    file = fresh_copy();
    tm_put_u32(&file, word_at(2, 20), 1);
    EXPECT_REJECTED(file, "op 2 (CONV2D): reserved word 20 is 0x00000001, expected 0");
    file = fresh_copy();
    tm_put_u32(&file, word_at(2, 1), 99);
    EXPECT_REJECTED(file, "op 2 (CONV2D): input value 99 does not exist (the model has 10 values)");
    file = fresh_copy();
    tm_put_u32(&file, word_at(2, 1), TM_NONE);
    EXPECT_REJECTED(file, "input value 4294967295 does not exist");
    file = fresh_copy();
    tm_put_u32(&file, word_at(0, 1), 3);
    EXPECT_REJECTED(file, "op 0 (CONV2D): reads input value 3, which no earlier operator writes");
    file = fresh_copy();
    tm_put_u32(&file, word_at(2, 2), 2);
    EXPECT_REJECTED(file, "op 2 (CONV2D): writes value 2, which op 1 already writes");
    file = fresh_copy();
    tm_put_u32(&file, word_at(2, 2), 0);
    EXPECT_REJECTED(file, "op 2 (CONV2D): writes value 0, the input image");
    file = fresh_copy();
    tm_put_u32(&file, word_at(2, 2), 10);
    EXPECT_REJECTED(file, "op 2 (CONV2D): output value 10 does not exist");
    file = fresh_copy();
    tm_put_u32(&file, word_at(3, 3), 7);
    EXPECT_REJECTED(file, "op 3 (CONV2D): reads residual value 7, which no earlier operator writes");
    file = fresh_copy();
    tm_put_u32(&file, word_at(5, 1), 5);
    EXPECT_REJECTED(file, "op 5 (CONV2D): input value 5 is I8, expected U8");
}

static void missing_or_misplaced_classifier_is_rejected(void) {
    test_model *model = tm_mini_resnet(1);
    model->op_count--;  /* drop the FULLY_CONNECTED */
    EXPECT_DESCRIPTION_REJECTED(model, "the last operator, op 7, is GLOBAL_AVGPOOL; the model must end with FULLY_CONNECTED");

    model = tm_mini_resnet(1);
    const uint32_t extra = tm_add_value(model, TM_U8, 16);
    tm_add_maxpool(model, 8, extra, 1, 1, 0);
    EXPECT_DESCRIPTION_REJECTED(model, "op 8 (FULLY_CONNECTED): is not the last operator (the model has 10 operators)");

    model = tm_mini_resnet(1);
    model->op_count = 0;
    EXPECT_DESCRIPTION_REJECTED(model, "section table entry 2 (OPS) is empty");

    test_model_file file = fresh_copy();
    tm_put_u32(&file, word_at(8, 1), 4);
    EXPECT_REJECTED(file, "op 8 (FULLY_CONNECTED): input value 4 is CONV2D, expected the output of a GLOBAL_AVGPOOL");
    file = fresh_copy();
    tm_put_u32(&file, tm_value_offset(&pristine, 9), TM_U8);
    EXPECT_REJECTED(file, "op 8 (FULLY_CONNECTED): output value 9 is U8, expected I32");
}

static void too_many_classes_are_rejected(void) {
    test_model *model = tm_create(3);
    const uint32_t pooled = tm_add_value(model, TM_U8, 3);
    const uint32_t logits = tm_add_value(model, TM_I32, PICOTAG_MAX_CLASSES + 1);
    tm_add_global_avgpool(model, 0, pooled, 1u << 30, 31);
    tm_add_fully_connected(model, pooled, logits);
    for (int k = 0; k <= PICOTAG_MAX_CLASSES; k++) {
        tm_add_label(model, "c", "씨", "", "", 0, 1.0f);
    }
    EXPECT_DESCRIPTION_REJECTED(model, "output value 2 has 4097 classes, more than PICOTAG_MAX_CLASSES (4096)");
}

/* ---- OPS: windows, tensors and their contents --------------------------- */

static void op_windows_are_validated(void) {
    test_model_file file;
    file = fresh_copy();
    tm_put_u32(&file, word_at(2, 4), 12);
    EXPECT_REJECTED(file, "op 2 (CONV2D): kernel_h 12 is out of range (1 to 11)");
    file = fresh_copy();
    tm_put_u32(&file, word_at(1, 5), 0);
    EXPECT_REJECTED(file, "op 1 (MAXPOOL): kernel_w 0 is out of range");
    file = fresh_copy();
    tm_put_u32(&file, word_at(2, 7), 5);
    EXPECT_REJECTED(file, "op 2 (CONV2D): stride_w 5 is out of range (1 to 4)");
    file = fresh_copy();
    tm_put_u32(&file, word_at(2, 8), 3);
    EXPECT_REJECTED(file, "op 2 (CONV2D): pad_h 3 is out of range (0 to kernel_h - 1 = 2)");
    file = fresh_copy();
    tm_put_u32(&file, word_at(7, 4), 3);
    EXPECT_REJECTED(file, "op 7 (GLOBAL_AVGPOOL): kernel_h must be 0 for this operator, found 3");
    file = fresh_copy();
    tm_put_u32(&file, word_at(8, 9), 1);
    EXPECT_REJECTED(file, "op 8 (FULLY_CONNECTED): pad_w must be 0 for this operator, found 1");
}

static void op_tensor_references_are_validated(void) {
    const uint32_t op2_weight = description->ops[2][10];
    const uint32_t op5_weight = description->ops[5][10];
    char needle[160];
    test_model_file file;

    file = fresh_copy();
    tm_put_u32(&file, word_at(2, 10), TM_NONE);
    EXPECT_REJECTED(file, "op 2 (CONV2D): weight tensor is NONE, expected I8 [8,3,3,8]");
    file = fresh_copy();
    tm_put_u32(&file, word_at(2, 10), 999);
    EXPECT_REJECTED(file, "op 2 (CONV2D): weight tensor 999 does not exist");
    file = fresh_copy();
    tm_put_u32(&file, word_at(2, 10), op5_weight);
    snprintf(needle, sizeof(needle), "op 2 (CONV2D): weight tensor %u has shape [16,3,3,8], expected [8,3,3,8]",
             op5_weight);
    EXPECT_REJECTED(file, needle);
    file = fresh_copy();
    tm_put_u32(&file, word_at(2, 11), op2_weight);
    snprintf(needle, sizeof(needle), "op 2 (CONV2D): bias tensor %u has dtype I8, expected I32", op2_weight);
    EXPECT_REJECTED(file, needle);
    file = fresh_copy();
    tm_put_u32(&file, word_at(8, 10), op5_weight);
    EXPECT_REJECTED(file, "op 8 (FULLY_CONNECTED): weight tensor");
    file = fresh_copy();
    tm_put_u32(&file, word_at(8, 12), description->ops[2][12]);
    EXPECT_REJECTED(file, "op 8 (FULLY_CONNECTED): multiplier tensor must be NONE for this operator");
    file = fresh_copy();
    tm_put_u32(&file, word_at(1, 10), 0);
    EXPECT_REJECTED(file, "op 1 (MAXPOOL): weight tensor must be NONE for this operator, found 0");
    file = fresh_copy();
    tm_put_u32(&file, word_at(1, 16), 5);
    EXPECT_REJECTED(file, "op 1 (MAXPOOL): m0 must be 0 for this operator, found 5");
    file = fresh_copy();
    tm_put_u32(&file, tm_value_offset(&pristine, 2) + 4, 16);
    EXPECT_REJECTED(file, "op 1 (MAXPOOL): output value 2 has 16 channels, expected 8 (the input's)");
}

static void requantization_parameters_are_validated(void) {
    char needle[160];
    test_model_file file;

    file = fresh_copy();
    tm_put_u32(&file, i32_element(2, 12, 3), (uint32_t)-5);
    snprintf(needle, sizeof(needle), "op 2 (CONV2D): multiplier tensor %u: channel 3 has -5, expected 0 <= m < 2^31",
             description->ops[2][12]);
    EXPECT_REJECTED(file, needle);
    file = fresh_copy();
    tm_put_u32(&file, i32_element(2, 14, 0), 0);
    snprintf(needle, sizeof(needle), "op 2 (CONV2D): shift tensor %u: channel 0 has 0, expected 1 to 62",
             description->ops[2][14]);
    EXPECT_REJECTED(file, needle);
    file = fresh_copy();
    tm_put_u32(&file, i32_element(2, 14, 7), 63);
    EXPECT_REJECTED(file, "channel 7 has 63, expected 1 to 62");
    file = fresh_copy();
    tm_put_u32(&file, i32_element(3, 13, 1), 0x80000000u);
    EXPECT_REJECTED(file, "op 3 (CONV2D): residual multiplier tensor");

    file = fresh_copy();
    tm_put_u32(&file, word_at(7, 16), 0x80000000u);
    EXPECT_REJECTED(file, "op 7 (GLOBAL_AVGPOOL): m0 2147483648 is out of range (0 <= m0 < 2^31)");
    file = fresh_copy();
    tm_put_u32(&file, word_at(7, 17), 0);
    EXPECT_REJECTED(file, "op 7 (GLOBAL_AVGPOOL): s0 0 is out of range (1 to 40)");
    file = fresh_copy();
    tm_put_u32(&file, word_at(7, 17), 41);
    EXPECT_REJECTED(file, "op 7 (GLOBAL_AVGPOOL): s0 41 is out of range");
}

static void residual_references_are_validated(void) {
    test_model_file file;
    file = fresh_copy();
    tm_put_u32(&file, word_at(6, 3), 4);
    EXPECT_REJECTED(file, "op 6 (CONV2D): residual value 4 has 8 channels, expected 16 (the output's)");
    file = fresh_copy();
    tm_put_u32(&file, word_at(3, 13), TM_NONE);
    EXPECT_REJECTED(file, "op 3 (CONV2D): residual multiplier tensor is NONE, expected I32 [8]");
    file = fresh_copy();
    tm_put_u32(&file, word_at(2, 13), description->ops[3][13]);
    EXPECT_REJECTED(file, "op 2 (CONV2D): residual multiplier tensor must be NONE for this operator");
}

static void zero_point_tensor_only_for_image_input(void) {
    char needle[160];
    test_model_file file;
    file = fresh_copy();
    tm_put_u32(&file, word_at(0, 15), TM_NONE);
    EXPECT_REJECTED(file, "op 0 (CONV2D): input zero point tensor is NONE, expected U8 [3]");
    file = fresh_copy();
    tm_put_u32(&file, word_at(2, 15), description->ops[0][15]);
    EXPECT_REJECTED(file, "op 2 (CONV2D): input zero point tensor must be NONE for this operator");
    file = fresh_copy();
    file.bytes[pristine.tensor_offset[description->ops[0][15]] + 1] = 117;
    snprintf(needle, sizeof(needle), "op 0 (CONV2D): input zero point tensor %u: channel 1 is 117, but PREPROCESS gives 116",
             description->ops[0][15]);
    EXPECT_REJECTED(file, needle);
}

/* Returns sum |w| over output channel `channel` of the weight tensor of op `op`. */
static int64_t absolute_weight_sum(uint32_t op, uint32_t channel) {
    const tm_tensor *weight = &description->tensors[description->ops[op][10]];
    const size_t per_channel = weight->nbytes / weight->dims[0];
    int64_t sum = 0;
    for (size_t i = 0; i < per_channel; i++) {
        const int8_t w = (int8_t)weight->data[channel * per_channel + i];
        sum += w < 0 ? -w : w;
    }
    return sum;
}

/* |bias| + 255 * sum |w| < 2^31: the largest allowed bias loads, one more
 * is rejected, for both signs, for a convolution and the classifier. */
static void accumulator_bound_is_exact(void) {
    const uint32_t cases[][2] = {{2, 5}, {0, 0}, {8, 4}};  /* op, output channel */
    for (size_t i = 0; i < 3; i++) {
        const uint32_t op = cases[i][0], channel = cases[i][1];
        const int64_t largest = (INT64_C(1) << 31) - 1 - 255 * absolute_weight_sum(op, channel);
        test_model_file file;

        file = fresh_copy();
        tm_put_u32(&file, i32_element(op, 11, channel), (uint32_t)(int32_t)largest);
        EXPECT_LOADS(file);
        file = fresh_copy();
        tm_put_u32(&file, i32_element(op, 11, channel), (uint32_t)(int32_t)-largest);
        EXPECT_LOADS(file);

        char needle[128];
        snprintf(needle, sizeof(needle), "output channel %u can overflow the int32 accumulator: |bias| + 255 * sum |weight| = 2147483648",
                 channel);
        file = fresh_copy();
        tm_put_u32(&file, i32_element(op, 11, channel), (uint32_t)(int32_t)(largest + 1));
        EXPECT_REJECTED(file, needle);
        file = fresh_copy();
        tm_put_u32(&file, i32_element(op, 11, channel), (uint32_t)(int32_t)(-largest - 1));
        EXPECT_REJECTED(file, needle);
    }
    test_model_file file = fresh_copy();
    tm_put_u32(&file, i32_element(2, 11, 0), 0x80000000u);  /* INT32_MIN */
    EXPECT_REJECTED(file, "op 2 (CONV2D): output channel 0 can overflow the int32 accumulator");
}

/* ---- LABELS and META ---------------------------------------------------- */

static void label_records_are_validated(void) {
    const uint64_t strings_size = pristine.section_size[TM_STRINGS];
    const uint64_t strings = pristine.section_offset[TM_STRINGS];
    char needle[160];
    test_model_file file;

    test_model *model = tm_mini_resnet(1);
    model->label_count = 4;
    EXPECT_DESCRIPTION_REJECTED(model, "section table entry 5 (LABELS) has 4 labels, but the model has 5 classes (value 9)");

    file = fresh_copy();
    tm_put_u32(&file, tm_label_offset(&pristine, 2), (uint32_t)strings_size);
    snprintf(needle, sizeof(needle), "label 2 name_en: string offset %llu lies outside STRINGS",
             (unsigned long long)strings_size);
    EXPECT_REJECTED(file, needle);
    file = fresh_copy();
    tm_put_u32(&file, tm_label_offset(&pristine, 2) + 12, TM_NONE);
    EXPECT_REJECTED(file, "label 2 group_ko: string offset 4294967295 lies outside STRINGS");

    /* "자전거" begins with 0xEC 0x9E 0x90. */
    const uint64_t bicycle_ko = strings + pristine.label_strings[1][1];
    file = fresh_copy();
    file.bytes[bicycle_ko] = 0xFF;
    snprintf(needle, sizeof(needle), "label 1 name_ko: string at STRINGS offset %llu is not valid UTF-8 (byte 0xff",
             (unsigned long long)pristine.label_strings[1][1]);
    EXPECT_REJECTED(file, needle);
    file = fresh_copy();
    file.bytes[bicycle_ko + 2] = 'a';
    EXPECT_REJECTED(file, "label 1 name_ko: string at STRINGS offset");
    file = fresh_copy();
    tm_put_u32(&file, tm_label_offset(&pristine, 1) + 4, (uint32_t)pristine.label_strings[1][1] + 1);
    EXPECT_REJECTED(file, "is not valid UTF-8 (byte 0x9e");

    /* Overlong NUL, a surrogate, and a code point above U+10FFFF in "bicycle". */
    const uint8_t bad_sequences[][4] = {{0xC0, 0x80, 'c', 'y'}, {0xED, 0xA0, 0x80, 'y'}, {0xF4, 0x90, 0x80, 0x80}};
    for (int i = 0; i < 3; i++) {
        file = fresh_copy();
        memcpy(file.bytes + strings + pristine.label_strings[1][0], bad_sequences[i], 4);
        EXPECT_REJECTED(file, "label 1 name_en: string at STRINGS offset");
    }

    /* The offset of the NUL after "person" is an empty string. */
    file = fresh_copy();
    tm_put_u32(&file, tm_label_offset(&pristine, 0), (uint32_t)pristine.label_strings[0][0] + 6);
    EXPECT_REJECTED(file, "label 0 name_en is empty");
    file = fresh_copy();
    tm_put_u32(&file, tm_label_offset(&pristine, 0) + 4, (uint32_t)pristine.label_strings[0][0] + 6);
    EXPECT_REJECTED(file, "label 0 name_ko is empty");

    const float bad_scales[] = {NAN, 0.0f, -0.01f, INFINITY};
    for (int i = 0; i < 4; i++) {
        file = fresh_copy();
        tm_put_f32(&file, tm_label_offset(&pristine, 3) + 20, bad_scales[i]);
        EXPECT_REJECTED(file, "label 3 (dog): logit_scale is");
    }
}

static void meta_entries_are_validated(void) {
    test_model_file file;
    file = fresh_copy();
    tm_put_u32(&file, tm_meta_offset(&pristine, 0), (uint32_t)pristine.label_strings[0][0] + 6);
    EXPECT_REJECTED(file, "META entry 0 has an empty key");
    file = fresh_copy();
    tm_put_u32(&file, tm_meta_offset(&pristine, 1), 0xFFFFFF00u);
    EXPECT_REJECTED(file, "META entry 1 key: string offset 4294967040 lies outside STRINGS");
    file = fresh_copy();
    const uint32_t description_value = tm_get_u32(&pristine, tm_meta_offset(&pristine, 3) + 4);
    file.bytes[pristine.section_offset[TM_STRINGS] + description_value] = 0x80;
    EXPECT_REJECTED(file, "META entry 3 (description) value: string at STRINGS offset");

    test_model *model = tm_mini_resnet(1);
    tm_add_meta(model, "arch", "resnet50");
    EXPECT_DESCRIPTION_REJECTED(model, "META entry 4: key \"arch\" repeats entry 0");
}

/* ---- Checksum and truncation --------------------------------------------- */

static void flipped_data_bytes_fail_the_checksum(void) {
    int wrong_status = 0, wrong_message = 0, tried = 0;
    for (uint32_t t = 0; t < description->tensor_count; t++) {
        if (description->tensors[t].dtype != TM_I8) {
            continue;  /* flipping a multiplier or shift could fail an earlier check */
        }
        for (size_t i = 0; i < description->tensors[t].nbytes; i += 7) {
            test_model_file file = fresh_copy();
            file.bytes[pristine.tensor_offset[t] + i] ^= 0x01;
            picotag_error error;
            const picotag_status status = load_bytes(file.bytes, file.size, &error);
            wrong_status += status != PICOTAG_ERROR_FORMAT;
            wrong_message += strstr(error.message, "model.ptm: checksum mismatch") == NULL;
            tried++;
            tm_file_free(&file);
        }
    }
    CHECK(tried > 500);
    CHECK_EQ(0, wrong_status);
    CHECK_EQ(0, wrong_message);

    test_model_file file = fresh_copy();
    file.bytes[tm_label_offset(&pristine, 0) + 16] ^= 0x40;  /* threshold */
    check_rejected(&file, 0, PICOTAG_ERROR_FORMAT, "checksum mismatch", __LINE__);
}

static void every_truncation_is_rejected_cleanly(void) {
    int wrong = 0;
    for (size_t size = 0; size < pristine.size; size++) {
        picotag_error error;
        const picotag_status status = load_bytes(pristine.bytes, size, &error);
        const char *needle = size < 64 ? "shorter than the 64-byte header" : "the file is truncated";
        if (status != PICOTAG_ERROR_FORMAT || strstr(error.message, needle) == NULL) {
            if (wrong++ < 3) {
                printf("  truncated to %zu bytes: %s\n", size, error.message);
            }
        }
    }
    CHECK_EQ(0, wrong);
}

/* The same through the mmap path, at a stride, and an empty file. */
static void truncated_files_on_disk_are_rejected(void) {
    char directory[] = "/tmp/picotag-truncated-XXXXXX";
    CHECK(mkdtemp(directory) != NULL);
    char path[128];
    snprintf(path, sizeof(path), "%s/model.ptm", directory);
    int wrong = 0;
    for (size_t size = 0; size < pristine.size; size += 97) {
        test_model_file file = fresh_copy();
        file.size = size;
        tm_write_file(&file, path);
        tm_file_free(&file);
        picotag_model *model = NULL;
        picotag_error error;
        const picotag_status status = picotag_model_load(path, &model, &error);
        wrong += status != PICOTAG_ERROR_FORMAT || strstr(error.message, path) == NULL || model != NULL;
    }
    CHECK_EQ(0, wrong);
    unlink(path);
    rmdir(directory);
}

/* ---- I/O and arguments ---------------------------------------------------- */

static void missing_file_is_an_io_error_naming_the_path(void) {
    picotag_model *model = (picotag_model *)&model;
    picotag_error error;
    CHECK_STATUS(PICOTAG_ERROR_IO, picotag_model_load("/nonexistent/dir/model.ptm", &model, &error), error.message);
    CHECK_CONTAINS(error.message, "/nonexistent/dir/model.ptm: cannot open: No such file or directory");
    CHECK(model == NULL);
    CHECK_STATUS(PICOTAG_ERROR_IO, picotag_model_load("/tmp", &model, &error), error.message);
    CHECK_CONTAINS(error.message, "/tmp: not a regular file");
}

static void null_arguments_are_rejected(void) {
    picotag_model *model = NULL;
    picotag_error error;
    CHECK_STATUS(PICOTAG_ERROR_INVALID_ARGUMENT, picotag_model_load(NULL, &model, &error), error.message);
    CHECK_STATUS(PICOTAG_ERROR_INVALID_ARGUMENT, picotag_model_load("x.ptm", NULL, NULL), "");
    CHECK_STATUS(PICOTAG_ERROR_INVALID_ARGUMENT, picotag_model_load_memory(NULL, 10, "x", &model, &error),
                 error.message);
    CHECK_STATUS(PICOTAG_ERROR_FORMAT, picotag_model_load_memory(NULL, 0, NULL, &model, &error), error.message);
    CHECK_CONTAINS(error.message, "<memory>: file is 0 bytes");
    /* A NULL error pointer is allowed. */
    CHECK_STATUS(PICOTAG_ERROR_FORMAT, picotag_model_load_memory("junk", 4, "x", &model, NULL), "");

    CHECK_EQ(0, picotag_model_class_count(NULL));
    CHECK(picotag_model_label(NULL, 0) == NULL);
    CHECK(picotag_model_preprocess(NULL) == NULL);
    CHECK(picotag_model_meta(NULL, "arch") == NULL);
    CHECK_EQ(0, picotag_model_meta_count(NULL));
    picotag_model_free(NULL);
    CHECK_CONTAINS(picotag_status_name(PICOTAG_ERROR_FORMAT), "format error");
}

int main(void) {
    description = tm_mini_resnet(1);
    if (tm_serialize(description, &pristine) != 0) {
        printf("cannot serialize the test model\n");
        return 1;
    }

    RUN_TEST(valid_model_loads_with_its_fields);
    RUN_TEST(valid_model_loads_from_a_file);
    RUN_TEST(trailing_zero_padding_is_accepted);
    RUN_TEST(header_fields_get_their_own_messages);
    RUN_TEST(checksum_mismatch_names_both_values);
    RUN_TEST(section_table_damage_gets_its_own_messages);
    RUN_TEST(overlapping_sections_are_rejected);
    RUN_TEST(non_zero_padding_is_rejected);
    RUN_TEST(preprocess_fields_are_validated);
    RUN_TEST(preprocess_views_are_checked);
    RUN_TEST(strings_must_end_with_nul);
    RUN_TEST(tensor_descriptors_are_validated);
    RUN_TEST(unreferenced_tensor_is_rejected);
    RUN_TEST(value_records_are_validated);
    RUN_TEST(i32_value_other_than_logits_is_rejected);
    RUN_TEST(op_graph_damage_is_rejected);
    RUN_TEST(missing_or_misplaced_classifier_is_rejected);
    RUN_TEST(too_many_classes_are_rejected);
    RUN_TEST(op_windows_are_validated);
    RUN_TEST(op_tensor_references_are_validated);
    RUN_TEST(requantization_parameters_are_validated);
    RUN_TEST(residual_references_are_validated);
    RUN_TEST(zero_point_tensor_only_for_image_input);
    RUN_TEST(accumulator_bound_is_exact);
    RUN_TEST(label_records_are_validated);
    RUN_TEST(meta_entries_are_validated);
    RUN_TEST(flipped_data_bytes_fail_the_checksum);
    RUN_TEST(every_truncation_is_rejected_cleanly);
    RUN_TEST(truncated_files_on_disk_are_rejected);
    RUN_TEST(missing_file_is_an_io_error_naming_the_path);
    RUN_TEST(null_arguments_are_rejected);

    tm_file_free(&pristine);
    tm_destroy(description);
    return test_summary();
}
