/* picotag search QUERY...: find catalogued photos by their tags. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "picotag_catalogue.h"
#include "tools/commands.h"
#include "tools/messages.h"
#include "tools/text_format.h"
#include "tools/tool_catalogue.h"
#include "tools/tool_model.h"

typedef struct search_arguments {
    const char *model_path;
    const char *catalogue_path;
    double min_score;
    long long limit;
    int json;
    picotag_language language;
    char *query;               /* the QUERY arguments joined by spaces; free() it */
} search_arguments;

static void print_search_usage(FILE *stream) {
    fprintf(stream,
            "usage: picotag search [--catalog FILE] [--model FILE] [--min-score X] [--limit N]\n"
            "                      [--json] [--lang ko|en] QUERY...\n"
            "\n"
            "Prints the catalogued photos whose tags match QUERY, one path per line, best\n"
            "match first. The words of QUERY are tag names or categories, in English or\n"
            "Korean, from the model's label table.\n"
            "\n"
            "query language:\n"
            "  dog                  photos tagged dog\n"
            "  개                   the same, by the Korean name\n"
            "  dog person           a dog and a person\n"
            "  dog OR cat           a dog, a cat or both (OR in capitals)\n"
            "  animal -cat          any animal, but no cat\n"
            "  동물 -고양이          the same in Korean\n"
            "  hot_dog              a name of several words: hot_dog, hot-dog or \"hot dog\"\n"
            "  person (dog OR cat)  a person with a dog or a cat\n"
            "Quote the query for the shell when it has quotes or parentheses:\n"
            "  picotag search 'person (dog OR cat)'\n"
            "\n"
            "options:\n"
            "  --catalog FILE  catalogue database (default:\n"
            "                  $XDG_DATA_HOME/picotag/catalog.sqlite, or\n"
            "                  ~/.local/share/picotag/catalog.sqlite)\n"
            "  --model FILE    model whose label names the words are (default:\n"
            "                  $PICOTAG_MODEL, else models/default.ptm of this build, else\n"
            "                  the installed default model)\n"
            "  --min-score X   count a tag only when its score is at least X (0 to 1)\n"
            "  --limit N       print at most N photos\n"
            "  --json          print JSON Lines: {\"path\", \"tags\": [{name, name_en, name_ko,\n"
            "                  score}]} with the tags the query matched\n"
            "  --lang ko|en    language of tag names and messages (default: from\n"
            "                  LC_ALL, LC_MESSAGES or LANG)\n"
            "\n"
            "Errors in the query (an unknown word, a missing parenthesis) are explained\n"
            "in English, with the closest tag names.\n"
            "\n"
            "exit status:\n"
            "  0  photos matched\n"
            "  1  no photo matched\n"
            "  2  usage error, or an error in the query\n"
            "  3  the model or the catalogue cannot be used\n");
}

typedef enum parse_result {
    PARSE_OK,
    PARSE_HELP,
    PARSE_ERROR
} parse_result;

static int parse_score(const char *text, double *score) {
    errno = 0;
    char *end = NULL;
    const double value = strtod(text, &end);
    if (errno != 0 || end == text || *end != '\0' || !(value >= 0.0 && value <= 1.0)) {
        return 0;
    }
    *score = value;
    return 1;
}

static int parse_limit(const char *text, long long *limit) {
    errno = 0;
    char *end = NULL;
    const long long value = strtoll(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || value < 1) {
        return 0;
    }
    *limit = value;
    return 1;
}

/* Appends `word` to the query, a space before every word but the first. */
static int append_word(char **query, const char *word) {
    const size_t used = *query != NULL ? strlen(*query) : 0;
    char *grown = realloc(*query, used + 1 + strlen(word) + 1);
    if (grown == NULL) {
        return 0;
    }
    if (used > 0) {
        grown[used] = ' ';
        strcpy(grown + used + 1, word);
    } else {
        strcpy(grown, word);
    }
    *query = grown;
    return 1;
}

static int is_option(const char *arg) {
    return arg[0] == '-' && arg[1] == '-';
}

/* Options start with "--". A single '-' starts an excluded word ("-cat"),
 * so it belongs to the query; "--" ends the options. */
static parse_result parse_search_arguments(int argc, char **argv, search_arguments *args) {
    memset(args, 0, sizeof(*args));
    args->language = language_from_environment();
    int only_query = 0;

    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const int has_value = i + 1 < argc;

        if (only_query || !is_option(arg)) {
            if (strcmp(arg, "-h") == 0 && !only_query) {
                return PARSE_HELP;
            }
            if (!append_word(&args->query, arg)) {
                fprintf(stderr, "picotag search: out of memory reading the query\n");
                return PARSE_ERROR;
            }
        } else if (strcmp(arg, "--") == 0) {
            only_query = 1;
        } else if (strcmp(arg, "--help") == 0) {
            return PARSE_HELP;
        } else if (strcmp(arg, "--json") == 0) {
            args->json = 1;
        } else if (strcmp(arg, "--model") == 0 && has_value) {
            args->model_path = argv[++i];
        } else if (strcmp(arg, "--catalog") == 0 && has_value) {
            args->catalogue_path = argv[++i];
        } else if (strcmp(arg, "--min-score") == 0 && has_value) {
            if (!parse_score(argv[++i], &args->min_score)) {
                fprintf(stderr, "picotag search: --min-score expects a number from 0 to 1, got '%s'\n",
                        argv[i]);
                return PARSE_ERROR;
            }
        } else if (strcmp(arg, "--limit") == 0 && has_value) {
            if (!parse_limit(argv[++i], &args->limit)) {
                fprintf(stderr, "picotag search: --limit expects a number of photos above 0, got '%s'\n",
                        argv[i]);
                return PARSE_ERROR;
            }
        } else if (strcmp(arg, "--lang") == 0 && has_value) {
            if (!language_parse(argv[++i], &args->language)) {
                fprintf(stderr, "picotag search: --lang expects ko or en, got '%s'\n", argv[i]);
                return PARSE_ERROR;
            }
        } else {
            fprintf(stderr, "picotag search: unknown option '%s', or it is missing its value\n",
                    arg);
            return PARSE_ERROR;
        }
    }
    if (args->query == NULL) {
        fprintf(stderr, "picotag search: missing QUERY, e.g. 'picotag search dog'\n");
        return PARSE_ERROR;
    }
    return PARSE_OK;
}

typedef struct search_printer {
    const search_arguments *args;
} search_printer;

static int print_match(const picotag_search_match *match, void *user) {
    const search_printer *printer = user;
    if (!printer->args->json) {
        printf("%s\n", match->path);
        return 0;
    }

    fputs("{\"path\": ", stdout);
    json_write_string(stdout, match->path);
    fputs(", \"tags\": [", stdout);
    for (size_t i = 0; i < match->tag_count; i++) {
        const picotag_search_tag *tag = &match->tags[i];
        /* A label the current model lacks is shown by its recorded English
         * name in every field. */
        const char *name_en = tag->entry != NULL ? tag->entry->name_en : tag->label;
        const char *name_ko = tag->entry != NULL ? tag->entry->name_ko : tag->label;
        const char *name =
            tag->entry != NULL ? picotag_tagger_name(tag->entry, printer->args->language) : tag->label;
        fputs(i > 0 ? ", {\"name\": " : "{\"name\": ", stdout);
        json_write_string(stdout, name);
        fputs(", \"name_en\": ", stdout);
        json_write_string(stdout, name_en);
        fputs(", \"name_ko\": ", stdout);
        json_write_string(stdout, name_ko);
        printf(", \"score\": %.6f}", tag->score);
    }
    fputs("]}\n", stdout);
    return 0;
}

/* Returns the labels of the model as one array, as the search takes them. */
static picotag_label *copy_labels(const picotag_model *model) {
    const int classes = picotag_model_class_count(model);
    picotag_label *labels = calloc((size_t)classes + 1, sizeof(*labels));
    for (int k = 0; labels != NULL && k < classes; k++) {
        labels[k] = *picotag_model_label(model, k);
    }
    return labels;
}

static int run_search(const search_arguments *args) {
    tool_model model;
    if (!tool_model_open("search", args->model_path, &model)) {
        return EXIT_STATUS_FATAL;
    }
    picotag_catalogue *catalogue = tool_catalogue_open_for_reading("search", args->catalogue_path);
    picotag_label *labels = copy_labels(model.model);
    if (catalogue == NULL || labels == NULL) {
        if (labels == NULL) {
            fprintf(stderr, "picotag search: out of memory copying the label table\n");
        }
        free(labels);
        picotag_catalogue_close(catalogue);
        tool_model_close(&model);
        return EXIT_STATUS_FATAL;
    }

    const picotag_search_options options = {
        .labels = labels,
        .label_count = picotag_model_class_count(model.model),
        .min_score = args->min_score,
        .limit = args->limit,
    };
    search_printer printer = {.args = args};
    int64_t matches = 0;
    picotag_error error;
    const picotag_status status =
        picotag_search(catalogue, args->query, &options, print_match, &printer, &matches, &error);
    fflush(stdout);

    int exit_status = EXIT_STATUS_OK;
    if (status == PICOTAG_ERROR_INVALID_ARGUMENT) {
        /* The query is at fault: an unknown word or a syntax error. The
         * library's messages start with "search: ". */
        const int has_prefix = strncmp(error.message, "search: ", 8) == 0;
        fprintf(stderr, "picotag %s%s\n", has_prefix ? "" : "search: ", error.message);
        exit_status = EXIT_STATUS_USAGE_ERROR;
    } else if (status != PICOTAG_OK) {
        fprintf(stderr, "picotag search: %s\n", error.message);
        exit_status = EXIT_STATUS_FATAL;
    } else if (matches == 0) {
        fprintf(stderr, "%s\n", message_text(args->language, MESSAGE_NO_MATCHES));
        exit_status = EXIT_STATUS_NO_MATCHES;
    }

    free(labels);
    picotag_catalogue_close(catalogue);
    tool_model_close(&model);
    return exit_status;
}

int command_search(int argc, char **argv) {
    search_arguments args;
    const parse_result parsed = parse_search_arguments(argc, argv, &args);
    int status;
    if (parsed == PARSE_HELP) {
        print_search_usage(stdout);
        status = EXIT_STATUS_OK;
    } else if (parsed == PARSE_ERROR) {
        fprintf(stderr, "Run 'picotag search --help' for the options.\n");
        status = EXIT_STATUS_USAGE_ERROR;
    } else {
        status = run_search(&args);
    }
    free(args.query);
    return status;
}
