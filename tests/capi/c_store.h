/* A host's own contacts, calendars, tasks and notes kept in memory, written
 * in plain C99 against capi/syncmlkit.h, as a vendor would: the store the C
 * ABI tests sync (test_capi_c.c in C, test_capi_failures.cpp from C++).
 *
 * Every callback can be made to misbehave in turn (cs_host_fail): return
 * SMK_STORE_FAILED with a message, return a status it may not return, return
 * OK without the value that is due, hand back NULL with a length, or (read,
 * list, replace, add) hand back an unknown GUID or a revision that never
 * changes. The store counts its calls, its transactions and its open
 * stores, and checks that no two calls on one opened store overlap.
 * Transactions are real: rollback() restores the store as that opened
 * store's begin() found it (right while one session writes at a time, as in
 * the failure tests). */
#ifndef SMK_TEST_C_STORE_H
#define SMK_TEST_C_STORE_H

#include <stddef.h>

#include "syncmlkit.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The callbacks, to name one in cs_host_fail(). */
enum cs_callback {
    CS_NATIVE_FORMAT, CS_LIST_OPEN, CS_LIST_NEXT, CS_READ, CS_REVISION, CS_ADD, CS_REPLACE, CS_REMOVE,
    CS_BEGIN, CS_COMMIT, CS_ROLLBACK, CS_SNAPSHOT, CS_OPEN, CS_GRANT, CS_OPEN_GAB, CS_CHECK_PASSWORD,
    CS_MD5_DIGEST, CS_CALLBACK_COUNT
};

/* How it misbehaves. */
enum cs_fault {
    CS_BEHAVE = 0,
    CS_FAIL,           /* SMK_STORE_FAILED (auth: SMK_AUTH_UNAVAILABLE) with a message */
    CS_BAD_STATUS,     /* 42 */
    CS_NO_VALUE,       /* OK without calling the setter of the value due */
    CS_NULL_VALUE,     /* the setter called with NULL and a length */
    CS_UNKNOWN_GUID,   /* list_next, add: a GUID no item has */
    CS_STALE_REVISION  /* replace: the item keeps its revision */
};

typedef struct cs_host cs_host;
typedef struct cs_store cs_store;

/* A host with no users and no stores yet. */
cs_host *cs_host_new(void);
void cs_host_free(cs_host *host);
void cs_host_add_user(cs_host *host, const char *name, const char *password);
/* The user's base64(md5("user:password")) for MD5 logins; without one,
 * md5_digest answers SMK_AUTH_DENIED (Basic only). */
void cs_host_set_digest(cs_host *host, const char *name, const char *digest);
/* Lets `user` use `owner`'s database (SMK_GRANT_*). */
void cs_host_grant(cs_host *host, const char *owner, const char *category, const char *user, int grant);
/* The Global Address Book (made, and offered from then on, by the first call). */
cs_store *cs_host_gab(cs_host *host);
/* Makes `callback` misbehave as `fault` from its `after`-th call on (0: the
 * next call), for `times` calls (-1: until told otherwise). CS_BEHAVE clears. */
void cs_host_fail(cs_host *host, enum cs_callback callback, enum cs_fault fault, int after, int times);
/* Calls of `callback` so far, and how many misbehaved. */
int cs_host_calls(cs_host *host, enum cs_callback callback);
int cs_host_faults(cs_host *host, enum cs_callback callback);

/* The tables to give smk_server_new_hosted(); valid while the host lives. */
const smk_provider_callbacks *cs_host_provider(cs_host *host);
const smk_auth_callbacks *cs_host_auth(cs_host *host);

/* Stores opened and not yet closed (all of them: every owner and category). */
int cs_host_open_stores(cs_host *host);
/* Calls that began while another call on the same store was running. */
int cs_host_overlaps(cs_host *host);

/* `owner`'s store of `category`, made empty when new. */
cs_store *cs_host_store(cs_host *host, const char *owner, const char *category);
/* Items held. */
size_t cs_store_count(cs_store *store);
/* Items whose data contains `text`. */
size_t cs_store_count_with(cs_store *store, const char *text);
/* The host itself changes a store (a mail client of its own, say): adds an
 * item (its GUID copied to guid_out when not NULL, 32 bytes), replaces one
 * item's data, removes one; 0 on success. */
int cs_store_put(cs_store *store, const char *data, char *guid_out);
int cs_store_update(cs_store *store, const char *guid, const char *data);
int cs_store_delete(cs_store *store, const char *guid);
/* The GUID of the first item whose data contains `text` (32 bytes); 0 when found. */
int cs_store_find(cs_store *store, const char *text, char *guid_out);
/* begin / commit / rollback calls so far. */
int cs_store_begins(cs_store *store);
int cs_store_commits(cs_store *store);
int cs_store_rollbacks(cs_store *store);
/* Snapshots taken. */
int cs_store_snapshots(cs_store *store);

#ifdef __cplusplus
}
#endif

#endif /* SMK_TEST_C_STORE_H */
