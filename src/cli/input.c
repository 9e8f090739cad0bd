/* Inputs: hex, files, key types, numbers, credentials, and the --out file. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "signer/file.h"
#include "signer/memory.h"

static int hex_digit(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static const char *skip_0x(const char *s)
{
    return s[0] == '0' && (s[1] == 'x' || s[1] == 'X') ? s + 2 : s;
}

bool cli_input_is_hex(const char *s)
{
    s = skip_0x(s);
    if (*s == '\0')
        return false;
    for (; *s; s++)
        if (hex_digit((unsigned char)*s) < 0)
            return false;
    return true;
}

int cli_input_hex(const char *hex, const char *what, signer_buf *out, signer_error *err)
{
    const char *s = skip_0x(hex);
    size_t n = strlen(s);
    for (size_t i = 0; i < n; i++)
        if (hex_digit((unsigned char)s[i]) < 0)
            return signer_error_set(err, SIGNER_ERR_INVALID_ARGUMENT,
                                    "%s: not a hex digit at position %zu", what,
                                    i + 1 + (size_t)(s - hex));
    if (n % 2 != 0)
        return signer_error_set(err, SIGNER_ERR_INVALID_ARGUMENT,
                                "%s: odd number of hex digits (%zu)", what, n);
    if (signer_buf_reserve(out, n / 2, err) != 0)
        return -1;
    for (size_t i = 0; i < n; i += 2)
        out->data[out->len++] =
            (uint8_t)(hex_digit((unsigned char)s[i]) << 4 | hex_digit((unsigned char)s[i + 1]));
    return 0;
}

int cli_input_file(const char *path, bool stdin_busy, signer_buf *out, signer_error *err)
{
    bool is_stdin = strcmp(path, "-") == 0;
    if (is_stdin && stdin_busy)
        return signer_error_set(err, SIGNER_ERR_INVALID_ARGUMENT,
                                "\"-\" (stdin) is taken by the session script; use a file");
    int fd = is_stdin ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return signer_error_set(err, SIGNER_ERR_IO, "cannot open %s: %s", path, strerror(errno));
    int rc = signer_read_fd(fd, is_stdin ? "stdin" : path, RPC_FRAME_LIMIT, out, err);
    if (!is_stdin)
        close(fd);
    return rc;
}

int cli_input_secret_file(const char *path, bool stdin_busy, signer_buf *out, signer_error *err)
{
    signer_buf raw = SIGNER_BUF_INIT;
    int rc = cli_input_file(path, stdin_busy, &raw, err);
    if (rc == 0 && raw.len == SIGNER_SECRET_KEY_BYTES) {
        rc = signer_buf_append(out, raw.data, raw.len, err);
    } else if (rc == 0) {
        /* Hex text, perhaps with a trailing newline from an editor or echo. */
        size_t n = raw.len;
        while (n > 0 && isspace(raw.data[n - 1]))
            n--;
        if (memchr(raw.data, '\0', n) != NULL || signer_buf_reserve(&raw, 1, err) != 0)
            rc = signer_error_set(err, SIGNER_ERR_INVALID_ARGUMENT,
                                  "%s: neither 32 raw bytes nor hex text", path);
        else {
            raw.data[n] = '\0';
            rc = cli_input_hex((const char *)raw.data, path, out, err);
        }
    }
    signer_buf_free(&raw);
    return rc;
}

int cli_input_key_type(const char *s, signer_key_type *out, signer_error *err)
{
    static const struct {
        const char *name;
        signer_key_type type;
    } names[] = {
        {"Secp256k1", SIGNER_KEY_SECP256K1},
        {"NistP256", SIGNER_KEY_NISTP256},
        {"P256", SIGNER_KEY_NISTP256},
        {"Ed25519", SIGNER_KEY_ED25519},
        {"Bls", SIGNER_KEY_BLS},
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcasecmp(s, names[i].name) == 0) {
            *out = names[i].type;
            return 0;
        }
    return signer_error_set(err, SIGNER_ERR_INVALID_ARGUMENT,
                            "unknown key type \"%s\" (Secp256k1, NistP256, Ed25519 or Bls)", s);
}

int cli_input_u64(const char *s, const char *what, uint64_t *out, signer_error *err)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (!isdigit((unsigned char)s[0]) || *end != '\0' || errno != 0)
        return signer_error_set(err, SIGNER_ERR_INVALID_ARGUMENT,
                                "%s wants an unsigned number, not \"%s\"", what, s);
    *out = v;
    return 0;
}

int cli_input_version(const char *s, unsigned *out, signer_error *err)
{
    uint64_t v;
    if (strcmp(s, "latest") == 0) {
        *out = SIGNER_VERSION_LATEST;
        return 0;
    }
    if (cli_input_u64(s, "--version-sign", &v, err) != 0 || v > SIGNER_VERSION_LATEST)
        return signer_error_set(err, SIGNER_ERR_INVALID_ARGUMENT,
                                "--version-sign wants 0, 1, 2, 255 or latest, not \"%s\"", s);
    *out = (unsigned)v;
    return 0;
}

/* ---- credentials ---- */

static void wipe_string(char **s)
{
    if (*s != NULL) {
        signer_wipe(*s, strlen(*s));
        free(*s);
        *s = NULL;
    }
}

static int set_string(char **dest, const char *value, signer_error *err)
{
    wipe_string(dest);
    if (value == NULL)
        return 0;
    *dest = strdup(value);
    if (*dest == NULL)
        return signer_error_set(err, SIGNER_ERR_NO_MEMORY, "out of memory");
    return 0;
}

void cli_credentials_free(cli_credentials *c)
{
    wipe_string(&c->rpc.access_key_id);
    wipe_string(&c->rpc.secret_access_key);
    wipe_string(&c->rpc.session_token);
    wipe_string(&c->rpc.encryption_key_id);
    wipe_string(&c->rpc.region);
}

/* The JSON file: access_key_id, secret_access_key, session_token, region
 * (devkms's credentials.json), optionally encryption_key_id or key_id.
 * Other keys are ignored, so a file with more in it still works. */
static int credentials_from_file(const char *path, bool stdin_busy, rpc_credentials *c,
                                 signer_error *err)
{
    static const char *const names[] = {"access_key_id", "secret_access_key", "session_token",
                                        "region",        "encryption_key_id", "key_id"};
    char **dests[] = {&c->access_key_id, &c->secret_access_key, &c->session_token,
                      &c->region,        &c->encryption_key_id, &c->encryption_key_id};
    signer_buf text = SIGNER_BUF_INIT;
    if (cli_input_file(path, stdin_busy, &text, err) != 0)
        return -1;
    json_error_t jerr;
    json_t *doc = json_loadb((const char *)text.data, text.len, JSON_REJECT_DUPLICATES, &jerr);
    signer_buf_free(&text);
    /* Not jerr.text: it may quote the file, and the file holds secrets. */
    if (doc == NULL)
        return signer_error_set(err, SIGNER_ERR_INVALID_ARGUMENT,
                                "%s: not valid JSON (line %d, column %d)", path, jerr.line,
                                jerr.column);
    int rc = 0;
    if (!json_is_object(doc))
        rc = signer_error_set(err, SIGNER_ERR_INVALID_ARGUMENT, "%s: not a JSON object", path);
    for (size_t i = 0; rc == 0 && i < sizeof(names) / sizeof(names[0]); i++) {
        json_t *v = json_object_get(doc, names[i]);
        if (v == NULL || json_is_null(v))
            continue;
        if (!json_is_string(v))
            rc = signer_error_set(err, SIGNER_ERR_INVALID_ARGUMENT, "%s: %s must be a string", path,
                                  names[i]);
        else if (i == 5 && json_object_get(doc, "encryption_key_id") != NULL)
            rc = signer_error_set(err, SIGNER_ERR_INVALID_ARGUMENT,
                                  "%s: give key_id or encryption_key_id, not both", path);
        else
            rc = set_string(dests[i], json_string_value(v), err);
    }
    json_decref(doc);
    return rc;
}

int cli_credentials_load(const cli_args *args, bool stdin_busy, cli_credentials *out,
                         signer_error *err)
{
    memset(out, 0, sizeof(*out));
    rpc_credentials *c = &out->rpc;
    /* The file runs first; flags override it field by field. */
    int rc = args->credentials_file == NULL
                 ? 0
                 : credentials_from_file(args->credentials_file, stdin_busy, c, err);
    const char *flags[] = {args->access_key_id, args->secret_access_key, args->session_token,
                           args->encryption_key_id, args->region};
    char **dests[] = {&c->access_key_id, &c->secret_access_key, &c->session_token,
                      &c->encryption_key_id, &c->region};
    for (size_t i = 0; rc == 0 && i < 5; i++)
        if (flags[i] != NULL)
            rc = set_string(dests[i], flags[i], err);
    if (rc != 0)
        cli_credentials_free(out);
    return rc;
}

/* ---- --out ---- */

int cli_out_create(const char *path, signer_error *err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return errno == EEXIST
                   ? signer_error_set(err, SIGNER_ERR_IO,
                                      "--out %s exists; a sealed key is never overwritten, "
                                      "choose another name",
                                      path)
                   : signer_error_set(err, SIGNER_ERR_IO, "cannot create %s: %s", path,
                                      strerror(errno));
    /* The umask may only have narrowed it; make it exactly owner read/write. */
    if (fchmod(fd, 0600) != 0) {
        int e = errno;
        cli_out_abandon(fd, path);
        return signer_error_set(err, SIGNER_ERR_IO, "cannot chmod %s: %s", path, strerror(e));
    }
    return fd;
}

int cli_out_finish(int fd, const char *path, const uint8_t *data, size_t len, signer_error *err)
{
    size_t done = 0;
    int e = 0;
    while (done < len && e == 0) {
        ssize_t n = write(fd, data + done, len - done);
        if (n >= 0)
            done += (size_t)n;
        else if (errno != EINTR)
            e = errno;
    }
    if (e == 0 && fsync(fd) != 0)
        e = errno;
    if (close(fd) != 0 && e == 0)
        e = errno;
    if (e == 0)
        return 0;
    unlink(path);
    return signer_error_set(err, SIGNER_ERR_IO, "cannot write %s: %s", path, strerror(e));
}

void cli_out_abandon(int fd, const char *path)
{
    close(fd);
    unlink(path);
}
