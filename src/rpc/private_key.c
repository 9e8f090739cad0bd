/* The private-key map {Type: bytes(32)}: what a sealed key contains. */
#include "codec.h"
#include "signer/memory.h"

int rpc_private_key_encode(const signer_key *key, signer_buf *out, signer_error *err)
{
    uint8_t secret[SIGNER_SECRET_KEY_BYTES];
    signer_key_export(key, secret);
    int rc = signer_cbor_write_map(out, 1, err) ||
                     signer_cbor_write_text(out, signer_key_type_name(key->type), err) ||
                     signer_cbor_write_bytes(out, secret, sizeof(secret), err)
                 ? -1
                 : 0;
    signer_wipe(secret, sizeof(secret));
    return rc;
}

int rpc_private_key_decode(const uint8_t *item, size_t item_len, signer_key *key, signer_error *err)
{
    cbor_item_t *root, *k, *v;
    signer_cbor_owned owned = {0};
    rpc_bytes secret;
    signer_key_type type;
    if (signer_cbor_load(item, item_len, &root, err) != 0)
        return signer_error_wrap(err, "sealed key content");
    int rc = -1;
    if (signer_cbor_single_entry(root, "a private key", &k, &v, err) == 0 &&
        rpc_cbor_key_type(k, &type, err) == 0 && signer_cbor_bytes(v, &owned, &secret, err) == 0)
        rc = signer_key_import(key, type, secret.data, secret.len, err);
    signer_cbor_owned_release(&owned);
    signer_cbor_free(&root);
    return rc;
}
