/* The subcommands: each checks its options, turns them into one RPC request
 * (or, for verify, one local check) and prints one JSON object. */
#include <string.h>

#include "cli.h"
#include "signer/memory.h"

/* What a command needs besides the options in `extra`. */
enum {
    NEEDS_TYPE = 1u << 0,       /* TYPE argument */
    MAY_TYPE = 1u << 1,         /* optional TYPE argument */
    NEEDS_HANDLE = 1u << 2,     /* --handle */
    NEEDS_MESSAGE = 1u << 3,    /* --message-hex | --message-file */
    NEEDS_SEALED = 1u << 4,     /* --sealed | --sealed-hex */
    NEEDS_SECRET = 1u << 5,     /* --secret-hex | --secret-file */
    NEEDS_KEY_AND_SIG = 1u << 6 /* --public-key and --signature */
};

#define LOCAL_CALL (-1)

struct cli_command {
    const char *name;
    int call; /* rpc_call, or LOCAL_CALL */
    unsigned needs;
    unsigned extra; /* optional CLI_OPT_* */
    const char *synopsis;
    const char *help;
};

static const cli_command commands[] = {
    {"initialize", RPC_INITIALIZE, 0, CLI_OPT_CREDENTIALS,
     "initialize [--credentials FILE] [--access-key-id ID] [--secret-access-key KEY]\n"
     "           [--session-token TOKEN] [--key-id ID] [--region REGION]",
     "Sends Initialize with these credentials (an empty map when none is given,\n"
     "which the passthrough backend accepts).  Alone it only checks that the\n"
     "daemon accepts them: the session ends with the connection.  Inside a\n"
     "session it must come before the first call that needs a session.\n"},
    {"import", RPC_IMPORT, NEEDS_SEALED, 0, "import (--sealed FILE | --sealed-hex HEX)",
     "Import: unseals a sealed key into the session; prints its public key and\n"
     "handle.\n"},
    {"import-unencrypted", RPC_IMPORT_UNENCRYPTED, NEEDS_TYPE | NEEDS_SECRET, CLI_OPT_OUT,
     "import-unencrypted TYPE (--secret-hex HEX | --secret-file FILE) [--out FILE]",
     "ImportUnencrypted: imports a raw 32-byte private key (ECDSA and BLS: big-endian\n"
     "scalar; Ed25519: seed); prints the sealed key, public key and handle.\n"
     "--secret-file holds 32 raw bytes or hex text.\n"},
    {"generate", RPC_GENERATE, NEEDS_TYPE, CLI_OPT_OUT, "generate TYPE [--out FILE]",
     "Generate: a new key, sealed and returned, not kept in the session.\n"},
    {"generate-and-import", RPC_GENERATE_AND_IMPORT, NEEDS_TYPE, CLI_OPT_OUT,
     "generate-and-import TYPE [--out FILE]",
     "GenerateAndImport: a new key, sealed and returned, and kept in the\n"
     "session under the printed handle.\n"},
    {"sign", RPC_SIGN, NEEDS_HANDLE | NEEDS_MESSAGE, CLI_OPT_VERSION_SIGN,
     "sign --handle N|last (--message-hex HEX | --message-file FILE) [--version-sign N]",
     "Sign: signs the message with a key of this session.\n"},
    {"sign-with", RPC_SIGN_WITH, NEEDS_SEALED | NEEDS_MESSAGE, CLI_OPT_VERSION_SIGN,
     "sign-with (--sealed FILE | --sealed-hex HEX)\n"
     "          (--message-hex HEX | --message-file FILE) [--version-sign N]",
     "SignWith: signs the message with a sealed key, without keeping it.\n"},
    {"public-key", RPC_PUBLIC_KEY, NEEDS_HANDLE, 0, "public-key --handle N|last",
     "PublicKey: the public key of a key of this session.\n"},
    {"public-key-from", RPC_PUBLIC_KEY_FROM, NEEDS_SEALED, 0,
     "public-key-from (--sealed FILE | --sealed-hex HEX)",
     "PublicKeyFrom: the public key of a sealed key, without keeping it.\n"},
    {"prove-possession", RPC_PROVE_POSSESSION, NEEDS_HANDLE, 0, "prove-possession --handle N|last",
     "ProvePossession: the BLS proof of possession of a Bls key of this session.\n"},
    {"verify", LOCAL_CALL, MAY_TYPE | NEEDS_MESSAGE | NEEDS_KEY_AND_SIG, CLI_OPT_VERSION_SIGN,
     "verify [TYPE] --public-key PK --signature SIG\n"
     "       (--message-hex HEX | --message-file FILE) [--version-sign N]",
     "Checks a signature offline with the signer's own rules (no daemon).  PK and\n"
     "SIG are Tezos base58 (edpk/sppk/p2pk/BLpk, edsig/spsig1/p2sig/BLsig/sig) or\n"
     "hex; TYPE is needed for a 33-byte hex key.  --version-sign must match the\n"
     "signing (it matters for Bls: 1 = augmentation, 2/latest = proof of\n"
     "possession); absent means latest.  Exit status 1 when it does not verify.\n"},
};

#define COMMAND_COUNT (sizeof(commands) / sizeof(commands[0]))

const cli_command *cli_command_find(const char *name)
{
    for (size_t i = 0; i < COMMAND_COUNT; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

bool cli_command_is_rpc(const cli_command *cmd)
{
    return cmd->call != LOCAL_CALL;
}

/* A synopsis whose continuation lines keep the indent of its first. */
static void print_synopsis(FILE *f, const char *synopsis, int indent)
{
    for (const char *p = synopsis; *p; p++) {
        fputc(*p, f);
        if (*p == '\n')
            fprintf(f, "%*s", indent, "");
    }
    fputc('\n', f);
}

void cli_command_help(FILE *f, const cli_command *cmd)
{
    static const char lead[] = "usage: signer-cli [options] ";
    fputs(lead, f);
    print_synopsis(f, cmd->synopsis, (int)sizeof(lead) - 1);
    fprintf(f, "\n%s", cmd->help);
    if ((cmd->needs & NEEDS_TYPE) || (cmd->needs & MAY_TYPE))
        fprintf(f, "TYPE: Secp256k1, NistP256 (or P256), Ed25519 or Bls, in any case.\n");
    if (cmd->call != LOCAL_CALL && cmd->call != RPC_INITIALIZE)
        fprintf(f, "Run alone, it first sends Initialize with the credentials options (see\n"
                   "`signer-cli --help`); in a session, the session does that once.\n");
}

void cli_usage(FILE *f)
{
    fprintf(f, "usage: signer-cli [options] COMMAND [ARGS]\n"
               "       signer-cli [options] session [FILE|-]\n"
               "\n"
               "The operator's client for enclave-signer.  Each command makes one RPC call\n"
               "and prints one JSON object per line on stdout; a failure also goes to stderr.\n"
               "\n"
               "A daemon session, and every key handle in it, lives as long as one\n"
               "connection.  A single COMMAND connects, sends Initialize with the credentials\n"
               "options below (an empty map when none is given), makes its call and\n"
               "disconnects.  `session` runs many calls in ONE session: it reads one command\n"
               "per line from FILE (default: stdin), written exactly like the commands here\n"
               "(without `signer-cli`; # starts a comment; quote with '' or \"\"), and sends\n"
               "Initialize once, before the first call that needs it, unless an explicit\n"
               "`initialize` line comes first.  It stops at the first failed line unless\n"
               "--keep-going is given.\n"
               "\n"
               "Commands:\n");
    for (size_t i = 0; i < COMMAND_COUNT; i++) {
        fputs("  ", f);
        print_synopsis(f, commands[i].synopsis, 2);
    }
    fprintf(
        f, "  session [FILE|-]     several calls in one session (see above)\n"
           "  help [COMMAND]       this text, or one command's\n"
           "\n"
           "TYPE: Secp256k1, NistP256 (or P256), Ed25519 or Bls, in any case.\n"
           "\n"
           "Options:\n"
           "  --connect ADDR             vsock:PORT, vsock:CID:PORT, tcp:HOST:PORT or unix:PATH\n"
           "                             (default: $SIGNER_CONNECT, else " CLI_DEFAULT_CONNECT ")\n"
           "  --credentials FILE         Initialize credentials from JSON: access_key_id,\n"
           "                             secret_access_key, session_token, region\n"
           "                             (and key_id or encryption_key_id)\n"
           "  --access-key-id ID         these override the file's fields\n"
           "  --secret-access-key KEY\n"
           "  --session-token TOKEN\n"
           "  --key-id ID                the KMS key that seals keys (= --encryption-key-id)\n"
           "  --region REGION\n"
           "  --no-initialize            never send Initialize on your behalf\n"
           "  --handle N|last            a handle of this session; last: the latest one an\n"
           "                             answer carried\n"
           "  --message-hex HEX          the message to sign or verify\n"
           "  --message-file FILE        ... read from FILE as raw bytes (- for stdin)\n"
           "  --sealed FILE              a sealed key, raw bytes as --out writes them\n"
           "  --sealed-hex HEX           a sealed key in hex\n"
           "  --secret-hex HEX           a raw private key (import-unencrypted)\n"
           "  --secret-file FILE         ... from FILE: 32 raw bytes or hex text\n"
           "  --out FILE                 also write the sealed key to FILE (created, mode 0600;\n"
           "                             an existing file is never overwritten)\n"
           "  --version-sign N           signing version 0, 1, 2 or 255/latest; absent: not\n"
           "                             sent, which means latest\n"
           "  --public-key PK            verify: the public key (base58 or hex)\n"
           "  --signature SIG            verify: the signature (base58 or hex)\n"
           "  --pretty                   indented JSON instead of one object per line\n"
           "  --keep-going               session: go on after a failed line\n"
           "  -h, --help                 this text (COMMAND --help: that command's)\n"
           "  --version                  print the version\n"
           "\n"
           "Output: {\"call\":\"Sign\",\"ok\":true,\"signature\":{\"type\",\"hex\",\"b58\"}};\n"
           "public keys also carry \"address\" (tz1/tz2/tz3/tz4), keys kept in the session\n"
           "\"handle\", new keys \"encrypted_private_key\":{\"hex\",\"size\"[,\"file\"]}; in a\n"
           "session every object has \"line\".  A failure is {\"ok\":false,\"error\":...,\n"
           "\"error_kind\":\"daemon\"|\"rejected\"|\"local\"|\"transport\"}.\n"
           "\n"
           "Exit status: 0 success; 1 the daemon answered Err or verify rejected the\n"
           "signature; 2 bad usage or input, or a file error; 3 connection or transport\n"
           "failure.  A session exits with its first failure's status.\n");
}

/* ---- checking a command's options ---- */

static unsigned allowed_options(const cli_session *s, const cli_command *c)
{
    unsigned a = c->extra;
    if (c->needs & NEEDS_HANDLE)
        a |= CLI_OPT_HANDLE;
    if (c->needs & NEEDS_MESSAGE)
        a |= CLI_OPT_MESSAGE_HEX | CLI_OPT_MESSAGE_FILE;
    if (c->needs & NEEDS_SEALED)
        a |= CLI_OPT_SEALED | CLI_OPT_SEALED_HEX;
    if (c->needs & NEEDS_SECRET)
        a |= CLI_OPT_SECRET_HEX | CLI_OPT_SECRET_FILE;
    if (c->needs & NEEDS_KEY_AND_SIG)
        a |= CLI_OPT_PUBLIC_KEY | CLI_OPT_SIGNATURE;
    /* On the command line, every call may carry the automatic Initialize's
     * credentials; in a session only `initialize` lines take them. */
    if (s->line == 0) {
        a |= CLI_OPT_GLOBAL;
        if (c->call != LOCAL_CALL)
            a |= CLI_OPT_CREDENTIALS;
    }
    return a;
}

/* Exactly one of two alternative options. */
static int one_of(const cli_args *a, unsigned x, unsigned y, const char *cmd, signer_error *err)
{
    if ((a->seen & x) && (a->seen & y))
        return signer_error_set(err, SIGNER_ERR_INVALID_ARGUMENT, "give %s or %s, not both",
                                cli_args_option_name(x), cli_args_option_name(y));
    if (!(a->seen & (x | y)))
        return signer_error_set(err, SIGNER_ERR_INVALID_ARGUMENT, "%s needs %s or %s", cmd,
                                cli_args_option_name(x), cli_args_option_name(y));
    return 0;
}

static int check_options(const cli_session *s, const cli_command *c, const cli_args *a,
                         signer_error *err)
{
    unsigned stray = a->seen & ~allowed_options(s, c);
    if (stray != 0) {
        unsigned bit = stray & -stray;
        if (s->line > 0 && (bit & CLI_OPT_GLOBAL))
            return signer_error_set(err, SIGNER_ERR_INVALID_ARGUMENT,
                                    "%s belongs on the command line, not on a session line",
                                    cli_args_option_name(bit));
        if (s->line > 0 && (bit & CLI_OPT_CREDENTIALS))
            return signer_error_set(err, SIGNER_ERR_INVALID_ARGUMENT,
                                    "%s goes on an initialize line (or the command line)",
                                    cli_args_option_name(bit));
        return signer_error_set(err, SIGNER_ERR_INVALID_ARGUMENT, "%s does not take %s", c->name,
                                cli_args_option_name(bit));
    }
    int want_min = (c->needs & NEEDS_TYPE) ? 2 : 1;
    int want_max = (c->needs & (NEEDS_TYPE | MAY_TYPE)) ? 2 : 1;
    if (a->positional_count < want_min)
        return signer_error_set(err, SIGNER_ERR_INVALID_ARGUMENT,
                                "%s needs a key type: %s TYPE (Secp256k1, NistP256, Ed25519 "
                                "or Bls)",
                                c->name, c->name);
    if (a->positional_count > want_max)
        return signer_error_set(err, SIGNER_ERR_INVALID_ARGUMENT, "unexpected argument \"%s\"",
                                a->positional[want_max]);
    if ((c->needs & NEEDS_HANDLE) && !(a->seen & CLI_OPT_HANDLE))
        return signer_error_set(err, SIGNER_ERR_INVALID_ARGUMENT, "%s needs --handle N|last",
                                c->name);
    if ((c->needs & NEEDS_MESSAGE) &&
        one_of(a, CLI_OPT_MESSAGE_HEX, CLI_OPT_MESSAGE_FILE, c->name, err) != 0)
        return -1;
    if ((c->needs & NEEDS_SEALED) &&
        one_of(a, CLI_OPT_SEALED, CLI_OPT_SEALED_HEX, c->name, err) != 0)
        return -1;
    if ((c->needs & NEEDS_SECRET) &&
        one_of(a, CLI_OPT_SECRET_HEX, CLI_OPT_SECRET_FILE, c->name, err) != 0)
        return -1;
    if ((c->needs & NEEDS_KEY_AND_SIG) && (a->public_key == NULL || a->signature == NULL))
        return signer_error_set(err, SIGNER_ERR_INVALID_ARGUMENT,
                                "%s needs --public-key and --signature", c->name);
    return 0;
}

/* ---- inputs ---- */

typedef struct cli_inputs {
    signer_key_type type;
    bool has_type;
    uint64_t handle;
    unsigned version;
    bool has_version;
    signer_buf message;
    signer_buf key; /* the sealed key, or the raw private key */
    cli_credentials credentials;
    int out_fd;
} cli_inputs;

static void inputs_free(cli_inputs *in, const char *out_path)
{
    signer_buf_free(&in->message);
    signer_buf_free(&in->key);
    cli_credentials_free(&in->credentials);
    if (in->out_fd >= 0)
        cli_out_abandon(in->out_fd, out_path);
    in->out_fd = -1;
}

static int read_handle(const cli_session *s, const char *text, uint64_t *out, signer_error *err)
{
    if (strcmp(text, "last") != 0)
        return cli_input_u64(text, "--handle", out, err);
    if (!s->has_last_handle)
        return signer_error_set(err, SIGNER_ERR_INVALID_ARGUMENT,
                                "--handle last: no answer in this session has carried a "
                                "handle yet (import, import-unencrypted or "
                                "generate-and-import first)");
    *out = s->last_handle;
    return 0;
}

/* Everything local comes first, so bad input never reaches the daemon. */
static int gather(const cli_session *s, const cli_command *c, const cli_args *a, cli_inputs *in,
                  signer_error *err)
{
    bool busy = s->stdin_busy;
    if (a->positional_count > 1) {
        if (cli_input_key_type(a->positional[1], &in->type, err) != 0)
            return -1;
        in->has_type = true;
    }
    if (a->handle != NULL && read_handle(s, a->handle, &in->handle, err) != 0)
        return -1;
    if (a->version_sign != NULL) {
        if (cli_input_version(a->version_sign, &in->version, err) != 0)
            return -1;
        in->has_version = true;
    }
    if (a->message_hex != NULL &&
        cli_input_hex(a->message_hex, "--message-hex", &in->message, err) != 0)
        return -1;
    if (a->message_file != NULL && cli_input_file(a->message_file, busy, &in->message, err) != 0)
        return signer_error_wrap(err, "--message-file");
    if (a->sealed_hex != NULL && cli_input_hex(a->sealed_hex, "--sealed-hex", &in->key, err) != 0)
        return -1;
    if (a->sealed != NULL && cli_input_file(a->sealed, busy, &in->key, err) != 0)
        return signer_error_wrap(err, "--sealed");
    if (a->secret_hex != NULL && cli_input_hex(a->secret_hex, "--secret-hex", &in->key, err) != 0)
        return -1;
    if (a->secret_file != NULL && cli_input_secret_file(a->secret_file, busy, &in->key, err) != 0)
        return signer_error_wrap(err, "--secret-file");
    if (c->call == RPC_INITIALIZE && cli_credentials_load(a, busy, &in->credentials, err) != 0)
        return signer_error_wrap(err, "--credentials");
    if (a->out != NULL && (in->out_fd = cli_out_create(a->out, err)) < 0)
        return -1;
    return 0;
}

/* ---- RPC commands ---- */

/* Prints an Ok answer, after writing --out. */
static int answer(cli_session *s, const cli_command *c, const cli_args *a, cli_inputs *in,
                  const rpc_response *r)
{
    const char *name = rpc_call_name((rpc_call)c->call);
    signer_error write_err;
    int write_failed = 0;
    if (in->out_fd >= 0) {
        int fd = in->out_fd;
        in->out_fd = -1;
        write_failed = cli_out_finish(fd, a->out, r->encrypted_private_key.data,
                                      r->encrypted_private_key.len, &write_err) != 0;
    }
    if (r->has_handle) {
        s->has_last_handle = true;
        s->last_handle = r->handle;
    }
    json_t *obj = cli_output_begin(s, name);
    if (obj == NULL)
        return cli_output_emit(s, NULL, 1, CLI_EXIT_LOCAL);
    int failed = 0;
    if (r->has_handle)
        failed |= json_object_set_new(obj, "handle", json_integer((json_int_t)r->handle));
    if (r->public_key.data != NULL)
        failed |= cli_output_typed(obj, "public_key", TEZOS_PUBLIC_KEY, r->key_type,
                                   r->public_key.data, r->public_key.len);
    if (r->signature.data != NULL)
        failed |=
            cli_output_typed(obj, c->call == RPC_PROVE_POSSESSION ? "proof" : "signature",
                             TEZOS_SIGNATURE, r->key_type, r->signature.data, r->signature.len);
    if (c->call == RPC_IMPORT_UNENCRYPTED || c->call == RPC_GENERATE ||
        c->call == RPC_GENERATE_AND_IMPORT) {
        json_t *k = json_object();
        failed |= k == NULL;
        if (k != NULL) {
            failed |= cli_output_hex(k, "hex", r->encrypted_private_key.data,
                                     r->encrypted_private_key.len);
            failed |= json_object_set_new(k, "size",
                                          json_integer((json_int_t)r->encrypted_private_key.len));
            if (a->out != NULL && !write_failed)
                failed |= json_object_set_new(k, "file", json_string(a->out));
            failed |= json_object_set_new(obj, "encrypted_private_key", k);
        }
    }
    /* The hex stays in the failure object, so the key is not lost. */
    if (write_failed && !failed)
        return cli_output_fail(s, obj, name, CLI_FAIL_LOCAL, write_err.message);
    return cli_output_emit(s, obj, failed, CLI_EXIT_OK);
}

static int run_rpc(cli_session *s, const cli_command *c, const cli_args *a, cli_inputs *in)
{
    rpc_call call = (rpc_call)c->call;
    const char *name = rpc_call_name(call);
    int status = cli_session_ready(s, call);
    if (status != CLI_EXIT_OK)
        return status;
    rpc_request req = {
        .call = call,
        .key_type = in->type,
        .handle = in->handle,
        .version = in->has_version ? in->version : SIGNER_VERSION_LATEST,
        .has_version = in->has_version,
        .credentials = in->credentials.rpc,
    };
    if (call == RPC_SIGN || call == RPC_SIGN_WITH)
        req.message = (rpc_bytes){in->message.data, in->message.len};
    req.data = (rpc_bytes){in->key.data, in->key.len};
    if (call == RPC_INITIALIZE)
        s->initialize_sent = true;
    rpc_response resp;
    signer_error err;
    if (signer_client_call(s->client, &req, &resp, &err) != 0)
        return cli_output_fail(s, NULL, name, CLI_FAIL_TRANSPORT, err.message);
    status = resp.ok ? answer(s, c, a, in, &resp)
                     : cli_output_fail(s, NULL, name, CLI_FAIL_DAEMON, resp.error_message);
    rpc_response_free(&resp);
    return status;
}

/* ---- verify ---- */

/* A --public-key or --signature: hex, or a Tezos base58 form that names
 * its type (`*typed`). */
static int read_typed(const char *text, tezos_kind kind, const char *what, signer_buf *out,
                      signer_key_type *type, int *typed, signer_error *err)
{
    *typed = 0;
    if (cli_input_is_hex(text))
        return cli_input_hex(text, what, out, err);
    uint8_t bytes[TEZOS_B58_DATA_MAX];
    size_t len;
    if (tezos_decode(kind, text, type, typed, bytes, sizeof(bytes), &len, err) != 0)
        return signer_error_wrap(err, what);
    return signer_buf_append(out, bytes, len, err);
}

/* The key type from TYPE, the public key's base58 prefix or its length. */
static int verify_type(const cli_inputs *in, signer_key_type pk_type, int pk_typed, size_t pk_len,
                       signer_key_type *out, signer_error *err)
{
    if (pk_typed && in->has_type && pk_type != in->type)
        return signer_error_set(err, SIGNER_ERR_INVALID_ARGUMENT,
                                "--public-key is %s but TYPE says %s",
                                signer_key_type_name(pk_type), signer_key_type_name(in->type));
    if (pk_typed || in->has_type) {
        *out = pk_typed ? pk_type : in->type;
        return 0;
    }
    if (pk_len == 32 || pk_len == 48) {
        *out = pk_len == 32 ? SIGNER_KEY_ED25519 : SIGNER_KEY_BLS;
        return 0;
    }
    return signer_error_set(err, SIGNER_ERR_INVALID_ARGUMENT,
                            "cannot tell the key type of a %zu-byte hex key (33 bytes: "
                            "Secp256k1 or NistP256); give it: verify TYPE ...",
                            pk_len);
}

static int run_verify(cli_session *s, const cli_args *a, cli_inputs *in)
{
    signer_buf pk = SIGNER_BUF_INIT, sig = SIGNER_BUF_INIT;
    signer_key_type pk_type = SIGNER_KEY_ED25519, sig_type = SIGNER_KEY_ED25519;
    signer_key_type type = SIGNER_KEY_ED25519;
    int pk_typed, sig_typed, status;
    signer_error err;
    if (read_typed(a->public_key, TEZOS_PUBLIC_KEY, "--public-key", &pk, &pk_type, &pk_typed,
                   &err) != 0 ||
        read_typed(a->signature, TEZOS_SIGNATURE, "--signature", &sig, &sig_type, &sig_typed,
                   &err) != 0 ||
        verify_type(in, pk_type, pk_typed, pk.len, &type, &err) != 0) {
        status = cli_output_fail(s, NULL, "verify", CLI_FAIL_LOCAL, err.message);
        goto done;
    }
    if (sig_typed && sig_type != type) {
        snprintf(err.message, sizeof(err.message), "--signature is %s but the key is %s",
                 signer_key_type_name(sig_type), signer_key_type_name(type));
        status = cli_output_fail(s, NULL, "verify", CLI_FAIL_LOCAL, err.message);
        goto done;
    }
    unsigned version = in->has_version ? in->version : SIGNER_VERSION_LATEST;
    int valid = signer_verify(type, pk.data, pk.len, in->message.data, in->message.len, version,
                              sig.data, sig.len, &err) == 0;
    json_t *obj = cli_output_begin(s, "verify");
    int failed = obj == NULL;
    if (obj != NULL) {
        failed |= json_object_set_new(obj, "valid", json_boolean(valid));
        failed |= json_object_set_new(obj, "version", json_integer(version));
        failed |= cli_output_typed(obj, "public_key", TEZOS_PUBLIC_KEY, type, pk.data, pk.len);
        failed |= cli_output_typed(obj, "signature", TEZOS_SIGNATURE, type, sig.data, sig.len);
    }
    if (valid || failed) {
        status = cli_output_emit(s, obj, failed, CLI_EXIT_OK);
    } else {
        signer_error_wrap(&err, "the signature does not verify");
        status = cli_output_fail(s, obj, "verify", CLI_FAIL_REJECTED, err.message);
    }
done:
    signer_buf_free(&pk);
    signer_buf_free(&sig);
    return status;
}

int cli_command_run(cli_session *s, const cli_command *c, const cli_args *a)
{
    const char *name = c->call == LOCAL_CALL ? c->name : rpc_call_name((rpc_call)c->call);
    if (a->help) {
        cli_command_help(stdout, c);
        return CLI_EXIT_OK;
    }
    cli_inputs in = {.out_fd = -1};
    signer_error err;
    int status;
    if (check_options(s, c, a, &err) != 0 || gather(s, c, a, &in, &err) != 0)
        status = cli_output_fail(s, NULL, name, CLI_FAIL_LOCAL, err.message);
    else if (c->call == LOCAL_CALL)
        status = run_verify(s, a, &in);
    else
        status = run_rpc(s, c, a, &in);
    inputs_free(&in, a->out);
    return status;
}
