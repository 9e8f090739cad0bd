/* The software NSM's configuration file (JSON), see docs/nsm-sim.md. */
#ifndef SIGNER_NSM_SIM_CONFIG_H
#define SIGNER_NSM_SIM_CONFIG_H

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "signer/attestation.h"
#include "signer/buf.h"

#define SIM_PCR_BYTES 48 /* SHA-384 */
#define SIM_PCR_COUNT 16 /* PCRs 0..15 appear in documents, as on Nitro */

typedef struct sim_config {
    char module_id[128]; /* as DescribeNSM reports it */
    signer_attestation_pcr pcrs[SIGNER_ATTESTATION_PCR_COUNT];
    EVP_PKEY *ca_key;   /* the issuing CA's key, signs the NSM's leaf certificates */
    X509 *ca_cert;      /* the issuing CA */
    signer_buf cabundle[SIGNER_ATTESTATION_CABUNDLE_MAX]; /* DER, root first */
    size_t cabundle_count;
} sim_config;

/* Reads `path`: module_id, pcrs {"0": hex}, pcr_files {"0": path}, ca_key
 * (PEM) and ca_chain (PEM, issuing CA first, root last).  Relative paths
 * are relative to the file's folder. */
int sim_config_load(const char *path, sim_config *cfg, signer_error *err);

void sim_config_free(sim_config *cfg);

/* A PCR measured from an image file: SHA-384(48 zero bytes || SHA-384(file)),
 * one extension of a fresh register. */
int sim_pcr_from_file(const char *path, uint8_t out[SIM_PCR_BYTES], signer_error *err);

#endif
