/* Blocking RPC client: encodes requests, reads answers frame by frame. */
#include <stdlib.h>
#include <unistd.h>
#include <linux/vm_sockets.h>

#include "signer/client.h"
#include "signer/memory.h"
#include "signer/net.h"

#define CLIENT_FRAME_MAX RPC_FRAME_LIMIT

struct signer_client {
    int fd;
    signer_buf out;
};

int signer_client_connect(const char *address, signer_client **out, signer_error *err)
{
    net_address addr;
    if (net_address_parse(address, 16 /* the usual first enclave CID */, &addr, err) != 0)
        return -1;
    signer_client *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return signer_error_set(err, SIGNER_ERR_NO_MEMORY, "out of memory");
    c->fd = net_connect(&addr, err);
    if (c->fd < 0) {
        free(c);
        return -1;
    }
    *out = c;
    return 0;
}

int signer_client_send(signer_client *c, const rpc_request *req, signer_error *err)
{
    signer_buf_clear(&c->out);
    if (rpc_request_encode(req, &c->out, err) != 0)
        return -1;
    return net_write_all(c->fd, c->out.data, c->out.len, err);
}

int signer_client_send_raw(signer_client *c, const void *bytes, size_t len, signer_error *err)
{
    return net_write_all(c->fd, bytes, len, err);
}

int signer_client_receive_raw(signer_client *c, uint8_t **payload, size_t *len, signer_error *err)
{
    uint8_t header[RPC_FRAME_HEADER_BYTES];
    if (net_read_exact(c->fd, header, sizeof(header), err) != 0)
        return -1;
    uint32_t n = rpc_frame_length(header);
    if (n > CLIENT_FRAME_MAX)
        return signer_error_set(err, SIGNER_ERR_PROTOCOL, "answer frame too large (%u bytes)", n);
    uint8_t *p = malloc(n ? n : 1);
    if (p == NULL)
        return signer_error_set(err, SIGNER_ERR_NO_MEMORY, "out of memory");
    if (net_read_exact(c->fd, p, n, err) != 0) {
        free(p);
        return -1;
    }
    *payload = p;
    *len = n;
    return 0;
}

int signer_client_receive(signer_client *c, rpc_call call, rpc_response *resp, signer_error *err)
{
    uint8_t *payload;
    size_t len;
    if (signer_client_receive_raw(c, &payload, &len, err) != 0)
        return -1;
    int rc = rpc_response_decode(call, payload, len, resp, err);
    signer_wipe(payload, len);
    free(payload);
    return rc;
}

int signer_client_call(signer_client *c, const rpc_request *req, rpc_response *resp,
                       signer_error *err)
{
    if (signer_client_send(c, req, err) != 0)
        return -1;
    return signer_client_receive(c, req->call, resp, err);
}

int signer_client_fd(const signer_client *c)
{
    return c->fd;
}

void signer_client_close(signer_client *c)
{
    if (c == NULL)
        return;
    close(c->fd);
    signer_buf_free(&c->out);
    free(c);
}
