/* The NSM API: requests encoded, sent to the chosen backend, answers
 * decoded and turned into results or errors a user can act on. */
#include <errno.h>
#include <fcntl.h>
#include <linux/random.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "backend.h"
#include "codec.h"
#include "signer/memory.h"

struct nsm {
    const nsm_backend *backend;
    void *state;
};

int nsm_open(const char *spec, nsm **out, signer_error *err)
{
    nsm *m = calloc(1, sizeof(*m));
    if (m == NULL)
        return signer_error_set(err, SIGNER_ERR_NO_MEMORY, "out of memory");
    int rc;
    if (strncmp(spec, "sim:", 4) == 0) {
#ifdef SIGNER_NSM_SIM
        m->backend = &nsm_sim_backend;
        rc = nsm_sim_open(spec + 4, &m->state, err);
#else
        rc = signer_error_set(err, SIGNER_ERR_UNSUPPORTED,
                              "this build has no software NSM (built with SIGNER_NSM_SIM=OFF)");
#endif
    } else {
        m->backend = &nsm_device_backend;
        rc = nsm_device_open(spec, &m->state, err);
    }
    if (rc != 0) {
        free(m);
        return -1;
    }
    *out = m;
    return 0;
}

bool nsm_is_simulated(const nsm *m)
{
#ifdef SIGNER_NSM_SIM
    return m->backend == &nsm_sim_backend;
#else
    (void)m;
    return false;
#endif
}

/* Sends `req`, decodes the answer into `resp` (free it), and turns an
 * Error answer or an answer to another request into a failure. */
static int call(nsm *m, const nsm_request *req, nsm_response *resp, signer_error *err)
{
    signer_buf out = SIGNER_BUF_INIT;
    uint8_t *answer = malloc(NSM_RESPONSE_MAX);
    size_t answer_len = NSM_RESPONSE_MAX;
    int rc = -1;
    memset(resp, 0, sizeof(*resp));
    if (answer == NULL) {
        signer_error_set(err, SIGNER_ERR_NO_MEMORY, "out of memory");
        goto done;
    }
    if (nsm_request_encode(req, &out, err) != 0)
        goto done;
    if (out.len > NSM_REQUEST_MAX) {
        signer_error_set(err, SIGNER_ERR_INVALID_ARGUMENT, "NSM request of %zu bytes is too large",
                         out.len);
        goto done;
    }
    if (m->backend->transact(m->state, out.data, out.len, answer, &answer_len, err) != 0 ||
        nsm_response_decode(answer, answer_len, resp, err) != 0)
        goto done;
    if (resp->op == NSM_OP_ERROR) {
        signer_error_set(err, SIGNER_ERR_IO, "the NSM refused: %s (%s)", resp->error,
                         nsm_error_meaning(resp->error));
        nsm_response_free(resp);
        goto done;
    }
    if (resp->op != req->op) {
        signer_error_set(err, SIGNER_ERR_PROTOCOL, "the NSM answered another request");
        nsm_response_free(resp);
        goto done;
    }
    rc = 0;
done:
    signer_buf_free(&out);
    if (answer != NULL) {
        signer_wipe(answer, NSM_RESPONSE_MAX); /* may hold random bytes */
        free(answer);
    }
    return rc;
}

static nsm_opt_bytes opt(const signer_bytes *b)
{
    nsm_opt_bytes o = {{NULL, 0}, false};
    if (b != NULL) {
        o.bytes = *b;
        o.present = true;
    }
    return o;
}

int nsm_attest(nsm *m, const signer_bytes *user_data, const signer_bytes *nonce,
               const signer_bytes *public_key, signer_buf *document, signer_error *err)
{
    nsm_request req = {.op = NSM_OP_ATTESTATION};
    nsm_response resp;
    req.user_data = opt(user_data);
    req.nonce = opt(nonce);
    req.public_key = opt(public_key);
    if (call(m, &req, &resp, err) != 0)
        return signer_error_wrap(err, "NSM attestation");
    int rc = signer_buf_append(document, resp.document.data, resp.document.len, err);
    nsm_response_free(&resp);
    return rc;
}

int nsm_get_random(nsm *m, uint8_t *buf, size_t len, signer_error *err)
{
    nsm_request req = {.op = NSM_OP_GET_RANDOM};
    while (len > 0) {
        nsm_response resp;
        if (call(m, &req, &resp, err) != 0)
            return signer_error_wrap(err, "NSM GetRandom");
        if (resp.random.len == 0) {
            nsm_response_free(&resp);
            return signer_error_set(err, SIGNER_ERR_PROTOCOL, "NSM GetRandom returned nothing");
        }
        size_t n = resp.random.len < len ? resp.random.len : len;
        memcpy(buf, resp.random.data, n);
        nsm_response_free(&resp);
        buf += n;
        len -= n;
    }
    return 0;
}

int nsm_describe_pcr(nsm *m, unsigned index, uint8_t value[NSM_PCR_MAX_BYTES], size_t *len,
                     bool *locked, signer_error *err)
{
    nsm_request req = {.op = NSM_OP_DESCRIBE_PCR, .index = index};
    nsm_response resp;
    if (call(m, &req, &resp, err) != 0)
        return signer_error_wrap(err, "NSM DescribePCR");
    int rc = 0;
    if (resp.data.len > NSM_PCR_MAX_BYTES) {
        rc = signer_error_set(err, SIGNER_ERR_PROTOCOL, "NSM PCR value too long");
    } else {
        memcpy(value, resp.data.data, resp.data.len);
        *len = resp.data.len;
        *locked = resp.lock;
    }
    nsm_response_free(&resp);
    return rc;
}

int nsm_describe(nsm *m, nsm_description *out, signer_error *err)
{
    nsm_request req = {.op = NSM_OP_DESCRIBE_NSM};
    nsm_response resp;
    if (call(m, &req, &resp, err) != 0)
        return signer_error_wrap(err, "NSM DescribeNSM");
    *out = resp.describe;
    nsm_response_free(&resp);
    return 0;
}

int nsm_seed_kernel_random(nsm *m, size_t len, signer_error *err)
{
    if (len > 512)
        len = 512;
    size_t size = sizeof(struct rand_pool_info) + len;
    struct rand_pool_info *pool = calloc(1, size);
    if (pool == NULL)
        return signer_error_set(err, SIGNER_ERR_NO_MEMORY, "out of memory");
    uint8_t *bytes = (uint8_t *)pool->buf;
    int rc = nsm_get_random(m, bytes, len, err);
    if (rc != 0) {
        signer_wipe(pool, size);
        free(pool);
        return -1;
    }
    pool->entropy_count = (int)(len * 8);
    pool->buf_size = (int)len;
    int fd = open("/dev/random", O_WRONLY | O_CLOEXEC);
    rc = fd < 0 ? -1 : 0;
    /* Credited entropy needs CAP_SYS_ADMIN (as in an enclave's init);
     * without it, writing still mixes the bytes into the pool. */
    if (rc == 0 && ioctl(fd, RNDADDENTROPY, pool) != 0)
        rc = write(fd, bytes, len) == (ssize_t)len ? 0 : -1;
    int e = errno;
    if (fd >= 0)
        close(fd);
    signer_wipe(pool, size);
    free(pool);
    if (rc != 0)
        return signer_error_set(err, SIGNER_ERR_IO, "cannot feed /dev/random: %s", strerror(e));
    return 0;
}

void nsm_close(nsm *m)
{
    if (m == NULL)
        return;
    m->backend->close(m->state);
    free(m);
}
