/* devkms: start-up, the wait, shutdown.  State lives in --state DIR:
 * keys.db (SQLite), master.key, ca.pem, ca-key.pem, tls-cert.pem,
 * tls-key.pem, credentials.json, and devkms.lock while it runs. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "devkms.h"
#include "signer/memory.h"

/* Request and answer JSON carry plaintext in base64: jansson's memory is
 * wiped before it goes back to the allocator. */
static void *json_alloc(size_t n)
{
    return malloc(n);
}

static void json_release(void *p)
{
    if (p != NULL) {
        signer_wipe(p, malloc_usable_size(p));
        free(p);
    }
}

static int prepare_state_dir(const char *dir, int *lock_fd, signer_error *err)
{
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return signer_error_set(err, SIGNER_ERR_IO, "cannot create %s: %s", dir, strerror(errno));
    char path[PATH_MAX];
    if (devkms_path(path, sizeof(path), dir, "devkms.lock", err) != 0)
        return -1;
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return signer_error_set(err, SIGNER_ERR_IO, "cannot open %s: %s", path, strerror(errno));
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        close(fd);
        return signer_error_set(err, SIGNER_ERR_STATE, "another devkms is using %s", dir);
    }
    *lock_fd = fd;
    return 0;
}

static int load_root(const char *path, signer_buf *der, signer_error *err)
{
    if (path != NULL)
        return signer_attestation_certificate_load(path, der, err);
    BIO *b = BIO_new_mem_buf(devkms_default_root_pem, -1);
    X509 *cert = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
    BIO_free(b);
    unsigned char *p = NULL;
    int n = cert ? i2d_X509(cert, &p) : -1;
    X509_free(cert);
    ERR_clear_error();
    if (n <= 0)
        return signer_error_set(err, SIGNER_ERR_CRYPTO, "the built-in attestation root is broken");
    int rc = signer_buf_append(der, p, (size_t)n, err);
    OPENSSL_free(p);
    return rc;
}

static int start(devkms *kms, signer_buf *cert, signer_buf *key, signer_error *err)
{
    const devkms_config *cfg = &kms->cfg;
    char path[PATH_MAX];
    if (cfg->master_key != NULL) {
        if (strlen(cfg->master_key) >= sizeof(path))
            return signer_error_set(err, SIGNER_ERR_INVALID_ARGUMENT, "--master-key: path too long");
        snprintf(path, sizeof(path), "%s", cfg->master_key);
    } else if (devkms_path(path, sizeof(path), cfg->state_dir, "master.key", err) != 0) {
        return -1;
    }
    if (devkms_keyring_open(path, &kms->keyring, err) != 0)
        return -1;
    if (devkms_credentials_prepare(cfg->state_dir, cfg->region, &kms->creds, err) != 0 ||
        devkms_tls_prepare(cfg->state_dir, cert, key, err) != 0 ||
        load_root(cfg->attestation_root, &kms->root_der, err) != 0 ||
        devkms_path(path, sizeof(path), cfg->state_dir, "keys.db", err) != 0 ||
        kms_store_open(path, &kms->store, err) != 0)
        return -1;
    snprintf(kms->principal_arn, sizeof(kms->principal_arn), "arn:aws:iam::%s:user/devkms",
             cfg->account_id);
    return 0;
}

int main(int argc, char **argv)
{
    devkms kms;
    memset(&kms, 0, sizeof(kms));
    int rc = devkms_options_parse(argc, argv, &kms.cfg);
    if (rc != 0)
        return rc > 0 ? 0 : 2;
    signer_log_setup("devkms", kms.cfg.log_level);
    umask(077); /* the database and the keys are for this user only */
    json_set_alloc_funcs(json_alloc, json_release);
    json_object_seed(0); /* before any thread: jansson seeds its hashes lazily */

    /* Signals are taken by sigwait below; the server's threads inherit the
     * mask, so they never run a handler. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);

    signer_error err;
    signer_buf cert = SIGNER_BUF_INIT, key = SIGNER_BUF_INIT;
    devkms_server *server = NULL;
    uint16_t port = 0;
    int lock_fd = -1, status = 1;
    if (prepare_state_dir(kms.cfg.state_dir, &lock_fd, &err) != 0 ||
        start(&kms, &cert, &key, &err) != 0 ||
        devkms_server_start(&kms, &cert, &key, &server, &port, &err) != 0) {
        fprintf(stderr, "devkms: %s\n", err.message);
        goto out;
    }
    signer_buf_free(&key);
    const char *host = kms.cfg.listen_host;
    bool v6 = strchr(host, ':') != NULL;
    printf("devkms: ready at https://%s%s%s:%u (region %s, state %s)\n", v6 ? "[" : "", host,
           v6 ? "]" : "", port, kms.creds.region, kms.cfg.state_dir);
    fflush(stdout);
    signer_log(SIGNER_LOG_INFO, "serving https://%s%s%s:%u, region %s, account %s",
               v6 ? "[" : "", host, v6 ? "]" : "", port, kms.creds.region, kms.cfg.account_id);
    int sig = 0;
    sigwait(&stop, &sig);
    signer_log(SIGNER_LOG_INFO, "stopping (signal %d)", sig);
    status = 0;
out:
    devkms_server_stop(server);
    kms_store_close(kms.store);
    devkms_keyring_close(&kms.keyring);
    signer_buf_free(&kms.root_der);
    signer_buf_free(&cert);
    signer_buf_free(&key);
    signer_wipe(&kms.creds, sizeof(kms.creds));
    if (lock_fd >= 0)
        close(lock_fd);
    return status;
}
