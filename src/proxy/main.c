/* signer-proxy: forwards the enclave's KMS streams to one allowed host. */
#include <getopt.h>
#include <linux/vm_sockets.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy.h"
#include "signer/process.h"

static void usage(FILE *f)
{
    fprintf(
        f,
        "usage: signer-proxy --listen ADDR --remote HOST:PORT [options]\n"
        "\n"
        "Forwards every stream accepted on ADDR to HOST:PORT, byte for byte (TLS\n"
        "stays end to end between the enclave and KMS).  HOST:PORT must be on the\n"
        "allowlist; with no --allow or --allowlist the remote alone is allowed.\n"
        "\n"
        "  --listen ADDR          vsock:PORT (on the parent instance), tcp:HOST:PORT or\n"
        "                         unix:PATH (default vsock:$PROXY_PORT, else vsock:8000)\n"
        "  --remote HOST:PORT     where every stream goes (e.g. kms.eu-west-1.amazonaws.com:443)\n"
        "  --allow HOST:PORT      an allowed destination (repeatable)\n"
        "  --allowlist FILE       allowed destinations, one HOST:PORT per line\n"
        "  --max-connections N    concurrent streams (default 1024)\n"
        "  --connect-timeout MS   to the remote (default 5000)\n"
        "  -v, --verbose          log every stream\n"
        "  -h, --help             this text\n");
}

int main(int argc, char **argv)
{
    enum { OPT_LISTEN = 256, OPT_REMOTE, OPT_ALLOW, OPT_ALLOWLIST, OPT_MAX, OPT_TIMEOUT };
    static const struct option longopts[] = {
        {"listen", required_argument, NULL, OPT_LISTEN},
        {"remote", required_argument, NULL, OPT_REMOTE},
        {"allow", required_argument, NULL, OPT_ALLOW},
        {"allowlist", required_argument, NULL, OPT_ALLOWLIST},
        {"max-connections", required_argument, NULL, OPT_MAX},
        {"connect-timeout", required_argument, NULL, OPT_TIMEOUT},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    static proxy_config cfg;
    static proxy_allowlist allow;
    signer_error err;
    unsigned long long v;
    const char *listen = NULL;
    char default_listen[32];
    cfg.max_connections = 1024;
    cfg.connect_timeout_ms = 5000;
    int c;
    while ((c = getopt_long(argc, argv, "vh", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_LISTEN: listen = optarg; break;
        case OPT_REMOTE:
            if (strlen(optarg) >= sizeof(cfg.remote)) {
                fprintf(stderr, "signer-proxy: --remote too long\n");
                return 2;
            }
            strcpy(cfg.remote, optarg);
            break;
        case OPT_ALLOW:
            if (proxy_allowlist_add(&allow, optarg, &err) != 0) {
                fprintf(stderr, "signer-proxy: --allow: %s\n", err.message);
                return 2;
            }
            break;
        case OPT_ALLOWLIST:
            if (proxy_allowlist_load(&allow, optarg, &err) != 0) {
                fprintf(stderr, "signer-proxy: %s\n", err.message);
                return 2;
            }
            break;
        case OPT_MAX:
            if (signer_option_number("signer-proxy", "--max-connections", optarg, 1, 1u << 20,
                                     &v) != 0)
                return 2;
            cfg.max_connections = (unsigned)v;
            break;
        case OPT_TIMEOUT:
            if (signer_option_number("signer-proxy", "--connect-timeout", optarg, 1, 600000, &v) !=
                0)
                return 2;
            cfg.connect_timeout_ms = (unsigned)v;
            break;
        case 'v': cfg.verbose = true; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc || cfg.remote[0] == '\0') {
        usage(stderr);
        return 2;
    }
    if (allow.count == 0 && proxy_allowlist_add(&allow, cfg.remote, &err) != 0) {
        fprintf(stderr, "signer-proxy: --remote: %s\n", err.message);
        return 2;
    }
    if (!proxy_allowlist_allows(&allow, cfg.remote)) {
        fprintf(stderr, "signer-proxy: %s is not on the allowlist; refusing to forward to it\n",
                cfg.remote);
        return 2;
    }
    if (listen == NULL) {
        const char *port = getenv("PROXY_PORT");
        snprintf(default_listen, sizeof(default_listen), "vsock:%s", port && *port ? port : "8000");
        listen = default_listen;
    }
    if (net_address_parse(listen, VMADDR_CID_ANY, &cfg.listen, &err) != 0) {
        fprintf(stderr, "signer-proxy: --listen: %s\n", err.message);
        return 2;
    }
    signer_log_setup("signer-proxy", SIGNER_LOG_INFO);
    return proxy_serve(&cfg) == 0 ? 0 : 1;
}
