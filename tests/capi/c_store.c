/* The in-memory C host of c_store.h. */
#include "c_store.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CS_GUID 32
#define CS_NAME 64

typedef struct cs_item {
    char guid[CS_GUID];
    char rev[CS_GUID];
    char type[CS_NAME];
    char version[16];
    char *data;
    size_t len;
} cs_item;

typedef struct cs_items {
    cs_item *v;
    size_t n, cap;
} cs_items;

struct cs_store {
    pthread_mutex_t lock;
    char owner[CS_NAME];
    char category[16];
    cs_items items;
    unsigned next_id, next_rev;
    int begins, commits, rollbacks, snapshots;
    cs_store *next;
};

typedef struct cs_user {
    char name[CS_NAME], password[CS_NAME], digest[CS_NAME];
} cs_user;

typedef struct cs_grant {
    char owner[CS_NAME], category[16], user[CS_NAME];
    int grant;
} cs_grant;

typedef struct cs_rule {
    enum cs_fault fault;
    int after, times;
} cs_rule;

/* One open() of a store: what the library holds. */
typedef struct cs_handle {
    cs_host *host;
    cs_store *store;
    int busy;
    int in_transaction;
    cs_items journal; /* the items as begin() found them */
} cs_handle;

typedef struct cs_cursor {
    char (*guid)[CS_GUID];
    char (*rev)[CS_GUID];
    size_t n, pos;
} cs_cursor;

struct cs_host {
    pthread_mutex_t lock;
    cs_user users[16];
    size_t nusers;
    cs_grant grants[16];
    size_t ngrants;
    cs_store *stores;
    cs_store *gab;
    cs_rule rules[CS_CALLBACK_COUNT];
    int calls[CS_CALLBACK_COUNT], faults[CS_CALLBACK_COUNT];
    int open_stores, overlaps;
    smk_datastore_callbacks ds;
    smk_provider_callbacks provider;
    smk_auth_callbacks auth;
};

static void copy_name(char *to, size_t size, const char *from) {
    snprintf(to, size, "%s", from ? from : "");
}

/* ---- items ---- */

static void items_free(cs_items *items) {
    size_t i;
    for (i = 0; i < items->n; ++i) free(items->v[i].data);
    free(items->v);
    items->v = NULL;
    items->n = items->cap = 0;
}

static int items_copy(cs_items *to, const cs_items *from) {
    size_t i;
    to->v = from->n ? (cs_item *)malloc(from->n * sizeof *to->v) : NULL;
    to->n = to->cap = 0;
    if (from->n && !to->v) return -1;
    to->cap = from->n;
    for (i = 0; i < from->n; ++i) {
        to->v[i] = from->v[i];
        to->v[i].data = (char *)malloc(from->v[i].len + 1);
        if (!to->v[i].data) return -1;
        memcpy(to->v[i].data, from->v[i].data, from->v[i].len + 1);
        to->n = i + 1;
    }
    return 0;
}

static cs_item *items_find(cs_items *items, const char *guid) {
    size_t i;
    for (i = 0; i < items->n; ++i)
        if (strcmp(items->v[i].guid, guid) == 0) return &items->v[i];
    return NULL;
}

static int set_data(cs_item *item, const char *data, size_t len) {
    char *copy = (char *)malloc(len + 1);
    if (!copy) return -1;
    memcpy(copy, data, len);
    copy[len] = '\0';
    free(item->data);
    item->data = copy;
    item->len = len;
    return 0;
}

/* Adds an item; its GUID and revision new. Store locked. */
static cs_item *store_add(cs_store *s, const char *type, const char *version, const char *data, size_t len) {
    cs_item *item;
    if (s->items.n == s->items.cap) {
        size_t cap = s->items.cap ? 2 * s->items.cap : 16;
        cs_item *v = (cs_item *)realloc(s->items.v, cap * sizeof *v);
        if (!v) return NULL;
        s->items.v = v;
        s->items.cap = cap;
    }
    item = &s->items.v[s->items.n];
    memset(item, 0, sizeof *item);
    if (set_data(item, data, len) != 0) return NULL;
    snprintf(item->guid, sizeof item->guid, "g%u", ++s->next_id);
    snprintf(item->rev, sizeof item->rev, "r%u", ++s->next_rev);
    copy_name(item->type, sizeof item->type, type);
    copy_name(item->version, sizeof item->version, version);
    ++s->items.n;
    return item;
}

static void store_remove(cs_store *s, cs_item *item) {
    free(item->data);
    *item = s->items.v[--s->items.n];
}

static const char *native_type(const cs_store *s) {
    if (strcmp(s->category, "contacts") == 0) return "text/vcard";
    if (strcmp(s->category, "notes") == 0) return "text/x-vnote";
    return "text/calendar";
}

static const char *native_version(const cs_store *s) {
    if (strcmp(s->category, "contacts") == 0) return "3.0";
    if (strcmp(s->category, "notes") == 0) return "1.1";
    return "2.0";
}

/* ---- faults and call accounting ---- */

static enum cs_fault take(cs_host *h, enum cs_callback cb) {
    enum cs_fault f = CS_BEHAVE;
    cs_rule *rule = &h->rules[cb];
    pthread_mutex_lock(&h->lock);
    ++h->calls[cb];
    if (rule->fault != CS_BEHAVE) {
        if (rule->after > 0) {
            --rule->after;
        } else if (rule->times != 0) {
            if (rule->times > 0) --rule->times;
            f = rule->fault;
            ++h->faults[cb];
        }
    }
    pthread_mutex_unlock(&h->lock);
    return f;
}

/* The common misbehaviours: a status to return, or 0 to go on. */
static int misbehave(enum cs_fault f, smk_result *r, const char *call) {
    char message[96];
    if (f == CS_FAIL) {
        snprintf(message, sizeof message, "c-store: %s failed on purpose", call);
        smk_result_error(r, message);
        return SMK_STORE_FAILED;
    }
    if (f == CS_BAD_STATUS) return 42;
    return 0;
}

/* Entering and leaving a call on one opened store. */
static cs_store *enter(cs_handle *hd) {
    pthread_mutex_lock(&hd->host->lock);
    if (hd->busy++ > 0) ++hd->host->overlaps;
    pthread_mutex_unlock(&hd->host->lock);
    pthread_mutex_lock(&hd->store->lock);
    return hd->store;
}

static void leave(cs_handle *hd) {
    pthread_mutex_unlock(&hd->store->lock);
    pthread_mutex_lock(&hd->host->lock);
    --hd->busy;
    pthread_mutex_unlock(&hd->host->lock);
}

/* ---- the datastore callbacks ---- */

static int cb_native_format(void *store, smk_result *r) {
    cs_handle *hd = (cs_handle *)store;
    enum cs_fault f = take(hd->host, CS_NATIVE_FORMAT);
    int rc = misbehave(f, r, "native_format");
    if (rc) return rc;
    if (f == CS_NO_VALUE) return SMK_STORE_OK;
    if (f == CS_NULL_VALUE) {
        smk_result_format(r, NULL, NULL);
        return SMK_STORE_OK;
    }
    smk_result_format(r, native_type(hd->store), native_version(hd->store));
    return SMK_STORE_OK;
}

static int cb_list_open(void *store, void **cursor, smk_result *r) {
    cs_handle *hd = (cs_handle *)store;
    enum cs_fault f = take(hd->host, CS_LIST_OPEN);
    int rc = misbehave(f, r, "list_open");
    cs_cursor *c;
    cs_store *s;
    size_t i;
    if (rc) return rc;
    if (f == CS_NO_VALUE) return SMK_STORE_OK; /* *cursor left NULL: an empty listing */
    c = (cs_cursor *)calloc(1, sizeof *c);
    if (!c) return SMK_STORE_FAILED;
    s = enter(hd);
    c->n = s->items.n;
    c->guid = (char(*)[CS_GUID])calloc(c->n + 1, CS_GUID);
    c->rev = (char(*)[CS_GUID])calloc(c->n + 1, CS_GUID);
    if (c->guid && c->rev)
        for (i = 0; i < c->n; ++i) {
            memcpy(c->guid[i], s->items.v[i].guid, CS_GUID);
            memcpy(c->rev[i], s->items.v[i].rev, CS_GUID);
        }
    leave(hd);
    if (!c->guid || !c->rev) {
        free(c->guid);
        free(c->rev);
        free(c);
        smk_result_error(r, "c-store: out of memory");
        return SMK_STORE_FAILED;
    }
    *cursor = c;
    return SMK_STORE_OK;
}

static int cb_list_next(void *store, void *cursor, smk_result *r) {
    cs_handle *hd = (cs_handle *)store;
    cs_cursor *c = (cs_cursor *)cursor;
    enum cs_fault f = take(hd->host, CS_LIST_NEXT);
    int rc = misbehave(f, r, "list_next");
    if (rc) return rc;
    if (!c || c->pos == c->n) return SMK_STORE_END;
    if (f == CS_NO_VALUE) return SMK_STORE_OK;
    if (f == CS_NULL_VALUE) {
        smk_result_guid(r, NULL, 5);
        return SMK_STORE_OK;
    }
    if (f == CS_UNKNOWN_GUID) {
        smk_result_guid(r, "no-such-item", 12);
        smk_result_revision(r, "r0", 2);
        return SMK_STORE_OK;
    }
    smk_result_guid(r, c->guid[c->pos], strlen(c->guid[c->pos]));
    smk_result_revision(r, c->rev[c->pos], strlen(c->rev[c->pos]));
    ++c->pos;
    return SMK_STORE_OK;
}

static void cb_list_close(void *store, void *cursor) {
    cs_cursor *c = (cs_cursor *)cursor;
    (void)store;
    if (!c) return;
    free(c->guid);
    free(c->rev);
    free(c);
}

static int cb_read(void *store, const char *guid, smk_result *r) {
    cs_handle *hd = (cs_handle *)store;
    enum cs_fault f = take(hd->host, CS_READ);
    int rc = misbehave(f, r, "read");
    cs_store *s;
    cs_item *item;
    if (rc) return rc;
    s = enter(hd);
    item = items_find(&s->items, guid);
    if (!item) {
        rc = SMK_STORE_NOT_FOUND;
    } else if (f == CS_NO_VALUE) {
        smk_result_revision(r, item->rev, strlen(item->rev)); /* and no data */
    } else if (f == CS_NULL_VALUE) {
        smk_result_revision(r, item->rev, strlen(item->rev));
        smk_result_data(r, NULL, 10);
    } else {
        smk_result_data(r, item->data, item->len);
        smk_result_revision(r, item->rev, strlen(item->rev));
        smk_result_format(r, item->type, item->version);
    }
    leave(hd);
    return rc;
}

static int cb_revision(void *store, const char *guid, smk_result *r) {
    cs_handle *hd = (cs_handle *)store;
    enum cs_fault f = take(hd->host, CS_REVISION);
    int rc = misbehave(f, r, "revision");
    cs_store *s;
    cs_item *item;
    if (rc) return rc;
    s = enter(hd);
    item = items_find(&s->items, guid);
    if (!item)
        rc = SMK_STORE_NOT_FOUND;
    else if (f == CS_NULL_VALUE)
        smk_result_revision(r, NULL, 3);
    else if (f != CS_NO_VALUE)
        smk_result_revision(r, item->rev, strlen(item->rev));
    leave(hd);
    return rc;
}

static int cb_add(void *store, const char *type, const char *version, const char *data, size_t len, smk_result *r) {
    cs_handle *hd = (cs_handle *)store;
    enum cs_fault f = take(hd->host, CS_ADD);
    int rc = misbehave(f, r, "add");
    cs_item *item;
    if (rc) return rc;
    /* A store that forgets the GUID here also stored nothing. */
    if (f == CS_NO_VALUE) return SMK_STORE_OK;
    if (f == CS_NULL_VALUE) {
        smk_result_guid(r, NULL, 4);
        return SMK_STORE_OK;
    }
    item = store_add(enter(hd), type, version, data, len);
    if (item) {
        smk_result_guid(r, item->guid, strlen(item->guid));
        smk_result_revision(r, item->rev, strlen(item->rev));
    }
    leave(hd);
    if (!item) {
        smk_result_error(r, "c-store: out of memory");
        return SMK_STORE_FAILED;
    }
    return SMK_STORE_OK;
}

static int cb_replace(void *store, const char *guid, const char *type, const char *version, const char *data,
                      size_t len, smk_result *r) {
    cs_handle *hd = (cs_handle *)store;
    enum cs_fault f = take(hd->host, CS_REPLACE);
    int rc = misbehave(f, r, "replace");
    cs_store *s;
    cs_item *item;
    if (rc) return rc;
    if (f == CS_NO_VALUE) return SMK_STORE_OK; /* and changed nothing */
    if (f == CS_NULL_VALUE) {
        smk_result_revision(r, NULL, 2);
        return SMK_STORE_OK;
    }
    s = enter(hd);
    item = items_find(&s->items, guid);
    if (!item) {
        rc = SMK_STORE_NOT_FOUND;
    } else if (set_data(item, data, len) != 0) {
        smk_result_error(r, "c-store: out of memory");
        rc = SMK_STORE_FAILED;
    } else {
        copy_name(item->type, sizeof item->type, type);
        copy_name(item->version, sizeof item->version, version);
        if (f != CS_STALE_REVISION) snprintf(item->rev, sizeof item->rev, "r%u", ++s->next_rev);
        smk_result_revision(r, item->rev, strlen(item->rev));
    }
    leave(hd);
    return rc;
}

static int cb_remove(void *store, const char *guid, smk_result *r) {
    cs_handle *hd = (cs_handle *)store;
    enum cs_fault f = take(hd->host, CS_REMOVE);
    int rc = misbehave(f, r, "remove");
    cs_store *s;
    cs_item *item;
    if (rc) return rc;
    s = enter(hd);
    item = items_find(&s->items, guid);
    if (item)
        store_remove(s, item);
    else
        rc = SMK_STORE_NOT_FOUND;
    leave(hd);
    return rc;
}

static int cb_begin(void *store, smk_result *r) {
    cs_handle *hd = (cs_handle *)store;
    int rc = misbehave(take(hd->host, CS_BEGIN), r, "begin");
    cs_store *s;
    if (rc) return rc;
    s = enter(hd);
    ++s->begins;
    items_free(&hd->journal);
    if (items_copy(&hd->journal, &s->items) != 0) {
        smk_result_error(r, "c-store: out of memory");
        rc = SMK_STORE_FAILED;
    } else {
        hd->in_transaction = 1;
    }
    leave(hd);
    return rc;
}

static int cb_commit(void *store, smk_result *r) {
    cs_handle *hd = (cs_handle *)store;
    int rc = misbehave(take(hd->host, CS_COMMIT), r, "commit");
    cs_store *s;
    if (rc) return rc;
    s = enter(hd);
    ++s->commits;
    items_free(&hd->journal);
    hd->in_transaction = 0;
    leave(hd);
    return SMK_STORE_OK;
}

static int cb_rollback(void *store, smk_result *r) {
    cs_handle *hd = (cs_handle *)store;
    int rc = misbehave(take(hd->host, CS_ROLLBACK), r, "rollback");
    cs_store *s;
    if (rc) return rc;
    s = enter(hd);
    ++s->rollbacks;
    if (hd->in_transaction) {
        items_free(&s->items);
        s->items = hd->journal;
        memset(&hd->journal, 0, sizeof hd->journal);
        hd->in_transaction = 0;
    }
    leave(hd);
    return SMK_STORE_OK;
}

static int cb_snapshot(void *store, const char *reason, smk_result *r) {
    cs_handle *hd = (cs_handle *)store;
    enum cs_fault f = take(hd->host, CS_SNAPSHOT);
    int rc = misbehave(f, r, "snapshot");
    char name[256];
    cs_store *s;
    if (rc) return rc;
    if (f == CS_NO_VALUE) return SMK_STORE_OK;
    if (f == CS_NULL_VALUE) {
        smk_result_name(r, NULL, 7);
        return SMK_STORE_OK;
    }
    s = enter(hd);
    ++s->snapshots;
    snprintf(name, sizeof name, "%s/%s before %s #%d", s->owner, s->category, reason, s->snapshots);
    leave(hd);
    smk_result_name(r, name, strlen(name));
    return SMK_STORE_OK;
}

static void cb_close(void *store) {
    cs_handle *hd = (cs_handle *)store;
    pthread_mutex_lock(&hd->host->lock);
    --hd->host->open_stores;
    pthread_mutex_unlock(&hd->host->lock);
    items_free(&hd->journal);
    free(hd);
}

/* ---- the provider ---- */

static cs_store *find_store(cs_host *h, const char *owner, const char *category, int create) {
    cs_store *s;
    for (s = h->stores; s; s = s->next)
        if (strcmp(s->owner, owner) == 0 && strcmp(s->category, category) == 0) return s;
    if (!create) return NULL;
    s = (cs_store *)calloc(1, sizeof *s);
    if (!s) return NULL;
    pthread_mutex_init(&s->lock, NULL);
    copy_name(s->owner, sizeof s->owner, owner);
    copy_name(s->category, sizeof s->category, category);
    s->next = h->stores;
    h->stores = s;
    return s;
}

static int handle_for(cs_host *h, cs_store *s, void **store, smk_result *r) {
    cs_handle *hd = (cs_handle *)calloc(1, sizeof *hd);
    if (!hd) {
        smk_result_error(r, "c-store: out of memory");
        return SMK_STORE_FAILED;
    }
    hd->host = h;
    hd->store = s;
    pthread_mutex_lock(&h->lock);
    ++h->open_stores;
    pthread_mutex_unlock(&h->lock);
    *store = hd;
    return SMK_STORE_OK;
}

static int cb_open(void *user, const char *owner, const char *category, void **store, smk_result *r) {
    cs_host *h = (cs_host *)user;
    enum cs_fault f = take(h, CS_OPEN);
    int rc = misbehave(f, r, "open");
    cs_store *s;
    size_t i;
    int known = 0;
    if (rc) return rc;
    if (f == CS_NO_VALUE) return SMK_STORE_OK; /* *store not set */
    pthread_mutex_lock(&h->lock);
    for (i = 0; i < h->nusers; ++i)
        if (strcmp(h->users[i].name, owner) == 0) known = 1;
    s = known ? find_store(h, owner, category, 1) : NULL;
    pthread_mutex_unlock(&h->lock);
    if (!known) return SMK_STORE_NOT_FOUND;
    if (!s) return SMK_STORE_FAILED;
    return handle_for(h, s, store, r);
}

static int cb_grant(void *user, const char *owner, const char *category, const char *username) {
    cs_host *h = (cs_host *)user;
    enum cs_fault f = take(h, CS_GRANT);
    int g = SMK_GRANT_NONE;
    size_t i;
    if (f == CS_FAIL) return -1;
    if (f == CS_BAD_STATUS) return 42;
    pthread_mutex_lock(&h->lock);
    for (i = 0; i < h->ngrants; ++i)
        if (strcmp(h->grants[i].owner, owner) == 0 && strcmp(h->grants[i].category, category) == 0 &&
            strcmp(h->grants[i].user, username) == 0)
            g = h->grants[i].grant;
    pthread_mutex_unlock(&h->lock);
    return g;
}

static int cb_open_gab(void *user, void **store, smk_result *r) {
    cs_host *h = (cs_host *)user;
    enum cs_fault f = take(h, CS_OPEN_GAB);
    int rc = misbehave(f, r, "open_global_address_book");
    cs_store *s;
    if (rc) return rc;
    pthread_mutex_lock(&h->lock);
    s = h->gab;
    pthread_mutex_unlock(&h->lock);
    if (!s) return SMK_STORE_NOT_FOUND;
    return handle_for(h, s, store, r);
}

/* ---- users ---- */

static const cs_user *find_user(cs_host *h, const char *name) {
    size_t i;
    for (i = 0; i < h->nusers; ++i)
        if (strcmp(h->users[i].name, name) == 0) return &h->users[i];
    return NULL;
}

static int cb_check_password(void *user, const char *username, const char *password) {
    cs_host *h = (cs_host *)user;
    enum cs_fault f = take(h, CS_CHECK_PASSWORD);
    const cs_user *u;
    int ok;
    if (f == CS_FAIL) return SMK_AUTH_UNAVAILABLE;
    if (f == CS_BAD_STATUS) return 42;
    pthread_mutex_lock(&h->lock);
    u = find_user(h, username);
    ok = u && strcmp(u->password, password) == 0;
    pthread_mutex_unlock(&h->lock);
    return ok ? SMK_AUTH_OK : SMK_AUTH_DENIED;
}

static int cb_md5_digest(void *user, const char *username, smk_result *r) {
    cs_host *h = (cs_host *)user;
    enum cs_fault f = take(h, CS_MD5_DIGEST);
    const cs_user *u;
    char digest[CS_NAME] = "";
    if (f == CS_FAIL) {
        smk_result_error(r, "c-store: the user directory is down");
        return SMK_AUTH_UNAVAILABLE;
    }
    if (f == CS_BAD_STATUS) return 42;
    if (f == CS_NO_VALUE) return SMK_AUTH_OK;
    if (f == CS_NULL_VALUE) {
        smk_result_data(r, NULL, 24);
        return SMK_AUTH_OK;
    }
    pthread_mutex_lock(&h->lock);
    u = find_user(h, username);
    if (u) copy_name(digest, sizeof digest, u->digest);
    pthread_mutex_unlock(&h->lock);
    if (!digest[0]) return SMK_AUTH_DENIED;
    smk_result_data(r, digest, strlen(digest));
    return SMK_AUTH_OK;
}

/* ---- the host ---- */

cs_host *cs_host_new(void) {
    cs_host *h = (cs_host *)calloc(1, sizeof *h);
    if (!h) return NULL;
    pthread_mutex_init(&h->lock, NULL);
    h->ds.size = sizeof h->ds;
    h->ds.native_format = cb_native_format;
    h->ds.list_open = cb_list_open;
    h->ds.list_next = cb_list_next;
    h->ds.list_close = cb_list_close;
    h->ds.read = cb_read;
    h->ds.revision = cb_revision;
    h->ds.add = cb_add;
    h->ds.replace = cb_replace;
    h->ds.remove = cb_remove;
    h->ds.begin = cb_begin;
    h->ds.commit = cb_commit;
    h->ds.rollback = cb_rollback;
    h->ds.snapshot = cb_snapshot;
    h->ds.close = cb_close;
    h->provider.size = sizeof h->provider;
    h->provider.user = h;
    h->provider.datastore = &h->ds;
    h->provider.open = cb_open;
    h->provider.grant = cb_grant;
    h->provider.open_global_address_book = cb_open_gab;
    h->auth.size = sizeof h->auth;
    h->auth.user = h;
    h->auth.check_password = cb_check_password;
    h->auth.md5_digest = cb_md5_digest;
    return h;
}

void cs_host_free(cs_host *h) {
    cs_store *s, *next;
    if (!h) return;
    for (s = h->stores; s; s = next) {
        next = s->next;
        items_free(&s->items);
        pthread_mutex_destroy(&s->lock);
        free(s);
    }
    pthread_mutex_destroy(&h->lock);
    free(h);
}

void cs_host_add_user(cs_host *h, const char *name, const char *password) {
    pthread_mutex_lock(&h->lock);
    if (h->nusers < sizeof h->users / sizeof h->users[0]) {
        cs_user *u = &h->users[h->nusers++];
        copy_name(u->name, sizeof u->name, name);
        copy_name(u->password, sizeof u->password, password);
        u->digest[0] = '\0';
    }
    pthread_mutex_unlock(&h->lock);
}

void cs_host_set_digest(cs_host *h, const char *name, const char *digest) {
    size_t i;
    pthread_mutex_lock(&h->lock);
    for (i = 0; i < h->nusers; ++i)
        if (strcmp(h->users[i].name, name) == 0) copy_name(h->users[i].digest, sizeof h->users[i].digest, digest);
    pthread_mutex_unlock(&h->lock);
}

void cs_host_grant(cs_host *h, const char *owner, const char *category, const char *user, int grant) {
    pthread_mutex_lock(&h->lock);
    if (h->ngrants < sizeof h->grants / sizeof h->grants[0]) {
        cs_grant *g = &h->grants[h->ngrants++];
        copy_name(g->owner, sizeof g->owner, owner);
        copy_name(g->category, sizeof g->category, category);
        copy_name(g->user, sizeof g->user, user);
        g->grant = grant;
    }
    pthread_mutex_unlock(&h->lock);
}

cs_store *cs_host_gab(cs_host *h) {
    cs_store *s;
    pthread_mutex_lock(&h->lock);
    if (!h->gab) h->gab = find_store(h, "", "contacts", 1);
    s = h->gab;
    pthread_mutex_unlock(&h->lock);
    return s;
}

void cs_host_fail(cs_host *h, enum cs_callback callback, enum cs_fault fault, int after, int times) {
    pthread_mutex_lock(&h->lock);
    h->rules[callback].fault = fault;
    h->rules[callback].after = after;
    h->rules[callback].times = times;
    pthread_mutex_unlock(&h->lock);
}

int cs_host_calls(cs_host *h, enum cs_callback callback) {
    int n;
    pthread_mutex_lock(&h->lock);
    n = h->calls[callback];
    pthread_mutex_unlock(&h->lock);
    return n;
}

int cs_host_faults(cs_host *h, enum cs_callback callback) {
    int n;
    pthread_mutex_lock(&h->lock);
    n = h->faults[callback];
    pthread_mutex_unlock(&h->lock);
    return n;
}

const smk_provider_callbacks *cs_host_provider(cs_host *h) { return &h->provider; }

const smk_auth_callbacks *cs_host_auth(cs_host *h) { return &h->auth; }

int cs_host_open_stores(cs_host *h) {
    int n;
    pthread_mutex_lock(&h->lock);
    n = h->open_stores;
    pthread_mutex_unlock(&h->lock);
    return n;
}

int cs_host_overlaps(cs_host *h) {
    int n;
    pthread_mutex_lock(&h->lock);
    n = h->overlaps;
    pthread_mutex_unlock(&h->lock);
    return n;
}

cs_store *cs_host_store(cs_host *h, const char *owner, const char *category) {
    cs_store *s;
    pthread_mutex_lock(&h->lock);
    s = find_store(h, owner, category, 1);
    pthread_mutex_unlock(&h->lock);
    return s;
}

size_t cs_store_count(cs_store *s) {
    size_t n;
    pthread_mutex_lock(&s->lock);
    n = s->items.n;
    pthread_mutex_unlock(&s->lock);
    return n;
}

size_t cs_store_count_with(cs_store *s, const char *text) {
    size_t i, n = 0;
    pthread_mutex_lock(&s->lock);
    for (i = 0; i < s->items.n; ++i)
        if (strstr(s->items.v[i].data, text)) ++n;
    pthread_mutex_unlock(&s->lock);
    return n;
}

int cs_store_put(cs_store *s, const char *data, char *guid_out) {
    cs_item *item;
    pthread_mutex_lock(&s->lock);
    item = store_add(s, native_type(s), native_version(s), data, strlen(data));
    if (item && guid_out) memcpy(guid_out, item->guid, CS_GUID);
    pthread_mutex_unlock(&s->lock);
    return item ? 0 : -1;
}

int cs_store_update(cs_store *s, const char *guid, const char *data) {
    cs_item *item;
    int rc = -1;
    pthread_mutex_lock(&s->lock);
    item = items_find(&s->items, guid);
    if (item && set_data(item, data, strlen(data)) == 0) {
        snprintf(item->rev, sizeof item->rev, "r%u", ++s->next_rev);
        rc = 0;
    }
    pthread_mutex_unlock(&s->lock);
    return rc;
}

int cs_store_delete(cs_store *s, const char *guid) {
    cs_item *item;
    pthread_mutex_lock(&s->lock);
    item = items_find(&s->items, guid);
    if (item) store_remove(s, item);
    pthread_mutex_unlock(&s->lock);
    return item ? 0 : -1;
}

int cs_store_find(cs_store *s, const char *text, char *guid_out) {
    size_t i;
    int rc = -1;
    pthread_mutex_lock(&s->lock);
    for (i = 0; i < s->items.n && rc != 0; ++i)
        if (strstr(s->items.v[i].data, text)) {
            memcpy(guid_out, s->items.v[i].guid, CS_GUID);
            rc = 0;
        }
    pthread_mutex_unlock(&s->lock);
    return rc;
}

#define CS_COUNTER(name, field)                \
    int name(cs_store *s) {                    \
        int n;                                 \
        pthread_mutex_lock(&s->lock);          \
        n = s->field;                          \
        pthread_mutex_unlock(&s->lock);        \
        return n;                              \
    }
CS_COUNTER(cs_store_begins, begins)
CS_COUNTER(cs_store_commits, commits)
CS_COUNTER(cs_store_rollbacks, rollbacks)
CS_COUNTER(cs_store_snapshots, snapshots)
