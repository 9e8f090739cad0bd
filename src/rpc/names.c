/* Wire names of the calls. */
#include <string.h>

#include "codec.h"

static const char *const call_names[RPC_CALL_COUNT] = {
    [RPC_INITIALIZE] = "Initialize",
    [RPC_IMPORT] = "Import",
    [RPC_IMPORT_UNENCRYPTED] = "ImportUnencrypted",
    [RPC_GENERATE] = "Generate",
    [RPC_GENERATE_AND_IMPORT] = "GenerateAndImport",
    [RPC_SIGN] = "Sign",
    [RPC_SIGN_WITH] = "SignWith",
    [RPC_PUBLIC_KEY] = "PublicKey",
    [RPC_PUBLIC_KEY_FROM] = "PublicKeyFrom",
    [RPC_PROVE_POSSESSION] = "ProvePossession",
};

const char *rpc_call_name(rpc_call call)
{
    return (unsigned)call < RPC_CALL_COUNT ? call_names[call] : "?";
}

int rpc_cbor_key_type(const cbor_item_t *item, signer_key_type *out, signer_error *err)
{
    char name[32];
    rpc_bytes b;
    signer_cbor_owned scratch = {0};
    if (!cbor_isa_string(item))
        return signer_error_set(err, SIGNER_ERR_INVALID_ARGUMENT,
                                "expected a key type name (text)");
    if (signer_cbor_string(item, &scratch, &b, err) != 0)
        return -1;
    size_t n = b.len < sizeof(name) - 1 ? b.len : sizeof(name) - 1;
    memcpy(name, b.data, n);
    name[n] = '\0';
    size_t full = b.len;
    signer_cbor_owned_release(&scratch);
    if (full != n) /* longer than any name: let the usual message say so */
        return signer_key_type_from_name("", 0, out, err);
    return signer_key_type_from_name(name, n, out, err);
}
