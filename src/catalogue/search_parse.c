/* Tokenizer and recursive-descent parser of the search language. */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uninorm.h>

#include "catalogue/search_query.h"
#include "engine/error.h"
#include "engine/utf8.h"

typedef enum token_kind {
    TOKEN_END,
    TOKEN_WORD,
    TOKEN_QUOTED,
    TOKEN_OPEN,
    TOKEN_CLOSE,
    TOKEN_OR
} token_kind;

typedef struct token {
    token_kind kind;
    int negated;            /* written with a leading '-' */
    const char *text;       /* WORD, QUOTED: the name's bytes */
    size_t length;
    int column;             /* 1-based, in characters */
} token;

typedef struct parser {
    const char *text;
    size_t position;        /* bytes */
    token current;
    int depth;
    int word_count;
    search_query *query;
    picotag_error *error;
    int failed;
    picotag_status failure;   /* the status of the first failure */
} parser;

/* ---- Characters ---------------------------------------------------------- */

/* Returns the byte length of the space character at `p`, or 0: ASCII white
 * space, U+00A0 NO-BREAK SPACE and U+3000 IDEOGRAPHIC SPACE (which Korean
 * and Japanese input methods type). */
static size_t space_length(const char *p) {
    unsigned char c = (unsigned char)p[0];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
        return 1;
    }
    if (c == 0xC2 && (unsigned char)p[1] == 0xA0) {
        return 2;
    }
    if (c == 0xE3 && (unsigned char)p[1] == 0x80 && (unsigned char)p[2] == 0x80) {
        return 3;
    }
    return 0;
}

/* Returns the byte length of a quotation mark at `p`, or 0: '"' and the
 * curly U+201C and U+201D that phone keyboards substitute for it. */
static size_t quote_length(const char *p) {
    if (p[0] == '"') {
        return 1;
    }
    if ((unsigned char)p[0] == 0xE2 && (unsigned char)p[1] == 0x80 &&
        ((unsigned char)p[2] == 0x9C || (unsigned char)p[2] == 0x9D)) {
        return 3;
    }
    return 0;
}

static int ends_word(const char *p) {
    return *p == '\0' || *p == '(' || *p == ')' || space_length(p) > 0 || quote_length(p) > 0;
}

static int column_at(const char *text, size_t offset) {
    int column = 1;
    for (size_t i = 0; i < offset; i++) {
        if (((unsigned char)text[i] & 0xC0) != 0x80) {
            column++;
        }
    }
    return column;
}

static int syntax_error(parser *p, int column, const char *format, ...)
    PICOTAG_PRINTF_FORMAT(3, 4);

static int syntax_error(parser *p, int column, const char *format, ...) {
    if (p->failed) {
        return -1;
    }
    p->failed = 1;
    p->failure = PICOTAG_ERROR_INVALID_ARGUMENT;
    char detail[400];
    va_list args;
    va_start(args, format);
    vsnprintf(detail, sizeof(detail), format, args);
    va_end(args);
    picotag_error_set(p->error, PICOTAG_ERROR_INVALID_ARGUMENT, "search: column %d: %s", column,
                      detail);
    return -1;
}

/* ---- Tokens -------------------------------------------------------------- */

static void read_quoted(parser *p, token *t, size_t opening_length) {
    const char *start = p->text + p->position + opening_length;
    const char *end = start;
    while (*end != '\0' && quote_length(end) == 0) {
        end++;
    }
    if (*end == '\0') {
        syntax_error(p, t->column, "the quoted name has no closing quotation mark");
        return;
    }
    t->kind = TOKEN_QUOTED;
    t->text = start;
    t->length = (size_t)(end - start);
    p->position = (size_t)(end - p->text) + quote_length(end);
}

static void read_word(parser *p, token *t) {
    const char *start = p->text + p->position;
    const char *end = start;
    while (!ends_word(end)) {
        end++;
    }
    t->kind = TOKEN_WORD;
    t->text = start;
    t->length = (size_t)(end - start);
    p->position = (size_t)(end - p->text);
    if (!t->negated && t->length == 2 && memcmp(start, "OR", 2) == 0) {
        t->kind = TOKEN_OR;
    }
}

static void advance(parser *p) {
    while (space_length(p->text + p->position) > 0) {
        p->position += space_length(p->text + p->position);
    }
    token t = {.kind = TOKEN_END, .column = column_at(p->text, p->position)};
    const char *c = p->text + p->position;

    if (*c == '-') {
        t.negated = 1;
        p->position++;
        c++;
        if (*c == '\0' || *c == ')' || *c == '-' || space_length(c) > 0) {
            syntax_error(p, t.column,
                         "'-' must be written directly before a word, a quoted name or '('");
            p->current = t;
            return;
        }
    }

    if (*c == '\0') {
        t.kind = TOKEN_END;
    } else if (*c == '(') {
        t.kind = TOKEN_OPEN;
        p->position++;
    } else if (*c == ')') {
        t.kind = TOKEN_CLOSE;
        p->position++;
    } else if (quote_length(c) > 0) {
        read_quoted(p, &t, quote_length(c));
    } else {
        read_word(p, &t);
    }
    p->current = t;
}

/* ---- Tree ---------------------------------------------------------------- */

static int add_node(parser *p, search_node_kind kind) {
    search_query *q = p->query;
    if (q->node_count == q->node_capacity) {
        int capacity = q->node_capacity == 0 ? 16 : q->node_capacity * 2;
        search_node *nodes = realloc(q->nodes, (size_t)capacity * sizeof(*nodes));
        if (nodes == NULL) {
            p->failed = 1;
            p->failure = PICOTAG_ERROR_OUT_OF_MEMORY;
            picotag_error_set(p->error, PICOTAG_ERROR_OUT_OF_MEMORY,
                              "search: out of memory parsing the query");
            return -1;
        }
        q->nodes = nodes;
        q->node_capacity = capacity;
    }
    int index = q->node_count++;
    search_node *node = &q->nodes[index];
    memset(node, 0, sizeof(*node));
    node->kind = kind;
    node->first_child = -1;
    node->next_sibling = -1;
    return index;
}

static void append_child(search_query *q, int parent, int child) {
    int *link = &q->nodes[parent].first_child;
    while (*link >= 0) {
        link = &q->nodes[*link].next_sibling;
    }
    *link = child;
}

static int make_word(parser *p, const token *t) {
    if (++p->word_count > SEARCH_MAX_WORDS) {
        return syntax_error(p, t->column, "more than %d words; search with fewer",
                            SEARCH_MAX_WORDS);
    }
    int index = add_node(p, SEARCH_NODE_WORD);
    if (index < 0) {
        return -1;
    }
    search_node *node = &p->query->nodes[index];
    node->column = t->column;
    node->written = strndup(t->text, t->length);
    node->word = search_normalised(t->text, t->length);
    if (node->written == NULL || node->word == NULL) {
        p->failed = 1;
        p->failure = PICOTAG_ERROR_OUT_OF_MEMORY;
        picotag_error_set(p->error, PICOTAG_ERROR_OUT_OF_MEMORY,
                          "search: out of memory parsing the query");
        return -1;
    }
    if (node->word[0] == '\0') {
        return syntax_error(p, t->column, "the word \"%s\" is empty once '_', '-' and spaces "
                                          "are removed",
                            node->written);
    }
    return index;
}

static int parse_or(parser *p);

static int parse_primary(parser *p) {
    token t = p->current;
    if (t.kind == TOKEN_WORD || t.kind == TOKEN_QUOTED) {
        int word = make_word(p, &t);
        if (word >= 0) {
            advance(p);
        }
        return word;
    }
    if (t.kind == TOKEN_CLOSE) {
        return syntax_error(p, t.column, "')' has no matching '('");
    }
    if (t.kind != TOKEN_OPEN) {
        return syntax_error(p, t.column, "expected a word");
    }

    if (++p->depth > SEARCH_MAX_DEPTH) {
        return syntax_error(p, t.column, "parentheses nested deeper than %d", SEARCH_MAX_DEPTH);
    }
    advance(p);
    if (p->current.kind == TOKEN_CLOSE) {
        return syntax_error(p, t.column, "the parentheses are empty");
    }
    int inner = parse_or(p);
    if (inner < 0) {
        return -1;
    }
    if (p->current.kind != TOKEN_CLOSE) {
        return syntax_error(p, t.column, "'(' has no matching ')'");
    }
    p->depth--;
    advance(p);
    return inner;
}

static int parse_unary(parser *p) {
    int negated = p->current.negated;
    int operand = parse_primary(p);
    if (operand < 0 || !negated) {
        return operand;
    }
    int not_node = add_node(p, SEARCH_NODE_NOT);
    if (not_node >= 0) {
        append_child(p->query, not_node, operand);
    }
    return not_node;
}

static int starts_operand(const token *t) {
    return t->kind == TOKEN_WORD || t->kind == TOKEN_QUOTED || t->kind == TOKEN_OPEN;
}

static int parse_and(parser *p) {
    if (p->current.kind == TOKEN_OR) {
        return syntax_error(p, p->current.column, "OR needs a word before it");
    }
    if (!starts_operand(&p->current)) {
        return syntax_error(p, p->current.column, "expected a word");
    }
    int first = parse_unary(p);
    if (first < 0 || !starts_operand(&p->current) || p->failed) {
        return p->failed ? -1 : first;
    }

    int and_node = add_node(p, SEARCH_NODE_AND);
    if (and_node < 0) {
        return -1;
    }
    append_child(p->query, and_node, first);
    while (starts_operand(&p->current) && !p->failed) {
        int next = parse_unary(p);
        if (next < 0) {
            return -1;
        }
        append_child(p->query, and_node, next);
    }
    return p->failed ? -1 : and_node;
}

static int parse_or(parser *p) {
    int first = parse_and(p);
    if (first < 0 || p->current.kind != TOKEN_OR) {
        return first;
    }

    int or_node = add_node(p, SEARCH_NODE_OR);
    if (or_node < 0) {
        return -1;
    }
    append_child(p->query, or_node, first);
    while (p->current.kind == TOKEN_OR && !p->failed) {
        int or_column = p->current.column;
        advance(p);
        if (!starts_operand(&p->current)) {
            return syntax_error(p, or_column, "OR needs a word after it");
        }
        int next = parse_and(p);
        if (next < 0) {
            return -1;
        }
        append_child(p->query, or_node, next);
    }
    return p->failed ? -1 : or_node;
}

picotag_status search_query_parse(const char *text, search_query *query, picotag_error *error) {
    if (text == NULL) {
        return picotag_error_set(error, PICOTAG_ERROR_INVALID_ARGUMENT,
                                 "search: the query is missing");
    }
    size_t length = strlen(text);
    if (length > SEARCH_MAX_QUERY_BYTES) {
        return picotag_error_set(error, PICOTAG_ERROR_INVALID_ARGUMENT,
                                 "search: the query is %zu bytes long; at most %d are accepted",
                                 length, SEARCH_MAX_QUERY_BYTES);
    }
    size_t invalid_offset = 0;
    if (!picotag_utf8_validate((const uint8_t *)text, length, &invalid_offset)) {
        return picotag_error_set(error, PICOTAG_ERROR_INVALID_ARGUMENT,
                                 "search: the query is not valid UTF-8 (byte %zu)",
                                 invalid_offset);
    }

    parser p = {.text = text, .query = query, .error = error};
    query->root = -1;
    advance(&p);
    if (!p.failed && p.current.kind == TOKEN_END) {
        return picotag_error_set(error, PICOTAG_ERROR_INVALID_ARGUMENT,
                                 "search: the query is empty; give at least one word");
    }
    int root = p.failed ? -1 : parse_or(&p);
    if (root >= 0 && p.current.kind != TOKEN_END) {
        root = syntax_error(&p, p.current.column, "')' has no matching '('");
    }
    if (root < 0) {
        return p.failure != PICOTAG_OK ? p.failure : PICOTAG_ERROR_INVALID_ARGUMENT;
    }
    query->root = root;
    return PICOTAG_OK;
}

void search_query_free(search_query *query) {
    for (int i = 0; i < query->node_count; i++) {
        free(query->nodes[i].word);
        free(query->nodes[i].written);
        free(query->nodes[i].labels);
    }
    free(query->nodes);
    memset(query, 0, sizeof(*query));
    query->root = -1;
}

/* Folds case and separators in place (the second step of search_normalised). */
static void fold_ascii(char *text) {
    size_t out = 0;
    int pending_space = 0;
    for (size_t in = 0; text[in] != '\0'; in++) {
        char c = text[in];
        if (c == '_' || c == '-' || c == ' ' || c == '\t') {
            pending_space = out > 0;
            continue;
        }
        if (pending_space) {
            text[out++] = ' ';
            pending_space = 0;
        }
        if (c >= 'A' && c <= 'Z') {
            c = (char)(c - 'A' + 'a');
        }
        text[out++] = c;
    }
    text[out] = '\0';
}

char *search_normalised(const char *text, size_t length) {
    size_t composed_length = 0;
    errno = 0;
    uint8_t *composed = u8_normalize(UNINORM_NFC, (const uint8_t *)text, length, NULL, &composed_length);
    if (composed == NULL && errno == ENOMEM) {
        return NULL;
    }
    char *result = NULL;
    if (composed != NULL) {
        result = malloc(composed_length + 1);
        if (result != NULL) {
            memcpy(result, composed, composed_length);
            result[composed_length] = '\0';
        }
        free(composed);
    } else {
        result = strndup(text, length);
    }
    if (result != NULL) {
        fold_ascii(result);
    }
    return result;
}

/* ---- Description --------------------------------------------------------- */

static void describe_node(const search_query *q, int index, char *text, size_t capacity,
                          size_t *used) {
    const search_node *node = &q->nodes[index];
    const char *format = "%s";
    const char *content = node->word;
    if (node->kind == SEARCH_NODE_WORD) {
        format = strchr(node->word, ' ') != NULL ? "\"%s\"" : "%s";
    } else {
        format = "(%s";
        content = node->kind == SEARCH_NODE_AND ? "AND" : node->kind == SEARCH_NODE_OR ? "OR"
                                                                                        : "NOT";
    }
    if (*used < capacity) {
        int written = snprintf(text + *used, capacity - *used, format, content);
        *used += written > 0 ? (size_t)written : 0;
    }
    if (node->kind == SEARCH_NODE_WORD) {
        return;
    }
    for (int child = node->first_child; child >= 0; child = q->nodes[child].next_sibling) {
        if (*used < capacity) {
            int written = snprintf(text + *used, capacity - *used, " ");
            *used += written > 0 ? (size_t)written : 0;
        }
        describe_node(q, child, text, capacity, used);
    }
    if (*used < capacity) {
        int written = snprintf(text + *used, capacity - *used, ")");
        *used += written > 0 ? (size_t)written : 0;
    }
}

void search_query_describe(const search_query *query, char *text, size_t capacity) {
    if (capacity == 0) {
        return;
    }
    text[0] = '\0';
    size_t used = 0;
    if (query->root >= 0) {
        describe_node(query, query->root, text, capacity, &used);
    }
}
