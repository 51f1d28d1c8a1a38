/*
 * Compiling a resolved search to SQL.
 *
 * Each word becomes "p.id IN (SELECT photo_id FROM tags WHERE score >= ?1
 * AND label IN (...))", which the tags_by_label index serves, and AND, OR
 * and NOT become the SQL operators. The SQL text is built only from fixed
 * fragments and parameter numbers; every label name and number is bound.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalogue/search_query.h"
#include "engine/error.h"

#define FIRST_LABEL_PARAMETER 3

typedef struct text_builder {
    char *data;
    size_t length;
    size_t capacity;
    int failed;
} text_builder;

static void append(text_builder *b, const char *text) {
    size_t add = strlen(text);
    if (b->failed) {
        return;
    }
    if (b->length + add + 1 > b->capacity) {
        size_t capacity = b->capacity == 0 ? 512 : b->capacity;
        while (b->length + add + 1 > capacity) {
            capacity *= 2;
        }
        char *data = realloc(b->data, capacity);
        if (data == NULL) {
            b->failed = 1;
            return;
        }
        b->data = data;
        b->capacity = capacity;
    }
    memcpy(b->data + b->length, text, add + 1);
    b->length += add;
}

static void append_parameter(text_builder *b, int number) {
    char text[16];
    snprintf(text, sizeof(text), "?%d", number);
    append(b, text);
}

typedef struct compiler {
    const search_query *query;
    text_builder where;
    int *parameter_of_label;     /* by label index; 0 = not bound yet */
    int *is_positive;            /* by label index */
    search_sql *sql;
} compiler;

static void append_label_list(compiler *c, text_builder *b, const int *labels, int count) {
    for (int i = 0; i < count; i++) {
        int label = labels[i];
        if (c->parameter_of_label[label] == 0) {
            c->sql->bound_labels[c->sql->bound_label_count] = label;
            c->sql->bound_label_count++;
            c->parameter_of_label[label] = FIRST_LABEL_PARAMETER + c->sql->bound_label_count - 1;
        }
        if (i > 0) {
            append(b, ", ");
        }
        append_parameter(b, c->parameter_of_label[label]);
    }
}

static void compile_node(compiler *c, int index, int negations) {
    const search_node *node = &c->query->nodes[index];
    text_builder *b = &c->where;

    if (node->kind == SEARCH_NODE_WORD) {
        append(b, "p.id IN (SELECT t.photo_id FROM tags t WHERE t.score >= ?1 AND t.label IN (");
        append_label_list(c, b, node->labels, node->label_count);
        append(b, "))");
        if (negations % 2 == 0) {
            for (int i = 0; i < node->label_count; i++) {
                if (!c->is_positive[node->labels[i]]) {
                    c->is_positive[node->labels[i]] = 1;
                    c->sql->positive_labels[c->sql->positive_label_count++] = node->labels[i];
                }
            }
        }
        return;
    }

    if (node->kind == SEARCH_NODE_NOT) {
        append(b, "NOT (");
        compile_node(c, node->first_child, negations + 1);
        append(b, ")");
        return;
    }

    const char *operator_text = node->kind == SEARCH_NODE_AND ? " AND " : " OR ";
    append(b, "(");
    for (int child = node->first_child; child >= 0;
         child = c->query->nodes[child].next_sibling) {
        if (child != node->first_child) {
            append(b, operator_text);
        }
        compile_node(c, child, negations);
    }
    append(b, ")");
}

/* Lists the positive labels' parameters as bound in the select statement. */
static void append_positive_list(compiler *c, text_builder *b) {
    for (int i = 0; i < c->sql->positive_label_count; i++) {
        if (i > 0) {
            append(b, ", ");
        }
        append_parameter(b, c->parameter_of_label[c->sql->positive_labels[i]]);
    }
}

static void build_select(compiler *c, text_builder *b) {
    append(b, "SELECT p.id, p.path, p.captured_at, ");
    if (c->sql->positive_label_count > 0) {
        append(b, "(SELECT max(t.score) FROM tags t WHERE t.photo_id = p.id AND t.score >= ?1"
                  " AND t.label IN (");
        append_positive_list(c, b);
        append(b, "))");
    } else {
        append(b, "NULL");
    }
    append(b, " AS best FROM photos p WHERE ");
    append(b, c->where.data != NULL ? c->where.data : "1");
    append(b, " ORDER BY best DESC, p.path LIMIT ?2");
}

static void build_tags(compiler *c, text_builder *b) {
    append(b, "SELECT label, class_index, score FROM tags"
              " WHERE photo_id = ?1 AND score >= ?2 AND label IN (");
    for (int i = 0; i < c->sql->positive_label_count; i++) {
        if (i > 0) {
            append(b, ", ");
        }
        append_parameter(b, FIRST_LABEL_PARAMETER + i);
    }
    append(b, ") ORDER BY score DESC, class_index");
}

picotag_status search_sql_build(const search_query *query, search_sql *sql,
                                picotag_error *error) {
    memset(sql, 0, sizeof(*sql));
    if (query->root < 0) {
        return picotag_error_set(error, PICOTAG_ERROR_INVALID_ARGUMENT,
                                 "search: the query has not been parsed");
    }
    int total_labels = 0;
    for (int i = 0; i < query->node_count; i++) {
        total_labels += query->nodes[i].label_count;
    }

    compiler c = {.query = query, .sql = sql};
    c.parameter_of_label = calloc(PICOTAG_MAX_CLASSES, sizeof(int));
    c.is_positive = calloc(PICOTAG_MAX_CLASSES, sizeof(int));
    sql->bound_labels = calloc((size_t)total_labels + 1, sizeof(int));
    sql->positive_labels = calloc((size_t)total_labels + 1, sizeof(int));
    text_builder select = {0};
    text_builder tags = {0};
    picotag_status status = PICOTAG_OK;

    if (c.parameter_of_label == NULL || c.is_positive == NULL || sql->bound_labels == NULL ||
        sql->positive_labels == NULL) {
        status = PICOTAG_ERROR_OUT_OF_MEMORY;
    } else {
        compile_node(&c, query->root, 0);
        build_select(&c, &select);
        if (sql->positive_label_count > 0) {
            build_tags(&c, &tags);
        }
        if (c.where.failed || select.failed || tags.failed) {
            status = PICOTAG_ERROR_OUT_OF_MEMORY;
        }
    }

    free(c.parameter_of_label);
    free(c.is_positive);
    free(c.where.data);
    sql->select_sql = select.data;
    sql->tags_sql = tags.data;
    if (status != PICOTAG_OK) {
        search_sql_free(sql);
        return picotag_error_set(error, status, "search: out of memory compiling the query");
    }
    return PICOTAG_OK;
}

void search_sql_free(search_sql *sql) {
    free(sql->select_sql);
    free(sql->tags_sql);
    free(sql->bound_labels);
    free(sql->positive_labels);
    memset(sql, 0, sizeof(*sql));
}
