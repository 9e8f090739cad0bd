/* Internals of the enclave signer daemon. */
#ifndef SIGNER_DAEMON_H
#define SIGNER_DAEMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "signer/buf.h"
#include "signer/crypto.h"
#include "signer/log.h"
#include "signer/net.h"
#include "signer/rpc.h"
#include "signer/sealing.h"

/* ---- options.c: command line and environment ---- */

typedef struct daemon_config {
    net_address listen;
    const sealing_backend *sealing;
    sealing_settings settings; /* for the kms backend; settings.nsm set by main */
    const char *nsm_spec;      /* /dev/nsm or sim:CONFIG */
    char kms_proxy[64];        /* vsock:$PROXY_CID:$PROXY_PORT unless --kms-proxy */
    bool print_measurements;   /* --print-measurements: print PCRs and exit */
    uint32_t max_frame;        /* largest request payload accepted */
    unsigned max_connections;  /* concurrent sessions */
    size_t max_keys;           /* keys per session */
    size_t max_total_keys;     /* keys in all sessions together */
    unsigned frame_timeout_ms; /* to finish a frame once it has begun */
    int log_level;
} daemon_config;

/* Fills `cfg` from argv and the environment (LISTEN_PORT).  Returns 0 to
 * run, 1 when it printed help or the version, -1 on a usage error. */
int daemon_options_parse(int argc, char **argv, daemon_config *cfg);

/* ---- keychain.c: a session's imported keys, in locked memory ---- */

typedef struct keychain {
    signer_key **chunks;
    size_t chunk_count;
    size_t count;
    size_t max_keys;
    size_t max_total;
} keychain;

/* `max_keys` for this session, `max_total` for all sessions together. */
void keychain_init(keychain *kc, size_t max_keys, size_t max_total);

/* The slot the next key goes into (zeroed, locked memory).  Fill it, then
 * keychain_commit() it; a slot that is not committed is reused. */
signer_key *keychain_next_slot(keychain *kc, signer_error *err);

/* Makes the filled slot a key of the session; its handle is its index. */
uint64_t keychain_commit(keychain *kc);

/* The key with `handle`, or NULL (with a message) when out of range. */
signer_key *keychain_get(keychain *kc, uint64_t handle, signer_error *err);

/* Wipes every key and releases the memory. */
void keychain_free(keychain *kc);

/* ---- session.c: one connection, its keychain and its sealer ---- */

typedef struct session {
    int fd;
    const daemon_config *cfg;
    sealer *sealer; /* NULL until a successful Initialize */
    keychain keys;
    signer_key *scratch; /* a locked slot for keys that are not kept */
    signer_buf in;       /* bytes read, starting at in_pos */
    size_t in_pos;
    uint64_t skip;       /* payload bytes of an oversize frame to discard */
    signer_buf out;      /* answers not yet written */
    long long out_since; /* when the oldest of them was made (ns, monotonic) */
    char peer[64];
} session;

/* Serves one connection until it closes; frees everything it holds. */
void session_serve(int fd, const daemon_config *cfg, const char *peer);

/* ---- dispatch.c: one request in, one answer frame out ---- */

/* Handles one request payload and appends exactly one answer frame to
 * s->out.  Returns -1 only when not even an Err answer could be encoded. */
int dispatch_request(session *s, const uint8_t *payload, size_t len);

/* ---- server.c: accept loop, concurrency limits, graceful shutdown ---- */

/* Serves until SIGTERM/SIGINT, then gives open sessions a few seconds to
 * finish; `*busy` is how many were still running (their threads may still
 * use the NSM and the sealing backend: the caller must not free those). */
int server_run(const daemon_config *cfg, unsigned *busy);

#endif
