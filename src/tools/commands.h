/* Subcommands of the picotag command. */
#ifndef PICOTAG_TOOLS_COMMANDS_H
#define PICOTAG_TOOLS_COMMANDS_H

/* Exit statuses of the command. */
enum {
    EXIT_STATUS_OK = 0,
    EXIT_STATUS_RUNTIME_ERROR = 1,   /* a file could not be read, a model is invalid, ... */
    EXIT_STATUS_USAGE_ERROR = 2      /* the command line is wrong */
};

/* Each subcommand receives its own arguments: argv[0] is the subcommand
 * name, and it returns an exit status. */
int command_info(int argc, char **argv);
int command_logits(int argc, char **argv);

#endif
