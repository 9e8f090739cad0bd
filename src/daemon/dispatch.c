/* The ten calls.  Each handler appends exactly one answer frame. */
#include <string.h>

#include "daemon.h"
#include "signer/memory.h"

/* Turns a failure into an Err answer; the session goes on. */
static int answer_err(session *s, const char *what, const signer_error *e)
{
    signer_log(SIGNER_LOG_DEBUG, "%s %s -> Err: %s", s->peer, what, e->message);
    return rpc_encode_err(&s->out, e->message, NULL);
}

static int answer_public_key(session *s, const signer_key *key, signer_error *err)
{
    return rpc_encode_ok_typed_bytes(&s->out, key->type, key->public_key,
                                     signer_key_public_size(key), err);
}

/* Seals `key` and answers with the sealed blob (and the handle, if kept). */
static int answer_sealed(session *s, const signer_key *key, const uint64_t *handle,
                         signer_error *err)
{
    signer_buf sealed = SIGNER_BUF_INIT;
    int rc = sealer_seal_key(s->sealer, key, &sealed, err);
    if (rc == 0)
        rc = rpc_encode_ok_sealed(&s->out, sealed.data, sealed.len, key->type, key->public_key,
                                  signer_key_public_size(key), handle, err);
    signer_buf_free(&sealed);
    return rc;
}

static int do_initialize(session *s, const rpc_request *req, signer_error *err)
{
    sealer *opened;
    if (sealer_open(s->cfg->sealing, &req->credentials, &opened, err) != 0)
        return -1;
    /* Initialized only once the client can be told so. */
    if (rpc_encode_ok_null(&s->out, err) != 0) {
        sealer_close(opened);
        return -1;
    }
    s->sealer = opened;
    return 0;
}

/* Fills the next keychain slot (unsealed, imported or generated), seals it
 * if asked, and keeps it only when the answer could be written. */
static int do_keep(session *s, const rpc_request *req, signer_error *err)
{
    signer_key *slot = keychain_next_slot(&s->keys, err);
    if (slot == NULL)
        return -1;
    int rc;
    switch (req->call) {
    case RPC_IMPORT:
        rc = sealer_unseal_key(s->sealer, req->data.data, req->data.len, slot, err);
        break;
    case RPC_IMPORT_UNENCRYPTED:
        rc = signer_key_import(slot, req->key_type, req->data.data, req->data.len, err);
        break;
    default: rc = signer_key_generate(slot, req->key_type, err); break;
    }
    if (rc == 0) {
        uint64_t handle = s->keys.count; /* what keychain_commit will return */
        rc = req->call == RPC_IMPORT
                 ? rpc_encode_ok_imported(&s->out, slot->type, slot->public_key,
                                          signer_key_public_size(slot), handle, err)
                 : answer_sealed(s, slot, &handle, err);
    }
    if (rc == 0)
        keychain_commit(&s->keys);
    else
        signer_key_wipe(slot);
    return rc;
}

/* Calls on a key that is not kept: it lives in the scratch slot. */
static int do_transient(session *s, const rpc_request *req, signer_error *err)
{
    signer_key *key = s->scratch;
    uint8_t sig[SIGNER_SIGNATURE_MAX];
    int rc = req->call == RPC_GENERATE
                 ? signer_key_generate(key, req->key_type, err)
                 : sealer_unseal_key(s->sealer, req->data.data, req->data.len, key, err);
    if (rc == 0) {
        switch (req->call) {
        case RPC_GENERATE: rc = answer_sealed(s, key, NULL, err); break;
        case RPC_PUBLIC_KEY_FROM: rc = answer_public_key(s, key, err); break;
        default: /* SignWith */
            rc = signer_sign(key, req->message.data, req->message.len, req->version, sig, err);
            if (rc == 0)
                rc = rpc_encode_ok_typed_bytes(&s->out, key->type, sig,
                                               signer_signature_size(key->type), err);
            break;
        }
    }
    signer_key_wipe(key);
    return rc;
}

static int do_with_handle(session *s, const rpc_request *req, signer_error *err)
{
    signer_key *key = keychain_get(&s->keys, req->handle, err);
    if (key == NULL)
        return -1;
    uint8_t sig[SIGNER_SIGNATURE_MAX];
    switch (req->call) {
    case RPC_PUBLIC_KEY: return answer_public_key(s, key, err);
    case RPC_PROVE_POSSESSION:
        if (signer_prove_possession(key, sig, err) != 0)
            return -1;
        return rpc_encode_ok_typed_bytes(&s->out, SIGNER_KEY_BLS, sig,
                                         signer_signature_size(SIGNER_KEY_BLS), err);
    default: /* Sign */
        if (signer_sign(key, req->message.data, req->message.len, req->version, sig, err) != 0)
            return -1;
        return rpc_encode_ok_typed_bytes(&s->out, key->type, sig, signer_signature_size(key->type),
                                         err);
    }
}

static int run_call(session *s, const rpc_request *req, signer_error *err)
{
    switch (req->call) {
    case RPC_INITIALIZE: return do_initialize(s, req, err);
    case RPC_IMPORT:
    case RPC_IMPORT_UNENCRYPTED:
    case RPC_GENERATE_AND_IMPORT: return do_keep(s, req, err);
    case RPC_GENERATE:
    case RPC_SIGN_WITH:
    case RPC_PUBLIC_KEY_FROM: return do_transient(s, req, err);
    default: return do_with_handle(s, req, err);
    }
}

/* The session-state answers are the bare words clients match on
 * ("uninitialized", as the Rust signer says); every other failure names
 * the call it came from. */
static int handle(session *s, const rpc_request *req, signer_error *err)
{
    bool initialize = req->call == RPC_INITIALIZE;
    if (initialize && s->sealer != NULL)
        return signer_error_set(err, SIGNER_ERR_STATE, "already initialized");
    if (!initialize && s->sealer == NULL)
        return signer_error_set(err, SIGNER_ERR_STATE, "uninitialized");
    if (run_call(s, req, err) != 0)
        return signer_error_wrap(err, rpc_call_name(req->call));
    return 0;
}

int dispatch_request(session *s, const uint8_t *payload, size_t len)
{
    rpc_request req;
    signer_error err;
    signer_error_clear(&err);
    if (rpc_request_decode(payload, len, &req, &err) != 0)
        return answer_err(s, "request", &err);
    int rc = handle(s, &req, &err);
    if (rc == 0)
        signer_log(SIGNER_LOG_DEBUG, "%s %s -> Ok", s->peer, rpc_call_name(req.call));
    else
        rc = answer_err(s, rpc_call_name(req.call), &err);
    rpc_request_free(&req);
    return rc;
}
