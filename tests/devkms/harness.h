/* Test harness for devkms: the real binary on a free loopback port with a
 * temporary state directory, and a KMS client over libcurl whose SigV4
 * signing (CURLOPT_AWS_SIGV4) is independent of devkms's. */
#ifndef SIGNER_TEST_DEVKMS_HARNESS_H
#define SIGNER_TEST_DEVKMS_HARNESS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "signer/buf.h"

typedef struct devkms_proc {
    pid_t pid;
    char state_dir[256];
    char endpoint[128];   /* https://127.0.0.1:PORT */
    char ca_path[300];
    char log_path[300];   /* its stderr */
    char access_key[64];
    char secret[128];
    char region[32];
} devkms_proc;

/* A new empty directory under $TMPDIR. */
void harness_temp_dir(char *out, size_t size);

/* Starts devkms --listen 127.0.0.1:0 --state DIR (extra args appended,
 * NULL-ended) and waits for its "ready" line; reads credentials.json.
 * Returns 0 or -1. */
int devkms_start(devkms_proc *p, const char *state_dir, const char *const *extra);

/* Stops it with `sig` (SIGTERM: clean; SIGKILL: a crash) and waits.
 * Returns its exit status (128 + signal when a signal ended it). */
int devkms_stop(devkms_proc *p, int sig);

/* True when the log shows a sanitizer report (ASan/UBSan builds). */
bool devkms_log_has_sanitizer_report(const devkms_proc *p);

/* Removes a state directory and its log (after a test passed). */
void harness_remove(const devkms_proc *p);

/* The log so far (malloc'd). */
char *devkms_log(const devkms_proc *p);

typedef struct kms_reply {
    long status;        /* HTTP status, 0 when the request failed */
    json_t *body;       /* parsed answer, or NULL */
    const char *type;   /* __type of an error, or "" */
    const char *message;
} kms_reply;

/* Calls TrentService.<op> with a JSON body (consumed).  The request is
 * signed by libcurl with the server's credentials, or with `secret`
 * instead when non-NULL ("" sends it unsigned); `extra_header` (may be
 * NULL) is added as is. */
int kms_call_as(const devkms_proc *p, const char *op, json_t *request, const char *secret,
                const char *extra_header, kms_reply *out);
int kms_call(const devkms_proc *p, const char *op, json_t *request, kms_reply *out);
void kms_reply_free(kms_reply *r);

/* Field of an answer. */
const char *reply_string(const kms_reply *r, const char *name);

/* Base64 both ways (OpenSSL). */
char *b64_encode(const uint8_t *data, size_t len);
int b64_decode(const char *text, signer_buf *out);

#endif
