/* The scripted HTTPS server (OpenSSL's TLS, one thread per connection,
 * keep-alive like KMS). */
#include "fake_kms.h"

#include <ctype.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "process.h"

static SSL_CTX *tls;
static int listen_fd;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static fake_action script[32];
static size_t script_len, script_pos;
static int requests;
static char last_headers[8192], last_body[65536];
static char ok_body[65536] = "{}";

void fake_kms_script(const fake_action *actions, size_t n)
{
    pthread_mutex_lock(&lock);
    if (n > 0)
        memcpy(script, actions, n * sizeof(*actions));
    script_len = n;
    script_pos = 0;
    requests = 0;
    pthread_mutex_unlock(&lock);
}

void fake_kms_set_ok_body(const char *json)
{
    pthread_mutex_lock(&lock);
    snprintf(ok_body, sizeof(ok_body), "%s", json);
    pthread_mutex_unlock(&lock);
}

int fake_kms_requests(void)
{
    pthread_mutex_lock(&lock);
    int n = requests;
    pthread_mutex_unlock(&lock);
    return n;
}

const char *fake_kms_last_headers(void)
{
    return last_headers;
}

const char *fake_kms_last_body(void)
{
    return last_body;
}

/* A self-signed P-256 certificate for localhost and 127.0.0.1. */
static int make_certificate(const char *ca_path)
{
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *cert = X509_new();
    X509_NAME *name = X509_get_subject_name(cert);
    X509V3_CTX ctx;
    ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
    X509_set_version(cert, 2);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"localhost", -1,
                               -1, 0);
    X509_set_issuer_name(cert, name);
    X509_gmtime_adj(X509_getm_notBefore(cert), -60);
    X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
    X509_set_pubkey(cert, key);
    X509V3_set_ctx(&ctx, cert, cert, NULL, NULL, 0);
    X509_EXTENSION *san =
        X509V3_EXT_conf(NULL, &ctx, "subjectAltName", "DNS:localhost,IP:127.0.0.1");
    X509_EXTENSION *bc = X509V3_EXT_conf(NULL, &ctx, "basicConstraints", "critical,CA:TRUE");
    X509_add_ext(cert, san, -1);
    X509_add_ext(cert, bc, -1);
    X509_EXTENSION_free(san);
    X509_EXTENSION_free(bc);
    X509_sign(cert, key, EVP_sha256());
    FILE *f = fopen(ca_path, "w");
    if (f == NULL)
        return -1;
    PEM_write_X509(f, cert);
    fclose(f);
    tls = SSL_CTX_new(TLS_server_method());
    int ok = SSL_CTX_use_certificate(tls, cert) == 1 && SSL_CTX_use_PrivateKey(tls, key) == 1;
    X509_free(cert);
    EVP_PKEY_free(key);
    return ok ? 0 : -1;
}

/* Reads one request; 0 when one arrived. */
static int read_request(SSL *ssl, char *headers, size_t cap, char *body, size_t body_cap)
{
    size_t n = 0;
    char *end = NULL;
    while (end == NULL) {
        if (n + 1 >= cap)
            return -1;
        int r = SSL_read(ssl, headers + n, (int)(cap - n - 1));
        if (r <= 0)
            return -1;
        n += (size_t)r;
        headers[n] = '\0';
        end = strstr(headers, "\r\n\r\n");
    }
    size_t head = (size_t)(end - headers) + 4, have = n - head, want = 0;
    for (char *p = headers; p < end; p++)
        *p = (char)tolower((unsigned char)*p);
    const char *cl = strstr(headers, "content-length:");
    if (cl)
        want = strtoul(cl + 15, NULL, 10);
    if (want >= body_cap)
        return -1;
    memcpy(body, headers + head, have);
    while (have < want) {
        int r = SSL_read(ssl, body + have, (int)(want - have));
        if (r <= 0)
            return -1;
        have += (size_t)r;
    }
    body[want] = '\0';
    headers[head] = '\0';
    return 0;
}

static void respond(SSL *ssl, int status, const char *body)
{
    char head[256];
    snprintf(head, sizeof(head),
             "HTTP/1.1 %d X\r\nContent-Type: application/x-amz-json-1.1\r\n"
             "Content-Length: %zu\r\n\r\n",
             status, strlen(body));
    SSL_write(ssl, head, (int)strlen(head));
    SSL_write(ssl, body, (int)strlen(body));
}

static void *serve(void *arg)
{
    int fd = (int)(intptr_t)arg;
    SSL *ssl = SSL_new(tls);
    char *body = malloc(sizeof(ok_body));
    SSL_set_fd(ssl, fd);
    if (SSL_accept(ssl) != 1)
        goto out;
    for (;;) {
        static __thread char h[8192], b[65536];
        if (read_request(ssl, h, sizeof(h), b, sizeof(b)) != 0)
            break;
        pthread_mutex_lock(&lock);
        requests++;
        memcpy(last_headers, h, sizeof(h));
        memcpy(last_body, b, sizeof(b));
        fake_action a = script_pos < script_len ? script[script_pos++] : FAKE_OK;
        snprintf(body, sizeof(ok_body), "%s", ok_body);
        pthread_mutex_unlock(&lock);
        switch (a) {
        case FAKE_OK: respond(ssl, 200, body); break;
        case FAKE_500:
            respond(ssl, 500, "{\"__type\":\"KMSInternalException\",\"message\":\"try again\"}");
            break;
        case FAKE_503_HTML: respond(ssl, 503, "<html>Service Unavailable</html>"); break;
        case FAKE_THROTTLE:
            respond(ssl, 400, "{\"__type\":\"ThrottlingException\",\"message\":\"Rate exceeded\"}");
            break;
        case FAKE_DENIED:
            respond(ssl, 400,
                    "{\"__type\":\"com.amazonaws.kms#AccessDeniedException\","
                    "\"Message\":\"denied by the key policy\"}");
            break;
        case FAKE_GARBAGE: respond(ssl, 200, "this is not json"); break;
        case FAKE_TRUNCATED: {
            const char *t = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"Ciphert";
            SSL_write(ssl, t, (int)strlen(t));
            goto out;
        }
        case FAKE_SLOW:
            sleep(3);
            respond(ssl, 200, body);
            break;
        case FAKE_CLOSE: goto out;
        case FAKE_BAD_KEY_ID:
            respond(ssl, 400,
                    "{\"__type\":\"UnrecognizedClientException\",\"message\":\"The security "
                    "token included in the request is invalid.\"}");
            break;
        }
    }
out:
    free(body);
    SSL_free(ssl);
    close(fd);
    return NULL;
}

static void *accept_loop(void *arg)
{
    (void)arg;
    for (;;) {
        int fd = accept(listen_fd, NULL, NULL);
        if (fd < 0)
            return NULL;
        pthread_t t;
        pthread_create(&t, NULL, serve, (void *)(intptr_t)fd);
        pthread_detach(t);
    }
}

int fake_kms_start(const char *ca_path)
{
    if (make_certificate(ca_path) != 0)
        return -1;
    int port = test_free_port();
    struct sockaddr_in in = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(listen_fd, (struct sockaddr *)&in, sizeof(in)) != 0 || listen(listen_fd, 64) != 0)
        return -1;
    pthread_t t;
    pthread_create(&t, NULL, accept_loop, NULL);
    pthread_detach(t);
    return port;
}
