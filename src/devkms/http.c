/* The HTTPS front: libmicrohttpd (GnuTLS) with one thread per connection,
 * so concurrent clients are served in parallel.  Each request: read the
 * body (bounded), authenticate it (SigV4), parse it, run it, answer in
 * KMS's JSON shapes, and log one line when it is done. */
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "devkms.h"
#include "signer/memory.h"
#include "sigv4.h"

#define MAX_HEADERS 64
#define MAX_QUERY 64
#define CONNECTION_TIMEOUT_S 60

struct devkms_server {
    struct MHD_Daemon *daemon;
    devkms *kms;
};

/* One request's state, from its first byte to the end of the answer. */
typedef struct request_ctx {
    struct timespec start;
    signer_buf body;
    bool too_large;
    const char *op;
    char key_id[KMS_KEY_ID_LEN + 1];
    const char *outcome; /* "ok" or an exception name */
    int status;
} request_ctx;

typedef struct pairs {
    sigv4_pair items[MAX_HEADERS];
    size_t count;
    bool overflow;
} pairs;

static enum MHD_Result collect(void *cls, enum MHD_ValueKind kind, const char *key,
                               const char *value)
{
    (void)kind;
    pairs *p = cls;
    if (p->count == MAX_HEADERS) {
        p->overflow = true;
        return MHD_NO;
    }
    p->items[p->count].name = key;
    p->items[p->count].value = value;
    p->count++;
    return MHD_YES;
}

/* Keep the request target as sent: SigV4 signs the wire form. */
static size_t keep_escaped(void *cls, struct MHD_Connection *c, char *s)
{
    (void)cls;
    (void)c;
    return strlen(s);
}

typedef struct owned_body {
    size_t len;
    char data[];
} owned_body;

static void body_release(void *cls)
{
    owned_body *b = cls;
    signer_wipe(b->data, b->len); /* answers can hold plaintext */
    free(b);
}

static void request_id(char out[37])
{
    uint8_t r[16];
    if (RAND_bytes(r, sizeof(r)) != 1)
        memset(r, 0, sizeof(r));
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
             r[0], r[1], r[2], r[3], r[4], r[5], (r[6] & 0x0f) | 0x40, r[7],
             (r[8] & 0x3f) | 0x80, r[9], r[10], r[11], r[12], r[13], r[14], r[15]);
}

static enum MHD_Result send_json(struct MHD_Connection *c, request_ctx *rc, int status,
                                 json_t *doc, const char *error_type)
{
    /* 13 digits: dates come out as seconds with milliseconds. */
    char *text = doc ? json_dumps(doc, JSON_COMPACT | JSON_REAL_PRECISION(13)) : NULL;
    size_t len = text ? strlen(text) : 0;
    owned_body *b = malloc(sizeof(*b) + (len ? len : 1));
    if (b == NULL) {
        if (text) {
            signer_wipe(text, len);
            free(text);
        }
        return MHD_NO;
    }
    b->len = len;
    if (len)
        memcpy(b->data, text, len);
    if (text) {
        signer_wipe(text, len);
        free(text);
    }
    struct MHD_Response *r =
        MHD_create_response_from_buffer_with_free_callback_cls(len, b->data, body_release, b);
    if (r == NULL) {
        body_release(b);
        return MHD_NO;
    }
    char id[37];
    request_id(id);
    MHD_add_response_header(r, "Content-Type", "application/x-amz-json-1.1");
    MHD_add_response_header(r, "x-amzn-RequestId", id);
    if (error_type != NULL)
        MHD_add_response_header(r, "x-amzn-ErrorType", error_type);
    rc->status = status;
    enum MHD_Result ret = MHD_queue_response(c, (unsigned)status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result send_error(struct MHD_Connection *c, request_ctx *rc, const kms_error *e)
{
    json_t *doc = json_pack("{s:s, s:s}", "__type", e->type, "message", e->message);
    rc->outcome = e->type;
    enum MHD_Result ret = send_json(c, rc, e->status, doc, e->type);
    json_decref(doc);
    return ret;
}

static int authenticate(devkms *kms, struct MHD_Connection *c, const char *method,
                        const char *url, const request_ctx *rc, kms_error *e)
{
    pairs headers = {0}, query = {0};
    MHD_get_connection_values(c, MHD_HEADER_KIND, collect, &headers);
    MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, collect, &query);
    if (headers.overflow || query.overflow)
        return kms_fail(e, "ValidationException", "too many headers or query parameters");
    sigv4_request req = {
        .method = method, .path = url,
        .query = query.items, .query_count = query.count,
        .headers = headers.items, .header_count = headers.count,
        .body = rc->body.data, .body_len = rc->body.len,
    };
    sigv4_credentials cred = {
        .access_key_id = kms->creds.access_key_id,
        .secret_access_key = kms->creds.secret_access_key,
        .session_token = kms->creds.session_token,
        .region = kms->creds.region,
        .service = "kms",
    };
    sigv4_result res;
    if (sigv4_verify(&req, &cred, time(NULL), true, &res) == 0)
        return 0;
    static const char *const types[] = {
        [SIGV4_MISSING] = "MissingAuthenticationTokenException",
        [SIGV4_INCOMPLETE] = "IncompleteSignatureException",
        [SIGV4_UNKNOWN_KEY] = "UnrecognizedClientException",
        [SIGV4_BAD_SCOPE] = "InvalidSignatureException",
        [SIGV4_EXPIRED] = "InvalidSignatureException",
        [SIGV4_MISMATCH] = "InvalidSignatureException",
    };
    return kms_fail(e, types[res.status], "%s", res.message);
}

static bool json_content_type(const char *ct)
{
    return ct != NULL && (strncmp(ct, "application/x-amz-json-1.1", 26) == 0 ||
                          strncmp(ct, "application/x-amz-json-1.0", 26) == 0);
}

static enum MHD_Result handle(devkms *kms, struct MHD_Connection *c, const char *method,
                              const char *url, request_ctx *rc)
{
    kms_error e;
    if (rc->too_large) {
        kms_fail(&e, "ValidationException", "request body larger than %u bytes", KMS_REQUEST_MAX);
        return send_error(c, rc, &e);
    }
    if (authenticate(kms, c, method, url, rc, &e) != 0)
        return send_error(c, rc, &e);
    if (strcmp(method, "POST") != 0 || strcmp(url, "/") != 0) {
        kms_fail(&e, "UnknownOperationException", "KMS takes POST / only");
        return send_error(c, rc, &e);
    }
    if (!json_content_type(MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type"))) {
        kms_fail(&e, "SerializationException",
                 "Content-Type must be application/x-amz-json-1.1");
        return send_error(c, rc, &e);
    }
    kms_op op;
    const char *target = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Amz-Target");
    if (kms_op_from_target(target, &op, &e) != 0)
        return send_error(c, rc, &e);
    rc->op = kms_op_name(op);
    json_t *root = NULL, *answer = NULL;
    kms_args args;
    kms_outcome outcome = {{0}};
    enum MHD_Result ret;
    if (kms_request_parse(op, rc->body.data, rc->body.len, &root, &args, &e) != 0) {
        ret = send_error(c, rc, &e);
    } else {
        int status = kms_dispatch(kms, op, &args, &answer, &outcome, &e);
        memcpy(rc->key_id, outcome.key_id, sizeof(rc->key_id));
        if (status == 0) {
            rc->outcome = "ok";
            ret = send_json(c, rc, 200, answer, NULL);
        } else {
            ret = send_error(c, rc, &e);
        }
        json_decref(answer);
        kms_request_free(root, &args);
    }
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_size, void **state)
{
    (void)version;
    devkms_server *server = cls;
    request_ctx *rc = *state;
    if (rc == NULL) {
        rc = calloc(1, sizeof(*rc));
        if (rc == NULL)
            return MHD_NO;
        clock_gettime(CLOCK_MONOTONIC, &rc->start);
        rc->op = "-";
        rc->outcome = "-";
        *state = rc;
        return MHD_YES;
    }
    if (*upload_size > 0) {
        if (rc->body.len + *upload_size > KMS_REQUEST_MAX)
            rc->too_large = true; /* keep reading, answer once it is all in */
        else if (signer_buf_append(&rc->body, upload_data, *upload_size, NULL) != 0)
            return MHD_NO;
        *upload_size = 0;
        return MHD_YES;
    }
    return handle(server->kms, c, method, url, rc);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **state,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    request_ctx *rc = *state;
    if (rc == NULL)
        return;
    struct timespec end;
    clock_gettime(CLOCK_MONOTONIC, &end);
    double ms = (double)(end.tv_sec - rc->start.tv_sec) * 1e3 +
                (double)(end.tv_nsec - rc->start.tv_nsec) / 1e6;
    /* Never plaintext or key material: the operation, the key, the outcome. */
    signer_log(SIGNER_LOG_INFO, "op=%s key=%s outcome=%s status=%d latency_ms=%.1f%s",
               rc->op, rc->key_id[0] ? rc->key_id : "-", rc->outcome, rc->status, ms,
               toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " (connection closed early)");
    signer_buf_free(&rc->body); /* may hold plaintext */
    free(rc);
    *state = NULL;
}

__attribute__((format(printf, 2, 0)))
static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char line[512];
    vsnprintf(line, sizeof(line), fmt, ap);
    size_t n = strlen(line);
    while (n > 0 && line[n - 1] == '\n')
        line[--n] = '\0';
    signer_log(SIGNER_LOG_DEBUG, "http: %s", line);
}

/* Binds HOST:PORT (port 0: any free port). */
static int bind_listener(const char *host, uint16_t port, int *fd_out, int *family,
                         signer_error *err)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE};
    struct addrinfo *res = NULL;
    char service[8];
    snprintf(service, sizeof(service), "%u", port);
    int g = getaddrinfo(host, service, &hints, &res);
    if (g != 0)
        return signer_error_set(err, SIGNER_ERR_INVALID_ARGUMENT, "cannot resolve %s: %s", host,
                                gai_strerror(g));
    int fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        bind(fd, res->ai_addr, res->ai_addrlen) != 0 || listen(fd, 128) != 0) {
        signer_error_set(err, SIGNER_ERR_IO, "cannot listen on %s:%u: %s", host, port,
                         strerror(errno));
        if (fd >= 0)
            close(fd);
        freeaddrinfo(res);
        return -1;
    }
    *family = res->ai_family;
    freeaddrinfo(res);
    *fd_out = fd;
    return 0;
}

int devkms_server_start(devkms *kms, const signer_buf *cert_pem, const signer_buf *key_pem,
                        devkms_server **out, uint16_t *port, signer_error *err)
{
    *out = NULL;
    int fd = -1, family = AF_INET;
    if (bind_listener(kms->cfg.listen_host, kms->cfg.listen_port, &fd, &family, err) != 0)
        return -1;
    struct sockaddr_storage addr;
    socklen_t addr_len = sizeof(addr);
    if (getsockname(fd, (struct sockaddr *)&addr, &addr_len) != 0) {
        close(fd);
        return signer_error_set(err, SIGNER_ERR_IO, "getsockname: %s", strerror(errno));
    }
    *port = ntohs(family == AF_INET6 ? ((struct sockaddr_in6 *)&addr)->sin6_port
                                     : ((struct sockaddr_in *)&addr)->sin_port);
    devkms_server *s = calloc(1, sizeof(*s));
    if (s == NULL) {
        close(fd);
        return signer_error_set(err, SIGNER_ERR_NO_MEMORY, "out of memory");
    }
    s->kms = kms;
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
                     MHD_USE_TLS | MHD_USE_ERROR_LOG | (family == AF_INET6 ? MHD_USE_IPv6 : 0);
    s->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, s,
        MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
        MHD_OPTION_LISTEN_SOCKET, fd,
        MHD_OPTION_HTTPS_MEM_KEY, (const char *)key_pem->data,
        MHD_OPTION_HTTPS_MEM_CERT, (const char *)cert_pem->data,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
        MHD_OPTION_UNESCAPE_CALLBACK, keep_escaped, NULL,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CONNECTION_TIMEOUT_S,
        MHD_OPTION_CONNECTION_LIMIT, kms->cfg.max_connections,
        MHD_OPTION_END);
    if (s->daemon == NULL) {
        close(fd);
        free(s);
        return signer_error_set(err, SIGNER_ERR_IO, "libmicrohttpd could not start the HTTPS "
                                "server (TLS key or certificate unusable?)");
    }
    *out = s;
    return 0;
}

void devkms_server_stop(devkms_server *s)
{
    if (s == NULL)
        return;
    MHD_stop_daemon(s->daemon); /* closes the listening socket too */
    free(s);
}
