/* NSM access: the Nitro Secure Module of an enclave.
 *
 * Two backends behind one interface, chosen by nsm_open's `spec`:
 *   "/dev/nsm" (or any path)  the NSM driver: CBOR requests and responses
 *                             through its ioctl, as AWS's nsm-api does.
 *   "sim:CONFIG"              a software NSM for development: it answers the
 *                             same CBOR requests, holds PCR values from a JSON
 *                             file (given, or computed from image files) and
 *                             signs attestation documents with ES384 under a
 *                             development CA (see docs/nsm-sim.md).
 * Every function returns 0 or -1 and fills `err`.  Calls are thread-safe. */
#ifndef SIGNER_NSM_H
#define SIGNER_NSM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "signer/buf.h"
#include "signer/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define NSM_DEFAULT_DEVICE "/dev/nsm"
#define NSM_REQUEST_MAX 0x1000 /* the driver's limits */
#define NSM_RESPONSE_MAX 0x3000
#define NSM_PCR_MAX_BYTES 64

typedef struct nsm nsm;

/* Opens the NSM described by `spec` (see above). */
int nsm_open(const char *spec, nsm **out, signer_error *err);

/* True for the software NSM. */
bool nsm_is_simulated(const nsm *m);

/* Asks for an attestation document (COSE_Sign1) carrying the optional
 * user data, nonce and public key (NULL = absent); appends it to `document`. */
int nsm_attest(nsm *m, const signer_bytes *user_data, const signer_bytes *nonce,
               const signer_bytes *public_key, signer_buf *document, signer_error *err);

/* Fills `buf` with `len` random bytes from the NSM. */
int nsm_get_random(nsm *m, uint8_t *buf, size_t len, signer_error *err);

/* Reads PCR `index`: its value (len bytes, at most NSM_PCR_MAX_BYTES) and
 * whether it is locked. */
int nsm_describe_pcr(nsm *m, unsigned index, uint8_t value[NSM_PCR_MAX_BYTES], size_t *len,
                     bool *locked, signer_error *err);

typedef struct nsm_description {
    unsigned version_major, version_minor, version_patch;
    char module_id[128];
    unsigned max_pcrs;
    uint32_t locked_pcrs; /* bit i: PCR i is locked (PCRs 0..31) */
    char digest[8];       /* "SHA384" */
} nsm_description;

int nsm_describe(nsm *m, nsm_description *out, signer_error *err);

/* Mixes `len` NSM random bytes into the kernel's pool (credited when the
 * process may, else only mixed), so getrandom() draws on the NSM too. */
int nsm_seed_kernel_random(nsm *m, size_t len, signer_error *err);

void nsm_close(nsm *m);

#ifdef __cplusplus
}
#endif
#endif
