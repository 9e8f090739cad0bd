/* enclave-signer: the signer daemon that runs inside the enclave. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "signer/memory.h"

/* --print-measurements: what KMS key policies must name. */
static int print_measurements(nsm *m)
{
    nsm_description d;
    signer_error err;
    if (nsm_describe(m, &d, &err) != 0) {
        fprintf(stderr, "enclave-signer: %s\n", err.message);
        return EXIT_FAILURE;
    }
    printf("module_id %s\ndigest %s\n", d.module_id, d.digest);
    for (unsigned i = 0; i < 3; i++) {
        uint8_t value[NSM_PCR_MAX_BYTES];
        size_t len;
        bool locked;
        if (nsm_describe_pcr(m, i, value, &len, &locked, &err) != 0) {
            fprintf(stderr, "enclave-signer: %s\n", err.message);
            return EXIT_FAILURE;
        }
        printf("PCR%u ", i);
        for (size_t b = 0; b < len; b++)
            printf("%02x", value[b]);
        printf("\n");
    }
    return EXIT_SUCCESS;
}

/* The NSM and the sealing backend, before any session. */
static int start_sealing(daemon_config *cfg, nsm **m)
{
    signer_error err;
    bool kms = strcmp(cfg->sealing->name, "kms") == 0;
    if (kms || cfg->print_measurements) {
        if (nsm_open(cfg->nsm_spec, m, &err) != 0) {
            signer_log(SIGNER_LOG_ERROR, "%s", err.message);
            return -1;
        }
        /* Keys come from getrandom(); make it draw on the NSM as well. */
        if (nsm_seed_kernel_random(*m, 256, &err) != 0)
            signer_log(SIGNER_LOG_WARN, "%s", err.message);
        cfg->settings.nsm = *m;
    }
    if (cfg->print_measurements)
        return 0;
    if (sealing_backend_start(cfg->sealing, &cfg->settings, &err) != 0) {
        signer_log(SIGNER_LOG_ERROR, "sealing backend %s: %s", cfg->sealing->name, err.message);
        return -1;
    }
    if (kms)
        signer_log(SIGNER_LOG_INFO, "sealing with KMS (endpoint %s, %s%s), NSM %s%s",
                   cfg->settings.kms.endpoint ? cfg->settings.kms.endpoint : "by region",
                   cfg->settings.kms.proxy ? "through " : "direct",
                   cfg->settings.kms.proxy ? cfg->settings.kms.proxy : "", cfg->nsm_spec,
                   nsm_is_simulated(*m) ? " (SIMULATED: development only)" : "");
    else
        signer_log(SIGNER_LOG_WARN, "SEALING IS OFF (--sealing passthrough): sealed keys are the "
                                    "plaintext private keys. Use only for tests and mock mode.");
    return 0;
}

int main(int argc, char **argv)
{
    /* Before anything else allocates through OpenSSL. */
    bool hardened = signer_memory_harden_openssl() == 0;
    daemon_config cfg;
    int rc = daemon_options_parse(argc, argv, &cfg);
    if (rc != 0)
        return rc > 0 ? EXIT_SUCCESS : 2;
    signer_log_setup("enclave-signer", cfg.log_level);
    if (!hardened)
        signer_log(SIGNER_LOG_WARN, "OpenSSL's memory could not be hardened (wiping, secure heap)");
    signer_error err;
    if (signer_crypto_init(&err) != 0) {
        signer_log(SIGNER_LOG_ERROR, "crypto initialisation failed: %s", err.message);
        return EXIT_FAILURE;
    }
    nsm *m = NULL;
    if (start_sealing(&cfg, &m) != 0) {
        nsm_close(m);
        return EXIT_FAILURE;
    }
    unsigned busy = 0;
    if (cfg.print_measurements)
        rc = print_measurements(m);
    else
        rc = server_run(&cfg, &busy) == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
    /* Sessions still inside a KMS or NSM call would find those freed, and
     * exit()'s library clean-up under their feet: leave at once. */
    if (busy > 0)
        _exit(rc);
    nsm_close(m);
    return rc;
}
