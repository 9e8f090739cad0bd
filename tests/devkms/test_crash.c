/* Crash safety: kill -9 devkms in the middle of a burst of CreateKey and
 * Encrypt from several clients, restart it on the same state, and check
 * that every key whose CreateKey was answered still exists and still
 * decrypts every ciphertext its Encrypt answered.  Three rounds, so keys
 * from earlier rounds must survive later crashes too. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#define WORKERS 3
#define MAX_RECORDS 20000
#define ROUNDS 3

typedef struct record {
    char key[40];
    char *blob;         /* NULL: CreateKey answered, no Encrypt answered yet */
    char plaintext[40];
} record;

static devkms_proc kms;
static record records[MAX_RECORDS];
static atomic_int record_count;
static atomic_bool stop_flag;
static pthread_mutex_t record_lock = PTHREAD_MUTEX_INITIALIZER;

static void add_record(const char *key, const char *blob, const char *plaintext)
{
    pthread_mutex_lock(&record_lock);
    int i = atomic_load(&record_count);
    if (i < MAX_RECORDS) {
        snprintf(records[i].key, sizeof(records[i].key), "%s", key);
        records[i].blob = blob ? strdup(blob) : NULL;
        snprintf(records[i].plaintext, sizeof(records[i].plaintext), "%s", plaintext);
        atomic_store(&record_count, i + 1);
    }
    pthread_mutex_unlock(&record_lock);
}

/* Only answers that arrived count: they are what a client was promised. */
static void *burst(void *arg)
{
    (void)arg;
    while (!atomic_load(&stop_flag)) {
        kms_reply r;
        if (kms_call(&kms, "CreateKey", json_object(), &r) != 0 || r.status != 200) {
            kms_reply_free(&r);
            continue;
        }
        char key[40];
        snprintf(key, sizeof(key), "%s", json_string_value(json_object_get(
                                             json_object_get(r.body, "KeyMetadata"), "KeyId")));
        kms_reply_free(&r);
        add_record(key, NULL, "");
        for (int i = 0; i < 3 && !atomic_load(&stop_flag); i++) {
            uint8_t rnd[12];
            RAND_bytes(rnd, sizeof(rnd));
            char *text = b64_encode(rnd, sizeof(rnd));
            if (kms_call(&kms, "Encrypt", json_pack("{s:s, s:s}", "KeyId", key, "Plaintext",
                                                    text), &r) == 0 && r.status == 200)
                add_record(key, json_string_value(json_object_get(r.body, "CiphertextBlob")),
                           text);
            kms_reply_free(&r);
            free(text);
        }
    }
    return NULL;
}

static void check_all(void)
{
    int n = atomic_load(&record_count);
    int keys = 0, blobs = 0;
    for (int i = 0; i < n; i++) {
        kms_reply r;
        if (records[i].blob == NULL) {
            assert_int_equal(kms_call(&kms, "DescribeKey",
                                      json_pack("{s:s}", "KeyId", records[i].key), &r), 0);
            if (r.status != 200)
                fail_msg("acknowledged key %s lost: %s %s", records[i].key, r.type, r.message);
            keys++;
        } else {
            assert_int_equal(kms_call(&kms, "Decrypt", json_pack("{s:s}", "CiphertextBlob",
                                                                 records[i].blob), &r), 0);
            if (r.status != 200)
                fail_msg("ciphertext of key %s no longer decrypts: %s %s", records[i].key,
                         r.type, r.message);
            assert_string_equal(json_string_value(json_object_get(r.body, "Plaintext")),
                                records[i].plaintext);
            blobs++;
        }
        kms_reply_free(&r);
    }
    print_message("checked %d acknowledged keys and %d ciphertexts\n", keys, blobs);
}

static void test_kill_during_burst(void **state)
{
    (void)state;
    char dir[256];
    harness_temp_dir(dir, sizeof(dir));
    assert_int_equal(devkms_start(&kms, dir, NULL), 0);
    struct timespec seed;
    clock_gettime(CLOCK_REALTIME, &seed);
    srand((unsigned)seed.tv_nsec);
    for (int round = 0; round < ROUNDS; round++) {
        int before = atomic_load(&record_count);
        atomic_store(&stop_flag, false);
        pthread_t t[WORKERS];
        for (int i = 0; i < WORKERS; i++)
            assert_int_equal(pthread_create(&t[i], NULL, burst, NULL), 0);
        /* Let the burst run, then crash the server mid-flight. */
        usleep(700000 + (useconds_t)(rand() % 600) * 1000);
        devkms_stop(&kms, SIGKILL);
        atomic_store(&stop_flag, true);
        for (int i = 0; i < WORKERS; i++)
            pthread_join(t[i], NULL);
        print_message("round %d: %d answers before kill -9\n", round + 1,
                      atomic_load(&record_count) - before);
        assert_true(atomic_load(&record_count) > before);
        assert_int_equal(devkms_start(&kms, dir, NULL), 0);
        check_all();
    }
    assert_int_equal(devkms_stop(&kms, SIGTERM), 0);
    assert_false(devkms_log_has_sanitizer_report(&kms));
    harness_remove(&kms);
    for (int i = 0; i < atomic_load(&record_count); i++)
        free(records[i].blob);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kill_during_burst),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
