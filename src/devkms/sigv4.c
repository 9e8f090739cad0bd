/* AWS Signature Version 4 verification (see sigv4.h).  The canonical forms
 * follow AWS's "Create a canonical request" rules: dot segments removed and
 * each path segment URI-encoded again (every service but S3), query pairs
 * decoded, re-encoded and sorted, signed headers lower-cased with values
 * trimmed, runs of spaces collapsed and repeats joined with commas. */
#include <ctype.h>
#include <stdarg.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sigv4.h"
#include "signer/memory.h"

#define MAX_SIGNED_HEADERS 64
#define MAX_SEGMENTS 256

static int append(signer_buf *b, const char *s, size_t n, signer_error *err)
{
    return signer_buf_append(b, s, n, err);
}

static int append_str(signer_buf *b, const char *s, signer_error *err)
{
    return signer_buf_append(b, s, strlen(s), err);
}

static bool unreserved(unsigned char c)
{
    return isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~';
}

static int uri_encode(const char *s, size_t n, signer_buf *out, signer_error *err)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (unreserved(c)) {
            if (append(out, (const char *)&c, 1, err) != 0)
                return -1;
        } else {
            char pct[3] = {'%', hex[c >> 4], hex[c & 15]};
            if (append(out, pct, 3, err) != 0)
                return -1;
        }
    }
    return 0;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* %XX -> byte; anything else, including a stray '%', as is. */
static int percent_decode(const char *s, signer_buf *out, signer_error *err)
{
    for (size_t i = 0; s[i]; i++) {
        char c = s[i];
        if (c == '%' && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
            c = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
            i += 2;
        }
        if (append(out, &c, 1, err) != 0)
            return -1;
    }
    return 0;
}

/* The path as on the wire, each segment URI-encoded again.  Normalised:
 * empty and "." segments dropped, ".." removing the one before, a trailing
 * slash kept.  Not normalised (S3): every byte kept in place. */
static int canonical_uri(const char *path, bool normalize, signer_buf *out, signer_error *err)
{
    if (path == NULL || *path == '\0')
        return append_str(out, "/", err);
    if (!normalize) {
        for (const char *p = path; *p; p++)
            if (*p == '/' ? append(out, "/", 1, err) != 0 : uri_encode(p, 1, out, err) != 0)
                return -1;
        return 0;
    }
    const char *seg[MAX_SEGMENTS];
    size_t seg_len[MAX_SEGMENTS];
    size_t count = 0;
    size_t total = strlen(path);
    bool trailing = path[total - 1] == '/';
    for (const char *p = path; *p;) {
        const char *end = strchr(p, '/');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n == 0 || (n == 1 && p[0] == '.')) {
            /* "" and "." name the same directory */
        } else if (n == 2 && p[0] == '.' && p[1] == '.') {
            if (count > 0)
                count--;
        } else {
            if (count == MAX_SEGMENTS)
                return signer_error_set(err, SIGNER_ERR_INVALID_ARGUMENT, "path too deep");
            seg[count] = p;
            seg_len[count] = n;
            count++;
        }
        p += n + (end ? 1 : 0);
    }
    for (size_t i = 0; i < count; i++)
        if (append_str(out, "/", err) != 0 || uri_encode(seg[i], seg_len[i], out, err) != 0)
            return -1;
    if (count == 0 || trailing)
        return append_str(out, "/", err);
    return 0;
}

typedef struct query_item {
    char *key;
    char *value;
} query_item;

static int query_compare(const void *a, const void *b)
{
    const query_item *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c ? c : strcmp(x->value, y->value);
}

/* Decodes then encodes `s` into a NUL-terminated malloc'd string. */
static char *query_part(const char *s, signer_error *err)
{
    signer_buf raw = SIGNER_BUF_INIT, enc = SIGNER_BUF_INIT;
    char *result = NULL;
    if (percent_decode(s ? s : "", &raw, err) == 0 &&
        uri_encode((const char *)raw.data, raw.len, &enc, err) == 0 &&
        append(&enc, "", 1, err) == 0) {
        result = (char *)enc.data;
        enc.data = NULL;
    }
    signer_buf_free(&raw);
    signer_buf_free(&enc);
    return result;
}

static int canonical_query(const sigv4_request *req, signer_buf *out, signer_error *err)
{
    if (req->query_count == 0)
        return 0;
    query_item *items = calloc(req->query_count, sizeof(*items));
    if (items == NULL)
        return signer_error_set(err, SIGNER_ERR_NO_MEMORY, "out of memory");
    int rc = 0;
    for (size_t i = 0; i < req->query_count && rc == 0; i++) {
        items[i].key = query_part(req->query[i].name, err);
        items[i].value = query_part(req->query[i].value, err);
        if (items[i].key == NULL || items[i].value == NULL)
            rc = -1;
    }
    if (rc == 0) {
        qsort(items, req->query_count, sizeof(*items), query_compare);
        for (size_t i = 0; i < req->query_count && rc == 0; i++)
            rc = (i > 0 ? append_str(out, "&", err) : 0) || append_str(out, items[i].key, err) ||
                 append_str(out, "=", err) || append_str(out, items[i].value, err);
    }
    for (size_t i = 0; i < req->query_count; i++) {
        free(items[i].key);
        free(items[i].value);
    }
    free(items);
    return rc ? -1 : 0;
}

/* A header value trimmed, with each run of whitespace made one space. */
static int header_value(const char *v, signer_buf *out, signer_error *err)
{
    while (*v && isspace((unsigned char)*v))
        v++;
    bool space = false;
    for (; *v; v++) {
        if (isspace((unsigned char)*v)) {
            space = true;
            continue;
        }
        if (space && append(out, " ", 1, err) != 0)
            return -1;
        space = false;
        if (append(out, v, 1, err) != 0)
            return -1;
    }
    return 0;
}

static int canonical_headers(const sigv4_request *req, const char *signed_headers,
                             signer_buf *out, signer_error *err)
{
    const char *p = signed_headers;
    while (*p) {
        const char *end = strchr(p, ';');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        char name[128];
        if (n == 0 || n >= sizeof(name))
            return signer_error_set(err, SIGNER_ERR_INVALID_ARGUMENT, "bad SignedHeaders");
        for (size_t i = 0; i < n; i++)
            name[i] = (char)tolower((unsigned char)p[i]);
        name[n] = '\0';
        if (append_str(out, name, err) != 0 || append_str(out, ":", err) != 0)
            return -1;
        bool first = true;
        for (size_t i = 0; i < req->header_count; i++) {
            if (strcasecmp(req->headers[i].name, name) != 0)
                continue;
            if ((!first && append_str(out, ",", err) != 0) ||
                header_value(req->headers[i].value ? req->headers[i].value : "", out, err) != 0)
                return -1;
            first = false;
        }
        if (append_str(out, "\n", err) != 0)
            return -1;
        p += n;
        if (*p == ';')
            p++;
    }
    return 0;
}

static void hex_encode(const uint8_t *d, size_t n, char *out)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[d[i] >> 4];
        out[2 * i + 1] = hex[d[i] & 15];
    }
    out[2 * n] = '\0';
}

static int sha256_hex(const void *data, size_t len, char out[65], signer_error *err)
{
    uint8_t md[32];
    unsigned int md_len = 0;
    if (EVP_Digest(data, len, md, &md_len, EVP_sha256(), NULL) != 1)
        return signer_error_set(err, SIGNER_ERR_CRYPTO, "SHA-256 failed");
    hex_encode(md, 32, out);
    return 0;
}

int sigv4_canonical_request(const sigv4_request *req, const char *signed_headers,
                            bool normalize_path, signer_buf *out, signer_error *err)
{
    char body_hash[65];
    if (append_str(out, req->method, err) != 0 || append_str(out, "\n", err) != 0 ||
        canonical_uri(req->path, normalize_path, out, err) != 0 ||
        append_str(out, "\n", err) != 0 || canonical_query(req, out, err) != 0 ||
        append_str(out, "\n", err) != 0 ||
        canonical_headers(req, signed_headers, out, err) != 0 ||
        append_str(out, "\n", err) != 0 || append_str(out, signed_headers, err) != 0 ||
        append_str(out, "\n", err) != 0 ||
        sha256_hex(req->body ? (const void *)req->body : "", req->body_len, body_hash, err) != 0)
        return -1;
    return append_str(out, body_hash, err);
}

int sigv4_string_to_sign(const char *amz_date, const char *scope, const signer_buf *creq,
                         signer_buf *out, signer_error *err)
{
    char hash[65];
    if (sha256_hex(creq->data, creq->len, hash, err) != 0)
        return -1;
    return append_str(out, "AWS4-HMAC-SHA256\n", err) || append_str(out, amz_date, err) ||
                   append_str(out, "\n", err) || append_str(out, scope, err) ||
                   append_str(out, "\n", err) || append_str(out, hash, err)
               ? -1 : 0;
}

static int hmac(const uint8_t *key, size_t key_len, const void *data, size_t len,
                uint8_t out[32])
{
    unsigned int n = 0;
    return HMAC(EVP_sha256(), key, (int)key_len, data, len, out, &n) != NULL && n == 32 ? 0 : -1;
}

int sigv4_signature(const char *secret, const char *date8, const char *region,
                    const char *service, const signer_buf *sts, char hex[65], signer_error *err)
{
    size_t n = strlen(secret);
    uint8_t *k0 = malloc(n + 4);
    if (k0 == NULL)
        return signer_error_set(err, SIGNER_ERR_NO_MEMORY, "out of memory");
    memcpy(k0, "AWS4", 4);
    memcpy(k0 + 4, secret, n);
    uint8_t k[32], sig[32];
    int rc = hmac(k0, n + 4, date8, strlen(date8), k) || hmac(k, 32, region, strlen(region), k) ||
             hmac(k, 32, service, strlen(service), k) || hmac(k, 32, "aws4_request", 12, k) ||
             hmac(k, 32, sts->data, sts->len, sig);
    signer_wipe(k0, n + 4);
    free(k0);
    signer_wipe(k, sizeof(k));
    if (rc != 0)
        return signer_error_set(err, SIGNER_ERR_CRYPTO, "HMAC-SHA256 failed");
    hex_encode(sig, 32, hex);
    return 0;
}

/* ---- verification ---------------------------------------------------------- */

__attribute__((format(printf, 3, 4)))
static int result(sigv4_result *res, sigv4_status status, const char *fmt, ...)
{
    res->status = status;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(res->message, sizeof(res->message), fmt, ap);
    va_end(ap);
    return -1;
}

static const char *header(const sigv4_request *req, const char *name)
{
    for (size_t i = 0; i < req->header_count; i++)
        if (strcasecmp(req->headers[i].name, name) == 0)
            return req->headers[i].value ? req->headers[i].value : "";
    return NULL;
}

typedef struct auth_parts {
    char credential[256];
    char signed_headers[1024];
    char signature[128];
    char access_key[128], date[16], region[64], service[64], terminator[32];
} auth_parts;

static bool copy_part(char *dst, size_t size, const char *src, size_t n)
{
    if (n >= size)
        return false;
    memcpy(dst, src, n);
    dst[n] = '\0';
    return true;
}

/* "AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=..." */
static int parse_authorization(const char *h, auth_parts *a, sigv4_result *res)
{
    static const char alg[] = "AWS4-HMAC-SHA256";
    memset(a, 0, sizeof(*a));
    while (*h == ' ')
        h++;
    if (strncmp(h, alg, sizeof(alg) - 1) != 0 || h[sizeof(alg) - 1] != ' ')
        return result(res, SIGV4_INCOMPLETE, "Unsupported AWS 'algorithm': the Authorization "
                      "header must begin with AWS4-HMAC-SHA256");
    const char *p = h + sizeof(alg);
    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        while (n > 0 && p[n - 1] == ' ')
            n--;
        const char *eq = memchr(p, '=', n);
        if (eq != NULL) {
            size_t klen = (size_t)(eq - p), vlen = n - klen - 1;
            bool ok = true;
            if (klen == 10 && strncmp(p, "Credential", 10) == 0)
                ok = copy_part(a->credential, sizeof(a->credential), eq + 1, vlen);
            else if (klen == 13 && strncmp(p, "SignedHeaders", 13) == 0)
                ok = copy_part(a->signed_headers, sizeof(a->signed_headers), eq + 1, vlen);
            else if (klen == 9 && strncmp(p, "Signature", 9) == 0)
                ok = copy_part(a->signature, sizeof(a->signature), eq + 1, vlen);
            if (!ok)
                return result(res, SIGV4_INCOMPLETE, "Authorization header value too long");
        }
        p += end ? (size_t)(end - p) : strlen(p);
    }
    if (!a->credential[0] || !a->signed_headers[0] || !a->signature[0])
        return result(res, SIGV4_INCOMPLETE, "Authorization header requires 'Credential', "
                      "'SignedHeaders' and 'Signature' parameters. Authorization=%.160s", h);
    /* Credential=AKID/20150830/us-east-1/service/aws4_request */
    char *fields[5] = {a->access_key, a->date, a->region, a->service, a->terminator};
    size_t sizes[5] = {sizeof(a->access_key), sizeof(a->date), sizeof(a->region),
                       sizeof(a->service), sizeof(a->terminator)};
    const char *c = a->credential;
    for (int i = 0; i < 5; i++) {
        const char *slash = strchr(c, '/');
        if ((slash == NULL) != (i == 4))
            return result(res, SIGV4_INCOMPLETE, "Credential should be scoped to a valid region, "
                          "a service and a terminator: Credential=%.160s", a->credential);
        size_t n = slash ? (size_t)(slash - c) : strlen(c);
        if (!copy_part(fields[i], sizes[i], c, n))
            return result(res, SIGV4_INCOMPLETE, "malformed Credential");
        c += n + (slash ? 1 : 0);
    }
    return 0;
}

/* YYYYMMDDTHHMMSSZ -> seconds since the epoch. */
static int parse_amz_date(const char *s, time_t *out)
{
    if (strlen(s) != 16 || s[8] != 'T' || s[15] != 'Z')
        return -1;
    for (int i = 0; i < 15; i++)
        if (i != 8 && !isdigit((unsigned char)s[i]))
            return -1;
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    if (sscanf(s, "%4d%2d%2dT%2d%2d%2dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
               &tm.tm_min, &tm.tm_sec) != 6 || tm.tm_mon < 1 || tm.tm_mon > 12 ||
        tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
        return -1;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    *out = timegm(&tm);
    return 0;
}

static void format_amz_date(time_t t, char out[17])
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm);
}

static bool list_has(const char *list, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = list; *p;) {
        const char *end = strchr(p, ';');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == n && strncasecmp(p, name, n) == 0)
            return true;
        p += len + (end ? 1 : 0);
    }
    return false;
}

static bool same_secret(const char *a, const char *b)
{
    size_t n = strlen(a);
    return n == strlen(b) && CRYPTO_memcmp(a, b, n) == 0;
}

int sigv4_verify(const sigv4_request *req, const sigv4_credentials *cred, time_t now,
                 bool normalize_path, sigv4_result *res)
{
    memset(res, 0, sizeof(*res));
    const char *authorization = header(req, "authorization");
    if (authorization == NULL)
        return result(res, SIGV4_MISSING, "Missing Authentication Token");
    auth_parts a;
    if (parse_authorization(authorization, &a, res) != 0)
        return -1;
    const char *amz_date = header(req, "x-amz-date");
    if (amz_date == NULL)
        return result(res, SIGV4_INCOMPLETE, "Authorization header requires existence of either "
                      "a 'X-Amz-Date' or a 'Date' header.");
    time_t signed_at;
    if (parse_amz_date(amz_date, &signed_at) != 0)
        return result(res, SIGV4_INCOMPLETE, "X-Amz-Date must be in ISO-8601 basic format "
                      "(YYYYMMDD'T'HHMMSS'Z'), not '%.40s'", amz_date);
    if (!list_has(a.signed_headers, "host"))
        return result(res, SIGV4_INCOMPLETE, "'Host' must be a 'SignedHeader' in the AWS "
                      "Authorization.");
    if (!same_secret(a.access_key, cred->access_key_id))
        return result(res, SIGV4_UNKNOWN_KEY, "The security token included in the request is "
                      "invalid.");
    const char *token = header(req, "x-amz-security-token");
    bool want_token = cred->session_token != NULL && cred->session_token[0] != '\0';
    if ((token != NULL) != want_token || (want_token && !same_secret(token, cred->session_token)))
        return result(res, SIGV4_UNKNOWN_KEY, "The security token included in the request is "
                      "invalid.");
    if (strncmp(a.date, amz_date, 8) != 0 || strlen(a.date) != 8)
        return result(res, SIGV4_BAD_SCOPE, "Date in Credential scope does not match YYYYMMDD "
                      "from ISO-8601 version of date from HTTP: '%s' != '%.8s', from '%s'.",
                      a.date, amz_date, amz_date);
    if (strcmp(a.region, cred->region) != 0)
        return result(res, SIGV4_BAD_SCOPE, "Credential should be scoped to a valid region, not "
                      "'%s'. ", a.region);
    if (strcmp(a.service, cred->service) != 0)
        return result(res, SIGV4_BAD_SCOPE, "Credential should be scoped to correct service: "
                      "'%s'. ", cred->service);
    if (strcmp(a.terminator, "aws4_request") != 0)
        return result(res, SIGV4_BAD_SCOPE, "Credential should be scoped with a valid "
                      "terminator: 'aws4_request', not '%s'. ", a.terminator);
    char t_signed[17], t_now[17], t_edge[17];
    if (signed_at < now - SIGV4_MAX_SKEW_SECONDS) {
        format_amz_date(signed_at, t_signed);
        format_amz_date(now - SIGV4_MAX_SKEW_SECONDS, t_edge);
        format_amz_date(now, t_now);
        return result(res, SIGV4_EXPIRED, "Signature expired: %s is now earlier than %s (%s - 5 "
                      "min.)", t_signed, t_edge, t_now);
    }
    if (signed_at > now + SIGV4_MAX_SKEW_SECONDS) {
        format_amz_date(signed_at, t_signed);
        format_amz_date(now + SIGV4_MAX_SKEW_SECONDS, t_edge);
        format_amz_date(now, t_now);
        return result(res, SIGV4_EXPIRED, "Signature not yet current: %s is still later than %s "
                      "(%s + 5 min.)", t_signed, t_edge, t_now);
    }
    signer_buf creq = SIGNER_BUF_INIT, sts = SIGNER_BUF_INIT;
    signer_error err;
    char scope[256], expected[65];
    snprintf(scope, sizeof(scope), "%s/%s/%s/aws4_request", a.date, a.region, a.service);
    int rc = 0;
    if (sigv4_canonical_request(req, a.signed_headers, normalize_path, &creq, &err) != 0 ||
        sigv4_string_to_sign(amz_date, scope, &creq, &sts, &err) != 0 ||
        sigv4_signature(cred->secret_access_key, a.date, a.region, a.service, &sts, expected,
                        &err) != 0)
        rc = result(res, SIGV4_INCOMPLETE, "cannot canonicalise the request: %s", err.message);
    else if (strlen(a.signature) != 64 || CRYPTO_memcmp(a.signature, expected, 64) != 0)
        rc = result(res, SIGV4_MISMATCH, "The request signature we calculated does not match "
                    "the signature you provided. Check your AWS Secret Access Key and signing "
                    "method. Consult the service documentation for details.");
    signer_buf_free(&creq);
    signer_buf_free(&sts);
    return rc;
}
