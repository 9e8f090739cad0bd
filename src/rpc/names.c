/* Wire names of the calls. */
#include "signer/rpc.h"

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
