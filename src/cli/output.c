/* JSON output: one object per call, on one line unless --pretty. */
#include <sodium.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "signer/memory.h"

/* jansson holds sealed keys (plaintext under passthrough) and credentials:
 * give it an allocator that wipes every block it frees. */
typedef union block_header {
    size_t size;
    max_align_t align;
} block_header;

static void *wiping_malloc(size_t n)
{
    if (n > SIZE_MAX - sizeof(block_header))
        return NULL;
    block_header *h = malloc(sizeof(block_header) + n);
    if (h == NULL)
        return NULL;
    h->size = n;
    return h + 1;
}

static void wiping_free(void *p)
{
    if (p == NULL)
        return;
    block_header *h = (block_header *)p - 1;
    signer_wipe(p, h->size);
    free(h);
}

void cli_output_init(void)
{
    json_set_alloc_funcs(wiping_malloc, wiping_free);
}

/* A JSON string of lowercase hex, or NULL when out of memory. */
static json_t *hex_string(const uint8_t *bytes, size_t len)
{
    if (len > (SIZE_MAX - 1) / 2)
        return NULL;
    char *hex = malloc(2 * len + 1);
    if (hex == NULL)
        return NULL;
    sodium_bin2hex(hex, 2 * len + 1, bytes, len);
    json_t *s = json_stringn(hex, 2 * len);
    signer_wipe(hex, 2 * len + 1);
    free(hex);
    return s;
}

/* A JSON string of `text`; bytes that are not printable ASCII (a daemon's
 * message need not be valid UTF-8) become '?'. */
static json_t *text_value(const char *text)
{
    json_t *v = json_string(text);
    if (v != NULL)
        return v;
    char *copy = strdup(text);
    if (copy == NULL)
        return NULL;
    for (char *p = copy; *p; p++)
        if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
            *p = '?';
    v = json_string(copy);
    free(copy);
    return v;
}

json_t *cli_output_begin(const cli_session *s, const char *call)
{
    json_t *obj = json_object();
    if (obj == NULL)
        return NULL;
    int rc = 0;
    if (s->line > 0)
        rc |= json_object_set_new(obj, "line", json_integer(s->line));
    if (call != NULL)
        rc |= json_object_set_new(obj, "call", json_string(call));
    rc |= json_object_set_new(obj, "ok", json_true());
    if (rc != 0) {
        json_decref(obj);
        return NULL;
    }
    return obj;
}

/* The base58check form, or null when the bytes cannot have one. */
static json_t *b58_or_null(tezos_kind kind, signer_key_type type, const uint8_t *bytes, size_t len)
{
    char text[TEZOS_B58_MAX];
    if (tezos_encode(kind, type, bytes, len, text, NULL) != 0)
        return json_null();
    return json_string(text);
}

int cli_output_typed(json_t *obj, const char *field, tezos_kind kind, signer_key_type type,
                     const uint8_t *bytes, size_t len)
{
    json_t *o = json_object();
    if (o == NULL)
        return -1;
    int rc = json_object_set_new(o, "type", json_string(signer_key_type_name(type)));
    rc |= json_object_set_new(o, "hex", hex_string(bytes, len));
    rc |= json_object_set_new(o, "b58", b58_or_null(kind, type, bytes, len));
    if (kind == TEZOS_PUBLIC_KEY)
        rc |= json_object_set_new(o, "address", b58_or_null(TEZOS_ADDRESS, type, bytes, len));
    rc |= json_object_set_new(obj, field, o);
    return rc ? -1 : 0;
}

int cli_output_hex(json_t *obj, const char *field, const uint8_t *bytes, size_t len)
{
    return json_object_set_new(obj, field, hex_string(bytes, len));
}

int cli_output_emit(const cli_session *s, json_t *obj, int build_failed, int status)
{
    if (obj == NULL || build_failed) {
        json_decref(obj);
        fprintf(stderr, "signer-cli: out of memory while writing the JSON answer\n");
        return CLI_EXIT_LOCAL;
    }
    size_t flags = JSON_PRESERVE_ORDER | (s->pretty ? JSON_INDENT(2) : JSON_COMPACT);
    int rc = json_dumpf(obj, s->out, flags);
    json_decref(obj);
    if (rc != 0 || fputc('\n', s->out) == EOF || fflush(s->out) != 0) {
        fprintf(stderr, "signer-cli: cannot write to stdout\n");
        return CLI_EXIT_LOCAL;
    }
    return status;
}

int cli_output_fail(const cli_session *s, json_t *obj, const char *call, cli_failure kind,
                    const char *message)
{
    static const char *const kinds[] = {
        [CLI_FAIL_DAEMON] = "daemon",
        [CLI_FAIL_REJECTED] = "rejected",
        [CLI_FAIL_LOCAL] = "local",
        [CLI_FAIL_TRANSPORT] = "transport",
    };
    static const int statuses[] = {
        [CLI_FAIL_DAEMON] = CLI_EXIT_REFUSED,
        [CLI_FAIL_REJECTED] = CLI_EXIT_REFUSED,
        [CLI_FAIL_LOCAL] = CLI_EXIT_LOCAL,
        [CLI_FAIL_TRANSPORT] = CLI_EXIT_TRANSPORT,
    };
    char where[32] = "";
    if (s->line > 0)
        snprintf(where, sizeof(where), "line %u: ", s->line);
    /* The daemon often names the call itself: say it once. */
    size_t n = call ? strlen(call) : 0;
    const char *shown = call && strncmp(message, call, n) == 0 && message[n] == ':' ? NULL : call;
    fprintf(stderr, "signer-cli: %s%s%s", where, shown ? shown : "", shown ? ": " : "");
    /* No control characters from a daemon's message reach the terminal. */
    for (const char *p = message; *p; p++)
        fputc((unsigned char)*p < 0x20 || *p == 0x7f ? '?' : *p, stderr);
    fputc('\n', stderr);
    if (obj == NULL)
        obj = cli_output_begin(s, call);
    int rc = obj == NULL;
    if (obj != NULL) {
        rc |= json_object_set_new(obj, "ok", json_false());
        rc |= json_object_set_new(obj, "error", text_value(message));
        rc |= json_object_set_new(obj, "error_kind", json_string(kinds[kind]));
    }
    return cli_output_emit(s, obj, rc, statuses[kind]);
}
