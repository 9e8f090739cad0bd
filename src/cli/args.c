/* Command-line parsing shared by the command line and session lines: one
 * option table, so a session line reads exactly like a subcommand. */
#include <getopt.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

/* An option with a value, stored as a pointer into argv. */
typedef struct value_option {
    const char *name; /* with its leading "--" */
    unsigned bit;
    size_t field; /* offsetof(cli_args, ...) of a const char * */
} value_option;

/* clang-format off */
#define VALUE(name, bit, member) {name, bit, offsetof(cli_args, member)}
/* clang-format on */

static const value_option value_options[] = {
    VALUE("--connect", CLI_OPT_CONNECT, connect),
    VALUE("--access-key-id", CLI_OPT_ACCESS_KEY_ID, access_key_id),
    VALUE("--secret-access-key", CLI_OPT_SECRET_ACCESS_KEY, secret_access_key),
    VALUE("--session-token", CLI_OPT_SESSION_TOKEN, session_token),
    VALUE("--encryption-key-id", CLI_OPT_ENCRYPTION_KEY_ID, encryption_key_id),
    VALUE("--key-id", CLI_OPT_ENCRYPTION_KEY_ID, encryption_key_id),
    VALUE("--region", CLI_OPT_REGION, region),
    VALUE("--credentials", CLI_OPT_CREDENTIALS_FILE, credentials_file),
    VALUE("--handle", CLI_OPT_HANDLE, handle),
    VALUE("--message-hex", CLI_OPT_MESSAGE_HEX, message_hex),
    VALUE("--message-file", CLI_OPT_MESSAGE_FILE, message_file),
    VALUE("--sealed", CLI_OPT_SEALED, sealed),
    VALUE("--sealed-hex", CLI_OPT_SEALED_HEX, sealed_hex),
    VALUE("--secret-hex", CLI_OPT_SECRET_HEX, secret_hex),
    VALUE("--secret-file", CLI_OPT_SECRET_FILE, secret_file),
    VALUE("--out", CLI_OPT_OUT, out),
    VALUE("--version-sign", CLI_OPT_VERSION_SIGN, version_sign),
    VALUE("--public-key", CLI_OPT_PUBLIC_KEY, public_key),
    VALUE("--signature", CLI_OPT_SIGNATURE, signature),
};

#define VALUE_COUNT (sizeof(value_options) / sizeof(value_options[0]))

enum { FLAG_PRETTY = 1000, FLAG_NO_INITIALIZE, FLAG_KEEP_GOING, FLAG_VERSION };

static const struct option flag_options[] = {
    {"pretty", no_argument, NULL, FLAG_PRETTY},
    {"no-initialize", no_argument, NULL, FLAG_NO_INITIALIZE},
    {"keep-going", no_argument, NULL, FLAG_KEEP_GOING},
    {"version", no_argument, NULL, FLAG_VERSION},
    {"help", no_argument, NULL, 'h'},
};

#define FLAG_COUNT (sizeof(flag_options) / sizeof(flag_options[0]))

const char *cli_args_option_name(unsigned bit)
{
    if (bit == CLI_OPT_PRETTY)
        return "--pretty";
    if (bit == CLI_OPT_NO_INITIALIZE)
        return "--no-initialize";
    if (bit == CLI_OPT_KEEP_GOING)
        return "--keep-going";
    for (size_t i = 0; i < VALUE_COUNT; i++)
        if (value_options[i].bit == bit)
            return value_options[i].name;
    return "an option";
}

static void set_flag(cli_args *out, int c)
{
    switch (c) {
    case FLAG_PRETTY:
        out->pretty = true;
        out->seen |= CLI_OPT_PRETTY;
        break;
    case FLAG_NO_INITIALIZE:
        out->no_initialize = true;
        out->seen |= CLI_OPT_NO_INITIALIZE;
        break;
    case FLAG_KEEP_GOING:
        out->keep_going = true;
        out->seen |= CLI_OPT_KEEP_GOING;
        break;
    case FLAG_VERSION: out->show_version = true; break;
    default: out->help = true; break;
    }
}

int cli_args_parse(int argc, char **argv, cli_args *out, signer_error *err)
{
    struct option longopts[VALUE_COUNT + FLAG_COUNT + 1];
    for (size_t i = 0; i < VALUE_COUNT; i++)
        longopts[i] = (struct option){value_options[i].name + 2, required_argument, NULL, (int)i};
    memcpy(longopts + VALUE_COUNT, flag_options, sizeof(flag_options));
    memset(&longopts[VALUE_COUNT + FLAG_COUNT], 0, sizeof(longopts[0]));

    memset(out, 0, sizeof(*out));
    optind = 0; /* glibc: start afresh, also for the next session line */
    opterr = 0; /* our own messages, in JSON too */
    int c;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        if (c >= 0 && (size_t)c < VALUE_COUNT) {
            const value_option *v = &value_options[c];
            if (out->seen & v->bit)
                return v->bit == CLI_OPT_ENCRYPTION_KEY_ID
                           ? signer_error_set(err, SIGNER_ERR_INVALID_ARGUMENT,
                                              "give one --key-id (or --encryption-key-id)")
                           : signer_error_set(err, SIGNER_ERR_INVALID_ARGUMENT, "%s given twice",
                                              v->name);
            *(const char **)((char *)out + v->field) = optarg;
            out->seen |= v->bit;
        } else if (c == ':') {
            return signer_error_set(err, SIGNER_ERR_INVALID_ARGUMENT, "%s needs a value",
                                    argv[optind - 1]);
        } else if (c == '?') {
            const char *bad = argv[optind - 1];
            if (optopt != 0 && bad[0] == '-' && bad[1] != '-')
                return signer_error_set(err, SIGNER_ERR_INVALID_ARGUMENT, "unknown option -%c",
                                        optopt);
            return signer_error_set(err, SIGNER_ERR_INVALID_ARGUMENT,
                                    "unknown or ambiguous option \"%s\"", bad);
        } else {
            set_flag(out, c);
        }
    }
    for (int i = optind; i < argc; i++) {
        if (out->positional_count == CLI_OPT_MAX_POSITIONAL)
            return signer_error_set(err, SIGNER_ERR_INVALID_ARGUMENT, "unexpected argument \"%s\"",
                                    argv[i]);
        out->positional[out->positional_count++] = argv[i];
    }
    return 0;
}
