/* A blocking RPC client over one connection (used by signer-cli, the
 * tests and the benchmark).  One session per client. */
#ifndef SIGNER_CLIENT_H
#define SIGNER_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "signer/error.h"
#include "signer/rpc.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct signer_client signer_client;

/* Connects to `address` (net.h syntax; vsock without CID means CID 16). */
int signer_client_connect(const char *address, signer_client **out, signer_error *err);

/* Sends `req` and decodes its answer into `resp` (free with
 * rpc_response_free).  Returns 0 when an answer arrived, Ok or Err;
 * -1 on a transport or decoding failure. */
int signer_client_call(signer_client *c, const rpc_request *req, rpc_response *resp,
                       signer_error *err);

/* Pipelining: send frames without waiting, then read answers in order. */
int signer_client_send(signer_client *c, const rpc_request *req, signer_error *err);
int signer_client_receive(signer_client *c, rpc_call call, rpc_response *resp, signer_error *err);

/* Raw frames, for tests that send what a well-behaved client never would. */
int signer_client_send_raw(signer_client *c, const void *bytes, size_t len, signer_error *err);
/* Reads one frame's payload into a malloc'd buffer (caller frees). */
int signer_client_receive_raw(signer_client *c, uint8_t **payload, size_t *len, signer_error *err);

int signer_client_fd(const signer_client *c);
void signer_client_close(signer_client *c);

#ifdef __cplusplus
}
#endif
#endif
