/* The C ABI from C, as LevelDB's c_test.c: a host's own in-memory store and
 * users (c_store.c) behind smk_server_new_hosted(), synced by a scripted
 * client through smk_server_process() alone. Compiled as C99 with -pedantic.
 * Every step checks the items in the host's store one by one: added,
 * replaced, deleted, none twice. */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "c_store.h"
#include "sync_client.h"
#include "syncmlkit.h"

static int failures = 0;
static const char *phase = "";

#define CHECK(cond)                                                                            \
    do {                                                                                       \
        if (!(cond)) {                                                                         \
            fprintf(stderr, "%s:%d: [%s] CHECK failed: %s\n", __FILE__, __LINE__, phase, #cond); \
            ++failures;                                                                        \
        }                                                                                      \
    } while (0)
#define CHECK_INT(a, b)                                                                                    \
    do {                                                                                                   \
        long a_ = (long)(a), b_ = (long)(b);                                                               \
        if (a_ != b_) {                                                                                    \
            fprintf(stderr, "%s:%d: [%s] CHECK failed: %s == %s (%ld != %ld)\n", __FILE__, __LINE__, phase, \
                    #a, #b, a_, b_);                                                                       \
            ++failures;                                                                                    \
        }                                                                                                  \
    } while (0)

/* The server's log, kept to look into. */
static char log_text[1 << 17];
static size_t log_len = 0;

static void on_log(void *user_data, int level, const char *message) {
    size_t n = strlen(message);
    (void)user_data;
    (void)level;
    if (log_len + n + 2 < sizeof log_text) {
        memcpy(log_text + log_len, message, n);
        log_len += n;
        log_text[log_len++] = '\n';
        log_text[log_len] = '\0';
    }
    if (getenv("SMK_TEST_VERBOSE")) fprintf(stderr, "log: %s\n", message);
}

static int logged(const char *text) { return strstr(log_text, text) != NULL; }

/* Items of `store` naming `fn` (as "FN:<fn>\r"). */
static size_t with_fn(cs_store *store, const char *fn) {
    char key[96];
    snprintf(key, sizeof key, "FN:%s\r", fn);
    return cs_store_count_with(store, key);
}

static smk_server *make_server(cs_host *host, const char *state_dir) {
    smk_server_config config;
    smk_server *server = NULL;
    char *error = NULL;
    memset(&config, 0, sizeof config);
    config.size = sizeof config;
    config.state_dir = state_dir;
    config.log = on_log;
    CHECK_INT(smk_server_new_hosted(&config, cs_host_provider(host), cs_host_auth(host), &server, &error), SMK_OK);
    CHECK(error == NULL);
    smk_free(error);
    return server;
}

static void test_arguments(cs_host *host, const char *state_dir) {
    smk_server_config config;
    smk_provider_callbacks provider = *cs_host_provider(host);
    smk_datastore_callbacks ds = *provider.datastore;
    smk_auth_callbacks auth = *cs_host_auth(host);
    smk_server *server = (smk_server *)&config; /* set to NULL on failure */
    char *error = NULL;
    phase = "arguments";
    memset(&config, 0, sizeof config);
    config.size = sizeof config;
    config.state_dir = state_dir;

    CHECK_INT(smk_server_new_hosted(&config, NULL, &auth, &server, &error), SMK_ERR_ARGUMENT);
    CHECK(server == NULL);
    CHECK(error && strstr(error, "provider"));
    smk_free(error);

    ds.read = NULL;
    provider.datastore = &ds;
    CHECK_INT(smk_server_new_hosted(&config, &provider, &auth, &server, &error), SMK_ERR_ARGUMENT);
    CHECK(error && strstr(error, "read"));
    smk_free(error);

    /* A table from a caller that knew fewer callbacks than remove: refused. */
    ds = *cs_host_provider(host)->datastore;
    ds.size = offsetof(smk_datastore_callbacks, replace);
    CHECK_INT(smk_server_new_hosted(&config, &provider, &auth, &server, &error), SMK_ERR_ARGUMENT);
    smk_free(error);

    config.state_dir = NULL;
    CHECK_INT(smk_server_new_hosted(&config, cs_host_provider(host), &auth, &server, &error), SMK_ERR_ARGUMENT);
    CHECK(error && strstr(error, "state_dir"));
    smk_free(error);

    /* Neither auth nor a password callback. */
    config.state_dir = state_dir;
    CHECK_INT(smk_server_new_hosted(&config, cs_host_provider(host), NULL, &server, &error), SMK_ERR_ARGUMENT);
    CHECK(error && strstr(error, "auth"));
    smk_free(error);

    /* An older caller's smaller table: begin and later are not read (nor called). */
    ds = *cs_host_provider(host)->datastore;
    ds.size = offsetof(smk_datastore_callbacks, begin);
    provider.datastore = &ds;
    CHECK_INT(smk_server_new_hosted(&config, &provider, &auth, &server, &error), SMK_OK);
    CHECK(server != NULL);
    /* The SQLite store's admin calls do not apply. */
    CHECK_INT(smk_server_grant(server, "alice", "contacts", "bob", 1), SMK_ERR_ARGUMENT);
    CHECK_INT(smk_server_import_gab(server, "/nonexistent.vcf", NULL, &error), SMK_ERR_ARGUMENT);
    smk_free(error);
    smk_server_free(server);
}

int main(void) {
    char dir_template[] = "/tmp/smk-capi-c-XXXXXX";
    char *dir = mkdtemp(dir_template);
    char state_dir[256], card[256], ops[8192], guid[32], cmd[300];
    cs_host *host = cs_host_new();
    cs_store *contacts;
    smk_server *server;
    sc_client client;
    sc_session s;

    if (!dir || !host) {
        fprintf(stderr, "no temporary directory or no memory\n");
        return 1;
    }
    snprintf(state_dir, sizeof state_dir, "%s/state", dir);
    cs_host_add_user(host, "alice", "secret");
    cs_host_add_user(host, "bob", "hunter2");
    contacts = cs_host_store(host, "alice", "contacts");
    CHECK_INT(cs_store_put(contacts, sc_vcard(card, sizeof card, "Host One"), NULL), 0);
    CHECK_INT(cs_store_put(contacts, sc_vcard(card, sizeof card, "Host Two"), NULL), 0);

    test_arguments(host, state_dir);
    CHECK_INT(cs_host_open_stores(host), 0);

    server = make_server(host, state_dir);
    if (!server) return 1;
    sc_client_init(&client, server, "c-test-phone", "alice", "secret");

    /* 1. A slow sync: three cards up, the host's two down. */
    phase = "slow sync";
    ops[0] = '\0';
    sc_op(ops, sizeof ops, "Add", "L1", sc_vcard(card, sizeof card, "Client A"));
    sc_op(ops, sizeof ops, "Add", "L2", sc_vcard(card, sizeof card, "Client B"));
    sc_op(ops, sizeof ops, "Add", "L3", sc_vcard(card, sizeof card, "Client C"));
    CHECK_INT(sc_sync(&client, 201, ops, &s), 0);
    CHECK_INT(s.header_status, 212);
    CHECK_INT(s.alert_status, 200);
    CHECK_INT(sc_status(s.changes_reply, "L1"), 201);
    CHECK_INT(sc_status(s.changes_reply, "L2"), 201);
    CHECK_INT(sc_status(s.changes_reply, "L3"), 201);
    CHECK_INT(s.server_adds, 2);
    CHECK_INT(s.server_replaces, 0);
    CHECK_INT(sc_count(s.server_sync, "FN:Host One"), 1);
    CHECK_INT(sc_count(s.server_sync, "FN:Host Two"), 1);
    CHECK_INT(cs_store_count(contacts), 5);
    CHECK_INT(with_fn(contacts, "Client A"), 1);
    CHECK_INT(with_fn(contacts, "Client B"), 1);
    CHECK_INT(with_fn(contacts, "Client C"), 1);
    CHECK_INT(with_fn(contacts, "Host One"), 1);
    CHECK_INT(with_fn(contacts, "Host Two"), 1);
    sc_session_free(&s);

    /* 2. Two-way: the client replaces A and deletes B; the host changes
     * "Host One" and adds "Host Three" on its own. */
    phase = "two-way";
    ops[0] = '\0';
    sc_op(ops, sizeof ops, "Replace", "L1", sc_vcard(card, sizeof card, "Client A2"));
    sc_op(ops, sizeof ops, "Delete", "L2", NULL);
    CHECK_INT(cs_store_find(contacts, "FN:Host One\r", guid), 0);
    CHECK_INT(cs_store_update(contacts, guid, sc_vcard(card, sizeof card, "Host One v2")), 0);
    CHECK_INT(cs_store_put(contacts, sc_vcard(card, sizeof card, "Host Three"), NULL), 0);
    CHECK_INT(sc_sync(&client, 200, ops, &s), 0);
    CHECK_INT(s.alert_status, 200);
    CHECK_INT(sc_status(s.changes_reply, "L1"), 200);
    CHECK_INT(sc_status(s.changes_reply, "L2"), 200);
    CHECK_INT(s.server_adds, 1);
    CHECK_INT(s.server_replaces, 1);
    CHECK_INT(s.server_deletes, 0);
    CHECK_INT(sc_count(s.server_sync, "FN:Host Three"), 1);
    CHECK_INT(sc_count(s.server_sync, "FN:Host One v2"), 1);
    CHECK_INT(cs_store_count(contacts), 5);
    CHECK_INT(with_fn(contacts, "Client A"), 0);
    CHECK_INT(with_fn(contacts, "Client A2"), 1);
    CHECK_INT(with_fn(contacts, "Client B"), 0);
    CHECK_INT(with_fn(contacts, "Host One"), 0);
    CHECK_INT(with_fn(contacts, "Host One v2"), 1);
    CHECK_INT(with_fn(contacts, "Host Three"), 1);
    sc_session_free(&s);

    /* 3. The host deletes a card: the client is told; nothing else moves. */
    phase = "host delete";
    CHECK_INT(cs_store_find(contacts, "FN:Host Two\r", guid), 0);
    CHECK_INT(cs_store_delete(contacts, guid), 0);
    CHECK_INT(sc_sync(&client, 200, "", &s), 0);
    CHECK_INT(s.server_adds + s.server_replaces, 0);
    CHECK_INT(s.server_deletes, 1);
    CHECK_INT(cs_store_count(contacts), 4);
    sc_session_free(&s);

    /* 4. Nothing changed anywhere: nothing is sent, nothing stored twice. */
    phase = "quiet";
    CHECK_INT(sc_sync(&client, 200, "", &s), 0);
    CHECK_INT(s.server_adds + s.server_replaces + s.server_deletes, 0);
    CHECK_INT(cs_store_count(contacts), 4);
    sc_session_free(&s);

    /* 5. Logins: a wrong password (401), a user database that is down (503,
     * logged, not counted as a wrong password). */
    phase = "logins";
    sc_client_free(&client);
    sc_client_init(&client, server, "c-test-other", "alice", "wrong");
    CHECK(sc_sync(&client, 201, "", &s) != 0);
    CHECK_INT(s.header_status, 401);
    sc_session_free(&s);
    sc_client_free(&client);
    sc_client_init(&client, server, "c-test-other", "alice", "secret");
    cs_host_fail(host, CS_CHECK_PASSWORD, CS_FAIL, 0, 1);
    CHECK(sc_sync(&client, 201, "", &s) != 0);
    CHECK_INT(s.header_status, 503);
    CHECK(logged("login not checked"));
    CHECK(logged("SMK_AUTH_UNAVAILABLE"));
    sc_session_free(&s);
    CHECK_INT(sc_sync(&client, 201, "", &s), 0);
    CHECK_INT(s.header_status, 212);
    CHECK_INT(s.server_adds, 4);
    CHECK_INT(cs_store_count(contacts), 4);
    sc_session_free(&s);
    sc_client_free(&client);

    /* Every message went through begin and commit; every store is closed. */
    phase = "end";
    CHECK(cs_store_begins(contacts) > 0);
    CHECK_INT(cs_store_commits(contacts), cs_store_begins(contacts));
    CHECK_INT(cs_store_rollbacks(contacts), 0);
    smk_server_free(server);
    CHECK_INT(cs_host_open_stores(host), 0);
    CHECK_INT(cs_host_overlaps(host), 0);
    cs_host_free(host);

    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    if (failures) {
        fprintf(stderr, "%d checks failed\n", failures);
        return 1;
    }
    printf("PASS\n");
    return 0;
}
