/* Command line of enclave-signer. */
#include <errno.h>
#include <getopt.h>
#include <linux/vm_sockets.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "signer/process.h"

#define DEFAULT_LISTEN_PORT 2000
#define DEFAULT_MAX_CONNECTIONS 1024
#define DEFAULT_MAX_KEYS 65536
#define DEFAULT_MAX_TOTAL_KEYS (1 << 18) /* 32 MiB of locked key slots */

static void usage(FILE *f)
{
    fprintf(f,
            "usage: enclave-signer [options]\n"
            "\n"
            "Serves the signer RPC (length-prefixed CBOR) on one socket.\n"
            "\n"
            "  --listen ADDR          vsock:PORT, vsock:CID:PORT, tcp:HOST:PORT or unix:PATH\n"
            "                         (default vsock:$LISTEN_PORT, LISTEN_PORT defaults to %d)\n"
            "  --sealing NAME         sealing backend: kms (default) or passthrough\n"
            "                         (passthrough: sealed keys are NOT encrypted; tests only)\n"
            "  --nsm SPEC             the NSM: a device path (default /dev/nsm) or sim:CONFIG,\n"
            "                         the software NSM for development (docs/nsm-sim.md)\n"
            "  --kms-endpoint URL     KMS endpoint (default $ENDPOINT, else\n"
            "                         https://kms.REGION.amazonaws.com)\n"
            "  --kms-proxy ADDR       stream proxy to KMS (default vsock:$PROXY_CID:$PROXY_PORT,\n"
            "                         i.e. vsock:3:8000); \"none\" connects directly\n"
            "  --kms-region REGION    region when Initialize gives none (default $AWS_REGION)\n"
            "  --ca-file PEM          CAs trusted for KMS's TLS (default: the system's)\n"
            "  --kms-timeout MS       per KMS request attempt (default 10000)\n"
            "  --print-measurements   print the NSM's module id and PCR0..2, then exit\n"
            "  --max-frame BYTES      largest request accepted (default %u, at most %u)\n"
            "  --max-connections N    concurrent sessions (default %d)\n"
            "  --max-keys N           keys one session may hold (default %d)\n"
            "  --max-keys-total N     keys all sessions together may hold (default %d)\n"
            "  --frame-timeout MS     to finish a frame once it has begun (default 30000);\n"
            "                         an idle session between frames never times out\n"
            "  --log-level LEVEL      quiet, error, warn, info (default) or debug\n"
            "  -h, --help             this text\n"
            "  --version              print the version\n",
            DEFAULT_LISTEN_PORT, RPC_FRAME_DEFAULT_MAX, RPC_FRAME_LIMIT, DEFAULT_MAX_CONNECTIONS,
            DEFAULT_MAX_KEYS, DEFAULT_MAX_TOTAL_KEYS);
}

static int default_listen(net_address *out)
{
    const char *port = getenv("LISTEN_PORT");
    char spec[32];
    snprintf(spec, sizeof(spec), "vsock:%s", port && *port ? port : "2000");
    signer_error err;
    if (net_address_parse(spec, VMADDR_CID_ANY, out, &err) != 0) {
        fprintf(stderr, "enclave-signer: LISTEN_PORT: %s\n", err.message);
        return -1;
    }
    return 0;
}

/* Production defaults come from the Rust signer's environment variables. */
static void default_kms(daemon_config *cfg)
{
    const char *cid = getenv("PROXY_CID"), *port = getenv("PROXY_PORT");
    snprintf(cfg->kms_proxy, sizeof(cfg->kms_proxy), "vsock:%s:%s", cid && *cid ? cid : "3",
             port && *port ? port : "8000");
    cfg->settings.kms.proxy = cfg->kms_proxy;
    cfg->settings.kms.endpoint = getenv("ENDPOINT");
    cfg->settings.default_region = getenv("AWS_REGION");
    cfg->nsm_spec = NSM_DEFAULT_DEVICE;
}

int daemon_options_parse(int argc, char **argv, daemon_config *cfg)
{
    enum {
        OPT_LISTEN = 256,
        OPT_SEALING,
        OPT_MAX_FRAME,
        OPT_MAX_CONN,
        OPT_MAX_KEYS,
        OPT_LOG,
        OPT_VERSION,
        OPT_NSM,
        OPT_KMS_ENDPOINT,
        OPT_KMS_PROXY,
        OPT_KMS_REGION,
        OPT_CA_FILE,
        OPT_KMS_TIMEOUT,
        OPT_MEASUREMENTS,
        OPT_FRAME_TIMEOUT,
        OPT_MAX_TOTAL_KEYS,
    };
    static const struct option longopts[] = {
        {"listen", required_argument, NULL, OPT_LISTEN},
        {"sealing", required_argument, NULL, OPT_SEALING},
        {"max-frame", required_argument, NULL, OPT_MAX_FRAME},
        {"max-connections", required_argument, NULL, OPT_MAX_CONN},
        {"max-keys", required_argument, NULL, OPT_MAX_KEYS},
        {"log-level", required_argument, NULL, OPT_LOG},
        {"nsm", required_argument, NULL, OPT_NSM},
        {"kms-endpoint", required_argument, NULL, OPT_KMS_ENDPOINT},
        {"kms-proxy", required_argument, NULL, OPT_KMS_PROXY},
        {"kms-region", required_argument, NULL, OPT_KMS_REGION},
        {"ca-file", required_argument, NULL, OPT_CA_FILE},
        {"kms-timeout", required_argument, NULL, OPT_KMS_TIMEOUT},
        {"print-measurements", no_argument, NULL, OPT_MEASUREMENTS},
        {"frame-timeout", required_argument, NULL, OPT_FRAME_TIMEOUT},
        {"max-keys-total", required_argument, NULL, OPT_MAX_TOTAL_KEYS},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, OPT_VERSION},
        {NULL, 0, NULL, 0},
    };
    const char *listen = NULL, *sealing = "kms";
    unsigned long long v;
    memset(cfg, 0, sizeof(*cfg));
    cfg->max_frame = RPC_FRAME_DEFAULT_MAX;
    cfg->max_connections = DEFAULT_MAX_CONNECTIONS;
    cfg->max_keys = DEFAULT_MAX_KEYS;
    cfg->max_total_keys = DEFAULT_MAX_TOTAL_KEYS;
    cfg->frame_timeout_ms = 30000;
    cfg->log_level = SIGNER_LOG_INFO;
    default_kms(cfg);
    int c;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_LISTEN: listen = optarg; break;
        case OPT_SEALING: sealing = optarg; break;
        case OPT_MAX_FRAME:
            if (signer_option_number("enclave-signer", "--max-frame", optarg, 64, RPC_FRAME_LIMIT,
                                     &v) != 0)
                return -1;
            cfg->max_frame = (uint32_t)v;
            break;
        case OPT_MAX_CONN:
            if (signer_option_number("enclave-signer", "--max-connections", optarg, 1, 1u << 20,
                                     &v) != 0)
                return -1;
            cfg->max_connections = (unsigned)v;
            break;
        case OPT_MAX_KEYS:
            if (signer_option_number("enclave-signer", "--max-keys", optarg, 1, 1u << 24, &v) != 0)
                return -1;
            cfg->max_keys = (size_t)v;
            break;
        case OPT_LOG:
            if ((cfg->log_level = signer_log_level_parse(optarg)) < 0) {
                fprintf(stderr, "enclave-signer: unknown log level \"%s\"\n", optarg);
                return -1;
            }
            break;
        case OPT_NSM: cfg->nsm_spec = optarg; break;
        case OPT_KMS_ENDPOINT: cfg->settings.kms.endpoint = optarg; break;
        case OPT_KMS_PROXY:
            cfg->settings.kms.proxy = strcmp(optarg, "none") == 0 ? NULL : optarg;
            break;
        case OPT_KMS_REGION: cfg->settings.default_region = optarg; break;
        case OPT_CA_FILE: cfg->settings.kms.ca_file = optarg; break;
        case OPT_KMS_TIMEOUT:
            if (signer_option_number("enclave-signer", "--kms-timeout", optarg, 100, 600000, &v) !=
                0)
                return -1;
            cfg->settings.kms.request_timeout_ms = (long)v;
            break;
        case OPT_MEASUREMENTS: cfg->print_measurements = true; break;
        case OPT_MAX_TOTAL_KEYS:
            if (signer_option_number("enclave-signer", "--max-keys-total", optarg, 1, 1u << 26,
                                     &v) != 0)
                return -1;
            cfg->max_total_keys = (size_t)v;
            break;
        case OPT_FRAME_TIMEOUT:
            if (signer_option_number("enclave-signer", "--frame-timeout", optarg, 100, 3600000,
                                     &v) != 0)
                return -1;
            cfg->frame_timeout_ms = (unsigned)v;
            break;
        case 'h': usage(stdout); return 1;
        case OPT_VERSION: printf("enclave-signer %s\n", SIGNER_VERSION); return 1;
        default: usage(stderr); return -1;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "enclave-signer: unexpected argument \"%s\"\n", argv[optind]);
        return -1;
    }
    signer_error err;
    if (listen ? net_address_parse(listen, VMADDR_CID_ANY, &cfg->listen, &err) != 0
               : default_listen(&cfg->listen) != 0) {
        if (listen)
            fprintf(stderr, "enclave-signer: --listen: %s\n", err.message);
        return -1;
    }
    if (cfg->settings.kms.proxy != NULL &&
        net_address_parse(cfg->settings.kms.proxy, 3, &(net_address){0}, &err) != 0) {
        fprintf(stderr, "enclave-signer: --kms-proxy: %s\n", err.message);
        return -1;
    }
    cfg->sealing = sealing_backend_find(sealing);
    if (cfg->sealing == NULL) {
        fprintf(stderr, "enclave-signer: unknown sealing backend \"%s\" (kms or passthrough)\n",
                sealing);
        return -1;
    }
    return 0;
}
