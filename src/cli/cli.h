/* signer-cli internals: command line, inputs, JSON output, sessions. */
#ifndef SIGNER_CLI_H
#define SIGNER_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "signer/buf.h"
#include "signer/client.h"
#include "signer/crypto.h"
#include "signer/error.h"
#include "signer/rpc.h"
#include "tezos.h"

#define CLI_DEFAULT_CONNECT "vsock:16:2000"

/* Exit statuses; a session exits with its first failure's status. */
enum {
    CLI_EXIT_OK = 0,
    CLI_EXIT_REFUSED = 1,   /* the daemon answered Err, or verify rejected */
    CLI_EXIT_LOCAL = 2,     /* bad usage or input, or a file error */
    CLI_EXIT_TRANSPORT = 3, /* connecting, sending or reading an answer failed */
};

/* ---- args.c: the options of one command line (or session line) ---- */

enum {
    CLI_OPT_CONNECT = 1u << 0,
    CLI_OPT_PRETTY = 1u << 1,
    CLI_OPT_NO_INITIALIZE = 1u << 2,
    CLI_OPT_KEEP_GOING = 1u << 3,
    CLI_OPT_ACCESS_KEY_ID = 1u << 4,
    CLI_OPT_SECRET_ACCESS_KEY = 1u << 5,
    CLI_OPT_SESSION_TOKEN = 1u << 6,
    CLI_OPT_ENCRYPTION_KEY_ID = 1u << 7, /* --encryption-key-id or --key-id */
    CLI_OPT_REGION = 1u << 8,
    CLI_OPT_CREDENTIALS_FILE = 1u << 9,
    CLI_OPT_HANDLE = 1u << 10,
    CLI_OPT_MESSAGE_HEX = 1u << 11,
    CLI_OPT_MESSAGE_FILE = 1u << 12,
    CLI_OPT_SEALED = 1u << 13,
    CLI_OPT_SEALED_HEX = 1u << 14,
    CLI_OPT_SECRET_HEX = 1u << 15,
    CLI_OPT_SECRET_FILE = 1u << 16,
    CLI_OPT_OUT = 1u << 17,
    CLI_OPT_VERSION_SIGN = 1u << 18,
    CLI_OPT_PUBLIC_KEY = 1u << 19,
    CLI_OPT_SIGNATURE = 1u << 20,
};

/* Options that shape the whole run: the command line only, not session lines. */
#define CLI_OPT_GLOBAL                                                                             \
    (CLI_OPT_CONNECT | CLI_OPT_PRETTY | CLI_OPT_NO_INITIALIZE | CLI_OPT_KEEP_GOING)
#define CLI_OPT_CREDENTIALS                                                                        \
    (CLI_OPT_ACCESS_KEY_ID | CLI_OPT_SECRET_ACCESS_KEY | CLI_OPT_SESSION_TOKEN |                   \
     CLI_OPT_ENCRYPTION_KEY_ID | CLI_OPT_REGION | CLI_OPT_CREDENTIALS_FILE)
#define CLI_OPT_MAX_POSITIONAL 4

/* Values point into argv (or a session line); nothing is parsed yet. */
typedef struct cli_args {
    unsigned seen; /* CLI_OPT_* bits given */
    const char *connect;
    const char *access_key_id, *secret_access_key, *session_token;
    const char *encryption_key_id, *region, *credentials_file;
    const char *handle, *message_hex, *message_file, *sealed, *sealed_hex;
    const char *secret_hex, *secret_file, *out, *version_sign;
    const char *public_key, *signature;
    bool pretty, no_initialize, keep_going, help, show_version;
    const char *positional[CLI_OPT_MAX_POSITIONAL]; /* [0] is the command */
    int positional_count;
} cli_args;

/* Parses argv[1..argc-1] (argv may be permuted).  On a usage error `err`
 * says what is wrong. */
int cli_args_parse(int argc, char **argv, cli_args *out, signer_error *err);

/* The name of the option a bit stands for, e.g. "--message-hex". */
const char *cli_args_option_name(unsigned bit);

/* ---- input.c: turning option values into bytes ---- */

/* Hex (an optional 0x prefix) appended to `out`; `what` names the option. */
int cli_input_hex(const char *hex, const char *what, signer_buf *out, signer_error *err);

/* True when `s` is non-empty hex (an optional 0x prefix). */
bool cli_input_is_hex(const char *s);

/* Reads a whole file ("-": stdin, refused when `stdin_busy`) into `out`. */
int cli_input_file(const char *path, bool stdin_busy, signer_buf *out, signer_error *err);

/* A private key from a file: exactly 32 bytes are raw, anything else hex. */
int cli_input_secret_file(const char *path, bool stdin_busy, signer_buf *out, signer_error *err);

/* "Secp256k1", "NistP256" (or "P256"), "Ed25519", "Bls", any case. */
int cli_input_key_type(const char *s, signer_key_type *out, signer_error *err);

/* A signing version: 0..255 or "latest" (255). */
int cli_input_version(const char *s, unsigned *out, signer_error *err);

/* An unsigned decimal number. */
int cli_input_u64(const char *s, const char *what, uint64_t *out, signer_error *err);

/* Initialize's credentials, owning copies that are wiped when freed. */
typedef struct cli_credentials {
    rpc_credentials rpc;
} cli_credentials;

/* From --credentials FILE (JSON) and then the flags, which win. */
int cli_credentials_load(const cli_args *args, bool stdin_busy, cli_credentials *out,
                         signer_error *err);
void cli_credentials_free(cli_credentials *c);

/* --out: creates `path` (must not exist) with mode 0600 before the call,
 * so a key is never made that cannot be stored.  Returns the fd or -1. */
int cli_out_create(const char *path, signer_error *err);
/* Writes and syncs all bytes, then closes; on failure the file is removed. */
int cli_out_finish(int fd, const char *path, const uint8_t *data, size_t len, signer_error *err);
/* Closes and removes a file from cli_out_create (the call failed). */
void cli_out_abandon(int fd, const char *path);

/* ---- session state: one connection, one daemon session ---- */

typedef struct cli_session {
    const char *address;
    const rpc_credentials *credentials; /* the command line's, for auto-Initialize */
    bool auto_initialize;
    bool pretty;
    signer_client *client; /* connected on the first call */
    bool initialize_sent;  /* explicit or automatic; never sent twice by us */
    bool has_last_handle;
    uint64_t last_handle; /* the latest handle an answer carried (--handle last) */
    unsigned line;        /* session line number; 0 for a single command */
    bool stdin_busy;      /* the session script is read from stdin */
    FILE *out;
} cli_session;

/* ---- output.c: one JSON object per call ---- */

/* Makes jansson wipe what it frees (sealed keys, credentials pass through). */
void cli_output_init(void);

/* {"call": call, "ok": true} plus "line" in a session.  NULL when out of memory. */
json_t *cli_output_begin(const cli_session *s, const char *call);

/* Adds field: {"type", "hex", "b58"} (+ "address" for a public key).  b58 and
 * address are null when the bytes do not have the type's size. */
int cli_output_typed(json_t *obj, const char *field, tezos_kind kind, signer_key_type type,
                     const uint8_t *bytes, size_t len);

/* Adds field: lowercase hex string. */
int cli_output_hex(json_t *obj, const char *field, const uint8_t *bytes, size_t len);

/* Prints `obj` as one line (or indented with --pretty) and releases it.
 * `build_failed` turns it into an out-of-memory failure.  Returns `status`,
 * or CLI_EXIT_LOCAL when printing failed. */
int cli_output_emit(const cli_session *s, json_t *obj, int build_failed, int status);

typedef enum cli_failure {
    CLI_FAIL_DAEMON,    /* an Err answer ("error_kind": "daemon"), exit 1 */
    CLI_FAIL_REJECTED,  /* verify: the signature does not verify, exit 1 */
    CLI_FAIL_LOCAL,     /* usage, input or file error, exit 2 */
    CLI_FAIL_TRANSPORT, /* connection or framing failure, exit 3 */
} cli_failure;

/* Reports a failure: {"call", "ok": false, "error", "error_kind"} on stdout
 * and "signer-cli: [line N: ][call: ]message" on stderr.  `obj` (may be
 * NULL) is a begun object to complete; `call` may be NULL.  Returns the exit
 * status for `kind`. */
int cli_output_fail(const cli_session *s, json_t *obj, const char *call, cli_failure kind,
                    const char *message);

/* ---- commands.c: the subcommands ---- */

typedef struct cli_command cli_command;

const cli_command *cli_command_find(const char *name);

/* Runs one command (its options in `args`); returns an exit status. */
int cli_command_run(cli_session *s, const cli_command *cmd, const cli_args *args);

/* True for commands that need the daemon (all but verify). */
bool cli_command_is_rpc(const cli_command *cmd);

void cli_command_help(FILE *f, const cli_command *cmd);
void cli_usage(FILE *f);

/* ---- session.c: several calls over one connection ---- */

/* Connects (once) and, unless told not to, sends Initialize with the
 * command line's credentials before the first call that needs it. */
int cli_session_ready(cli_session *s, rpc_call call);

/* Runs `session [FILE]`: one command per line, same syntax as the
 * subcommands.  Returns the first failure's status (or 0). */
int cli_session_run(cli_session *s, const cli_args *args);

void cli_session_close(cli_session *s);

#endif
