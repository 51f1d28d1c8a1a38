/*
 * The search language's syntax tree: parsing, resolving words to labels,
 * and compiling to SQL. The grammar (docs/SEARCH.md), loosest first:
 *
 *     query    = and_list { "OR" and_list }
 *     and_list = unary { unary }             (juxtaposition is AND)
 *     unary    = [ "-" ] primary             ("-" written against its operand)
 *     primary  = word | quoted_name | "(" query ")"
 */
#ifndef PICOTAG_SEARCH_QUERY_H
#define PICOTAG_SEARCH_QUERY_H

#include <stddef.h>

#include "picotag.h"

/* Longest accepted query, in bytes. */
#define SEARCH_MAX_QUERY_BYTES 4096
/* Maximum number of words in one query. It keeps the SQL far below
 * SQLite's default expression depth limit (1000) however the words are
 * combined. */
#define SEARCH_MAX_WORDS 64
/* Deepest nesting of parentheses. */
#define SEARCH_MAX_DEPTH 32

typedef enum search_node_kind {
    SEARCH_NODE_WORD,
    SEARCH_NODE_AND,
    SEARCH_NODE_OR,
    SEARCH_NODE_NOT
} search_node_kind;

typedef struct search_node {
    search_node_kind kind;
    int first_child;       /* node index, -1 when none */
    int next_sibling;      /* node index, -1 when none */

    /* SEARCH_NODE_WORD only. */
    char *word;            /* normalised: ASCII lower case, '_' and '-' as spaces */
    char *written;         /* as the query wrote it, for messages */
    int column;            /* 1-based, in characters (code points) */
    int *labels;           /* label indices after search_query_resolve */
    int label_count;
} search_node;

typedef struct search_query {
    search_node *nodes;
    int node_count;
    int node_capacity;
    int root;
} search_query;

/* Parses `text` into `query` (zeroed by the caller). A syntax error gives
 * PICOTAG_ERROR_INVALID_ARGUMENT and names the column. */
picotag_status search_query_parse(const char *text, search_query *query, picotag_error *error);

/* Looks up every word in the label table: a word matches a label whose
 * English name, Korean name, English supercategory or Korean supercategory
 * equals it after normalisation. An unknown word fails with a message that
 * lists the closest names by edit distance. */
picotag_status search_query_resolve(search_query *query, const picotag_label *labels,
                                    int label_count, picotag_error *error);

void search_query_free(search_query *query);

/* Writes the tree in prefix form, e.g. "(OR (AND dog cat) (NOT person))". */
void search_query_describe(const search_query *query, char *text, size_t capacity);

/* Returns a normalised copy of the first `length` bytes of a word or label
 * name, to be freed by the caller, or NULL when out of memory. The first
 * step is Unicode normalisation form C, so Korean written as separate jamo
 * (U+1100 onward, as macOS writes file names) equals the precomposed
 * syllables. Text that is not valid UTF-8 skips that step. Then ASCII
 * letters become lower case, '_' and '-' spaces, runs of spaces one space,
 * and leading and trailing spaces go. */
char *search_normalised(const char *text, size_t length);

/* SQL for a resolved query, with the values to bind: ?1 is the minimum
 * score, ?2 the row limit, ?3 onward the English label names in
 * `bound_labels` order. No user text is ever part of the SQL. */
typedef struct search_sql {
    char *select_sql;      /* columns: id, path, captured_at, best score */
    char *tags_sql;        /* ?1 photo id, ?2 minimum score, ?3.. positive labels */
    int *bound_labels;     /* label indices bound as ?3, ?4, ... in select_sql */
    int bound_label_count;
    int *positive_labels;  /* label indices bound as ?3, ?4, ... in tags_sql */
    int positive_label_count;
} search_sql;

picotag_status search_sql_build(const search_query *query, search_sql *sql,
                                picotag_error *error);

void search_sql_free(search_sql *sql);

#endif
