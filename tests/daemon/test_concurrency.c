/* Many sessions signing at once, while hostile clients hold connections
 * half-open: nobody waits for anybody else. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "signer/crypto.h"

#define SESSIONS 8
#define SIGNS_PER_SESSION 150

static test_daemon daemon_;

typedef struct worker {
    signer_key_type type;
    int failures;
    int verified;
} worker;

static void *run_worker(void *arg)
{
    worker *w = arg;
    signer_client *c = test_connect(&daemon_, 1);
    if (c == NULL) {
        w->failures++;
        return NULL;
    }
    rpc_request gi = {.call = RPC_GENERATE_AND_IMPORT, .key_type = w->type};
    rpc_response g;
    if (signer_client_call(c, &gi, &g, NULL) != 0 || !g.ok) {
        w->failures++;
        signer_client_close(c);
        return NULL;
    }
    for (unsigned i = 0; i < SIGNS_PER_SESSION; i++) {
        uint8_t msg[16];
        memset(msg, (int)i, sizeof(msg));
        msg[0] = (uint8_t)w->type;
        rpc_request s = {.call = RPC_SIGN, .handle = g.handle, .message = {msg, sizeof(msg)}};
        rpc_response r;
        if (signer_client_call(c, &s, &r, NULL) != 0) {
            w->failures++;
            break;
        }
        if (r.ok &&
            signer_verify(w->type, g.public_key.data, g.public_key.len, msg, sizeof(msg),
                          SIGNER_VERSION_LATEST, r.signature.data, r.signature.len, NULL) == 0)
            w->verified++;
        else
            w->failures++;
        rpc_response_free(&r);
    }
    rpc_response_free(&g);
    signer_client_close(c);
    return NULL;
}

static void test_parallel_sessions_with_stalled_clients(void **state)
{
    (void)state;
    /* Hostile neighbours: a half-sent header, a frame that never ends, and
     * a session that is open but idle. */
    signer_client *stalled[3];
    for (int i = 0; i < 3; i++)
        assert_non_null(stalled[i] = test_connect(&daemon_, i == 2));
    uint8_t half[2] = {0, 0};
    uint8_t never[5] = {0, 0, 0x10, 0, 0xa1};
    assert_int_equal(signer_client_send_raw(stalled[0], half, sizeof(half), NULL), 0);
    assert_int_equal(signer_client_send_raw(stalled[1], never, sizeof(never), NULL), 0);

    pthread_t threads[SESSIONS];
    worker workers[SESSIONS];
    for (int i = 0; i < SESSIONS; i++) {
        workers[i] = (worker){.type = (signer_key_type)(i % SIGNER_KEY_TYPE_COUNT)};
        assert_int_equal(pthread_create(&threads[i], NULL, run_worker, &workers[i]), 0);
    }
    for (int i = 0; i < SESSIONS; i++) {
        pthread_join(threads[i], NULL);
        assert_int_equal(workers[i].failures, 0);
        assert_int_equal(workers[i].verified, SIGNS_PER_SESSION);
    }
    for (int i = 0; i < 3; i++)
        signer_client_close(stalled[i]);
}

/* SIGTERM lets a session finish the request it is on, then the daemon
 * exits cleanly. */
static void test_graceful_shutdown(void **state)
{
    (void)state;
    test_daemon d;
    assert_int_equal(test_daemon_start(&d, NULL), 0);
    signer_client *c = test_connect(&d, 1);
    assert_non_null(c);
    rpc_request gi = {.call = RPC_GENERATE_AND_IMPORT, .key_type = SIGNER_KEY_BLS};
    assert_int_equal(signer_client_send(c, &gi, NULL), 0);
    assert_int_equal(test_daemon_stop(&d), 0);
    rpc_response r;
    assert_int_equal(signer_client_receive(c, RPC_GENERATE_AND_IMPORT, &r, NULL), 0);
    assert_true(r.ok);
    rpc_response_free(&r);
    signer_client_close(c);
    assert_int_equal(d.socket_left, 0);
}

static int setup(void **state)
{
    (void)state;
    if (signer_crypto_init(NULL) != 0)
        return -1;
    return test_daemon_start(&daemon_, NULL);
}

static int teardown(void **state)
{
    (void)state;
    return test_daemon_stop(&daemon_) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parallel_sessions_with_stalled_clients),
        cmocka_unit_test(test_graceful_shutdown),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
