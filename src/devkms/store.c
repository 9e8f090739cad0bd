/* Keys and aliases in SQLite.  WAL journal with synchronous=FULL: when a
 * write returns, it survives a crash or kill -9 of the process (and a power
 * loss).  One connection, one mutex: statements from concurrent requests
 * run one at a time, which is plenty for a development server. */
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devkms.h"

struct kms_store {
    sqlite3 *db;
    pthread_mutex_t lock;
};

static const char schema[] = "CREATE TABLE IF NOT EXISTS keys ("
                             "  id TEXT PRIMARY KEY,"
                             "  created_ms INTEGER NOT NULL,"
                             "  description TEXT NOT NULL DEFAULT '',"
                             "  state INTEGER NOT NULL,"
                             "  deletion_ms INTEGER NOT NULL DEFAULT 0,"
                             "  pending_days INTEGER NOT NULL DEFAULT 0,"
                             "  policy TEXT NOT NULL,"
                             "  material BLOB NOT NULL);"
                             "CREATE TABLE IF NOT EXISTS aliases ("
                             "  name TEXT PRIMARY KEY,"
                             "  key_id TEXT NOT NULL REFERENCES keys(id),"
                             "  created_ms INTEGER NOT NULL,"
                             "  updated_ms INTEGER NOT NULL);"
                             "CREATE INDEX IF NOT EXISTS aliases_by_key ON aliases(key_id);";

const char *kms_key_state_name(kms_key_state state)
{
    switch (state) {
    case KMS_KEY_ENABLED: return "Enabled";
    case KMS_KEY_DISABLED: return "Disabled";
    case KMS_KEY_PENDING_DELETION: return "PendingDeletion";
    }
    return "Unavailable";
}

void kms_key_row_free(kms_key_row *row)
{
    free(row->description);
    free(row->policy);
    signer_buf_free(&row->wrapped);
    memset(row, 0, sizeof(*row));
}

static int db_error(kms_store *s, signer_error *err, const char *what)
{
    return signer_error_set(err, SIGNER_ERR_IO, "database: %s: %s", what, sqlite3_errmsg(s->db));
}

int kms_store_open(const char *path, kms_store **out, signer_error *err)
{
    *out = NULL;
    kms_store *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return signer_error_set(err, SIGNER_ERR_NO_MEMORY, "out of memory");
    pthread_mutex_init(&s->lock, NULL);
    if (sqlite3_open_v2(path, &s->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                        NULL) != SQLITE_OK) {
        signer_error_set(err, SIGNER_ERR_IO, "cannot open database %s: %s", path,
                         s->db ? sqlite3_errmsg(s->db) : "out of memory");
        kms_store_close(s);
        return -1;
    }
    sqlite3_busy_timeout(s->db, 5000);
    char *msg = NULL;
    /* journal_mode answers a row; exec ignores it. */
    if (sqlite3_exec(s->db,
                     "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                     "PRAGMA foreign_keys=ON;",
                     NULL, NULL, &msg) != SQLITE_OK ||
        sqlite3_exec(s->db, schema, NULL, NULL, &msg) != SQLITE_OK) {
        signer_error_set(err, SIGNER_ERR_IO, "database %s: %s", path, msg ? msg : "error");
        sqlite3_free(msg);
        kms_store_close(s);
        return -1;
    }
    *out = s;
    return 0;
}

void kms_store_close(kms_store *s)
{
    if (s == NULL)
        return;
    if (s->db)
        sqlite3_close(s->db);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

/* Runs one statement that changes rows; `changes` (may be NULL) gets how
 * many it changed. */
static int run(kms_store *s, sqlite3_stmt *st, int *changes, const char *what, signer_error *err)
{
    int rc = sqlite3_step(st);
    if (rc == SQLITE_CONSTRAINT) {
        sqlite3_finalize(st);
        return signer_error_set(err, SIGNER_ERR_STATE, "%s: constraint", what);
    }
    if (rc != SQLITE_DONE) {
        db_error(s, err, what);
        sqlite3_finalize(st);
        return -1;
    }
    if (changes != NULL)
        *changes = sqlite3_changes(s->db);
    sqlite3_finalize(st);
    return 0;
}

static sqlite3_stmt *prepare(kms_store *s, const char *sql, signer_error *err)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
        db_error(s, err, "prepare");
        return NULL;
    }
    return st;
}

int kms_store_key_insert(kms_store *s, const kms_key_row *row, signer_error *err)
{
    pthread_mutex_lock(&s->lock);
    int rc = -1;
    sqlite3_stmt *st =
        prepare(s,
                "INSERT INTO keys (id, created_ms, description, state, deletion_ms, pending_days, "
                "policy, material) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                err);
    if (st != NULL) {
        sqlite3_bind_text(st, 1, row->id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, row->created_ms);
        sqlite3_bind_text(st, 3, row->description ? row->description : "", -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 4, (int)row->state);
        sqlite3_bind_int64(st, 5, row->deletion_ms);
        sqlite3_bind_int(st, 6, row->pending_days);
        sqlite3_bind_text(st, 7, row->policy, -1, SQLITE_STATIC);
        sqlite3_bind_blob(st, 8, row->wrapped.data, (int)row->wrapped.len, SQLITE_STATIC);
        rc = run(s, st, NULL, "insert key", err);
    }
    pthread_mutex_unlock(&s->lock);
    return rc;
}

static char *column_dup(sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    return strdup(t ? (const char *)t : "");
}

int kms_store_key_get(kms_store *s, const char *id, kms_key_row *row, bool *found,
                      signer_error *err)
{
    memset(row, 0, sizeof(*row));
    *found = false;
    pthread_mutex_lock(&s->lock);
    int rc = -1;
    sqlite3_stmt *st = prepare(
        s,
        "SELECT id, created_ms, description, state, deletion_ms, pending_days, policy, material "
        "FROM keys WHERE id = ?",
        err);
    if (st == NULL)
        goto out;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    if (step == SQLITE_DONE) {
        rc = 0;
    } else if (step == SQLITE_ROW) {
        snprintf(row->id, sizeof(row->id), "%s", (const char *)sqlite3_column_text(st, 0));
        row->created_ms = sqlite3_column_int64(st, 1);
        row->description = column_dup(st, 2);
        row->state = (kms_key_state)sqlite3_column_int(st, 3);
        row->deletion_ms = sqlite3_column_int64(st, 4);
        row->pending_days = sqlite3_column_int(st, 5);
        row->policy = column_dup(st, 6);
        const void *blob = sqlite3_column_blob(st, 7);
        int blob_len = sqlite3_column_bytes(st, 7);
        if (row->description == NULL || row->policy == NULL ||
            signer_buf_append(&row->wrapped, blob, (size_t)blob_len, err) != 0) {
            signer_error_set(err, SIGNER_ERR_NO_MEMORY, "out of memory");
            kms_key_row_free(row);
        } else {
            *found = true;
            rc = 0;
        }
    } else {
        db_error(s, err, "read key");
    }
    sqlite3_finalize(st);
out:
    pthread_mutex_unlock(&s->lock);
    return rc;
}

int kms_store_key_set_state(kms_store *s, const char *id, kms_key_state state, int64_t deletion_ms,
                            int pending_days, signer_error *err)
{
    pthread_mutex_lock(&s->lock);
    int rc = -1;
    sqlite3_stmt *st = prepare(s,
                               "UPDATE keys SET state = ?, deletion_ms = ?, pending_days = ? "
                               "WHERE id = ?",
                               err);
    if (st != NULL) {
        sqlite3_bind_int(st, 1, (int)state);
        sqlite3_bind_int64(st, 2, deletion_ms);
        sqlite3_bind_int(st, 3, pending_days);
        sqlite3_bind_text(st, 4, id, -1, SQLITE_STATIC);
        rc = run(s, st, NULL, "update key state", err);
    }
    pthread_mutex_unlock(&s->lock);
    return rc;
}

int kms_store_key_set_policy(kms_store *s, const char *id, const char *policy, signer_error *err)
{
    pthread_mutex_lock(&s->lock);
    int rc = -1;
    sqlite3_stmt *st = prepare(s, "UPDATE keys SET policy = ? WHERE id = ?", err);
    if (st != NULL) {
        sqlite3_bind_text(st, 1, policy, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
        rc = run(s, st, NULL, "update key policy", err);
    }
    pthread_mutex_unlock(&s->lock);
    return rc;
}

/* Deletes keys and their aliases in one transaction.  The statements take
 * one parameter: `id` when given, else `now_ms`. */
static int delete_keys(kms_store *s, const char *alias_sql, const char *key_sql, const char *id,
                       int64_t now_ms, signer_error *err)
{
    const char *const sql[2] = {alias_sql, key_sql};
    pthread_mutex_lock(&s->lock);
    int rc = 0;
    char *msg = NULL;
    if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, &msg) != SQLITE_OK) {
        signer_error_set(err, SIGNER_ERR_IO, "database: begin: %s", msg ? msg : "error");
        sqlite3_free(msg);
        pthread_mutex_unlock(&s->lock);
        return -1;
    }
    for (int i = 0; i < 2 && rc == 0; i++) {
        sqlite3_stmt *st = prepare(s, sql[i], err);
        if (st == NULL) {
            rc = -1;
            break;
        }
        if (id != NULL)
            sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        else
            sqlite3_bind_int64(st, 1, now_ms);
        rc = run(s, st, NULL, i == 0 ? "delete aliases" : "delete keys", err);
    }
    if (sqlite3_exec(s->db, rc == 0 ? "COMMIT" : "ROLLBACK", NULL, NULL, &msg) != SQLITE_OK) {
        signer_error_set(err, SIGNER_ERR_IO, "database: commit: %s", msg ? msg : "error");
        sqlite3_free(msg);
        rc = -1;
    }
    pthread_mutex_unlock(&s->lock);
    return rc;
}

int kms_store_key_delete(kms_store *s, const char *id, signer_error *err)
{
    return delete_keys(s, "DELETE FROM aliases WHERE key_id = ?", "DELETE FROM keys WHERE id = ?",
                       id, 0, err);
}

int kms_store_purge_expired(kms_store *s, int64_t now_ms, signer_error *err)
{
    return delete_keys(s,
                       "DELETE FROM aliases WHERE key_id IN (SELECT id FROM keys "
                       "WHERE state = 2 AND deletion_ms <= ?)",
                       "DELETE FROM keys WHERE state = 2 AND deletion_ms <= ?", NULL, now_ms, err);
}

int kms_store_key_list(kms_store *s, const char *after, size_t limit,
                       char (*ids)[KMS_KEY_ID_LEN + 1], size_t *count, bool *more,
                       signer_error *err)
{
    *count = 0;
    *more = false;
    pthread_mutex_lock(&s->lock);
    int rc = -1;
    sqlite3_stmt *st = prepare(s, "SELECT id FROM keys WHERE id > ? ORDER BY id LIMIT ?", err);
    if (st == NULL)
        goto out;
    sqlite3_bind_text(st, 1, after ? after : "", -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)limit + 1);
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (*count == limit) {
            *more = true;
            break;
        }
        snprintf(ids[*count], KMS_KEY_ID_LEN + 1, "%s", (const char *)sqlite3_column_text(st, 0));
        (*count)++;
    }
    if (step == SQLITE_ROW || step == SQLITE_DONE)
        rc = 0;
    else
        db_error(s, err, "list keys");
    sqlite3_finalize(st);
out:
    pthread_mutex_unlock(&s->lock);
    return rc;
}

int kms_store_alias_insert(kms_store *s, const kms_alias_row *row, bool *exists, signer_error *err)
{
    *exists = false;
    pthread_mutex_lock(&s->lock);
    int rc = -1;
    sqlite3_stmt *st = prepare(s,
                               "INSERT INTO aliases (name, key_id, created_ms, updated_ms) "
                               "VALUES (?, ?, ?, ?)",
                               err);
    if (st != NULL) {
        sqlite3_bind_text(st, 1, row->name, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, row->key_id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, row->created_ms);
        sqlite3_bind_int64(st, 4, row->updated_ms);
        int step = sqlite3_step(st);
        if (step == SQLITE_DONE)
            rc = 0;
        else if (step == SQLITE_CONSTRAINT) {
            *exists = true;
            rc = 0;
        } else
            db_error(s, err, "insert alias");
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&s->lock);
    return rc;
}

static void alias_from_row(sqlite3_stmt *st, kms_alias_row *row)
{
    snprintf(row->name, sizeof(row->name), "%s", (const char *)sqlite3_column_text(st, 0));
    snprintf(row->key_id, sizeof(row->key_id), "%s", (const char *)sqlite3_column_text(st, 1));
    row->created_ms = sqlite3_column_int64(st, 2);
    row->updated_ms = sqlite3_column_int64(st, 3);
}

int kms_store_alias_get(kms_store *s, const char *name, kms_alias_row *row, bool *found,
                        signer_error *err)
{
    *found = false;
    pthread_mutex_lock(&s->lock);
    int rc = -1;
    sqlite3_stmt *st = prepare(s,
                               "SELECT name, key_id, created_ms, updated_ms FROM aliases "
                               "WHERE name = ?",
                               err);
    if (st != NULL) {
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        int step = sqlite3_step(st);
        if (step == SQLITE_ROW) {
            alias_from_row(st, row);
            *found = true;
            rc = 0;
        } else if (step == SQLITE_DONE) {
            rc = 0;
        } else {
            db_error(s, err, "read alias");
        }
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&s->lock);
    return rc;
}

int kms_store_alias_update(kms_store *s, const char *name, const char *key_id, int64_t updated_ms,
                           bool *found, signer_error *err)
{
    pthread_mutex_lock(&s->lock);
    int rc = -1, changes = 0;
    sqlite3_stmt *st =
        prepare(s, "UPDATE aliases SET key_id = ?, updated_ms = ? WHERE name = ?", err);
    if (st != NULL) {
        sqlite3_bind_text(st, 1, key_id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, updated_ms);
        sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
        rc = run(s, st, &changes, "update alias", err);
    }
    *found = changes > 0;
    pthread_mutex_unlock(&s->lock);
    return rc;
}

int kms_store_alias_delete(kms_store *s, const char *name, bool *found, signer_error *err)
{
    pthread_mutex_lock(&s->lock);
    int rc = -1, changes = 0;
    sqlite3_stmt *st = prepare(s, "DELETE FROM aliases WHERE name = ?", err);
    if (st != NULL) {
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        rc = run(s, st, &changes, "delete alias", err);
    }
    *found = changes > 0;
    pthread_mutex_unlock(&s->lock);
    return rc;
}

int kms_store_alias_list(kms_store *s, const char *key_id, const char *after, size_t limit,
                         kms_alias_row *rows, size_t *count, bool *more, signer_error *err)
{
    *count = 0;
    *more = false;
    pthread_mutex_lock(&s->lock);
    int rc = -1;
    sqlite3_stmt *st = prepare(s,
                               "SELECT name, key_id, created_ms, updated_ms FROM aliases "
                               "WHERE name > ? AND (?2 IS NULL OR key_id = ?2) "
                               "ORDER BY name LIMIT ?3",
                               err);
    if (st == NULL)
        goto out;
    sqlite3_bind_text(st, 1, after ? after : "", -1, SQLITE_STATIC);
    if (key_id != NULL)
        sqlite3_bind_text(st, 2, key_id, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 2);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)limit + 1);
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (*count == limit) {
            *more = true;
            break;
        }
        alias_from_row(st, &rows[*count]);
        (*count)++;
    }
    if (step == SQLITE_ROW || step == SQLITE_DONE)
        rc = 0;
    else
        db_error(s, err, "list aliases");
    sqlite3_finalize(st);
out:
    pthread_mutex_unlock(&s->lock);
    return rc;
}
