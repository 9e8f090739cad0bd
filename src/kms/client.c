/* KMS over HTTPS with libcurl: SigV4 signing (curl's own), keep-alive,
 * timeouts, bounded retries with backoff, and a stream proxy in front of
 * the TCP connection when the enclave has only vsock. */
#include <curl/curl.h>
#include <linux/vm_sockets.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "signer/crypto.h"
#include "signer/memory.h"
#include "signer/net.h"

#define ANSWER_MAX (1u << 20) /* no KMS answer we use comes near this */
#define DEFAULT_CONNECT_MS 5000
#define DEFAULT_REQUEST_MS 10000
#define DEFAULT_ATTEMPTS 3
#define BACKOFF_BASE_MS 100

struct kms_client {
    CURL *curl;
    char url[512];
    char host[256];     /* as in the URL, for messages */
    char sigv4[128];    /* "aws:amz:REGION:kms" */
    char *token_header; /* "X-Amz-Security-Token: ..." or NULL */
    net_address proxy;
    bool via_proxy;
    struct curl_slist *route; /* read at every transfer: kept with the handle */
    long connect_ms, request_ms;
    int attempts;
    signer_buf answer;
    char curl_error[CURL_ERROR_SIZE];
    char last_error[96]; /* the last KMS exception name, or "" */
};

static void *curl_calloc(size_t n, size_t size)
{
    return calloc(n, size);
}

int kms_global_init(signer_error *err)
{
    /* curl copies the secret key, builds the SigV4 signing key and puts
     * small request bodies (an Encrypt's plaintext key) in buffers of its
     * own: every block it frees is wiped first. */
    if (curl_global_init_mem(CURL_GLOBAL_DEFAULT, malloc, signer_wiping_free, signer_wiping_realloc,
                             strdup, curl_calloc) != CURLE_OK)
        return signer_error_set(err, SIGNER_ERR_IO, "libcurl failed to initialise");
    return 0;
}

/* ---- the connection through the proxy ---- */

/* vsock: curl cannot dial it, but it lets the socket callback choose the
 * address it connects to; a sockaddr_vm fits curl's struct sockaddr. */
static curl_socket_t open_vsock(void *clientp, curlsocktype purpose, struct curl_sockaddr *address)
{
    kms_client *c = clientp;
    (void)purpose;
    _Static_assert(sizeof(struct sockaddr_vm) <= sizeof(address->addr), "sockaddr_vm fits");
    memcpy(&address->addr, &c->proxy.storage, sizeof(struct sockaddr_vm));
    address->family = AF_VSOCK;
    address->addrlen = sizeof(struct sockaddr_vm);
    address->protocol = 0;
    return socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
}

/* Routes the TLS stream through the proxy: a unix socket and a TCP proxy
 * are curl's own options; vsock goes through the socket callback, with the
 * KMS host pinned so that curl does no DNS look-up (an enclave has none). */
static int route_via_proxy(kms_client *c, signer_error *err)
{
    CURL *h = c->curl;
    char entry[600];
    if (c->proxy.family == AF_UNIX) {
        curl_easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH,
                         ((const struct sockaddr_un *)&c->proxy.storage)->sun_path);
        return 0;
    }
    if (c->proxy.family == AF_INET || c->proxy.family == AF_INET6) {
        /* "::HOST:PORT": every connection goes to the proxy instead. */
        snprintf(entry, sizeof(entry), "::%s", c->proxy.text + strlen("tcp:"));
    } else {
        const char *colon = strrchr(c->host, ':'), *bracket = strchr(c->host, ']');
        bool has_port = colon != NULL && (bracket == NULL || bracket < colon);
        snprintf(entry, sizeof(entry), has_port ? "%s:127.0.0.1" : "%s:443:127.0.0.1", c->host);
        curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, open_vsock);
        curl_easy_setopt(h, CURLOPT_OPENSOCKETDATA, c);
    }
    c->route = curl_slist_append(NULL, entry);
    if (c->route == NULL)
        return signer_error_set(err, SIGNER_ERR_NO_MEMORY, "out of memory");
    curl_easy_setopt(h, c->proxy.family == AF_VSOCK ? CURLOPT_RESOLVE : CURLOPT_CONNECT_TO,
                     c->route);
    return 0;
}

static size_t collect(char *data, size_t size, size_t n, void *userp)
{
    kms_client *c = userp;
    size_t len = size * n;
    if (c->answer.len + len > ANSWER_MAX)
        return 0; /* aborts the transfer */
    return signer_buf_append(&c->answer, data, len, NULL) == 0 ? len : 0;
}

/* ---- set-up ---- */

static int set_url(kms_client *c, const kms_settings *s, const char *region, signer_error *err)
{
    const char *endpoint = s->endpoint;
    char fallback[300];
    if (endpoint == NULL || *endpoint == '\0') {
        if (region == NULL || *region == '\0')
            return signer_error_set(err, SIGNER_ERR_INVALID_ARGUMENT,
                                    "no KMS region: give one in Initialize or --kms-region");
        snprintf(fallback, sizeof(fallback), "kms.%s.amazonaws.com", region);
        endpoint = fallback;
    }
    const char *host = strncmp(endpoint, "https://", 8) == 0 ? endpoint + 8 : endpoint;
    if (strncmp(endpoint, "http://", 7) == 0)
        return signer_error_set(err, SIGNER_ERR_INVALID_ARGUMENT,
                                "the KMS endpoint must use https, not \"%s\"", endpoint);
    size_t n = strcspn(host, "/");
    if (n == 0 || n >= sizeof(c->host))
        return signer_error_set(err, SIGNER_ERR_INVALID_ARGUMENT, "bad KMS endpoint \"%s\"",
                                endpoint);
    memcpy(c->host, host, n);
    c->host[n] = '\0';
    snprintf(c->url, sizeof(c->url), "https://%s/", c->host);
    return 0;
}

/* A region names a host (kms.REGION.amazonaws.com): letters, digits and
 * dashes only, so Initialize cannot point the enclave at another host. */
static bool region_is_valid(const char *region)
{
    size_t n = strlen(region);
    return n > 0 && n <= 32 && strspn(region, "abcdefghijklmnopqrstuvwxyz0123456789-") == n;
}

/* Credentials go into HTTP headers: no control characters. */
static bool header_safe(const char *s)
{
    for (; s != NULL && *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return false;
    return true;
}

int kms_client_open(const kms_settings *s, const kms_credentials *cr, kms_client **out,
                    signer_error *err)
{
    if (cr->region != NULL && *cr->region != '\0' && !region_is_valid(cr->region))
        return signer_error_set(err, SIGNER_ERR_INVALID_ARGUMENT,
                                "\"%.40s\" is not an AWS region name", cr->region);
    if (!header_safe(cr->access_key_id) || !header_safe(cr->secret_access_key) ||
        !header_safe(cr->session_token))
        return signer_error_set(err, SIGNER_ERR_INVALID_ARGUMENT,
                                "KMS credentials must not contain control characters");
    if (cr->access_key_id == NULL || *cr->access_key_id == '\0' || cr->secret_access_key == NULL ||
        *cr->secret_access_key == '\0')
        return signer_error_set(err, SIGNER_ERR_INVALID_ARGUMENT,
                                "KMS credentials need access_key_id and secret_access_key");
    kms_client *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return signer_error_set(err, SIGNER_ERR_NO_MEMORY, "out of memory");
    c->connect_ms = s->connect_timeout_ms > 0 ? s->connect_timeout_ms : DEFAULT_CONNECT_MS;
    c->request_ms = s->request_timeout_ms > 0 ? s->request_timeout_ms : DEFAULT_REQUEST_MS;
    c->attempts = s->max_attempts > 0 ? s->max_attempts : DEFAULT_ATTEMPTS;
    snprintf(c->sigv4, sizeof(c->sigv4), "aws:amz:%s:kms", cr->region ? cr->region : "");
    if (set_url(c, s, cr->region, err) != 0)
        goto fail;
    if (cr->region == NULL || *cr->region == '\0') {
        signer_error_set(err, SIGNER_ERR_INVALID_ARGUMENT, "no KMS region for SigV4");
        goto fail;
    }
    if (s->proxy != NULL) {
        if (net_address_parse(s->proxy, 3 /* the parent instance */, &c->proxy, err) != 0)
            goto fail;
        c->via_proxy = true;
    }
    if (cr->session_token != NULL && *cr->session_token != '\0') {
        size_t n = strlen(cr->session_token) + 32;
        c->token_header = malloc(n);
        if (c->token_header == NULL) {
            signer_error_set(err, SIGNER_ERR_NO_MEMORY, "out of memory");
            goto fail;
        }
        snprintf(c->token_header, n, "X-Amz-Security-Token: %s", cr->session_token);
    }
    c->curl = curl_easy_init();
    if (c->curl == NULL) {
        signer_error_set(err, SIGNER_ERR_NO_MEMORY, "cannot make a curl handle");
        goto fail;
    }
    CURL *h = c->curl;
    curl_easy_setopt(h, CURLOPT_URL, c->url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https");
    curl_easy_setopt(h, CURLOPT_AWS_SIGV4, c->sigv4);
    curl_easy_setopt(h, CURLOPT_USERNAME, cr->access_key_id);
    curl_easy_setopt(h, CURLOPT_PASSWORD, cr->secret_access_key);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, c->connect_ms);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, c->request_ms);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->curl_error);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, c);
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    if (s->ca_file != NULL)
        curl_easy_setopt(h, CURLOPT_CAINFO, s->ca_file);
    if (c->via_proxy && route_via_proxy(c, err) != 0)
        goto fail;
    *out = c;
    return 0;
fail:
    kms_client_close(c);
    return -1;
}

void kms_client_close(kms_client *c)
{
    if (c == NULL)
        return;
    if (c->curl)
        curl_easy_cleanup(c->curl);
    curl_slist_free_all(c->route);
    if (c->token_header) {
        signer_wipe(c->token_header, strlen(c->token_header));
        free(c->token_header);
    }
    signer_buf_free(&c->answer);
    free(c);
}

/* ---- one call ---- */

static void backoff(int attempt)
{
    uint8_t jitter = 0;
    (void)signer_random_bytes(&jitter, 1, NULL);
    long ms = (long)BACKOFF_BASE_MS << attempt;
    ms += ms * jitter / 512; /* up to +50% */
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static bool curl_error_is_transient(CURLcode rc)
{
    switch (rc) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR: return true;
    default: return false;
    }
}

static bool curl_error_is_tls(CURLcode rc)
{
    return rc == CURLE_SSL_CONNECT_ERROR || rc == CURLE_PEER_FAILED_VERIFICATION ||
           rc == CURLE_SSL_CERTPROBLEM || rc == CURLE_SSL_CACERT_BADFILE ||
           rc == CURLE_SSL_CIPHER || rc == CURLE_SSL_ISSUER_ERROR;
}

/* Describes a failed transfer. */
static int transfer_error(kms_client *c, const char *op, CURLcode rc, int tries, signer_error *err)
{
    const char *detail = c->curl_error[0] ? c->curl_error : curl_easy_strerror(rc);
    /* A proxy that cannot reach KMS accepts, then closes: curl sees the
     * TLS handshake fail, but the cause is the network. */
    bool closed = rc == CURLE_SSL_CONNECT_ERROR &&
                  (strstr(detail, "Broken pipe") || strstr(detail, "reset") ||
                   strstr(detail, "SSL_ERROR_SYSCALL") || strstr(detail, "unexpected eof"));
    const char *kind = closed ? "cannot reach KMS (the connection closed before TLS was up)"
                       : curl_error_is_tls(rc)          ? "TLS with KMS failed"
                       : rc == CURLE_OPERATION_TIMEDOUT ? "KMS did not answer in time"
                       : rc == CURLE_WRITE_ERROR        ? "KMS's answer is too large"
                                                        : "cannot reach KMS";
    return signer_error_set(err, SIGNER_ERR_SEALING, "KMS %s: %s (%s%s%s, %d attempt%s): %s", op,
                            kind, c->host, c->via_proxy ? " via " : "",
                            c->via_proxy ? c->proxy.text : "", tries, tries == 1 ? "" : "s",
                            detail);
}

/* Sends `body` as TrentService.`op` and leaves the 200 answer in
 * c->answer.  Retries transient failures with exponential backoff. */
static int call(kms_client *c, const char *op, const signer_buf *body, signer_error *err)
{
    char target[64];
    snprintf(target, sizeof(target), "X-Amz-Target: TrentService.%s", op);
    struct curl_slist *headers = NULL, *h;
    const char *const lines[] = {"Content-Type: application/x-amz-json-1.1", target,
                                 "Expect:", c->token_header};
    for (size_t i = 0; i < 4 && lines[i] != NULL; i++) {
        h = curl_slist_append(headers, lines[i]);
        if (h == NULL) {
            curl_slist_free_all(headers);
            return signer_error_set(err, SIGNER_ERR_NO_MEMORY, "out of memory");
        }
        headers = h;
    }
    curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, (const char *)body->data);
    curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body->len);
    int rc = -1;
    c->last_error[0] = '\0';
    for (int attempt = 1;; attempt++) {
        signer_buf_clear(&c->answer);
        c->curl_error[0] = '\0';
        CURLcode crc = curl_easy_perform(c->curl);
        long status = 0;
        curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);
        if (crc != CURLE_OK) {
            if (attempt < c->attempts && curl_error_is_transient(crc)) {
                backoff(attempt);
                continue;
            }
            transfer_error(c, op, crc, attempt, err);
            break;
        }
        if (status == 200) {
            rc = 0;
            break;
        }
        char type[96], message[400];
        bool parsed = kms_json_error((const char *)c->answer.data, c->answer.len, type,
                                     sizeof(type), message, sizeof(message)) == 0 &&
                      type[0] != '\0';
        bool transient = status >= 500 || status == 429 || (parsed && kms_error_is_transient(type));
        if (transient && attempt < c->attempts) {
            backoff(attempt);
            continue;
        }
        if (parsed) {
            snprintf(c->last_error, sizeof(c->last_error), "%s", type);
            signer_error_set(err, SIGNER_ERR_SEALING, "KMS %s: %s: %s", op, type,
                             message[0] ? message : "(no message)");
        } else
            signer_error_set(err, SIGNER_ERR_SEALING,
                             "KMS %s: HTTP %ld from %s with an unreadable body (%zu bytes)", op,
                             status, c->host, c->answer.len);
        break;
    }
    curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, NULL);
    curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, NULL);
    curl_slist_free_all(headers);
    return rc;
}

int kms_encrypt(kms_client *c, const char *key_id, const uint8_t *plaintext, size_t len,
                signer_buf *blob, signer_error *err)
{
    signer_buf body = SIGNER_BUF_INIT;
    int rc = kms_json_encrypt_body(key_id, plaintext, len, &body, err);
    if (rc == 0)
        rc = call(c, "Encrypt", &body, err);
    signer_buf_free(&body); /* wipes: it held the plaintext */
    if (rc == 0 && kms_json_blob((const char *)c->answer.data, c->answer.len, "CiphertextBlob",
                                 blob, err) != 0)
        rc = signer_error_wrap(err, "KMS Encrypt");
    signer_buf_clear(&c->answer);
    return rc;
}

int kms_decrypt_for_recipient(kms_client *c, const char *key_id, const uint8_t *blob, size_t len,
                              const kms_recipient *recipient, signer_buf *plaintext,
                              signer_error *err)
{
    signer_buf body = SIGNER_BUF_INIT, cms = SIGNER_BUF_INIT;
    int rc = kms_json_decrypt_body(key_id, blob, len, &recipient->attestation_document, &body, err);
    if (rc == 0)
        rc = call(c, "Decrypt", &body, err);
    if (rc == 0 && kms_json_blob((const char *)c->answer.data, c->answer.len,
                                 "CiphertextForRecipient", &cms, err) != 0)
        rc = signer_error_wrap(err, "KMS Decrypt");
    if (rc == 0)
        rc = kms_recipient_open(recipient->key, cms.data, cms.len, plaintext, err);
    signer_buf_free(&body);
    signer_buf_free(&cms);
    signer_buf_clear(&c->answer);
    return rc;
}

int kms_describe_key(kms_client *c, const char *key_id, char *state, size_t cap, signer_error *err)
{
    signer_buf body = SIGNER_BUF_INIT;
    int rc = kms_json_describe_body(key_id, &body, err);
    if (rc == 0)
        rc = call(c, "DescribeKey", &body, err);
    if (rc == 0 &&
        kms_json_key_state((const char *)c->answer.data, c->answer.len, state, cap, err) != 0)
        rc = signer_error_wrap(err, "KMS DescribeKey");
    signer_buf_free(&body);
    signer_buf_clear(&c->answer);
    return rc;
}

const char *kms_client_last_error(const kms_client *c)
{
    return c->last_error;
}
