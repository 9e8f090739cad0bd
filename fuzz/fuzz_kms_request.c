/* devkms's request parsing: the first byte picks the operation, the rest
 * is the JSON body.  Whatever parses also goes through the policy checker
 * (key policies are JSON from clients too) and the ciphertext reader. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "devkms.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    kms_op op = (kms_op)(data[0] % KMS_OP_COUNT);
    json_t *root = NULL;
    kms_args args;
    kms_error e;
    if (kms_request_parse(op, data + 1, size - 1, &root, &args, &e) != 0)
        return 0;
    if (args.policy != NULL && kms_policy_check(args.policy, &e) == 0) {
        kms_policy_request req = {
            .action = "kms:Decrypt",
            .principal = "arn:aws:iam::111122223333:user/devkms",
            .account_id = "111122223333",
            .resource = "arn:aws:kms:us-east-1:111122223333:key/k",
        };
        for (size_t i = 0; i < args.context.count; i++)
            kms_policy_request_add(&req, args.context.keys[i], args.context.values[i]);
        kms_policy_decision decision;
        char why[256];
        kms_policy_evaluate(args.policy, &req, &decision, why, sizeof(why), &e);
    }
    char id[KMS_KEY_ID_LEN + 1];
    if (args.ciphertext.len > 0)
        kms_blob_key_id(args.ciphertext.data, args.ciphertext.len, id);
    kms_request_free(root, &args);
    return 0;
}
