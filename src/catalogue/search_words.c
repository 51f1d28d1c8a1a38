/* Resolving search words to labels, and suggestions for unknown words. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalogue/search_query.h"
#include "engine/error.h"

#define MAX_SUGGESTIONS 5
/* Words longer than this many code points get no edit-distance suggestions. */
#define MAX_COMPARED_CODE_POINTS 64

typedef struct vocabulary_entry {
    char *text;        /* normalised */
    int label;         /* index into the label table */
} vocabulary_entry;

typedef struct vocabulary {
    vocabulary_entry *entries;
    int count;
} vocabulary;

static void vocabulary_free(vocabulary *v) {
    for (int i = 0; i < v->count; i++) {
        free(v->entries[i].text);
    }
    free(v->entries);
}

/* Every name of every label, normalised: four entries per label at most. */
static picotag_status vocabulary_build(const picotag_label *labels, int label_count,
                                       vocabulary *v, picotag_error *error) {
    v->count = 0;
    v->entries = calloc((size_t)label_count * 4 + 1, sizeof(*v->entries));
    if (v->entries == NULL) {
        return picotag_error_set(error, PICOTAG_ERROR_OUT_OF_MEMORY,
                                 "search: out of memory reading the label table");
    }
    for (int i = 0; i < label_count; i++) {
        const char *names[4] = {labels[i].name_en, labels[i].name_ko, labels[i].group_en,
                                labels[i].group_ko};
        for (int n = 0; n < 4; n++) {
            if (names[n] == NULL || names[n][0] == '\0') {
                continue;
            }
            char *text = search_normalised(names[n], strlen(names[n]));
            if (text == NULL) {
                vocabulary_free(v);
                return picotag_error_set(error, PICOTAG_ERROR_OUT_OF_MEMORY,
                                         "search: out of memory reading the label table");
            }
            v->entries[v->count].text = text;
            v->entries[v->count].label = i;
            v->count++;
        }
    }
    return PICOTAG_OK;
}

/* ---- Edit distance ------------------------------------------------------- */

/* Decodes UTF-8 into code points; a byte that starts no valid sequence
 * stands for itself. Returns the count, or -1 when there are too many. */
static int decode_code_points(const char *text, uint32_t *out, int capacity) {
    int count = 0;
    const unsigned char *p = (const unsigned char *)text;
    while (*p != '\0') {
        if (count == capacity) {
            return -1;
        }
        uint32_t c = *p;
        int extra = 0;
        if (c >= 0xF0) {
            extra = 3;
        } else if (c >= 0xE0) {
            extra = 2;
        } else if (c >= 0xC0) {
            extra = 1;
        }
        int complete = 1;
        for (int k = 1; k <= extra; k++) {
            complete = complete && (p[k] & 0xC0) == 0x80;
        }
        if (extra > 0 && complete) {
            c &= 0x3Fu >> extra;
            for (int k = 1; k <= extra; k++) {
                c = (c << 6) | (p[k] & 0x3Fu);
            }
            p += extra + 1;
        } else {
            p++;
        }
        out[count++] = c;
    }
    return count;
}

static int minimum3(int a, int b, int c) {
    int m = a < b ? a : b;
    return m < c ? m : c;
}

/* Optimal string alignment distance: insertions, deletions, substitutions
 * and transpositions of neighbours each cost 1, so "dgo" is 1 from "dog".
 * Counts code points, so one Hangul syllable is one character. */
static int edit_distance(const uint32_t *a, int n, const uint32_t *b, int m) {
    int rows[3][MAX_COMPARED_CODE_POINTS + 1];
    int *before_previous = rows[0];
    int *previous = rows[1];
    int *current = rows[2];
    for (int j = 0; j <= m; j++) {
        previous[j] = j;
    }
    for (int i = 1; i <= n; i++) {
        current[0] = i;
        for (int j = 1; j <= m; j++) {
            int cost = a[i - 1] == b[j - 1] ? 0 : 1;
            current[j] = minimum3(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost);
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                before_previous[j - 2] + 1 < current[j]) {
                current[j] = before_previous[j - 2] + 1;
            }
        }
        int *recycled = before_previous;
        before_previous = previous;
        previous = current;
        current = recycled;
    }
    return previous[m];
}

/* ---- Suggestions --------------------------------------------------------- */

typedef struct suggestion {
    const char *text;
    int rank;          /* 0: the word begins this name; else the edit distance */
} suggestion;

static int compare_suggestions(const void *left, const void *right) {
    const suggestion *a = left;
    const suggestion *b = right;
    if (a->rank != b->rank) {
        return a->rank - b->rank;
    }
    return strcmp(a->text, b->text);
}

static int allowed_distance(int code_points) {
    if (code_points <= 4) {
        return 1;
    }
    return code_points <= 8 ? 2 : 3;
}

/* Ranks the distinct vocabulary names close to `word`; returns how many. */
static int find_suggestions(const vocabulary *v, const char *word, suggestion *found,
                            int capacity) {
    uint32_t word_points[MAX_COMPARED_CODE_POINTS];
    int word_length = decode_code_points(word, word_points, MAX_COMPARED_CODE_POINTS);
    if (word_length < 0) {
        return 0;
    }

    int count = 0;
    for (int i = 0; i < v->count; i++) {
        const char *text = v->entries[i].text;
        int duplicate = 0;
        for (int k = 0; k < count && !duplicate; k++) {
            duplicate = strcmp(found[k].text, text) == 0;
        }
        if (duplicate || count == capacity) {
            continue;
        }

        int rank = -1;
        if (word_length >= 2 && strncmp(text, word, strlen(word)) == 0) {
            rank = 0;
        } else {
            uint32_t points[MAX_COMPARED_CODE_POINTS];
            int length = decode_code_points(text, points, MAX_COMPARED_CODE_POINTS);
            if (length >= 0) {
                int distance = edit_distance(word_points, word_length, points, length);
                rank = distance <= allowed_distance(word_length) ? distance : -1;
            }
        }
        if (rank >= 0) {
            found[count].text = text;
            found[count].rank = rank;
            count++;
        }
    }
    qsort(found, (size_t)count, sizeof(*found), compare_suggestions);
    return count < MAX_SUGGESTIONS ? count : MAX_SUGGESTIONS;
}

static void append_text(char *buffer, size_t capacity, const char *format, const char *text) {
    size_t used = strlen(buffer);
    if (used < capacity) {
        snprintf(buffer + used, capacity - used, format, text);
    }
}

/* A label whose name differs from its supercategory, to show in examples. */
static const picotag_label *example_label(const picotag_label *labels, int label_count) {
    for (int i = 0; i < label_count; i++) {
        if (labels[i].name_en != NULL && labels[i].group_en != NULL &&
            strcmp(labels[i].name_en, labels[i].group_en) != 0) {
            return &labels[i];
        }
    }
    return label_count > 0 ? &labels[0] : NULL;
}

static picotag_status unknown_word_error(const search_node *node, const vocabulary *v,
                                         const picotag_label *labels, int label_count,
                                         picotag_error *error) {
    char advice[320] = "";
    if (strcmp(node->word, "or") == 0) {
        snprintf(advice, sizeof(advice), "write OR in capitals to match either word");
    } else {
        suggestion *found = calloc((size_t)v->count + 1, sizeof(*found));
        int count = found != NULL ? find_suggestions(v, node->word, found, v->count) : 0;
        for (int i = 0; i < count; i++) {
            const char *separator = ", ";
            if (i == 0) {
                separator = "did you mean ";
            } else if (i + 1 == count) {
                separator = " or ";
            }
            append_text(advice, sizeof(advice), "%s", separator);
            append_text(advice, sizeof(advice),
                        strchr(found[i].text, ' ') != NULL ? "\"%s\"" : "%s", found[i].text);
        }
        if (count > 0) {
            append_text(advice, sizeof(advice), "%s", "?");
        }
        free(found);
    }

    const picotag_label *example = example_label(labels, label_count);
    if (advice[0] == '\0' && example != NULL) {
        snprintf(advice, sizeof(advice),
                 "words are tag names or categories in English or Korean, e.g. %s, %s, %s, %s",
                 example->name_en != NULL ? example->name_en : "",
                 example->name_ko != NULL ? example->name_ko : "",
                 example->group_en != NULL ? example->group_en : "",
                 example->group_ko != NULL ? example->group_ko : "");
    } else if (advice[0] == '\0') {
        snprintf(advice, sizeof(advice), "the label table is empty");
    }
    return picotag_error_set(error, PICOTAG_ERROR_INVALID_ARGUMENT,
                             "search: unknown word \"%s\" at column %d; %s", node->written,
                             node->column, advice);
}

/* Stores in `node` every label that one of its names matches. */
static picotag_status resolve_word(search_node *node, const vocabulary *v, int label_count,
                                   picotag_error *error) {
    node->labels = malloc((size_t)label_count * sizeof(*node->labels) + 1);
    unsigned char *taken = calloc((size_t)label_count + 1, 1);
    if (node->labels == NULL || taken == NULL) {
        free(taken);
        return picotag_error_set(error, PICOTAG_ERROR_OUT_OF_MEMORY,
                                 "search: out of memory resolving words");
    }
    node->label_count = 0;
    for (int i = 0; i < v->count; i++) {
        int label = v->entries[i].label;
        if (!taken[label] && strcmp(v->entries[i].text, node->word) == 0) {
            taken[label] = 1;
            node->labels[node->label_count++] = label;
        }
    }
    free(taken);
    return PICOTAG_OK;
}

picotag_status search_query_resolve(search_query *query, const picotag_label *labels,
                                    int label_count, picotag_error *error) {
    if (label_count < 0 || label_count > PICOTAG_MAX_CLASSES ||
        (labels == NULL && label_count > 0)) {
        return picotag_error_set(error, PICOTAG_ERROR_INVALID_ARGUMENT,
                                 "search: invalid label table (%d labels); 0 to %d expected",
                                 label_count, PICOTAG_MAX_CLASSES);
    }

    vocabulary v = {0};
    picotag_status status = vocabulary_build(labels, label_count, &v, error);
    for (int i = 0; i < query->node_count && status == PICOTAG_OK; i++) {
        search_node *node = &query->nodes[i];
        if (node->kind != SEARCH_NODE_WORD) {
            continue;
        }
        status = resolve_word(node, &v, label_count, error);
        if (status == PICOTAG_OK && node->label_count == 0) {
            status = unknown_word_error(node, &v, labels, label_count, error);
        }
    }
    vocabulary_free(&v);
    return status;
}
