/* Command line of devkms. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devkms.h"
#include "signer/process.h"

#define DEFAULT_LISTEN "127.0.0.1:8443"
#define DEFAULT_DOCUMENT_AGE_S 300
#define DEFAULT_MAX_CONNECTIONS 64

static void usage(FILE *f)
{
    fprintf(f,
            "usage: devkms --state DIR [options]\n"
            "\n"
            "A local AWS KMS (JSON protocol over HTTPS, SigV4) for development and tests,\n"
            "with Recipient attestation documents and key policies.  Not for production.\n"
            "\n"
            "  --listen HOST:PORT          address to serve on (default %s; port 0 picks\n"
            "                              a free port, printed when ready)\n"
            "  --state DIR                 keys, aliases, the development CA, the TLS\n"
            "                              certificate and credentials.json (created if missing)\n"
            "  --region R                  the region clients sign for (default: the one in\n"
            "                              credentials.json, else %s)\n"
            "  --attestation-root PEM      root certificate attestation documents must chain to\n"
            "                              (default: the AWS Nitro Enclaves root, built in)\n"
            "  --master-key FILE           master key file (default DIR/master.key, made 0600)\n"
            "  --account-id ID             12-digit account in ARNs (default %s)\n"
            "  --max-document-age SECONDS  oldest attestation document accepted (default %d)\n"
            "  --day-seconds N             length of a day of ScheduleKeyDeletion's pending\n"
            "                              window, for tests (default 86400)\n"
            "  --max-connections N         concurrent connections (default %d)\n"
            "  --log-level LEVEL           quiet, error, warn, info (default) or debug\n"
            "  -h, --help                  this text\n"
            "  --version                   print the version\n",
            DEFAULT_LISTEN, KMS_DEFAULT_REGION, KMS_DEFAULT_ACCOUNT, DEFAULT_DOCUMENT_AGE_S,
            DEFAULT_MAX_CONNECTIONS);
}

/* HOST:PORT, [V6]:PORT. */
static int parse_listen(const char *s, devkms_config *cfg)
{
    const char *colon = strrchr(s, ':');
    if (colon == NULL || colon == s) {
        fprintf(stderr, "devkms: --listen wants HOST:PORT, not \"%s\"\n", s);
        return -1;
    }
    const char *host = s;
    size_t host_len = (size_t)(colon - s);
    if (host[0] == '[' && host_len >= 2 && host[host_len - 1] == ']') {
        host++;
        host_len -= 2;
    }
    if (host_len == 0 || host_len >= sizeof(cfg->listen_host)) {
        fprintf(stderr, "devkms: --listen: bad host in \"%s\"\n", s);
        return -1;
    }
    unsigned long long port;
    if (signer_option_number("devkms", "--listen port", colon + 1, 0, 65535, &port) != 0)
        return -1;
    memcpy(cfg->listen_host, host, host_len);
    cfg->listen_host[host_len] = '\0';
    cfg->listen_port = (uint16_t)port;
    return 0;
}

static bool valid_account(const char *s)
{
    if (strlen(s) != 12)
        return false;
    for (const char *p = s; *p; p++)
        if (*p < '0' || *p > '9')
            return false;
    return true;
}

static bool valid_region(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 32)
        return false;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-'))
            return false;
    return true;
}

int devkms_options_parse(int argc, char **argv, devkms_config *cfg)
{
    enum {
        OPT_LISTEN = 256,
        OPT_STATE,
        OPT_REGION,
        OPT_ROOT,
        OPT_MASTER,
        OPT_ACCOUNT,
        OPT_DOC_AGE,
        OPT_DAY,
        OPT_MAX_CONN,
        OPT_LOG,
        OPT_VERSION
    };
    static const struct option longopts[] = {
        {"listen", required_argument, NULL, OPT_LISTEN},
        {"state", required_argument, NULL, OPT_STATE},
        {"region", required_argument, NULL, OPT_REGION},
        {"attestation-root", required_argument, NULL, OPT_ROOT},
        {"master-key", required_argument, NULL, OPT_MASTER},
        {"account-id", required_argument, NULL, OPT_ACCOUNT},
        {"max-document-age", required_argument, NULL, OPT_DOC_AGE},
        {"day-seconds", required_argument, NULL, OPT_DAY},
        {"max-connections", required_argument, NULL, OPT_MAX_CONN},
        {"log-level", required_argument, NULL, OPT_LOG},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, OPT_VERSION},
        {NULL, 0, NULL, 0},
    };
    memset(cfg, 0, sizeof(*cfg));
    cfg->account_id = KMS_DEFAULT_ACCOUNT;
    cfg->max_document_age_ms = DEFAULT_DOCUMENT_AGE_S * 1000ull;
    cfg->day_seconds = 86400;
    cfg->max_connections = DEFAULT_MAX_CONNECTIONS;
    cfg->log_level = SIGNER_LOG_INFO;
    if (parse_listen(DEFAULT_LISTEN, cfg) != 0)
        return -1;
    unsigned long long v;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_LISTEN:
            if (parse_listen(optarg, cfg) != 0)
                return -1;
            break;
        case OPT_STATE: cfg->state_dir = optarg; break;
        case OPT_REGION:
            if (!valid_region(optarg)) {
                fprintf(stderr, "devkms: --region wants a region name like us-east-1\n");
                return -1;
            }
            cfg->region = optarg;
            break;
        case OPT_ROOT: cfg->attestation_root = optarg; break;
        case OPT_MASTER: cfg->master_key = optarg; break;
        case OPT_ACCOUNT:
            if (!valid_account(optarg)) {
                fprintf(stderr, "devkms: --account-id wants 12 digits\n");
                return -1;
            }
            cfg->account_id = optarg;
            break;
        case OPT_DOC_AGE:
            if (signer_option_number("devkms", "--max-document-age", optarg, 1, 86400, &v) != 0)
                return -1;
            cfg->max_document_age_ms = v * 1000;
            break;
        case OPT_DAY:
            if (signer_option_number("devkms", "--day-seconds", optarg, 1, 86400, &v) != 0)
                return -1;
            cfg->day_seconds = (unsigned)v;
            break;
        case OPT_MAX_CONN:
            if (signer_option_number("devkms", "--max-connections", optarg, 1, 4096, &v) != 0)
                return -1;
            cfg->max_connections = (unsigned)v;
            break;
        case OPT_LOG:
            if ((cfg->log_level = signer_log_level_parse(optarg)) < 0) {
                fprintf(stderr, "devkms: unknown log level \"%s\"\n", optarg);
                return -1;
            }
            break;
        case 'h': usage(stdout); return 1;
        case OPT_VERSION: printf("devkms %s\n", SIGNER_VERSION); return 1;
        default: usage(stderr); return -1;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "devkms: unexpected argument \"%s\"\n", argv[optind]);
        return -1;
    }
    if (cfg->state_dir == NULL) {
        fprintf(stderr, "devkms: --state DIR is required (see devkms --help)\n");
        return -1;
    }
    return 0;
}
