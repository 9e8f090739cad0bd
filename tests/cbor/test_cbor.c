/* The bounded CBOR loader: lengths, depth, items per load, and the budget
 * of items in all trees alive at once (libcbor spends ~70 bytes an item). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "signer_cbor.h"

/* An array of `n` zeros: 1 + n items in ~n bytes. */
static uint8_t *array_of_zeros(size_t n, size_t *len)
{
    uint8_t *b = calloc(1, n + 9);
    size_t h = cbor_encode_array_start(n, b, 9);
    *len = h + n;
    return b;
}

static void test_items_per_load(void **state)
{
    (void)state;
    size_t len;
    cbor_item_t *item;
    signer_error err;
    uint8_t *ok = array_of_zeros(SIGNER_CBOR_MAX_ITEMS - 1, &len);
    assert_int_equal(signer_cbor_load(ok, len, &item, &err), 0);
    assert_int_equal(cbor_array_size(item), SIGNER_CBOR_MAX_ITEMS - 1);
    signer_cbor_free(&item);
    assert_null(item);
    uint8_t *big = array_of_zeros(SIGNER_CBOR_MAX_ITEMS, &len);
    assert_int_equal(signer_cbor_load(big, len, &item, &err), -1);
    assert_non_null(strstr(err.message, "more than 65536 items"));
    free(ok);
    free(big);
}

static void test_budget_of_live_trees(void **state)
{
    (void)state;
    size_t len;
    signer_error err;
    enum { TREES = SIGNER_CBOR_BUDGET_ITEMS / SIGNER_CBOR_MAX_ITEMS };
    cbor_item_t *trees[TREES], *more, *small;
    uint8_t *big = array_of_zeros(SIGNER_CBOR_MAX_ITEMS - 1, &len); /* exactly MAX items */
    for (int i = 0; i < TREES; i++)
        if (signer_cbor_load(big, len, &trees[i], &err) != 0)
            fail_msg("tree %d: %s", i, err.message);
    /* The budget is spent: a large load waits for its turn ... */
    assert_int_equal(signer_cbor_load(big, len, &more, &err), -1);
    assert_int_equal(err.code, SIGNER_ERR_STATE);
    assert_non_null(strstr(err.message, "busy"));
    /* ... a small one never does ... */
    size_t small_len;
    uint8_t *s = array_of_zeros(100, &small_len);
    assert_int_equal(signer_cbor_load(s, small_len, &small, &err), 0);
    signer_cbor_free(&small);
    /* ... and freeing gives the items back, to the last one. */
    signer_cbor_free(&trees[0]);
    assert_int_equal(signer_cbor_load(big, len, &trees[0], &err), 0);
    for (int i = 0; i < TREES; i++)
        signer_cbor_free(&trees[i]);
    for (int i = 0; i < TREES; i++)
        assert_int_equal(signer_cbor_load(big, len, &trees[i], &err), 0);
    for (int i = 0; i < TREES; i++)
        signer_cbor_free(&trees[i]);
    free(big);
    free(s);
}

/* Chunked strings and tags count as the items libcbor makes of them: a
 * miscount would leak budget and, after enough rounds, refuse loads. */
static void test_budget_counts_chunks_and_tags(void **state)
{
    (void)state;
    enum { PARTS = 5000 };
    uint8_t *chunked = malloc(2 + 2 * PARTS), *tagged = malloc(3 + 2 * PARTS);
    size_t c = 0, t = 0;
    chunked[c++] = 0x5f; /* indefinite byte string of PARTS one-byte chunks */
    tagged[t++] = 0x99;  /* array of PARTS tag-1 integers */
    tagged[t++] = PARTS >> 8;
    tagged[t++] = PARTS & 0xff;
    for (int i = 0; i < PARTS; i++) {
        chunked[c++] = 0x41;
        chunked[c++] = (uint8_t)i;
        tagged[t++] = 0xc1;
        tagged[t++] = 0x00;
    }
    chunked[c++] = 0xff;
    cbor_item_t *item;
    signer_error err;
    for (int round = 0; round < 300; round++) {
        assert_int_equal(signer_cbor_load(chunked, c, &item, &err), 0);
        signer_cbor_free(&item);
        assert_int_equal(signer_cbor_load(tagged, t, &item, &err), 0);
        signer_cbor_free(&item);
    }
    /* 300 rounds move 4.5 million items through a budget of 2^20. */
    size_t len;
    uint8_t *big = array_of_zeros(SIGNER_CBOR_MAX_ITEMS - 1, &len);
    cbor_item_t *trees[SIGNER_CBOR_BUDGET_ITEMS / SIGNER_CBOR_MAX_ITEMS];
    for (size_t i = 0; i < sizeof(trees) / sizeof(trees[0]); i++)
        assert_int_equal(signer_cbor_load(big, len, &trees[i], &err), 0);
    for (size_t i = 0; i < sizeof(trees) / sizeof(trees[0]); i++)
        signer_cbor_free(&trees[i]);
    free(big);
    free(chunked);
    free(tagged);
}

static void test_refusals(void **state)
{
    (void)state;
    cbor_item_t *item;
    signer_error err;
    static const uint8_t claims[] = {0x9b, 0, 0, 0, 1, 0, 0, 0, 0}; /* 2^32 items, 9 bytes */
    assert_int_equal(signer_cbor_load(claims, sizeof(claims), &item, &err), -1);
    static const uint8_t trailing[] = {0x01, 0x02};
    assert_int_equal(signer_cbor_load(trailing, sizeof(trailing), &item, &err), -1);
    assert_int_equal(signer_cbor_load(trailing, 0, &item, &err), -1);
    uint8_t deep[40];
    memset(deep, 0x81, sizeof(deep));
    deep[39] = 0;
    assert_int_equal(signer_cbor_load(deep, sizeof(deep), &item, &err), -1);
    assert_non_null(strstr(err.message, "nested too deeply"));
    /* Safe simple-value tests on a half float. */
    static const uint8_t half[] = {0xf9, 0x01, 0xd8};
    assert_int_equal(signer_cbor_load(half, sizeof(half), &item, &err), 0);
    assert_false(signer_cbor_is_null(item));
    assert_false(signer_cbor_is_bool(item));
    assert_false(signer_cbor_bool_value(item));
    signer_cbor_free(&item);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_items_per_load),
        cmocka_unit_test(test_budget_of_live_trees),
        cmocka_unit_test(test_budget_counts_chunks_and_tags),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
