/* devkms's SigV4 verifier against AWS's published test suite (data in
 * sigv4-suite/, see its README): canonical request and string to sign
 * byte for byte, the suite's signatures accepted, tampered ones refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sigv4.h"

#define MAX_ITEMS 64

typedef struct suite_case {
    char name[128];
    char *text;      /* the signed request file, cut up in place */
    sigv4_pair headers[MAX_ITEMS];
    sigv4_pair query[MAX_ITEMS];
    sigv4_request req;
    char signed_headers[512];
    char *creq, *sts;
    char access_key[64], secret[128], token[1024], region[32], service[32];
    bool normalize;
    time_t when;
} suite_case;

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    char *buf = calloc(1, 65536);
    size_t n = buf ? fread(buf, 1, 65535, f) : 0;
    fclose(f);
    if (buf != NULL)
        buf[n] = '\0';
    return buf;
}

static void chomp(char *s)
{
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r'))
        s[--n] = '\0';
}

/* "METHOD target HTTP/1.1", headers (continuation lines start with
 * whitespace and join the previous value), a blank line, the body. */
static void parse_request(suite_case *c)
{
    char *p = c->text;
    char *eol = strchr(p, '\n');
    assert_non_null(eol);
    *eol = '\0';
    char *sp1 = strchr(p, ' ');
    char *sp2 = strrchr(p, ' ');
    assert_true(sp1 != NULL && sp2 != NULL && sp2 > sp1);
    *sp1 = *sp2 = '\0';
    c->req.method = p;
    char *target = sp1 + 1;
    char *q = strchr(target, '?');
    if (q != NULL) {
        *q++ = '\0';
        while (q && *q) {
            char *amp = strchr(q, '&');
            if (amp)
                *amp = '\0';
            char *eq = strchr(q, '=');
            if (eq)
                *eq = '\0';
            c->query[c->req.query_count].name = q;
            c->query[c->req.query_count].value = eq ? eq + 1 : NULL;
            c->req.query_count++;
            q = amp ? amp + 1 : NULL;
        }
    }
    c->req.path = target;
    p = eol + 1;
    while (*p && *p != '\n') {
        eol = strchr(p, '\n');
        char *next = eol ? eol + 1 : p + strlen(p);
        /* Fold continuation lines into this header (newline kept: it is
         * whitespace the canonical form collapses). */
        while (eol && (eol[1] == ' ' || eol[1] == '\t')) {
            eol = strchr(eol + 1, '\n');
            next = eol ? eol + 1 : next + strlen(next);
        }
        if (eol)
            *eol = '\0';
        char *colon = strchr(p, ':');
        assert_non_null(colon);
        *colon = '\0';
        c->headers[c->req.header_count].name = p;
        c->headers[c->req.header_count].value = colon + 1;
        c->req.header_count++;
        p = next;
    }
    if (*p == '\n')
        p++;
    c->req.body = (const uint8_t *)p;
    c->req.body_len = strlen(p);
    c->req.headers = c->headers;
    c->req.query = c->query;
}

static const char *find_header(const suite_case *c, const char *name)
{
    for (size_t i = 0; i < c->req.header_count; i++)
        if (strcasecmp(c->headers[i].name, name) == 0)
            return c->headers[i].value;
    return NULL;
}

static void load_case(const char *dir, const char *name, suite_case *c)
{
    memset(c, 0, sizeof(*c));
    snprintf(c->name, sizeof(c->name), "%.*s", (int)sizeof(c->name) - 1, name);
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s/header-signed-request.txt", dir, name);
    c->text = slurp(path);
    assert_non_null(c->text);
    snprintf(path, sizeof(path), "%s/%s/header-canonical-request.txt", dir, name);
    c->creq = slurp(path);
    snprintf(path, sizeof(path), "%s/%s/header-string-to-sign.txt", dir, name);
    c->sts = slurp(path);
    assert_true(c->creq && c->sts);
    chomp(c->creq);
    chomp(c->sts);
    parse_request(c);

    snprintf(path, sizeof(path), "%s/%s/context.json", dir, name);
    json_error_t jerr;
    json_t *ctx = json_load_file(path, 0, &jerr);
    assert_non_null(ctx);
    json_t *cred = json_object_get(ctx, "credentials");
    snprintf(c->access_key, sizeof(c->access_key), "%s",
             json_string_value(json_object_get(cred, "access_key_id")));
    snprintf(c->secret, sizeof(c->secret), "%s",
             json_string_value(json_object_get(cred, "secret_access_key")));
    const char *token = json_string_value(json_object_get(cred, "token"));
    snprintf(c->token, sizeof(c->token), "%s", token ? token : "");
    snprintf(c->region, sizeof(c->region), "%s", json_string_value(json_object_get(ctx, "region")));
    snprintf(c->service, sizeof(c->service), "%s",
             json_string_value(json_object_get(ctx, "service")));
    c->normalize = json_is_true(json_object_get(ctx, "normalize"));
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    assert_non_null(strptime(json_string_value(json_object_get(ctx, "timestamp")),
                             "%Y-%m-%dT%H:%M:%SZ", &tm));
    c->when = timegm(&tm);
    json_decref(ctx);

    const char *auth = find_header(c, "Authorization");
    assert_non_null(auth);
    const char *sh = strstr(auth, "SignedHeaders=");
    assert_non_null(sh);
    sh += strlen("SignedHeaders=");
    size_t n = strcspn(sh, ", ");
    snprintf(c->signed_headers, sizeof(c->signed_headers), "%.*s", (int)n, sh);
}

static void free_case(suite_case *c)
{
    free(c->text);
    free(c->creq);
    free(c->sts);
}

static sigv4_credentials creds_of(const suite_case *c)
{
    sigv4_credentials cr = {c->access_key, c->secret, c->token, c->region, c->service};
    return cr;
}

static sigv4_status verify_status(const suite_case *c, const sigv4_request *req,
                                  const sigv4_credentials *cr, time_t when)
{
    sigv4_result res;
    int rc = sigv4_verify(req, cr, when, c->normalize, &res);
    assert_true((rc == 0) == (res.status == SIGV4_OK));
    return res.status;
}

/* Every case: the suite's expected intermediate forms, and acceptance. */
static void check_case(const suite_case *c)
{
    signer_buf creq = SIGNER_BUF_INIT, sts = SIGNER_BUF_INIT;
    signer_error err;
    assert_int_equal(sigv4_canonical_request(&c->req, c->signed_headers, c->normalize, &creq,
                                             &err), 0);
    assert_int_equal(signer_buf_append(&creq, "", 1, NULL), 0);
    creq.len--;
    if (strcmp((const char *)creq.data, c->creq) != 0)
        fail_msg("%s: canonical request differs:\n--- got\n%s\n--- expected\n%s", c->name,
                 (const char *)creq.data, c->creq);
    const char *amz_date = find_header(c, "X-Amz-Date");
    char scope[128];
    struct tm tm;
    gmtime_r(&c->when, &tm);
    char date8[9];
    strftime(date8, sizeof(date8), "%Y%m%d", &tm);
    snprintf(scope, sizeof(scope), "%s/%s/%s/aws4_request", date8, c->region, c->service);
    assert_int_equal(sigv4_string_to_sign(amz_date, scope, &creq, &sts, &err), 0);
    assert_int_equal(signer_buf_append(&sts, "", 1, NULL), 0);
    if (strcmp((const char *)sts.data, c->sts) != 0)
        fail_msg("%s: string to sign differs:\n--- got\n%s\n--- expected\n%s", c->name,
                 (const char *)sts.data, c->sts);
    sigv4_credentials cr = creds_of(c);
    sigv4_result res;
    if (sigv4_verify(&c->req, &cr, c->when, c->normalize, &res) != 0)
        fail_msg("%s: refused: %s", c->name, res.message);
    signer_buf_free(&creq);
    signer_buf_free(&sts);
}

/* The same request, tampered in each way a forger or a confused client
 * could: every one refused with the status AWS would use. */
static void check_refusals(suite_case *c)
{
    sigv4_credentials cr = creds_of(c);
    /* Within the 5 minutes allowed either way: fine; beyond: expired. */
    assert_int_equal(verify_status(c, &c->req, &cr, c->when + 290), SIGV4_OK);
    assert_int_equal(verify_status(c, &c->req, &cr, c->when + 310), SIGV4_EXPIRED);
    assert_int_equal(verify_status(c, &c->req, &cr, c->when - 310), SIGV4_EXPIRED);

    sigv4_credentials other = cr;
    other.secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEZ";
    assert_int_equal(verify_status(c, &c->req, &other, c->when), SIGV4_MISMATCH);
    other = cr;
    other.access_key_id = "AKIDOTHER";
    assert_int_equal(verify_status(c, &c->req, &other, c->when), SIGV4_UNKNOWN_KEY);
    other = cr;
    other.region = "eu-west-1";
    assert_int_equal(verify_status(c, &c->req, &other, c->when), SIGV4_BAD_SCOPE);
    other = cr;
    other.service = "kms";
    assert_int_equal(verify_status(c, &c->req, &other, c->when), SIGV4_BAD_SCOPE);
    if (c->token[0] != '\0') {
        other = cr;
        other.session_token = "another-token";
        assert_int_equal(verify_status(c, &c->req, &other, c->when), SIGV4_UNKNOWN_KEY);
        other.session_token = NULL;
        assert_int_equal(verify_status(c, &c->req, &other, c->when), SIGV4_UNKNOWN_KEY);
    }

    /* A flipped signature digit. */
    size_t auth_index = 0;
    for (size_t i = 0; i < c->req.header_count; i++)
        if (strcasecmp(c->headers[i].name, "Authorization") == 0)
            auth_index = i;
    const char *auth = c->headers[auth_index].value;
    char *forged = strdup(auth);
    assert_non_null(forged);
    size_t n = strlen(forged);
    forged[n - 1] = forged[n - 1] == '0' ? '1' : '0';
    c->headers[auth_index].value = forged;
    assert_int_equal(verify_status(c, &c->req, &cr, c->when), SIGV4_MISMATCH);
    /* No signature at all. */
    c->headers[auth_index].name = "X-Not-Authorization";
    assert_int_equal(verify_status(c, &c->req, &cr, c->when), SIGV4_MISSING);
    c->headers[auth_index].name = "Authorization";
    /* Another algorithm. */
    c->headers[auth_index].value = "AWS4-HMAC-SHA512 Credential=x";
    assert_int_equal(verify_status(c, &c->req, &cr, c->when), SIGV4_INCOMPLETE);
    c->headers[auth_index].value = auth;
    free(forged);

    /* A different body, method or host. */
    sigv4_request req = c->req;
    req.body = (const uint8_t *)"tampered";
    req.body_len = 8;
    assert_int_equal(verify_status(c, &req, &cr, c->when), SIGV4_MISMATCH);
    req = c->req;
    req.method = strcmp(c->req.method, "GET") == 0 ? "POST" : "GET";
    assert_int_equal(verify_status(c, &req, &cr, c->when), SIGV4_MISMATCH);
    for (size_t i = 0; i < c->req.header_count; i++) {
        if (strcasecmp(c->headers[i].name, "Host") != 0)
            continue;
        const char *host = c->headers[i].value;
        c->headers[i].value = "attacker.example.com";
        assert_int_equal(verify_status(c, &c->req, &cr, c->when), SIGV4_MISMATCH);
        c->headers[i].value = host;
    }
}

static void test_aws_suite(void **state)
{
    (void)state;
    DIR *d = opendir(SIGV4_SUITE_DIR);
    assert_non_null(d);
    struct dirent *ent;
    int cases = 0;
    while ((ent = readdir(d)) != NULL) {
        if (ent->d_name[0] == '.' || strcmp(ent->d_name, "README.md") == 0)
            continue;
        suite_case c;
        load_case(SIGV4_SUITE_DIR, ent->d_name, &c);
        check_case(&c);
        check_refusals(&c);
        free_case(&c);
        cases++;
    }
    closedir(d);
    print_message("%d AWS SigV4 suite cases\n", cases);
    assert_true(cases >= 38);
}

/* Authorization headers KMS clients never send but attackers might. */
static void test_malformed_authorization(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "AWS4-HMAC-SHA256",
        "AWS4-HMAC-SHA256 ",
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request",
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service, "
        "SignedHeaders=host;x-amz-date, Signature=00",
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request/x, "
        "SignedHeaders=host;x-amz-date, Signature=00",
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
        "SignedHeaders=x-amz-date, Signature=00",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        sigv4_pair headers[] = {{"Host", "example.amazonaws.com"},
                                {"X-Amz-Date", "20150830T123600Z"},
                                {"Authorization", bad[i]}};
        sigv4_request req = {.method = "POST", .path = "/", .headers = headers,
                             .header_count = 3};
        sigv4_credentials cr = {"AKIDEXAMPLE", "secret", NULL, "us-east-1", "service"};
        sigv4_result res;
        assert_int_equal(sigv4_verify(&req, &cr, 1440938160, true, &res), -1);
        if (res.status != SIGV4_INCOMPLETE)
            fail_msg("\"%s\": status %d (%s)", bad[i], res.status, res.message);
    }
    /* No X-Amz-Date, or one that is not ISO 8601 basic. */
    const char *dates[] = {NULL, "2015-08-30T12:36:00Z", "20150830T123600", "20151330T123600Z"};
    for (size_t i = 0; i < 4; i++) {
        sigv4_pair headers[] = {
            {"Host", "h"},
            {"Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/"
                              "service/aws4_request, SignedHeaders=host;x-amz-date, "
                              "Signature=0000000000000000000000000000000000000000000000000000000000000000"},
            {"X-Amz-Date", dates[i]},
        };
        sigv4_request req = {.method = "POST", .path = "/", .headers = headers,
                             .header_count = dates[i] ? 3 : 2};
        sigv4_credentials cr = {"AKIDEXAMPLE", "secret", NULL, "us-east-1", "service"};
        sigv4_result res;
        assert_int_equal(sigv4_verify(&req, &cr, 1440938160, true, &res), -1);
        assert_int_equal(res.status, SIGV4_INCOMPLETE);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_aws_suite),
        cmocka_unit_test(test_malformed_authorization),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
