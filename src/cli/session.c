/* Sessions: one connection for many calls, since a daemon session and its
 * key handles end with the connection. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "signer/memory.h"
#include "signer/net.h"

#define SESSION_MAX_TOKENS 32

static int connect_once(cli_session *s, rpc_call call)
{
    if (s->client != NULL)
        return CLI_EXIT_OK;
    signer_error err;
    net_address addr;
    if (net_address_parse(s->address, 16, &addr, &err) != 0) {
        signer_error_wrap(&err, "--connect (or SIGNER_CONNECT)");
        return cli_output_fail(s, NULL, rpc_call_name(call), CLI_FAIL_LOCAL, err.message);
    }
    if (signer_client_connect(s->address, &s->client, &err) != 0) {
        s->client = NULL;
        char msg[SIGNER_ERROR_MESSAGE_MAX + 64];
        snprintf(msg, sizeof(msg), "%s (is enclave-signer running there? see --connect)",
                 err.message);
        return cli_output_fail(s, NULL, rpc_call_name(call), CLI_FAIL_TRANSPORT, msg);
    }
    return CLI_EXIT_OK;
}

/* Initialize with the command line's credentials, reported only when it
 * fails: the call the operator asked for prints the object. */
static int auto_initialize(cli_session *s)
{
    const char *name = rpc_call_name(RPC_INITIALIZE);
    rpc_request req = {.call = RPC_INITIALIZE};
    if (s->credentials != NULL)
        req.credentials = *s->credentials;
    rpc_response resp;
    signer_error err;
    s->initialize_sent = true;
    if (signer_client_call(s->client, &req, &resp, &err) != 0)
        return cli_output_fail(s, NULL, name, CLI_FAIL_TRANSPORT, err.message);
    int status = CLI_EXIT_OK;
    if (!resp.ok) {
        json_t *obj = cli_output_begin(s, name);
        if (obj != NULL && json_object_set_new(obj, "automatic", json_true()) != 0) {
            json_decref(obj);
            obj = NULL;
        }
        status = cli_output_fail(s, obj, name, CLI_FAIL_DAEMON, resp.error_message);
    }
    rpc_response_free(&resp);
    return status;
}

int cli_session_ready(cli_session *s, rpc_call call)
{
    int status = connect_once(s, call);
    if (status != CLI_EXIT_OK || call == RPC_INITIALIZE || s->initialize_sent ||
        !s->auto_initialize)
        return status;
    return auto_initialize(s);
}

void cli_session_close(cli_session *s)
{
    signer_client_close(s->client);
    s->client = NULL;
}

/* Splits a line in place into words, shell-like but small: blanks separate,
 * '...' is literal, "..." allows \" and \\, a backslash outside quotes
 * escapes the next character, and # at the start of a word ends the line. */
static int tokenize(char *line, char **words, int max, int *count, signer_error *err)
{
    char *r = line, *w = line;
    int n = 0;
    for (;;) {
        while (*r == ' ' || *r == '\t' || *r == '\r' || *r == '\n')
            r++;
        if (*r == '\0' || *r == '#')
            break;
        if (n == max)
            return signer_error_set(err, SIGNER_ERR_INVALID_ARGUMENT,
                                    "more than %d words on one line", max);
        words[n++] = w;
        while (*r != '\0' && *r != ' ' && *r != '\t' && *r != '\r' && *r != '\n') {
            if (*r == '\'' || *r == '"') {
                char q = *r++;
                while (*r != '\0' && *r != q) {
                    if (q == '"' && *r == '\\' && (r[1] == '"' || r[1] == '\\'))
                        r++;
                    *w++ = *r++;
                }
                if (*r != q)
                    return signer_error_set(err, SIGNER_ERR_INVALID_ARGUMENT,
                                            "unterminated %c quote", q);
                r++;
            } else if (*r == '\\' && r[1] != '\0') {
                r++;
                *w++ = *r++;
            } else {
                *w++ = *r++;
            }
        }
        /* The writer never passes the reader, so ending the word here is
         * safe; skip the separator first if it is where the NUL goes. */
        if (*r != '\0')
            r++;
        *w++ = '\0';
    }
    *count = n;
    return 0;
}

/* Reads one line (without its newline) into `line`, NUL-terminated.
 * Returns 1 when a newline ended it, 0 at the end of the input (`line`
 * holds what came before it), -1 on a read error or a NUL byte. */
static int read_line(FILE *f, signer_buf *line, signer_error *err)
{
    int c;
    while ((c = getc(f)) != EOF && c != '\n') {
        if (c == '\0')
            return signer_error_set(err, SIGNER_ERR_INVALID_ARGUMENT,
                                    "a NUL byte in a session line");
        uint8_t byte = (uint8_t)c;
        if (signer_buf_append(line, &byte, 1, err) != 0)
            return -1;
    }
    if (ferror(f))
        return signer_error_set(err, SIGNER_ERR_IO, "cannot read the session script: %s",
                                strerror(errno));
    if (signer_buf_append(line, "", 1, err) != 0)
        return -1;
    line->len--; /* the NUL stays behind the text */
    return c == '\n';
}

/* One session line: parse it like a command line and run it. */
static int run_line(cli_session *s, char *line)
{
    char *words[SESSION_MAX_TOKENS + 2];
    int n = 0;
    cli_args args;
    signer_error err;
    static char program[] = "signer-cli";
    words[0] = program; /* getopt starts at argv[1] */
    if (tokenize(line, words + 1, SESSION_MAX_TOKENS, &n, &err) != 0 ||
        (n > 0 && cli_args_parse(n + 1, words, &args, &err) != 0))
        return cli_output_fail(s, NULL, NULL, CLI_FAIL_LOCAL, err.message);
    if (n == 0)
        return CLI_EXIT_OK; /* blank or comment */
    if (args.positional_count == 0)
        return cli_output_fail(s, NULL, NULL, CLI_FAIL_LOCAL, "a line without a command");
    const char *name = args.positional[0];
    const cli_command *cmd = cli_command_find(name);
    if (cmd == NULL) {
        snprintf(err.message, sizeof(err.message), "unknown command \"%.64s\"%s", name,
                 strcmp(name, "session") == 0 || strcmp(name, "help") == 0
                     ? " inside a session"
                     : " (see signer-cli --help)");
        return cli_output_fail(s, NULL, NULL, CLI_FAIL_LOCAL, err.message);
    }
    if (args.help || args.show_version)
        return cli_output_fail(s, NULL, NULL, CLI_FAIL_LOCAL,
                               "--help and --version belong on the command line");
    return cli_command_run(s, cmd, &args);
}

int cli_session_run(cli_session *s, const cli_args *args)
{
    if (args->positional_count > 2) {
        fprintf(stderr, "signer-cli: session takes one FILE (or - for stdin), not \"%s\"\n",
                args->positional[2]);
        return CLI_EXIT_LOCAL;
    }
    unsigned stray = args->seen & ~(CLI_OPT_GLOBAL | CLI_OPT_CREDENTIALS);
    if (stray != 0) {
        fprintf(stderr,
                "signer-cli: %s goes on a session line, not on the session's command "
                "line\n",
                cli_args_option_name(stray & -stray));
        return CLI_EXIT_LOCAL;
    }
    const char *path = args->positional_count == 2 ? args->positional[1] : "-";
    s->stdin_busy = strcmp(path, "-") == 0;
    FILE *f = s->stdin_busy ? stdin : fopen(path, "re");
    if (f == NULL) {
        fprintf(stderr, "signer-cli: cannot open session file %s: %s\n", path, strerror(errno));
        return CLI_EXIT_LOCAL;
    }
    /* A signer_buf, not getline: lines may carry secrets (--secret-hex,
     * credentials), and a signer_buf wipes what it leaves behind. */
    signer_buf line = SIGNER_BUF_INIT;
    int first_failure = CLI_EXIT_OK, more = 1;
    while (more) {
        signer_error err;
        more = read_line(f, &line, &err);
        if (more < 0) {
            s->line++;
            int status = cli_output_fail(s, NULL, NULL, CLI_FAIL_LOCAL, err.message);
            first_failure = first_failure != CLI_EXIT_OK ? first_failure : status;
            break;
        }
        if (more == 0 && line.len == 0)
            break;
        s->line++;
        int status = run_line(s, (char *)line.data);
        signer_buf_clear(&line);
        if (status == CLI_EXIT_OK)
            continue;
        if (first_failure == CLI_EXIT_OK)
            first_failure = status;
        if (status == CLI_EXIT_TRANSPORT || !args->keep_going)
            break;
    }
    signer_buf_free(&line);
    if (!s->stdin_busy)
        fclose(f);
    return first_failure;
}
