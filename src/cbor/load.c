/* Bounded CBOR decoding: a streaming pre-pass, then libcbor's tree.
 *
 * libcbor spends some 70 bytes on every item, so a 1 MiB frame of 1-byte
 * integers would cost 70 MiB.  Hence two bounds besides lengths and depth:
 * the items of one load, and the items of all trees alive in the process
 * at once (small trees are always admitted, so ordinary requests never
 * meet the second bound). */
#include <stdatomic.h>
#include <string.h>

#include "signer_cbor.h"

static atomic_size_t items_alive;

/* State of the pre-pass.  `open[i]` is how many items container i still
 * expects (SIZE_MAX for indefinite containers, which end with a break). */
typedef struct walk {
    size_t left; /* input bytes after the current header */
    size_t open[SIGNER_CBOR_MAX_DEPTH];
    int depth;
    bool in_indef_string;
    bool top_done;
    size_t items; /* headers seen: at least the items libcbor will make */
    const char *problem;
} walk;

static void walk_fail(walk *w, const char *problem)
{
    if (w->problem == NULL)
        w->problem = problem;
}

/* One complete item ended: count it in its container, closing finished
 * definite containers in turn. */
static void walk_item_done(walk *w)
{
    for (;;) {
        if (w->depth == 0) {
            w->top_done = true;
            return;
        }
        size_t *open = &w->open[w->depth - 1];
        if (*open == SIZE_MAX)
            return;
        if (--*open > 0)
            return;
        w->depth--;
    }
}

static void walk_push(walk *w, size_t items)
{
    if (w->depth >= SIGNER_CBOR_MAX_DEPTH) {
        walk_fail(w, "nested too deeply");
        return;
    }
    if (items == 0) {
        walk_item_done(w);
        return;
    }
    w->open[w->depth++] = items;
}

static void on_scalar(void *ctx)
{
    walk *w = ctx;
    if (w->in_indef_string)
        walk_fail(w, "bad chunk in an indefinite string");
    else
        walk_item_done(w);
}
static void on_u8(void *ctx, uint8_t v)
{
    (void)v;
    on_scalar(ctx);
}
static void on_u16(void *ctx, uint16_t v)
{
    (void)v;
    on_scalar(ctx);
}
static void on_u32(void *ctx, uint32_t v)
{
    (void)v;
    on_scalar(ctx);
}
static void on_u64(void *ctx, uint64_t v)
{
    (void)v;
    on_scalar(ctx);
}
static void on_f4(void *ctx, float v)
{
    (void)v;
    on_scalar(ctx);
}
static void on_f8(void *ctx, double v)
{
    (void)v;
    on_scalar(ctx);
}
static void on_bool(void *ctx, bool v)
{
    (void)v;
    on_scalar(ctx);
}
/* A tag wraps the next item: it counts as one level of nesting, so a chain
 * of tags cannot make libcbor's recursive decref overflow the stack. */
static void on_tag(void *ctx, uint64_t v)
{
    walk *w = ctx;
    (void)v;
    if (w->in_indef_string)
        walk_fail(w, "bad chunk in an indefinite string");
    else
        walk_push(w, 1);
}

static void on_string(void *ctx, cbor_data data, size_t len)
{
    walk *w = ctx;
    (void)data;
    (void)len;
    if (!w->in_indef_string)
        walk_item_done(w); /* a chunk does not complete an item by itself */
}

static void on_string_start(void *ctx)
{
    walk *w = ctx;
    if (w->in_indef_string)
        walk_fail(w, "nested indefinite string");
    w->in_indef_string = true;
}

static void on_array_start(void *ctx, size_t n)
{
    walk *w = ctx;
    if (w->in_indef_string || n > w->left)
        walk_fail(w, "array longer than the input");
    else
        walk_push(w, n);
}

static void on_map_start(void *ctx, size_t n)
{
    walk *w = ctx;
    if (w->in_indef_string || n > w->left / 2)
        walk_fail(w, "map longer than the input");
    else
        walk_push(w, n * 2);
}

static void on_indef_start(void *ctx)
{
    walk *w = ctx;
    if (w->in_indef_string)
        walk_fail(w, "bad chunk in an indefinite string");
    else
        walk_push(w, SIZE_MAX);
}

static void on_break(void *ctx)
{
    walk *w = ctx;
    if (w->in_indef_string) {
        w->in_indef_string = false;
        walk_item_done(w);
        return;
    }
    if (w->depth == 0 || w->open[w->depth - 1] != SIZE_MAX) {
        walk_fail(w, "unexpected break");
        return;
    }
    w->depth--;
    walk_item_done(w);
}

static const struct cbor_callbacks walk_callbacks = {
    .uint8 = on_u8,
    .uint16 = on_u16,
    .uint32 = on_u32,
    .uint64 = on_u64,
    .negint8 = on_u8,
    .negint16 = on_u16,
    .negint32 = on_u32,
    .negint64 = on_u64,
    .byte_string_start = on_string_start,
    .byte_string = on_string,
    .string_start = on_string_start,
    .string = on_string,
    .indef_array_start = on_indef_start,
    .array_start = on_array_start,
    .indef_map_start = on_indef_start,
    .map_start = on_map_start,
    .tag = on_tag,
    .float2 = on_f4,
    .float4 = on_f4,
    .float8 = on_f8,
    .undefined = on_scalar,
    .null = on_scalar,
    .boolean = on_bool,
    .indef_break = on_break,
};

static int precheck(const uint8_t *data, size_t len, size_t *items, signer_error *err)
{
    walk w;
    memset(&w, 0, sizeof(w));
    size_t off = 0;
    while (!w.top_done) {
        if (off >= len)
            return signer_error_set(err, SIGNER_ERR_PROTOCOL, "truncated CBOR item");
        /* The callbacks see only the header; `left` bounds what follows. */
        w.left = len - off;
        struct cbor_decoder_result r =
            cbor_stream_decode(data + off, len - off, &walk_callbacks, &w);
        if (r.status == CBOR_DECODER_NEDATA)
            return signer_error_set(err, SIGNER_ERR_PROTOCOL, "truncated CBOR item");
        if (r.status != CBOR_DECODER_FINISHED)
            return signer_error_set(err, SIGNER_ERR_PROTOCOL, "malformed CBOR");
        off += r.read;
        if (++w.items > SIGNER_CBOR_MAX_ITEMS)
            return signer_error_set(err, SIGNER_ERR_PROTOCOL, "CBOR item holds more than %u items",
                                    SIGNER_CBOR_MAX_ITEMS);
        if (w.problem != NULL)
            return signer_error_set(err, SIGNER_ERR_PROTOCOL, "malformed CBOR: %s", w.problem);
    }
    if (off != len)
        return signer_error_set(err, SIGNER_ERR_PROTOCOL,
                                "trailing bytes after the CBOR item (%zu)", len - off);
    *items = w.items;
    return 0;
}

/* Counts the nodes of a tree as libcbor holds them. */
static size_t count_items(const cbor_item_t *item)
{
    size_t n = 1;
    switch (cbor_typeof(item)) {
    case CBOR_TYPE_BYTESTRING:
        if (!cbor_bytestring_is_definite(item))
            n += cbor_bytestring_chunk_count(item);
        break;
    case CBOR_TYPE_STRING:
        if (!cbor_string_is_definite(item))
            n += cbor_string_chunk_count(item);
        break;
    case CBOR_TYPE_ARRAY:
        for (size_t i = 0; i < cbor_array_size(item); i++)
            n += count_items(cbor_array_handle((cbor_item_t *)item)[i]);
        break;
    case CBOR_TYPE_MAP:
        for (size_t i = 0; i < cbor_map_size(item); i++)
            n += count_items(cbor_map_handle((cbor_item_t *)item)[i].key) +
                 count_items(cbor_map_handle((cbor_item_t *)item)[i].value);
        break;
    case CBOR_TYPE_TAG: {
        cbor_item_t *inner = cbor_tag_item((cbor_item_t *)item);
        n += count_items(inner);
        cbor_decref(&inner);
        break;
    }
    default: break;
    }
    return n;
}

/* Only trees of more than SIGNER_CBOR_ALWAYS_ITEMS items hold budget, and
 * exactly their item count; small ones cost no accounting at all. */
static size_t budget_of(size_t items)
{
    return items > SIGNER_CBOR_ALWAYS_ITEMS ? items : 0;
}

/* Admits `n` more items into the process's trees, or refuses. */
static int reserve(size_t n, signer_error *err)
{
    size_t alive = atomic_load(&items_alive);
    do {
        if (n > 0 && alive + n > SIGNER_CBOR_BUDGET_ITEMS)
            return signer_error_set(err, SIGNER_ERR_STATE,
                                    "busy: too much CBOR is being decoded right now; retry");
    } while (!atomic_compare_exchange_weak(&items_alive, &alive, alive + n));
    return 0;
}

int signer_cbor_load(const uint8_t *data, size_t len, cbor_item_t **out, signer_error *err)
{
    *out = NULL;
    if (len == 0)
        return signer_error_set(err, SIGNER_ERR_PROTOCOL, "empty frame");
    size_t items = 0;
    if (precheck(data, len, &items, err) != 0 || reserve(budget_of(items), err) != 0)
        return -1;
    struct cbor_load_result result;
    cbor_item_t *item = cbor_load(data, len, &result);
    /* The pre-pass counted headers, at least as many as the tree's items:
     * keep what the tree holds, give the rest back. */
    if (budget_of(items) > 0)
        atomic_fetch_sub(&items_alive,
                         budget_of(items) - (item ? budget_of(count_items(item)) : 0));
    if (item == NULL) {
        if (result.error.code == CBOR_ERR_MEMERROR)
            return signer_error_set(err, SIGNER_ERR_NO_MEMORY, "out of memory decoding CBOR");
        return signer_error_set(err, SIGNER_ERR_PROTOCOL, "malformed CBOR at byte %zu",
                                result.error.position);
    }
    *out = item;
    return 0;
}

void signer_cbor_free(cbor_item_t **item)
{
    if (*item == NULL)
        return;
    size_t n = signer_cbor_wipe(*item); /* the wipe counts the items as it goes */
    cbor_decref(item);
    if (budget_of(n) > 0)
        atomic_fetch_sub(&items_alive, n);
}
