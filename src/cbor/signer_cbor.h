/* Bounded CBOR reading and direct CBOR writing on top of libcbor, shared by
 * every parser of outside CBOR (RPC frames, NSM messages). */
#ifndef SIGNER_CBOR_H
#define SIGNER_CBOR_H

#include <cbor.h>
#include <stdbool.h>

#include "signer/buf.h"
#include "signer/error.h"

#define SIGNER_CBOR_MAX_DEPTH 16
#define SIGNER_CBOR_MAX_ITEMS (1u << 16)    /* in one loaded item */
#define SIGNER_CBOR_BUDGET_ITEMS (1u << 20) /* in all loaded trees at once */
#define SIGNER_CBOR_ALWAYS_ITEMS 4096       /* loads this small never meet the budget */

/* Decodes exactly one CBOR item filling all of `data`.  Before libcbor
 * builds the tree, a streaming pass checks that no declared length exceeds
 * the bytes left, that nesting stays within SIGNER_CBOR_MAX_DEPTH and that
 * there are at most SIGNER_CBOR_MAX_ITEMS items, so a small input can never
 * make the decoder allocate a large amount; and the items of all trees
 * alive at once stay within SIGNER_CBOR_BUDGET_ITEMS (a larger load is
 * refused with SIGNER_ERR_STATE, "busy").  Free with signer_cbor_free. */
int signer_cbor_load(const uint8_t *data, size_t len, cbor_item_t **out, signer_error *err);

/* Releases a tree from signer_cbor_load: wipes it (see below), frees it
 * and returns its items to the process's budget.  NULL is fine. */
void signer_cbor_free(cbor_item_t **item);

/* Zeroes every string and integer in the tree (before cbor_decref), so
 * secrets that came over the wire do not linger in freed memory. */
size_t signer_cbor_wipe(cbor_item_t *item); /* returns the items it visited */

/* Heap copies owned by a decoded message, wiped on release. */
typedef struct signer_cbor_owned {
    void *ptrs[8];
    size_t lens[8];
    int count;
} signer_cbor_owned;

void *signer_cbor_owned_alloc(signer_cbor_owned *owned, size_t len, signer_error *err);
void signer_cbor_owned_release(signer_cbor_owned *owned);

/* The content of a text or byte string, definite or chunked: a definite
 * string is viewed in place, chunks are joined into an owned copy. */
int signer_cbor_string(const cbor_item_t *item, signer_cbor_owned *owned, signer_bytes *out,
                       signer_error *err);

/* Safe forms of libcbor's cbor_is_null, cbor_is_bool and cbor_get_bool,
 * which assert (abort the process) when given a float: outside input may
 * put a float anywhere. */
bool signer_cbor_is_null(const cbor_item_t *item);
bool signer_cbor_is_bool(const cbor_item_t *item);
bool signer_cbor_bool_value(const cbor_item_t *item); /* false unless `true` */

/* True when `item` is a text string equal to `s`. */
bool signer_cbor_text_is(const cbor_item_t *item, const char *s);

/* Copies a text string into a NUL-terminated owned string. */
int signer_cbor_text_dup(const cbor_item_t *item, signer_cbor_owned *owned, char **out,
                         signer_error *err);

/* Reads bytes: a byte string, an array of integers 0..255, or null (empty). */
int signer_cbor_bytes(const cbor_item_t *item, signer_cbor_owned *owned, signer_bytes *out,
                      signer_error *err);

/* Reads an unsigned integer. */
int signer_cbor_uint(const cbor_item_t *item, uint64_t *out, signer_error *err);

/* The single entry of a one-entry map ({Name: value}). */
int signer_cbor_single_entry(const cbor_item_t *map, const char *what, cbor_item_t **key,
                             cbor_item_t **value, signer_error *err);

/* Encoders appending to a buffer. */
int signer_cbor_write_map(signer_buf *out, size_t entries, signer_error *err);
int signer_cbor_write_text(signer_buf *out, const char *text, signer_error *err);
int signer_cbor_write_bytes(signer_buf *out, const uint8_t *data, size_t len, signer_error *err);
int signer_cbor_write_uint(signer_buf *out, uint64_t value, signer_error *err);
int signer_cbor_write_int(signer_buf *out, int64_t value, signer_error *err);
int signer_cbor_write_null(signer_buf *out, signer_error *err);
int signer_cbor_write_bool(signer_buf *out, bool value, signer_error *err);
int signer_cbor_write_array(signer_buf *out, size_t items, signer_error *err);

#endif
