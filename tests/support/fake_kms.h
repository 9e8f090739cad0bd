/* A scripted HTTPS server that answers like KMS, or fails the way a
 * network, a proxy or a broken server can: for the KMS client's tests. */
#ifndef SIGNER_TEST_FAKE_KMS_H
#define SIGNER_TEST_FAKE_KMS_H

#include <stddef.h>

typedef enum fake_action {
    FAKE_OK,        /* 200 with the configured body */
    FAKE_500,       /* 500 with KMSInternalException */
    FAKE_503_HTML,  /* 503 with a body that is not JSON */
    FAKE_THROTTLE,  /* 400 ThrottlingException */
    FAKE_DENIED,    /* 400 com.amazonaws.kms#AccessDeniedException */
    FAKE_GARBAGE,   /* 200 with a body that is not JSON */
    FAKE_TRUNCATED, /* 200 announcing 100 bytes, sending 10, then closing */
    FAKE_SLOW,      /* answers after 3 s */
    FAKE_CLOSE,     /* closes without answering */
    FAKE_BAD_KEY_ID, /* 400 UnrecognizedClientException, as for an unknown access key */
} fake_action;

/* Starts the server on a free loopback port with a fresh certificate for
 * localhost; writes that certificate to `ca_path`.  Returns the port. */
int fake_kms_start(const char *ca_path);

/* The answers to the next requests, in order; after them, FAKE_OK. */
void fake_kms_script(const fake_action *actions, size_t n);

/* The 200 body (JSON) FAKE_OK sends. */
void fake_kms_set_ok_body(const char *json);

/* How many requests arrived since the last script, and the last one's
 * headers (lower-cased names) and body. */
int fake_kms_requests(void);
const char *fake_kms_last_headers(void);
const char *fake_kms_last_body(void);

#endif
