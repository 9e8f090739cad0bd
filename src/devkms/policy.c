/* Key policies: the part of the IAM policy language that KMS key policies
 * with kms:RecipientAttestation conditions need.
 *
 * Statements: Sid, Effect (Allow | Deny), Principal ("*" or {"AWS": ...}),
 * Action or NotAction, Resource or NotResource, Condition.  Condition
 * operators: StringEquals, StringNotEquals, StringEqualsIgnoreCase,
 * StringNotEqualsIgnoreCase, StringLike, StringNotLike, Bool (each also
 * with the IfExists suffix) and Null.  Anything else is refused when the
 * policy is set, so a policy never means less than it says. */
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "devkms.h"

typedef enum op_kind { OP_EQUALS, OP_LIKE, OP_BOOL, OP_NULL } op_kind;

typedef struct cond_op {
    op_kind kind;
    bool negate;
    bool ignore_case;
    bool if_exists;
} cond_op;

static int malformed(kms_error *e, const char *what)
{
    return kms_fail(e, "MalformedPolicyDocumentException", "Policy contains a statement with "
                    "an invalid element: %s", what);
}

static int parse_operator(const char *name, cond_op *op)
{
    static const struct {
        const char *name;
        cond_op op;
    } ops[] = {
        {"StringEquals", {OP_EQUALS, false, false, false}},
        {"StringNotEquals", {OP_EQUALS, true, false, false}},
        {"StringEqualsIgnoreCase", {OP_EQUALS, false, true, false}},
        {"StringNotEqualsIgnoreCase", {OP_EQUALS, true, true, false}},
        {"StringLike", {OP_LIKE, false, false, false}},
        {"StringNotLike", {OP_LIKE, true, false, false}},
        {"Bool", {OP_BOOL, false, true, false}},
        {"Null", {OP_NULL, false, false, false}},
    };
    char base[64];
    size_t n = strlen(name);
    bool if_exists = n > 8 && strcmp(name + n - 8, "IfExists") == 0;
    snprintf(base, sizeof(base), "%.*s", (int)(if_exists ? n - 8 : n), name);
    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
        if (strcmp(base, ops[i].name) == 0) {
            if (if_exists && ops[i].op.kind == OP_NULL)
                return -1;
            *op = ops[i].op;
            op->if_exists = if_exists;
            return 0;
        }
    }
    return -1;
}

/* A string or a non-empty array of strings. */
static bool string_or_list(const json_t *v)
{
    if (json_is_string(v))
        return true;
    if (!json_is_array(v) || json_array_size(v) == 0)
        return false;
    size_t i;
    json_t *item;
    json_array_foreach(v, i, item) if (!json_is_string(item)) return false;
    return true;
}

/* Condition values may be strings, numbers or booleans. */
static bool condition_value(const json_t *v)
{
    return json_is_string(v) || json_is_number(v) || json_is_boolean(v);
}

static int check_condition(const json_t *cond, kms_error *e)
{
    if (!json_is_object(cond))
        return malformed(e, "Condition must be an object");
    const char *opname;
    json_t *keys;
    json_object_foreach((json_t *)cond, opname, keys) {
        cond_op op;
        if (parse_operator(opname, &op) != 0)
            return kms_fail(e, "MalformedPolicyDocumentException",
                            "Policy contains an unsupported condition operator: %s (devkms "
                            "supports String[Not]Equals[IgnoreCase], String[Not]Like, Bool, "
                            "their IfExists forms, and Null)", opname);
        if (!json_is_object(keys) || json_object_size(keys) == 0)
            return malformed(e, "a condition operator must map condition keys to values");
        const char *key;
        json_t *values;
        json_object_foreach(keys, key, values) {
            if (json_is_array(values)) {
                if (json_array_size(values) == 0)
                    return malformed(e, "a condition has an empty list of values");
                size_t i;
                json_t *item;
                json_array_foreach(values, i, item) if (!condition_value(item))
                    return malformed(e, "condition values must be strings, numbers or booleans");
            } else if (!condition_value(values)) {
                return malformed(e, "condition values must be strings, numbers or booleans");
            }
        }
    }
    return 0;
}

static int check_principal(const json_t *p, kms_error *e)
{
    if (json_is_string(p))
        return strcmp(json_string_value(p), "*") == 0
                   ? 0 : malformed(e, "Principal must be \"*\" or an object");
    if (!json_is_object(p) || json_object_size(p) == 0)
        return malformed(e, "Principal must be \"*\" or an object such as {\"AWS\": ...}");
    const char *kind;
    json_t *v;
    json_object_foreach((json_t *)p, kind, v) if (!string_or_list(v))
        return malformed(e, "Principal values must be strings or lists of strings");
    return 0;
}

static int check_statement(const json_t *s, kms_error *e)
{
    if (!json_is_object(s))
        return malformed(e, "a Statement must be an object");
    static const char *const known[] = {"Sid", "Effect", "Principal", "Action", "NotAction",
                                        "Resource", "NotResource", "Condition"};
    const char *name;
    json_t *v;
    json_object_foreach((json_t *)s, name, v) {
        bool ok = false;
        for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
            ok = ok || strcmp(name, known[i]) == 0;
        if (!ok)
            return kms_fail(e, "MalformedPolicyDocumentException",
                            "Policy contains an unsupported statement element: %s", name);
    }
    const json_t *effect = json_object_get(s, "Effect");
    if (!json_is_string(effect) || (strcmp(json_string_value(effect), "Allow") != 0 &&
                                    strcmp(json_string_value(effect), "Deny") != 0))
        return malformed(e, "Effect must be \"Allow\" or \"Deny\"");
    const json_t *sid = json_object_get(s, "Sid");
    if (sid != NULL && !json_is_string(sid))
        return malformed(e, "Sid must be a string");
    const json_t *principal = json_object_get(s, "Principal");
    if (principal == NULL)
        return malformed(e, "a key policy statement needs a Principal");
    if (check_principal(principal, e) != 0)
        return -1;
    const json_t *action = json_object_get(s, "Action");
    const json_t *not_action = json_object_get(s, "NotAction");
    if ((action == NULL) == (not_action == NULL))
        return malformed(e, "a statement needs exactly one of Action and NotAction");
    if (!string_or_list(action ? action : not_action))
        return malformed(e, "Action must be a string or a list of strings");
    const json_t *resource = json_object_get(s, "Resource");
    const json_t *not_resource = json_object_get(s, "NotResource");
    if (resource != NULL && not_resource != NULL)
        return malformed(e, "a statement has both Resource and NotResource");
    if ((resource || not_resource) && !string_or_list(resource ? resource : not_resource))
        return malformed(e, "Resource must be a string or a list of strings");
    const json_t *cond = json_object_get(s, "Condition");
    return cond ? check_condition(cond, e) : 0;
}

/* Parses and checks; returns the document (caller decrefs) or NULL. */
static json_t *load(const char *text, kms_error *e)
{
    if (strlen(text) > KMS_POLICY_MAX) {
        kms_fail(e, "MalformedPolicyDocumentException", "Policy is larger than 32 KiB");
        return NULL;
    }
    json_error_t jerr;
    json_t *doc = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
    if (doc == NULL) {
        kms_fail(e, "MalformedPolicyDocumentException",
                 "Policy is not valid JSON (line %d: %s)", jerr.line, jerr.text);
        return NULL;
    }
    const json_t *version = json_object_get(doc, "Version");
    const json_t *stmts = json_object_get(doc, "Statement");
    int rc = 0;
    if (!json_is_object(doc))
        rc = malformed(e, "the policy must be a JSON object");
    else if (version != NULL && (!json_is_string(version) ||
                                 (strcmp(json_string_value(version), "2012-10-17") != 0 &&
                                  strcmp(json_string_value(version), "2008-10-17") != 0)))
        rc = malformed(e, "Version must be \"2012-10-17\" or \"2008-10-17\"");
    else if (stmts == NULL)
        rc = malformed(e, "the policy has no Statement");
    else if (json_is_array(stmts)) {
        size_t i;
        json_t *s;
        if (json_array_size(stmts) == 0)
            rc = malformed(e, "the policy has no Statement");
        json_array_foreach(stmts, i, s) if (rc == 0) rc = check_statement(s, e);
    } else {
        rc = check_statement(stmts, e);
    }
    if (rc != 0) {
        json_decref(doc);
        return NULL;
    }
    return doc;
}

int kms_policy_check(const char *text, kms_error *e)
{
    json_t *doc = load(text, e);
    if (doc == NULL)
        return -1;
    json_decref(doc);
    return 0;
}

int kms_policy_request_add(kms_policy_request *req, const char *key, const char *value)
{
    if (req->count >= KMS_POLICY_CONDITIONS_MAX)
        return -1;
    req->keys[req->count] = key;
    req->values[req->count] = value;
    req->count++;
    return 0;
}

/* ---- evaluation ------------------------------------------------------------ */

static bool glob(const char *pattern, const char *s, bool ignore_case)
{
    return fnmatch(pattern, s, FNM_NOESCAPE | (ignore_case ? FNM_CASEFOLD : 0)) == 0;
}

/* Calls match(item) for a string or each string of a list: any match. */
static bool any_of(const json_t *v, const char *s, bool ignore_case)
{
    if (json_is_string(v))
        return glob(json_string_value(v), s, ignore_case);
    size_t i;
    json_t *item;
    json_array_foreach(v, i, item) if (glob(json_string_value(item), s, ignore_case)) return true;
    return false;
}

static bool principal_one(const char *p, const kms_policy_request *req)
{
    char root[96];
    snprintf(root, sizeof(root), "arn:aws:iam::%s:root", req->account_id);
    return strcmp(p, "*") == 0 || strcmp(p, req->account_id) == 0 || strcmp(p, root) == 0 ||
           strcmp(p, req->principal) == 0;
}

static bool principal_matches(const json_t *p, const kms_policy_request *req)
{
    if (json_is_string(p))
        return true; /* "*" (checked) */
    const json_t *aws = json_object_get(p, "AWS");
    if (aws == NULL)
        return false; /* services and federated users are never our caller */
    if (json_is_string(aws))
        return principal_one(json_string_value(aws), req);
    size_t i;
    json_t *item;
    json_array_foreach(aws, i, item) if (principal_one(json_string_value(item), req)) return true;
    return false;
}

static const char *lookup(const kms_policy_request *req, const char *key)
{
    for (size_t i = 0; i < req->count; i++)
        if (strcasecmp(req->keys[i], key) == 0)
            return req->values[i];
    return NULL;
}

static void value_text(const json_t *v, char *out, size_t size)
{
    if (json_is_string(v))
        snprintf(out, size, "%s", json_string_value(v));
    else if (json_is_integer(v))
        snprintf(out, size, "%lld", (long long)json_integer_value(v));
    else if (json_is_real(v))
        snprintf(out, size, "%g", json_real_value(v));
    else
        snprintf(out, size, "%s", json_is_true(v) ? "true" : "false");
}

static bool value_matches(const cond_op *op, const json_t *v, const char *actual)
{
    char want[512];
    value_text(v, want, sizeof(want));
    switch (op->kind) {
    case OP_EQUALS: return op->ignore_case ? strcasecmp(want, actual) == 0
                                           : strcmp(want, actual) == 0;
    case OP_LIKE: return glob(want, actual, false);
    case OP_BOOL: return strcasecmp(want, actual) == 0;
    case OP_NULL: return false;
    }
    return false;
}

/* One key of one operator; multiple values are ORed (negated operators:
 * none may match). */
static bool condition_holds(const cond_op *op, const json_t *values, const char *actual)
{
    if (op->kind == OP_NULL) {
        char want[16];
        value_text(json_is_array(values) ? json_array_get(values, 0) : values, want, sizeof(want));
        bool want_null = strcasecmp(want, "true") == 0;
        return want_null == (actual == NULL);
    }
    if (actual == NULL)
        return op->if_exists || op->negate;
    bool any = false;
    if (json_is_array(values)) {
        size_t i;
        json_t *item;
        json_array_foreach(values, i, item) any = any || value_matches(op, item, actual);
    } else {
        any = value_matches(op, values, actual);
    }
    return op->negate ? !any : any;
}

/* All operators and keys must hold; `why` names the first that does not. */
static bool conditions_hold(const json_t *cond, const kms_policy_request *req, char *why,
                            size_t why_len)
{
    if (cond == NULL)
        return true;
    const char *opname;
    json_t *keys;
    json_object_foreach((json_t *)cond, opname, keys) {
        cond_op op;
        if (parse_operator(opname, &op) != 0)
            return false;
        const char *key;
        json_t *values;
        json_object_foreach(keys, key, values) {
            const char *actual = lookup(req, key);
            if (condition_holds(&op, values, actual))
                continue;
            if (actual == NULL)
                snprintf(why, why_len, "condition %s on %s is not satisfied: the request has "
                         "no %s", opname, key, key);
            else
                snprintf(why, why_len, "condition %s on %s is not satisfied by \"%s\"", opname,
                         key, actual);
            return false;
        }
    }
    return true;
}

static bool statement_applies(const json_t *s, const kms_policy_request *req)
{
    if (!principal_matches(json_object_get(s, "Principal"), req))
        return false;
    const json_t *action = json_object_get(s, "Action");
    const json_t *not_action = json_object_get(s, "NotAction");
    if (action ? !any_of(action, req->action, true) : any_of(not_action, req->action, true))
        return false;
    const json_t *resource = json_object_get(s, "Resource");
    const json_t *not_resource = json_object_get(s, "NotResource");
    if (resource && !any_of(resource, req->resource, false))
        return false;
    if (not_resource && any_of(not_resource, req->resource, false))
        return false;
    return true;
}

static void statement_name(const json_t *s, size_t index, char *out, size_t size)
{
    const json_t *sid = json_object_get(s, "Sid");
    if (json_is_string(sid))
        snprintf(out, size, "\"%s\"", json_string_value(sid));
    else
        snprintf(out, size, "#%zu", index + 1);
}

int kms_policy_evaluate(const char *text, const kms_policy_request *req,
                        kms_policy_decision *decision, char *why, size_t why_len, kms_error *e)
{
    *decision = KMS_POLICY_IMPLICIT_DENY;
    snprintf(why, why_len, "no statement of the key policy allows %s for this principal",
             req->action);
    json_t *doc = load(text, e);
    if (doc == NULL)
        return -1;
    json_t *stmts = json_object_get(doc, "Statement");
    size_t n = json_is_array(stmts) ? json_array_size(stmts) : 1;
    bool allowed = false, have_reason = false;
    for (size_t i = 0; i < n; i++) {
        json_t *s = json_is_array(stmts) ? json_array_get(stmts, i) : stmts;
        if (!statement_applies(s, req))
            continue;
        char reason[384];
        if (!conditions_hold(json_object_get(s, "Condition"), req, reason, sizeof(reason))) {
            if (!have_reason && strcmp(json_string_value(json_object_get(s, "Effect")), "Allow")
                                    == 0) {
                char name[96];
                statement_name(s, i, name, sizeof(name));
                snprintf(why, why_len, "statement %s: %s", name, reason);
                have_reason = true;
            }
            continue;
        }
        if (strcmp(json_string_value(json_object_get(s, "Effect")), "Deny") == 0) {
            char name[96];
            statement_name(s, i, name, sizeof(name));
            snprintf(why, why_len, "explicitly denied by statement %s of the key policy", name);
            *decision = KMS_POLICY_EXPLICIT_DENY;
            json_decref(doc);
            return 0;
        }
        allowed = true;
    }
    if (allowed)
        *decision = KMS_POLICY_ALLOW;
    json_decref(doc);
    return 0;
}

char *kms_policy_default(const char *account_id)
{
    json_t *doc = json_pack(
        "{s:s, s:s, s:[{s:s, s:s, s:{s:s++}, s:s, s:s}]}", "Version", "2012-10-17", "Id",
        "key-default-1", "Statement", "Sid", "Enable IAM User Permissions", "Effect", "Allow",
        "Principal", "AWS", "arn:aws:iam::", account_id, ":root", "Action", "kms:*", "Resource",
        "*");
    char *text = doc ? json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    json_decref(doc);
    return text;
}
