/* NSM access: the CBOR codec against the nsm-api schema (byte for byte),
 * and the software NSM, whose attestation documents are checked here by a
 * path independent of the project's attestation library: libcbor for the
 * COSE structure, OpenSSL for the X.509 chain and the ES384 signature. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <cbor.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "backend.h"
#include "codec.h"
#include "signer/nsm.h"

static char dir[64] = "/tmp/signer-nsm-test-XXXXXX";
static char config[128];

/* ---- codec ---- */

static void expect_request(const nsm_request *req, const char *hex)
{
    signer_buf out = SIGNER_BUF_INIT;
    signer_error err;
    char got[512] = "";
    assert_int_equal(nsm_request_encode(req, &out, &err), 0);
    for (size_t i = 0; i < out.len; i++)
        sprintf(got + 2 * i, "%02x", out.data[i]);
    assert_string_equal(got, hex);
    /* and back */
    nsm_request back;
    assert_int_equal(nsm_request_decode(out.data, out.len, &back, &err), 0);
    assert_int_equal(back.op, req->op);
    assert_int_equal(back.index, req->index);
    assert_int_equal(back.nonce.present, req->nonce.present);
    nsm_request_free(&back);
    signer_buf_free(&out);
}

static void test_request_encoding(void **state)
{
    (void)state;
    /* "GetRandom", "DescribeNSM": serde unit variants are text. */
    expect_request(&(nsm_request){.op = NSM_OP_GET_RANDOM}, "6947657452616e646f6d");
    expect_request(&(nsm_request){.op = NSM_OP_DESCRIBE_NSM}, "6b44657363726962654e534d");
    /* {"DescribePCR": {"index": 5}} */
    expect_request(&(nsm_request){.op = NSM_OP_DESCRIBE_PCR, .index = 5},
                   "a16b4465736372696265504352a165696e64657805");
    /* {"Attestation": {"user_data": null, "nonce": h'0102', "public_key": null}} */
    static const uint8_t nonce[] = {1, 2};
    expect_request(&(nsm_request){.op = NSM_OP_ATTESTATION, .nonce = {{nonce, 2}, true}},
                   "a16b4174746573746174696f6ea3697573657"
                   "25f64617461f6656e6f6e636542010"
                   "26a7075626c69635f6b6579f6");
}

static nsm_response decode_hex(const char *hex, int expect_rc)
{
    uint8_t buf[512];
    size_t n = strlen(hex) / 2;
    for (size_t i = 0; i < n; i++)
        sscanf(hex + 2 * i, "%2hhx", &buf[i]);
    nsm_response resp;
    signer_error err;
    assert_int_equal(nsm_response_decode(buf, n, &resp, &err), expect_rc);
    return resp;
}

static void test_response_decoding(void **state)
{
    (void)state;
    /* {"GetRandom": {"random": h'aabb'}} */
    nsm_response r = decode_hex("a16947657452616e646f6da16672616e646f6d42aabb", 0);
    assert_int_equal(r.op, NSM_OP_GET_RANDOM);
    assert_int_equal(r.random.len, 2);
    assert_int_equal(r.random.data[1], 0xbb);
    nsm_response_free(&r);
    /* {"Error": "InvalidIndex"} */
    r = decode_hex("a1654572726f726c496e76616c6964496e646578", 0);
    assert_int_equal(r.op, NSM_OP_ERROR);
    assert_string_equal(r.error, "InvalidIndex");
    nsm_response_free(&r);
    /* {"DescribePCR": {"lock": true, "data": h'0001'}} */
    r = decode_hex("a16b4465736372696265504352a2646c6f636bf564646174614200"
                   "01",
                   0);
    assert_true(r.lock);
    assert_int_equal(r.data.len, 2);
    nsm_response_free(&r);
    /* Malformed: {"Attestation": {}}, {"Attestation": 5}, [1, 2], truncated. */
    decode_hex("a16b4174746573746174696f6ea0", -1);
    decode_hex("a16b4174746573746174696f6e05", -1);
    decode_hex("820102", -1);
    decode_hex("a16b4174746573746174696f6ea168646f63756d656e74581f00", -1);
    decode_hex("a1664f74686572a0", -1); /* unknown variant */
    /* Floats where a bool or null belongs (libcbor's own tests abort). */
    decode_hex("a16b4465736372696265504352a2646c6f636bf901d864646174614100", -1);
    nsm_request req;
    static const uint8_t attest_float[] = {0xa1, 0x6b, 'A', 't', 't',  'e',  's',  't',
                                           'a',  't',  'i', 'o', 'n',  0xa1, 0x65, 'n',
                                           'o',  'n',  'c', 'e', 0xf9, 0x01, 0xd8};
    assert_int_equal(nsm_request_decode(attest_float, sizeof(attest_float), &req, NULL), -1);
}

static void test_describe_roundtrip(void **state)
{
    (void)state;
    nsm_response in = {.op = NSM_OP_DESCRIBE_NSM,
                       .describe = {.version_major = 1,
                                    .version_minor = 2,
                                    .version_patch = 3,
                                    .module_id = "i-abc",
                                    .max_pcrs = 32,
                                    .locked_pcrs = 0x11f,
                                    .digest = "SHA384"}};
    signer_buf out = SIGNER_BUF_INIT;
    nsm_response back;
    signer_error err;
    assert_int_equal(nsm_response_encode(&in, &out, &err), 0);
    assert_int_equal(nsm_response_decode(out.data, out.len, &back, &err), 0);
    assert_memory_equal(&back.describe, &in.describe, sizeof(in.describe));
    nsm_response_free(&back);
    signer_buf_free(&out);
}

/* ---- the software NSM ---- */

static int setup_sim(void **state)
{
    (void)state;
    char cmd[1024];
    if (mkdtemp(dir) == NULL)
        return -1;
    snprintf(cmd, sizeof(cmd),
             "%s %s --module-id i-test-enc1 --pcr-file 0=%s --pcr 2=%096d >/dev/null",
             SIGNER_DEV_NSM_CA, dir, SIGNER_TEST_IMAGE, 7);
    snprintf(config, sizeof(config), "sim:%s/nsm.json", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static int teardown_sim(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static nsm *open_sim(void)
{
    nsm *m;
    signer_error err;
    if (nsm_open(config, &m, &err) != 0)
        fail_msg("nsm_open: %s", err.message);
    assert_true(nsm_is_simulated(m));
    return m;
}

/* SHA-384(zeros || SHA-384(file)), computed here without the project. */
static void expected_pcr0(uint8_t out[48])
{
    FILE *f = fopen(SIGNER_TEST_IMAGE, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    uint8_t *image = malloc((size_t)n), reg[96] = {0};
    assert_int_equal(fread(image, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    EVP_Digest(image, (size_t)n, reg + 48, NULL, EVP_sha384(), NULL);
    EVP_Digest(reg, 96, out, NULL, EVP_sha384(), NULL);
    free(image);
}

static void test_sim_describe(void **state)
{
    (void)state;
    nsm *m = open_sim();
    nsm_description d;
    signer_error err;
    assert_int_equal(nsm_describe(m, &d, &err), 0);
    assert_string_equal(d.module_id, "i-test-enc1");
    assert_string_equal(d.digest, "SHA384");
    assert_int_equal(d.max_pcrs, 32);
    uint8_t value[NSM_PCR_MAX_BYTES], want[48];
    size_t len;
    bool locked;
    expected_pcr0(want);
    assert_int_equal(nsm_describe_pcr(m, 0, value, &len, &locked, &err), 0);
    assert_int_equal(len, 48);
    assert_true(locked);
    assert_memory_equal(value, want, 48);
    assert_int_equal(nsm_describe_pcr(m, 2, value, &len, &locked, &err), 0);
    assert_int_equal(value[47], 7);
    assert_int_equal(nsm_describe_pcr(m, 40, value, &len, &locked, &err), -1);
    assert_non_null(strstr(err.message, "InvalidIndex"));
    nsm_close(m);
}

static void test_sim_random(void **state)
{
    (void)state;
    nsm *m = open_sim();
    uint8_t a[1000], b[1000];
    signer_error err;
    assert_int_equal(nsm_get_random(m, a, sizeof(a), &err), 0);
    assert_int_equal(nsm_get_random(m, b, sizeof(b), &err), 0);
    assert_memory_not_equal(a, b, sizeof(a));
    assert_int_equal(nsm_seed_kernel_random(m, 64, &err), 0);
    nsm_close(m);
}

/* A field of the payload map, or NULL. */
static cbor_item_t *field(cbor_item_t *map, const char *name)
{
    struct cbor_pair *p = cbor_map_handle(map);
    for (size_t i = 0; i < cbor_map_size(map); i++)
        if (cbor_isa_string(p[i].key) && cbor_string_length(p[i].key) == strlen(name) &&
            memcmp(cbor_string_handle(p[i].key), name, strlen(name)) == 0)
            return p[i].value;
    return NULL;
}

static X509 *der_cert(cbor_item_t *bytes)
{
    const unsigned char *p = cbor_bytestring_handle(bytes);
    return d2i_X509(NULL, &p, (long)cbor_bytestring_length(bytes));
}

/* Checks a document with libcbor and OpenSSL only. */
static void verify_independently(const uint8_t *doc, size_t len, const uint8_t *nonce,
                                 size_t nonce_len, const uint8_t pcr0[48])
{
    struct cbor_load_result res;
    cbor_item_t *cose = cbor_load(doc, len, &res);
    assert_non_null(cose);
    assert_true(cbor_isa_array(cose) && cbor_array_size(cose) == 4);
    cbor_item_t **parts = cbor_array_handle(cose);
    /* protected = {1: -35} (ES384) */
    cbor_item_t *prot =
        cbor_load(cbor_bytestring_handle(parts[0]), cbor_bytestring_length(parts[0]), &res);
    assert_true(cbor_isa_map(prot) && cbor_map_size(prot) == 1);
    assert_int_equal(cbor_get_int(cbor_map_handle(prot)[0].key), 1);
    assert_true(cbor_isa_negint(cbor_map_handle(prot)[0].value));
    assert_int_equal(cbor_get_int(cbor_map_handle(prot)[0].value), 34); /* -1 - 34 */
    cbor_decref(&prot);
    assert_int_equal(cbor_bytestring_length(parts[3]), 96);
    cbor_item_t *payload =
        cbor_load(cbor_bytestring_handle(parts[2]), cbor_bytestring_length(parts[2]), &res);
    assert_non_null(payload);
    /* Sig_structure = ["Signature1", protected, h'', payload] */
    cbor_item_t *sig_struct = cbor_new_definite_array(4);
    cbor_array_push(sig_struct, cbor_move(cbor_build_string("Signature1")));
    cbor_array_push(sig_struct, parts[0]);
    cbor_array_push(sig_struct, cbor_move(cbor_build_bytestring(NULL, 0)));
    cbor_array_push(sig_struct, parts[2]);
    unsigned char *tbs;
    size_t tbs_cap, tbs_len = cbor_serialize_alloc(sig_struct, &tbs, &tbs_cap);
    assert_true(tbs_len > 0);
    /* The leaf certificate's key verifies the signature. */
    X509 *leaf = der_cert(field(payload, "certificate"));
    assert_non_null(leaf);
    EVP_PKEY *pub = X509_get0_pubkey(leaf);
    ECDSA_SIG *sig = ECDSA_SIG_new();
    const uint8_t *rs = cbor_bytestring_handle(parts[3]);
    ECDSA_SIG_set0(sig, BN_bin2bn(rs, 48, NULL), BN_bin2bn(rs + 48, 48, NULL));
    unsigned char *der = NULL;
    int der_len = i2d_ECDSA_SIG(sig, &der);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    assert_int_equal(EVP_DigestVerifyInit(md, NULL, EVP_sha384(), NULL, pub), 1);
    assert_int_equal(EVP_DigestVerify(md, der, (size_t)der_len, tbs, tbs_len), 1);
    /* ... and not for a changed payload. */
    tbs[tbs_len - 1] ^= 1;
    assert_int_equal(EVP_DigestVerifyInit(md, NULL, EVP_sha384(), NULL, pub), 1);
    assert_int_not_equal(EVP_DigestVerify(md, der, (size_t)der_len, tbs, tbs_len), 1);
    /* The chain: leaf <- cabundle <- root.pem. */
    char root_path[128];
    snprintf(root_path, sizeof(root_path), "%s/root.pem", dir);
    X509_STORE *store = X509_STORE_new();
    assert_int_equal(X509_STORE_load_file(store, root_path), 1);
    STACK_OF(X509) *untrusted = sk_X509_new_null();
    cbor_item_t *bundle = field(payload, "cabundle");
    assert_true(cbor_array_size(bundle) >= 2);
    for (size_t i = 0; i < cbor_array_size(bundle); i++)
        sk_X509_push(untrusted, der_cert(cbor_array_handle(bundle)[i]));
    X509_STORE_CTX *vctx = X509_STORE_CTX_new();
    X509_STORE_CTX_init(vctx, store, leaf, untrusted);
    if (X509_verify_cert(vctx) != 1)
        fail_msg("chain: %s", X509_verify_cert_error_string(X509_STORE_CTX_get_error(vctx)));
    /* The fields the request asked for, and the measurements. */
    cbor_item_t *n = field(payload, "nonce");
    assert_true(cbor_isa_bytestring(n) && cbor_bytestring_length(n) == nonce_len);
    assert_memory_equal(cbor_bytestring_handle(n), nonce, nonce_len);
    assert_true(cbor_is_null(field(payload, "user_data")));
    cbor_item_t *digest = field(payload, "digest");
    assert_true(cbor_isa_string(digest) && cbor_string_length(digest) == 6);
    assert_memory_equal(cbor_string_handle(digest), "SHA384", 6);
    cbor_item_t *pcrs = field(payload, "pcrs");
    assert_int_equal(cbor_map_size(pcrs), 16);
    cbor_item_t *p0 = cbor_map_handle(pcrs)[0].value;
    assert_int_equal(cbor_get_int(cbor_map_handle(pcrs)[0].key), 0);
    assert_memory_equal(cbor_bytestring_handle(p0), pcr0, 48);
    uint64_t ts = cbor_get_int(field(payload, "timestamp"));
    assert_true(ts / 1000 + 5 >= (uint64_t)time(NULL) && ts / 1000 <= (uint64_t)time(NULL));
    X509_STORE_CTX_free(vctx);
    sk_X509_pop_free(untrusted, X509_free);
    X509_STORE_free(store);
    EVP_MD_CTX_free(md);
    OPENSSL_free(der);
    ECDSA_SIG_free(sig);
    X509_free(leaf);
    free(tbs);
    cbor_decref(&sig_struct);
    cbor_decref(&payload);
    cbor_decref(&cose);
}

static void test_sim_attestation(void **state)
{
    (void)state;
    nsm *m = open_sim();
    signer_buf doc = SIGNER_BUF_INIT;
    signer_error err;
    static const uint8_t nonce[] = "fresh nonce";
    uint8_t spki[300], pcr0[48];
    memset(spki, 0x30, sizeof(spki));
    signer_bytes n = {nonce, sizeof(nonce)}, pk = {spki, sizeof(spki)};
    assert_int_equal(nsm_attest(m, NULL, &n, &pk, &doc, &err), 0);
    expected_pcr0(pcr0);
    verify_independently(doc.data, doc.len, nonce, sizeof(nonce), pcr0);
    signer_buf_free(&doc);
    /* Oversize fields are refused as the NSM does. */
    uint8_t big[2048] = {0};
    signer_bytes b = {big, sizeof(big)};
    assert_int_equal(nsm_attest(m, &b, NULL, NULL, &doc, &err), -1);
    assert_non_null(strstr(err.message, "InputTooLarge"));
    nsm_close(m);
}

/* Requests the codec would never write still get an Error answer. */
static void test_sim_garbage_requests(void **state)
{
    (void)state;
    void *sim;
    signer_error err;
    assert_int_equal(nsm_sim_open(config + 4, &sim, &err), 0);
    static const char *const garbage[] = {"", "\xff", "\x82\x01\x02", "\xa1\x63\x46\x6f\x6f\xa0",
                                          "\x67LockPCR"};
    for (size_t i = 0; i < sizeof(garbage) / sizeof(garbage[0]); i++) {
        uint8_t out[NSM_RESPONSE_MAX];
        size_t out_len = sizeof(out);
        nsm_response r;
        assert_int_equal(nsm_sim_backend.transact(sim, (const uint8_t *)garbage[i],
                                                  strlen(garbage[i]), out, &out_len, &err),
                         0);
        assert_int_equal(nsm_response_decode(out, out_len, &r, &err), 0);
        assert_int_equal(r.op, NSM_OP_ERROR);
        nsm_response_free(&r);
    }
    /* An answer that does not fit the caller's buffer; and a buffer too
     * small even for the error. */
    uint8_t out[32];
    size_t out_len = sizeof(out);
    nsm_request req = {.op = NSM_OP_GET_RANDOM};
    signer_buf enc = SIGNER_BUF_INIT;
    nsm_response r;
    assert_int_equal(nsm_request_encode(&req, &enc, &err), 0);
    assert_int_equal(nsm_sim_backend.transact(sim, enc.data, enc.len, out, &out_len, &err), 0);
    assert_int_equal(nsm_response_decode(out, out_len, &r, &err), 0);
    assert_string_equal(r.error, "BufferTooSmall");
    nsm_response_free(&r);
    out_len = 8;
    assert_int_equal(nsm_sim_backend.transact(sim, enc.data, enc.len, out, &out_len, &err), -1);
    signer_buf_free(&enc);
    nsm_sim_backend.close(sim);
}

static void test_open_errors(void **state)
{
    (void)state;
    nsm *m;
    signer_error err;
    assert_int_equal(nsm_open("/nonexistent/nsm", &m, &err), -1);
    assert_non_null(strstr(err.message, "sim:CONFIG"));
    assert_int_equal(nsm_open("sim:/nonexistent.json", &m, &err), -1);
    char path[128];
    snprintf(path, sizeof(path), "%s/bad.json", dir);
    const char *bad[] = {
        "{\"ca_key\": \"ca.key\"}",
        "{\"ca_key\": \"ca.key\", \"ca_chain\": \"chain.pem\", \"pcrs\": {\"0\": \"abcd\"}}",
        "{\"ca_key\": \"ca.key\", \"ca_chain\": \"chain.pem\", \"pcrs\": {\"16\": \"00\"}}",
        "{\"ca_key\": \"root.key\", \"ca_chain\": \"chain.pem\"}",
        "{\"ca_key\": \"ca.key\", \"ca_chain\": \"chain.pem\", \"pcr_files\": {\"0\": \"nope\"}}",
        "not json",
    };
    char spec[160];
    snprintf(spec, sizeof(spec), "sim:%s", path);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        FILE *f = fopen(path, "w");
        fputs(bad[i], f);
        fclose(f);
        if (nsm_open(spec, &m, &err) == 0)
            fail_msg("config %zu was accepted", i);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_request_encoding),     cmocka_unit_test(test_response_decoding),
        cmocka_unit_test(test_describe_roundtrip),   cmocka_unit_test(test_sim_describe),
        cmocka_unit_test(test_sim_random),           cmocka_unit_test(test_sim_attestation),
        cmocka_unit_test(test_sim_garbage_requests), cmocka_unit_test(test_open_errors),
    };
    return cmocka_run_group_tests(tests, setup_sim, teardown_sim);
}
