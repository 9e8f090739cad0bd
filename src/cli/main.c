/* signer-cli: the operator's debugging client for enclave-signer. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char *default_address(const cli_args *args)
{
    if (args->connect != NULL)
        return args->connect;
    const char *env = getenv("SIGNER_CONNECT");
    return env != NULL && *env != '\0' ? env : CLI_DEFAULT_CONNECT;
}

/* `help [COMMAND]`, `--help`, `COMMAND --help`. */
static int show_help(const char *name)
{
    if (name == NULL || strcmp(name, "session") == 0 || strcmp(name, "help") == 0) {
        cli_usage(stdout);
        return CLI_EXIT_OK;
    }
    const cli_command *cmd = cli_command_find(name);
    if (cmd == NULL) {
        fprintf(stderr, "signer-cli: unknown command \"%s\" (see signer-cli --help)\n", name);
        return CLI_EXIT_LOCAL;
    }
    cli_command_help(stdout, cmd);
    return CLI_EXIT_OK;
}

int main(int argc, char **argv)
{
    cli_output_init();
    cli_args args;
    signer_error err;
    if (cli_args_parse(argc, argv, &args, &err) != 0) {
        fprintf(stderr, "signer-cli: %s (see signer-cli --help)\n", err.message);
        return CLI_EXIT_LOCAL;
    }
    const char *name = args.positional_count > 0 ? args.positional[0] : NULL;
    if (args.show_version) {
        printf("signer-cli %s\n", SIGNER_VERSION);
        return CLI_EXIT_OK;
    }
    if (name != NULL && strcmp(name, "help") == 0)
        return show_help(args.positional_count > 1 ? args.positional[1] : NULL);
    if (args.help)
        return show_help(name);
    if (name == NULL) {
        cli_usage(stderr);
        return CLI_EXIT_LOCAL;
    }
    bool is_session = strcmp(name, "session") == 0;
    const cli_command *cmd = is_session ? NULL : cli_command_find(name);
    if (!is_session && cmd == NULL) {
        fprintf(stderr, "signer-cli: unknown command \"%s\" (see signer-cli --help)\n", name);
        return CLI_EXIT_LOCAL;
    }
    /* Also libsodium's: the base58 checksums and address hashes need it. */
    if (signer_crypto_init(&err) != 0) {
        fprintf(stderr, "signer-cli: crypto initialisation failed: %s\n", err.message);
        return CLI_EXIT_LOCAL;
    }
    cli_session session = {
        .address = default_address(&args),
        .auto_initialize = !args.no_initialize,
        .pretty = args.pretty,
        .out = stdout,
    };
    /* The automatic Initialize's credentials, checked before anything is
     * sent (an `initialize` command reads its own). */
    cli_credentials creds = {0};
    bool script_on_stdin =
        is_session && (args.positional_count < 2 || strcmp(args.positional[1], "-") == 0);
    bool auto_init = session.auto_initialize &&
                     (is_session || (cli_command_is_rpc(cmd) && strcmp(name, "initialize") != 0));
    if (auto_init) {
        if (cli_credentials_load(&args, script_on_stdin, &creds, &err) != 0) {
            signer_error_wrap(&err, "--credentials");
            return cli_output_fail(&session, NULL, "Initialize", CLI_FAIL_LOCAL, err.message);
        }
        session.credentials = &creds.rpc;
    }
    int status =
        is_session ? cli_session_run(&session, &args) : cli_command_run(&session, cmd, &args);
    cli_session_close(&session);
    cli_credentials_free(&creds);
    return status;
}
