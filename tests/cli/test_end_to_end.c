/* signer-cli end to end: the real binary against the real daemon (and, for
 * what goes on the wire, against a scripted server), checking its JSON. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <fcntl.h>
#include <ftw.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "signer/net.h"
#include "signer/rpc.h"

static test_daemon daemon_;
static char dir[64];

/* ---- running signer-cli ---- */

typedef struct cli_run {
    pid_t pid;
    char out_path[128], err_path[128];
    int status;
    char *out, *err;
    json_t *lines[64]; /* stdout, one JSON object per line */
    int count;
} cli_run;

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char *buf = malloc(1 << 20);
    assert_non_null(buf);
    size_t n = fread(buf, 1, (1 << 20) - 1, f);
    fclose(f);
    buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}

static void spit(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    fclose(f);
}

static char *path_in_dir(const char *name)
{
    static char paths[16][192];
    static int next;
    char *p = paths[next++ % 16];
    snprintf(p, sizeof(paths[0]), "%s/%s", dir, name);
    return p;
}

/* Starts signer-cli with `input` on stdin; SIGNER_CONNECT is `env_connect`
 * (NULL: unset).  argv is NULL-ended and does not include the program. */
static void cli_spawn(cli_run *r, const char *input, const char *env_connect,
                      const char *const *args)
{
    static int serial;
    memset(r, 0, sizeof(*r));
    snprintf(r->out_path, sizeof(r->out_path), "%s/out.%d", dir, serial);
    snprintf(r->err_path, sizeof(r->err_path), "%s/err.%d", dir, serial);
    char in_path[128];
    snprintf(in_path, sizeof(in_path), "%s/in.%d", dir, serial++);
    spit(in_path, input ? input : "", input ? strlen(input) : 0);
    const char *argv[64] = {SIGNER_CLI_PATH};
    int n = 1;
    for (int i = 0; args[i] && n < 63; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    fflush(NULL);
    r->pid = fork();
    assert_true(r->pid >= 0);
    if (r->pid == 0) {
        int in = open(in_path, O_RDONLY);
        int out = open(r->out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int err = open(r->err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (in < 0 || out < 0 || err < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
            _exit(126);
        if (env_connect)
            setenv("SIGNER_CONNECT", env_connect, 1);
        else
            unsetenv("SIGNER_CONNECT");
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
}

/* Waits and reads stdout and stderr as text. */
static void cli_wait_raw(cli_run *r)
{
    int status;
    assert_int_equal(waitpid(r->pid, &status, 0), r->pid);
    assert_true(WIFEXITED(status));
    r->status = WEXITSTATUS(status);
    r->out = slurp(r->out_path, NULL);
    r->err = slurp(r->err_path, NULL);
}

/* Waits and parses stdout as JSON lines. */
static void cli_wait(cli_run *r)
{
    cli_wait_raw(r);
    for (char *line = r->out, *nl; *line; line = nl + 1) {
        nl = strchr(line, '\n');
        assert_non_null(nl); /* every object ends its line */
        *nl = '\0';
        json_error_t jerr;
        json_t *v = json_loads(line, 0, &jerr);
        if (v == NULL)
            fail_msg("stdout is not JSON lines: %s (%s)", line, jerr.text);
        assert_true(json_is_object(v));
        assert_true(r->count < 64);
        r->lines[r->count++] = v;
    }
}

static void cli_free(cli_run *r)
{
    for (int i = 0; i < r->count; i++)
        json_decref(r->lines[i]);
    free(r->out);
    free(r->err);
    unlink(r->out_path);
    unlink(r->err_path);
}

#define CLI(r, input, ...)                                                                         \
    do {                                                                                           \
        const char *args_[] = {"--connect", daemon_.address, __VA_ARGS__, NULL};                   \
        cli_spawn(r, input, NULL, args_);                                                          \
        cli_wait(r);                                                                               \
    } while (0)

/* A value by dotted path, e.g. "public_key.b58". */
static json_t *jget(json_t *obj, const char *path)
{
    char key[64];
    while (obj != NULL && *path) {
        size_t n = strcspn(path, ".");
        snprintf(key, sizeof(key), "%.*s", (int)n, path);
        obj = json_object_get(obj, key);
        path += n + (path[n] == '.');
    }
    return obj;
}

static const char *jstr(json_t *obj, const char *path)
{
    json_t *v = jget(obj, path);
    if (!json_is_string(v))
        fail_msg("no string at %s", path);
    return json_string_value(v);
}

static long long jint(json_t *obj, const char *path)
{
    json_t *v = jget(obj, path);
    if (!json_is_integer(v))
        fail_msg("no integer at %s", path);
    return json_integer_value(v);
}

static void expect_prefix(const char *s, const char *prefix)
{
    if (strncmp(s, prefix, strlen(prefix)) != 0)
        fail_msg("\"%s\" does not start with %s", s, prefix);
}

/* One successful call: exit 0, one object, the right call, nothing on stderr. */
static json_t *expect_ok(cli_run *r, const char *call)
{
    if (r->status != 0 || r->count != 1)
        fail_msg("exit %d, %d objects; stdout: %s stderr: %s", r->status, r->count, r->out, r->err);
    assert_string_equal(jstr(r->lines[0], "call"), call);
    assert_true(json_is_true(jget(r->lines[0], "ok")));
    assert_string_equal(r->err, "");
    return r->lines[0];
}

/* One failed call: the exit status, ok false, the message in JSON and on stderr. */
static json_t *expect_fail(cli_run *r, int status, const char *kind, const char *fragment)
{
    if (r->status != status)
        fail_msg("exit %d, want %d; stdout: %s stderr: %s", r->status, status, r->out, r->err);
    assert_true(r->count >= 1);
    json_t *last = r->lines[r->count - 1];
    assert_true(json_is_false(jget(last, "ok")));
    assert_string_equal(jstr(last, "error_kind"), kind);
    const char *error = jstr(last, "error");
    if (strstr(error, fragment) == NULL)
        fail_msg("error \"%s\" lacks \"%s\"", error, fragment);
    expect_prefix(r->err, "signer-cli: ");
    if (strstr(r->err, fragment) == NULL)
        fail_msg("stderr \"%s\" lacks \"%s\"", r->err, fragment);
    return last;
}

/* ---- fixtures ---- */

static const char *const type_names[] = {"Secp256k1", "NistP256", "Ed25519", "Bls"};
static const char *const pk_prefixes[] = {"sppk", "p2pk", "edpk", "BLpk"};
static const char *const sig_prefixes[] = {"spsig1", "p2sig", "edsig", "BLsig"};
static const char *const address_prefixes[] = {"tz2", "tz3", "tz1", "tz4"};

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/signer-cli-test-XXXXXX");
    if (mkdtemp(dir) == NULL)
        return -1;
    return test_daemon_start(&daemon_, NULL);
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int teardown(void **state)
{
    (void)state;
    int removed = nftw(dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
    return test_daemon_stop(&daemon_) == 0 && removed == 0 ? 0 : -1;
}

/* Runs `verify` and returns its exit status (checking the JSON agrees). */
static int verify(const char *type, const char *pk, const char *sig, const char *msg_hex,
                  const char *version)
{
    cli_run r;
    const char *args[12] = {"verify", "--public-key",  pk,     "--signature",
                            sig,      "--message-hex", msg_hex};
    int n = 7;
    if (type)
        args[n++] = type;
    if (version) {
        args[n++] = "--version-sign";
        args[n++] = version;
    }
    args[n] = NULL;
    cli_spawn(&r, NULL, NULL, args); /* no daemon needed: no --connect, no env */
    cli_wait(&r);
    assert_int_equal(r.count, 1);
    json_t *o = r.lines[0];
    assert_string_equal(jstr(o, "call"), "verify");
    int status = r.status;
    if (status == 0) {
        assert_true(json_is_true(jget(o, "valid")));
        assert_string_equal(r.err, "");
    } else {
        expect_fail(&r, 1, "rejected", "does not verify");
        assert_true(json_is_false(jget(o, "valid")));
    }
    cli_free(&r);
    return status;
}

/* Flips the last hex digit of a signature. */
static char *tampered(const char *hex)
{
    char *t = strdup(hex);
    size_t n = strlen(t);
    t[n - 1] = t[n - 1] == '0' ? '1' : '0';
    return t;
}

/* ---- tests ---- */

static void test_help_and_usage(void **state)
{
    (void)state;
    cli_run r;
    const char *help[] = {"--help", NULL};
    cli_spawn(&r, NULL, NULL, help);
    cli_wait_raw(&r);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "session [FILE|-]"));
    assert_non_null(strstr(r.out, "prove-possession"));
    assert_non_null(strstr(r.out, "vsock:16:2000"));
    cli_free(&r);

    const char *sign_help[] = {"sign", "--help", NULL};
    cli_spawn(&r, NULL, NULL, sign_help);
    cli_wait_raw(&r);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "Initialize"));
    cli_free(&r);

    const char *help_cmd[] = {"help", "verify", NULL};
    cli_spawn(&r, NULL, NULL, help_cmd);
    cli_wait_raw(&r);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "--version-sign"));
    cli_free(&r);

    const char *none[] = {NULL};
    cli_spawn(&r, NULL, NULL, none);
    cli_wait_raw(&r);
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, "usage"));
    cli_free(&r);

    const char *unknown[] = {"frobnicate", NULL};
    cli_spawn(&r, NULL, NULL, unknown);
    cli_wait_raw(&r);
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, "unknown command"));
    cli_free(&r);
}

/* generate --out, public-key-from, sign-with and verify, for every type,
 * one connection (and session) per call. */
static void test_sealed_key_round_trip(void **state)
{
    (void)state;
    for (int t = 0; t < 4; t++) {
        char name[32];
        snprintf(name, sizeof(name), "gen-%s.sealed", type_names[t]);
        const char *file = path_in_dir(name);
        cli_run r;
        CLI(&r, NULL, "generate", type_names[t], "--out", file);
        json_t *o = expect_ok(&r, "Generate");
        assert_null(jget(o, "handle"));
        assert_string_equal(jstr(o, "public_key.type"), type_names[t]);
        expect_prefix(jstr(o, "public_key.b58"), pk_prefixes[t]);
        expect_prefix(jstr(o, "public_key.address"), address_prefixes[t]);
        assert_string_equal(jstr(o, "encrypted_private_key.file"), file);
        char *pk_b58 = strdup(jstr(o, "public_key.b58"));
        char *pk_hex = strdup(jstr(o, "public_key.hex"));
        /* The file holds exactly the sealed bytes, owner-only. */
        size_t len;
        char *bytes = slurp(file, &len);
        const char *hex = jstr(o, "encrypted_private_key.hex");
        assert_int_equal(strlen(hex), 2 * len);
        assert_int_equal(jint(o, "encrypted_private_key.size"), (long long)len);
        for (size_t i = 0; i < len; i++) {
            char two[3];
            snprintf(two, sizeof(two), "%02x", (unsigned char)bytes[i]);
            assert_memory_equal(hex + 2 * i, two, 2);
        }
        free(bytes);
        struct stat st;
        assert_int_equal(stat(file, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0600);
        cli_free(&r);

        CLI(&r, NULL, "public-key-from", "--sealed", file);
        o = expect_ok(&r, "PublicKeyFrom");
        assert_string_equal(jstr(o, "public_key.b58"), pk_b58);
        cli_free(&r);

        const char *msg = "03aabbccddeeff00112233";
        CLI(&r, NULL, "sign-with", "--sealed", file, "--message-hex", msg);
        o = expect_ok(&r, "SignWith");
        assert_string_equal(jstr(o, "signature.type"), type_names[t]);
        expect_prefix(jstr(o, "signature.b58"), sig_prefixes[t]);
        char *sig_b58 = strdup(jstr(o, "signature.b58"));
        char *sig_hex = strdup(jstr(o, "signature.hex"));
        cli_free(&r);

        /* verify accepts base58 and hex (with TYPE), rejects tampering. */
        assert_int_equal(verify(NULL, pk_b58, sig_b58, msg, NULL), 0);
        assert_int_equal(verify(type_names[t], pk_hex, sig_hex, msg, NULL), 0);
        char *bad = tampered(sig_hex);
        assert_int_equal(verify(type_names[t], pk_hex, bad, msg, NULL), 1);
        assert_int_equal(verify(NULL, pk_b58, sig_b58, "03aabbccddeeff00112234", NULL), 1);
        free(bad);
        free(pk_b58);
        free(pk_hex);
        free(sig_b58);
        free(sig_hex);
    }
}

/* The signing vectors in one session: import-unencrypted, then sign with
 * the handle just returned; the b58 forms must match the vectors exactly. */
static void test_vectors_in_one_session(void **state)
{
    (void)state;
    FILE *f = fopen(SIGNER_TEST_VECTORS_DIR "/tezos-signing.jsonl", "r");
    assert_non_null(f);
    json_t *vectors[16];
    int n = 0;
    char line[4096], script[65536] = "# the vectors, two lines each\n";
    while (fgets(line, sizeof(line), f) && n < 16) {
        json_t *v = json_loads(line, 0, NULL);
        assert_non_null(v);
        vectors[n++] = v;
        size_t used = strlen(script);
        snprintf(script + used, sizeof(script) - used,
                 "import-unencrypted %s --secret-hex %s\nsign --handle last --message-hex '%s'\n",
                 jstr(v, "type"), jstr(v, "sk"), jstr(v, "msg"));
    }
    fclose(f);
    assert_int_equal(n, 12);
    cli_run r;
    CLI(&r, script, "session");
    if (r.status != 0 || r.count != 2 * n)
        fail_msg("exit %d, %d objects: %s %s", r.status, r.count, r.out, r.err);
    for (int i = 0; i < n; i++) {
        json_t *imp = r.lines[2 * i], *sig = r.lines[2 * i + 1];
        assert_int_equal(jint(imp, "line"), 2 + 2 * i);
        assert_string_equal(jstr(imp, "call"), "ImportUnencrypted");
        assert_int_equal(jint(imp, "handle"), i);
        assert_string_equal(jstr(imp, "public_key.hex"), jstr(vectors[i], "pk"));
        assert_string_equal(jstr(imp, "public_key.b58"), jstr(vectors[i], "pkb58"));
        assert_string_equal(jstr(sig, "call"), "Sign");
        const char *type = jstr(vectors[i], "type");
        if (strcmp(type, "NistP256") != 0) { /* the others are deterministic */
            assert_string_equal(jstr(sig, "signature.hex"), jstr(vectors[i], "sig"));
            assert_string_equal(jstr(sig, "signature.b58"), jstr(vectors[i], "sigb58"));
        }
        assert_int_equal(verify(NULL, jstr(vectors[i], "pkb58"), jstr(sig, "signature.b58"),
                                jstr(vectors[i], "msg"), NULL),
                         0);
        json_decref(vectors[i]);
    }
    cli_free(&r);
}

/* Every call in one session from a file, opened by an explicit initialize
 * line with credentials, including verify and the BLS versions. */
static void test_session_every_call(void **state)
{
    (void)state;
    const char *bls = path_in_dir("session-bls.sealed");
    const char *msg_file = path_in_dir("message.bin");
    const char *secret_file = path_in_dir("secret.hex");
    const char *script_file = path_in_dir("script.txt");
    static const uint8_t msg[] = {0x03, 0x00, 0xff, 0x10, 0x20};
    spit(msg_file, msg, sizeof(msg));
    const char *secret = "65d4c74b96f01030ad0efc2d4f035f2822fe2b73095153baea85a7d0009ae5a8\n";
    spit(secret_file, secret, strlen(secret));
    char script[4096];
    snprintf(script, sizeof(script),
             "initialize --access-key-id AKIDEXAMPLE --secret-access-key 'se cret' "
             "--region \"\" --key-id alias/signer\n"
             "generate-and-import Bls --out %s\n"
             "public-key --handle last\n"
             "sign --handle last --message-file %s --version-sign 1\n"
             "sign --handle 0 --message-file %s --version-sign latest\n"
             "prove-possession --handle last\n"
             "\n"
             "import --sealed %s   # a second handle to the same key\n"
             "public-key-from --sealed %s\n"
             "sign-with --sealed %s --message-hex 0300ff1020 --version-sign 2\n"
             "generate Secp256k1\n"
             "import-unencrypted ed25519 --secret-file %s\n"
             "sign --handle last --message-hex ''\n"
             "verify --public-key edpkvVeir7YqHP7czAg3UoG8KrfboDbcUo4z6yFXU8ng379XVki1qw "
             "--signature edsigu6JwUtBnQi7usw7BWzHs9X5JnNzYrpYmqALkvYjJhqhRp8JPr4Ms4mHMBDrz7khRpE6"
             "Pme1Vq8RyEXxeMvJb5tF1zxjRUP --message-hex ''\n",
             bls, msg_file, msg_file, bls, bls, bls, secret_file);
    spit(script_file, script, strlen(script));
    cli_run r;
    CLI(&r, NULL, "session", script_file);
    static const char *const calls[] = {"Initialize",
                                        "GenerateAndImport",
                                        "PublicKey",
                                        "Sign",
                                        "Sign",
                                        "ProvePossession",
                                        "Import",
                                        "PublicKeyFrom",
                                        "SignWith",
                                        "Generate",
                                        "ImportUnencrypted",
                                        "Sign",
                                        "verify"};
    static const int lines[] = {1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 12, 13, 14};
    if (r.status != 0 || r.count != 13)
        fail_msg("exit %d, %d objects: %s %s", r.status, r.count, r.out, r.err);
    for (int i = 0; i < 13; i++) {
        assert_string_equal(jstr(r.lines[i], "call"), calls[i]);
        assert_int_equal(jint(r.lines[i], "line"), lines[i]);
        assert_true(json_is_true(jget(r.lines[i], "ok")));
    }
    json_t **o = r.lines;
    const char *pk = jstr(o[1], "public_key.b58");
    assert_int_equal(jint(o[1], "handle"), 0);
    assert_string_equal(jstr(o[2], "public_key.b58"), pk);
    assert_string_equal(jstr(o[7], "public_key.b58"), pk);
    assert_int_equal(jint(o[6], "handle"), 1);
    assert_string_equal(jstr(o[6], "public_key.b58"), pk);
    assert_string_equal(jstr(o[5], "proof.type"), "Bls");
    expect_prefix(jstr(o[5], "proof.b58"), "BLsig");
    assert_int_equal(strlen(jstr(o[5], "proof.hex")), 192);
    assert_null(jget(o[9], "handle"));
    expect_prefix(jstr(o[9], "public_key.address"), "tz2");
    /* The vector's Ed25519 key, signing the empty message. */
    assert_string_equal(jstr(o[10], "public_key.b58"),
                        "edpkvVeir7YqHP7czAg3UoG8KrfboDbcUo4z6yFXU8ng379XVki1qw");
    expect_prefix(jstr(o[11], "signature.b58"), "edsigu6JwUtBnQi7us");
    assert_true(json_is_true(jget(o[12], "valid")));

    /* BLS: the version picks the ciphersuite, and verify must be told. */
    const char *v1 = jstr(o[3], "signature.b58"), *v2 = jstr(o[4], "signature.b58");
    assert_string_not_equal(v1, v2);
    assert_string_equal(jstr(o[8], "signature.b58"), v2);
    assert_int_equal(verify(NULL, pk, v1, "0300ff1020", "1"), 0);
    assert_int_equal(verify(NULL, pk, v1, "0300ff1020", NULL), 1);
    assert_int_equal(verify(NULL, pk, v2, "0300ff1020", "2"), 0);
    assert_int_equal(verify(NULL, pk, v2, "0300ff1020", "latest"), 0);
    assert_int_equal(verify(NULL, pk, v2, "0300ff1020", "1"), 1);
    cli_free(&r);
}

/* From stdin; stops at the first failure unless --keep-going; the session
 * survives Err answers; auto-Initialize happens once. */
static void test_session_failures(void **state)
{
    (void)state;
    const char *script = "generate-and-import Ed25519\n"
                         "prove-possession --handle last\n" /* Err: not a Bls key */
                         "sign --handle 0 --message-hex zz\n"
                         "sign --handle 0 --message-file -\n"
                         "initialize\n" /* Err: already */
                         "nonsense --foo\n"
                         "sign --connect unix:/x --handle 0 --message-hex 00\n"
                         "sign --handle 0 --message-hex 00\n";
    cli_run r;
    CLI(&r, script, "session");
    assert_int_equal(r.status, 1);
    assert_int_equal(r.count, 2);
    expect_fail(&r, 1, "daemon", "");
    assert_int_equal(jint(r.lines[1], "line"), 2);
    assert_string_equal(jstr(r.lines[1], "call"), "ProvePossession");
    assert_non_null(strstr(r.err, "line 2: "));
    cli_free(&r);

    CLI(&r, script, "--keep-going", "session", "-");
    assert_int_equal(r.status, 1); /* the first failure's */
    if (r.count != 8)
        fail_msg("%d objects: %s", r.count, r.out);
    static const char *const kinds[] = {NULL,     "daemon", "local", "local",
                                        "daemon", "local",  "local", NULL};
    for (int i = 0; i < 8; i++) {
        assert_int_equal(jint(r.lines[i], "line"), i + 1);
        if (kinds[i] == NULL) {
            assert_true(json_is_true(jget(r.lines[i], "ok")));
        } else {
            assert_true(json_is_false(jget(r.lines[i], "ok")));
            assert_string_equal(jstr(r.lines[i], "error_kind"), kinds[i]);
        }
    }
    assert_non_null(strstr(jstr(r.lines[2], "error"), "hex"));
    assert_non_null(strstr(jstr(r.lines[3], "error"), "stdin"));
    assert_non_null(strstr(jstr(r.lines[4], "error"), "already initialized"));
    assert_non_null(strstr(jstr(r.lines[5], "error"), "--foo"));
    assert_non_null(strstr(jstr(r.lines[6], "error"), "--connect"));
    expect_prefix(jstr(r.lines[7], "signature.b58"), "edsig");
    cli_free(&r);

    /* A script that is not there. */
    CLI(&r, NULL, "session", path_in_dir("no-such-script"));
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, "cannot open"));
    cli_free(&r);
}

/* Each call as a single command: a fresh session each time. */
static void test_single_commands(void **state)
{
    (void)state;
    cli_run r;
    CLI(&r, NULL, "initialize");
    json_t *o = expect_ok(&r, "Initialize");
    assert_int_equal(json_object_size(o), 2);
    cli_free(&r);

    const char *sealed = path_in_dir("single-p256.sealed");
    CLI(&r, NULL, "generate-and-import", "NistP256", "--out", sealed);
    o = expect_ok(&r, "GenerateAndImport");
    assert_int_equal(jint(o, "handle"), 0);
    expect_prefix(jstr(o, "public_key.address"), "tz3");
    cli_free(&r);

    CLI(&r, NULL, "import", "--sealed", sealed);
    o = expect_ok(&r, "Import");
    assert_int_equal(jint(o, "handle"), 0);
    expect_prefix(jstr(o, "public_key.b58"), "p2pk");
    assert_null(jget(o, "encrypted_private_key"));
    cli_free(&r);

    /* The sealed key in hex, straight from the file. */
    size_t len;
    char *bytes = slurp(sealed, &len), hex[1024] = "";
    for (size_t i = 0; i < len; i++)
        snprintf(hex + 2 * i, 3, "%02x", (unsigned char)bytes[i]);
    free(bytes);
    CLI(&r, NULL, "public-key-from", "--sealed-hex", hex);
    o = expect_ok(&r, "PublicKeyFrom");
    char hex_pk[80];
    snprintf(hex_pk, sizeof(hex_pk), "%s", jstr(o, "public_key.hex"));
    cli_free(&r);
    CLI(&r, NULL, "sign-with", "--sealed-hex", hex, "--message-hex", "", "--version-sign", "0");
    expect_ok(&r, "SignWith");
    cli_free(&r);

    CLI(&r, NULL, "import-unencrypted", "Secp256k1", "--secret-hex",
        "0x0000000000000000000000000000000000000000000000000000000000000001");
    o = expect_ok(&r, "ImportUnencrypted");
    /* The secp256k1 generator point G, compressed. */
    assert_string_equal(jstr(o, "public_key.hex"),
                        "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798");
    expect_prefix(jstr(o, "public_key.b58"), "sppk");
    assert_true(strlen(jstr(o, "encrypted_private_key.hex")) > 64);
    cli_free(&r);

    /* Handles die with their connection: the daemon's Err, exit 1. */
    CLI(&r, NULL, "sign", "--handle", "0", "--message-hex", "00");
    expect_fail(&r, 1, "daemon", "handle");
    assert_string_equal(jstr(r.lines[0], "call"), "Sign");
    cli_free(&r);
    CLI(&r, NULL, "public-key", "--handle", "0");
    expect_fail(&r, 1, "daemon", "handle");
    cli_free(&r);
    CLI(&r, NULL, "prove-possession", "--handle", "7");
    expect_fail(&r, 1, "daemon", "handle");
    cli_free(&r);

    /* Without the automatic Initialize. */
    CLI(&r, NULL, "--no-initialize", "generate", "Ed25519");
    expect_fail(&r, 1, "daemon", "uninitialized");
    cli_free(&r);

    /* The message from stdin; the signature verifies against it. */
    static const char stdin_message[] = "a message on stdin\n";
    CLI(&r, stdin_message, "sign-with", "--sealed-hex", hex, "--message-file", "-");
    o = expect_ok(&r, "SignWith");
    char msg_hex[64] = "";
    for (size_t i = 0; i < strlen(stdin_message); i++)
        snprintf(msg_hex + 2 * i, 3, "%02x", (unsigned char)stdin_message[i]);
    assert_int_equal(verify("NistP256", hex_pk, jstr(o, "signature.hex"), msg_hex, NULL), 0);
    cli_free(&r);

    /* SIGNER_CONNECT when --connect is absent. */
    const char *gen[] = {"generate", "bls", NULL};
    cli_spawn(&r, NULL, daemon_.address, gen);
    cli_wait(&r);
    expect_ok(&r, "Generate");
    cli_free(&r);
}

static void test_input_errors(void **state)
{
    (void)state;
    cli_run r;
    CLI(&r, NULL, "sign-with", "--sealed-hex", "a1", "--message-hex", "0g");
    expect_fail(&r, 2, "local", "--message-hex: not a hex digit");
    cli_free(&r);
    CLI(&r, NULL, "sign-with", "--sealed-hex", "abc", "--message-hex", "00");
    expect_fail(&r, 2, "local", "odd number");
    cli_free(&r);
    CLI(&r, NULL, "sign-with", "--sealed", path_in_dir("missing.sealed"), "--message-hex", "00");
    expect_fail(&r, 2, "local", "cannot open");
    cli_free(&r);
    CLI(&r, NULL, "sign-with", "--sealed-hex", "00", "--message-file", path_in_dir("missing"));
    expect_fail(&r, 2, "local", "cannot open");
    cli_free(&r);
    CLI(&r, NULL, "generate", "Rsa");
    expect_fail(&r, 2, "local", "unknown key type");
    cli_free(&r);
    CLI(&r, NULL, "generate");
    expect_fail(&r, 2, "local", "needs a key type");
    cli_free(&r);
    CLI(&r, NULL, "sign", "--handle", "x", "--message-hex", "00");
    expect_fail(&r, 2, "local", "--handle");
    cli_free(&r);
    CLI(&r, NULL, "sign", "--handle", "last", "--message-hex", "00");
    expect_fail(&r, 2, "local", "--handle last");
    cli_free(&r);
    CLI(&r, NULL, "sign", "--handle", "0", "--message-hex", "00", "--version-sign", "256");
    expect_fail(&r, 2, "local", "--version-sign");
    cli_free(&r);
    CLI(&r, NULL, "public-key", "--handle", "0", "--out", path_in_dir("x"));
    expect_fail(&r, 2, "local", "does not take --out");
    cli_free(&r);
    CLI(&r, NULL, "sign-with", "--sealed-hex", "00", "--sealed", "f", "--message-hex", "00");
    expect_fail(&r, 2, "local", "not both");
    cli_free(&r);
    CLI(&r, NULL, "import-unencrypted", "Ed25519", "--secret-file", path_in_dir("nope"));
    expect_fail(&r, 2, "local", "cannot open");
    cli_free(&r);

    /* --out never overwrites, and the existing file is left as it was. */
    const char *existing = path_in_dir("existing.sealed");
    spit(existing, "keep", 4);
    CLI(&r, NULL, "generate", "Ed25519", "--out", existing);
    expect_fail(&r, 2, "local", "exists");
    size_t len;
    char *kept = slurp(existing, &len);
    assert_int_equal(len, 4);
    assert_memory_equal(kept, "keep", 4);
    free(kept);
    cli_free(&r);

    /* A call the daemon refuses leaves no --out file behind. */
    const char *refused = path_in_dir("refused.sealed");
    CLI(&r, NULL, "import-unencrypted", "Ed25519", "--secret-hex", "00", "--out", refused);
    expect_fail(&r, 1, "daemon", "");
    assert_int_equal(access(refused, F_OK), -1);
    cli_free(&r);

    /* verify's own input checks. */
    CLI(&r, NULL, "verify", "--public-key", "edpkXXX", "--signature", "00", "--message-hex", "");
    expect_fail(&r, 2, "local", "--public-key");
    cli_free(&r);
    CLI(&r, NULL, "verify", "--public-key",
        "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798", "--signature", "00",
        "--message-hex", "");
    expect_fail(&r, 2, "local", "TYPE");
    cli_free(&r);
    CLI(&r, NULL, "verify", "Bls", "--public-key",
        "edpkvVeir7YqHP7czAg3UoG8KrfboDbcUo4z6yFXU8ng379XVki1qw", "--signature", "00",
        "--message-hex", "");
    expect_fail(&r, 2, "local", "TYPE says Bls");
    cli_free(&r);

    /* Transport failures: exit 3. */
    const char *gen[] = {"--connect", "unix:/nonexistent/signer.sock", "generate", "Bls", NULL};
    cli_spawn(&r, NULL, NULL, gen);
    cli_wait(&r);
    expect_fail(&r, 3, "transport", "nonexistent");
    cli_free(&r);
    cli_spawn(&r, NULL, "unix:/nonexistent/env.sock", gen + 2);
    cli_wait(&r);
    expect_fail(&r, 3, "transport", "env.sock");
    cli_free(&r);
    const char *bad_addr[] = {"--connect", "carrier-pigeon:1", "generate", "Bls", NULL};
    cli_spawn(&r, NULL, NULL, bad_addr);
    cli_wait(&r);
    expect_fail(&r, 2, "local", "--connect");
    cli_free(&r);

    /* Usage errors before any command: stderr only. */
    const char *unknown_opt[] = {"--frobnicate", "generate", "Bls", NULL};
    cli_spawn(&r, NULL, NULL, unknown_opt);
    cli_wait(&r);
    assert_int_equal(r.status, 2);
    assert_int_equal(r.count, 0);
    assert_non_null(strstr(r.err, "--frobnicate"));
    cli_free(&r);
}

/* ---- what goes on the wire: a scripted server ---- */

typedef struct fake_server {
    int listener, conn;
    char address[160];
} fake_server;

static void fake_listen(fake_server *f)
{
    snprintf(f->address, sizeof(f->address), "unix:%s/fake.sock", dir);
    net_address addr;
    signer_error err;
    assert_int_equal(net_address_parse(f->address, 0, &addr, &err), 0);
    f->listener = net_listen(&addr, 4, &err);
    assert_true(f->listener >= 0);
}

/* Reads one request and decodes it into `req`. */
static void fake_read(fake_server *f, rpc_request *req)
{
    uint8_t header[4], payload[4096];
    assert_int_equal(net_read_exact(f->conn, header, 4, NULL), 0);
    uint32_t n = rpc_frame_length(header);
    assert_true(n <= sizeof(payload));
    assert_int_equal(net_read_exact(f->conn, payload, n, NULL), 0);
    signer_error err;
    if (rpc_request_decode(payload, n, req, &err) != 0)
        fail_msg("request: %s", err.message);
}

static void fake_answer_ok_null(fake_server *f)
{
    signer_buf out = SIGNER_BUF_INIT;
    assert_int_equal(rpc_encode_ok_null(&out, NULL), 0);
    assert_int_equal(net_write_all(f->conn, out.data, out.len, NULL), 0);
    signer_buf_free(&out);
}

static void fake_answer_err(fake_server *f, const char *message)
{
    signer_buf out = SIGNER_BUF_INIT;
    assert_int_equal(rpc_encode_err(&out, message, NULL), 0);
    assert_int_equal(net_write_all(f->conn, out.data, out.len, NULL), 0);
    signer_buf_free(&out);
}

static void expect_field(const char *got, const char *want)
{
    if (want == NULL)
        assert_null(got);
    else if (got == NULL)
        fail_msg("field missing, want \"%s\"", want);
    else
        assert_string_equal(got, want);
}

static void test_credentials_on_the_wire(void **state)
{
    (void)state;
    const char *creds = path_in_dir("credentials.json");
    const char *json = "{\"access_key_id\":\"AKID\",\"secret_access_key\":\"SECRET\","
                       "\"session_token\":null,\"region\":\"eu-west-1\",\"endpoint\":\"x\"}";
    spit(creds, json, strlen(json));
    fake_server f;
    fake_listen(&f);

    /* initialize: the file, then the flags over it. */
    cli_run r;
    const char *init[] = {"--connect", f.address, "initialize", "--credentials", creds,
                          "--key-id",  "alias/k", "--region",   "us-east-2",     NULL};
    cli_spawn(&r, NULL, NULL, init);
    f.conn = accept(f.listener, NULL, NULL);
    assert_true(f.conn >= 0);
    rpc_request req;
    fake_read(&f, &req);
    assert_int_equal(req.call, RPC_INITIALIZE);
    expect_field(req.credentials.access_key_id, "AKID");
    expect_field(req.credentials.secret_access_key, "SECRET");
    expect_field(req.credentials.session_token, NULL);
    expect_field(req.credentials.encryption_key_id, "alias/k");
    expect_field(req.credentials.region, "us-east-2");
    rpc_request_free(&req);
    fake_answer_ok_null(&f);
    cli_wait(&r);
    expect_ok(&r, "Initialize");
    cli_free(&r);
    close(f.conn);

    /* A single call: Initialize (empty map) first, then the call itself,
     * with no version unless one is given. */
    const char *sign[] = {"--connect", f.address,       "sign-with", "--sealed-hex",
                          "a1b2",      "--message-hex", "0102",      NULL};
    cli_spawn(&r, NULL, NULL, sign);
    f.conn = accept(f.listener, NULL, NULL);
    fake_read(&f, &req);
    assert_int_equal(req.call, RPC_INITIALIZE);
    assert_null(req.credentials.access_key_id);
    assert_null(req.credentials.secret_access_key);
    assert_null(req.credentials.session_token);
    assert_null(req.credentials.encryption_key_id);
    assert_null(req.credentials.region);
    rpc_request_free(&req);
    fake_answer_ok_null(&f);
    fake_read(&f, &req);
    assert_int_equal(req.call, RPC_SIGN_WITH);
    assert_false(req.has_version);
    assert_int_equal(req.data.len, 2);
    assert_int_equal(req.message.len, 2);
    assert_int_equal(req.message.data[1], 0x02);
    rpc_request_free(&req);
    fake_answer_err(&f, "scripted refusal");
    cli_wait(&r);
    expect_fail(&r, 1, "daemon", "scripted refusal");
    cli_free(&r);
    close(f.conn);

    /* --version-sign is sent as given; credentials flags ride along on a
     * single command's automatic Initialize. */
    const char *versioned[] = {"--connect", f.address,        "--region", "",
                               "sign",      "--handle",       "5",        "--message-hex",
                               "",          "--version-sign", "1",        NULL};
    cli_spawn(&r, NULL, NULL, versioned);
    f.conn = accept(f.listener, NULL, NULL);
    fake_read(&f, &req);
    assert_int_equal(req.call, RPC_INITIALIZE);
    expect_field(req.credentials.region, "");
    rpc_request_free(&req);
    fake_answer_err(&f, "bad credentials");
    cli_wait(&r); /* an Initialize refused: the call is not sent */
    json_t *o = expect_fail(&r, 1, "daemon", "bad credentials");
    assert_string_equal(jstr(o, "call"), "Initialize");
    assert_true(json_is_true(jget(o, "automatic")));
    cli_free(&r);
    close(f.conn);

    const char *no_init[] = {"--connect",     f.address, "--no-initialize", "sign", "--handle", "5",
                             "--message-hex", "",        "--version-sign",  "1",    NULL};
    cli_spawn(&r, NULL, NULL, no_init);
    f.conn = accept(f.listener, NULL, NULL);
    fake_read(&f, &req);
    assert_int_equal(req.call, RPC_SIGN);
    assert_int_equal(req.handle, 5);
    assert_true(req.has_version);
    assert_int_equal(req.version, 1);
    assert_int_equal(req.message.len, 0);
    rpc_request_free(&req);
    fake_answer_err(&f, "invalid handle");
    cli_wait(&r);
    expect_fail(&r, 1, "daemon", "invalid handle");
    cli_free(&r);
    close(f.conn);

    /* Bad credentials files never reach the wire. */
    json = "{\"access_key_id\": 5}";
    spit(creds, json, strlen(json));
    const char *bad[] = {"--connect", f.address, "initialize", "--credentials", creds, NULL};
    cli_spawn(&r, NULL, NULL, bad);
    cli_wait(&r);
    expect_fail(&r, 2, "local", "must be a string");
    cli_free(&r);
    json = "{\"secret_access_key\": \"SECRET-TEXT";
    spit(creds, json, strlen(json));
    cli_spawn(&r, NULL, NULL, bad);
    cli_wait(&r);
    expect_fail(&r, 2, "local", "not valid JSON");
    assert_null(strstr(r.err, "SECRET-TEXT")); /* never echoed */
    cli_free(&r);
    /* ... also for the automatic Initialize of a session: no line runs. */
    const char *bad_session[] = {"--connect", f.address, "--credentials", creds, "session", NULL};
    cli_spawn(&r, "generate Bls\n", NULL, bad_session);
    cli_wait(&r);
    o = expect_fail(&r, 2, "local", "--credentials");
    assert_int_equal(r.count, 1);
    assert_string_equal(jstr(o, "call"), "Initialize");
    cli_free(&r);
    close(f.listener);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_help_and_usage),
        cmocka_unit_test(test_sealed_key_round_trip),
        cmocka_unit_test(test_vectors_in_one_session),
        cmocka_unit_test(test_session_every_call),
        cmocka_unit_test(test_session_failures),
        cmocka_unit_test(test_single_commands),
        cmocka_unit_test(test_input_errors),
        cmocka_unit_test(test_credentials_on_the_wire),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
