/* The picotag command: dispatches to one function per subcommand. */
#include <stdio.h>
#include <string.h>

#include "picotag.h"
#include "tools/commands.h"

typedef struct subcommand {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} subcommand;

static const subcommand subcommands[] = {
    {"bench", command_bench, "time a model's network and operators, report its memory"},
    {"eval", command_eval, "measure a model's mAP, precision and recall on labelled photos"},
    {"info", command_info, "show a model file's graph, preprocessing, labels and provenance"},
    {"logits", command_logits, "run a model on raw RGB bytes and print the int32 logits"},
    {"search", command_search, "find catalogued photos by their tags"},
    {"tag", command_tag, "tag photos and folders, keep the catalogue, write XMP sidecars"},
    {"watch", command_watch, "tag photos as they arrive in folders, until interrupted"},
};

#define SUBCOMMAND_COUNT (sizeof(subcommands) / sizeof(subcommands[0]))

static void print_usage(FILE *stream) {
    fprintf(stream,
            "usage: picotag COMMAND [ARGUMENTS]\n"
            "\n"
            "On-device photo tagging with an integer-only ResNet.\n"
            "\n"
            "commands:\n");
    for (size_t i = 0; i < SUBCOMMAND_COUNT; i++) {
        fprintf(stream, "  %-8s %s\n", subcommands[i].name, subcommands[i].summary);
    }
    fprintf(stream,
            "\n"
            "options:\n"
            "  -h, --help     show this help and exit\n"
            "  --version      show the version and exit\n"
            "\n"
            "Run 'picotag COMMAND --help' for a command's arguments.\n"
            "Exit status: 0 success, 1 runtime error, 2 usage error, 3 (tag, search,\n"
            "watch) the model or the catalogue cannot be used; each command's --help\n"
            "gives the details.\n");
}

int main(int argc, char **argv) {
    if (argc < 2) {
        print_usage(stderr);
        return EXIT_STATUS_USAGE_ERROR;
    }
    const char *first = argv[1];
    if (strcmp(first, "-h") == 0 || strcmp(first, "--help") == 0 || strcmp(first, "help") == 0) {
        print_usage(stdout);
        return EXIT_STATUS_OK;
    }
    if (strcmp(first, "--version") == 0) {
        printf("picotag %s\n", picotag_version());
        return EXIT_STATUS_OK;
    }

    for (size_t i = 0; i < SUBCOMMAND_COUNT; i++) {
        if (strcmp(first, subcommands[i].name) == 0) {
            return subcommands[i].run(argc - 1, argv + 1);
        }
    }
    fprintf(stderr, "picotag: unknown command '%s'; run 'picotag --help' for the list\n", first);
    return EXIT_STATUS_USAGE_ERROR;
}
