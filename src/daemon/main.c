/* enclave-signer: the signer daemon that runs inside the enclave. */
#include <stdlib.h>
#include <string.h>

#include "daemon.h"

int main(int argc, char **argv)
{
    daemon_config cfg;
    int rc = daemon_options_parse(argc, argv, &cfg);
    if (rc != 0)
        return rc > 0 ? EXIT_SUCCESS : 2;
    daemon_log_set_level(cfg.log_level);
    signer_error err;
    if (signer_crypto_init(&err) != 0) {
        daemon_log(LOG_ERROR, "crypto initialisation failed: %s", err.message);
        return EXIT_FAILURE;
    }
    if (strcmp(cfg.sealing->name, "passthrough") == 0)
        daemon_log(LOG_WARN, "SEALING IS OFF (--sealing passthrough): sealed keys are the "
                             "plaintext private keys. Use only for tests and mock mode.");
    return server_run(&cfg) == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
