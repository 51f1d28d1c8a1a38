/* Subcommands of the picotag command. */
#ifndef PICOTAG_TOOLS_COMMANDS_H
#define PICOTAG_TOOLS_COMMANDS_H

/* Exit statuses of the command. */
enum {
    EXIT_STATUS_OK = 0,
    EXIT_STATUS_RUNTIME_ERROR = 1,   /* a file could not be read, a model is invalid, ... */
    EXIT_STATUS_USAGE_ERROR = 2,     /* the command line is wrong */
    /* tag, search and watch: */
    EXIT_STATUS_SOME_FAILED = 1,     /* tag: some photos or folders could not be read */
    EXIT_STATUS_NO_MATCHES = 1,      /* search: no photo matched */
    EXIT_STATUS_FATAL = 3            /* the model or the catalogue cannot be used */
};

/* Each subcommand receives its own arguments: argv[0] is the subcommand
 * name, and it returns an exit status. */
int command_bench(int argc, char **argv);
int command_eval(int argc, char **argv);
int command_info(int argc, char **argv);
int command_logits(int argc, char **argv);
int command_search(int argc, char **argv);
int command_tag(int argc, char **argv);
int command_watch(int argc, char **argv);

#endif
