/* A scripted SyncML client in plain C99 that talks to a server through
 * smk_server_process() only: SyncML 1.2 XML written with printf and replies
 * read with strstr, enough for the sessions the C ABI tests script (alert,
 * the client's changes, the map). Shared by test_capi_c.c and the C++
 * failure and thread tests. */
#ifndef SMK_TEST_SYNC_CLIENT_H
#define SMK_TEST_SYNC_CLIENT_H

#include <stddef.h>

#include "syncmlkit.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sc_client {
    smk_server *server;
    char device[64];
    char user[64], password[64];
    char db[32];       /* the server's database name, "contacts" */
    char url[256];     /* where the next message goes (RespURI) */
    char anchor[32];   /* the client's last anchor; "" before its first sync */
    int session, msg, next_anchor;
    /* The last reply. */
    char *reply;
    int http_status;
    int session_ended;
    int rc; /* of smk_server_process */
    /* What the client sends instead of the session's ops when the server
     * asks for a slow sync (508): every item it holds, as Adds. NULL: the
     * session's ops. */
    const char *slow_ops;
} sc_client;

/* What one session did. */
typedef struct sc_session {
    int header_status; /* the SyncHdr status of the first reply (212: logged in) */
    int alert_status;  /* the status of the client's Alert (200, 508, 404, ...) */
    int server_adds, server_replaces, server_deletes; /* in the server's Sync */
    char *server_sync; /* the server's package 4, to look into; freed by sc_session_free */
    char *changes_reply; /* the reply to the client's changes (package 4) */
    int completed;     /* the map was answered and the session ended */
} sc_session;

void sc_client_init(sc_client *c, smk_server *server, const char *device, const char *user, const char *password);
void sc_client_free(sc_client *c);

/* A vCard 3.0 of that full name (static buffer per call site: copy it). */
const char *sc_vcard(char *buf, size_t size, const char *fn);
/* Commands for the client's Sync: `op` "Add", "Replace" or "Delete", the
 * client's LUID, the vCard (ignored for Delete). Appended to ops (size bytes). */
void sc_op(char *ops, size_t size, const char *op, const char *luid, const char *data);

/* One session: Alert `code` (200 two-way, 201 slow, ...), `ops` in the
 * client's Sync (may be ""), then statuses and a Map of every Add of the
 * server. Stops where the server refuses (header_status not 212, or an
 * error). 0 when it ran to its end. */
int sc_sync(sc_client *c, int code, const char *ops, sc_session *out);
void sc_session_free(sc_session *s);

/* The status the reply `xml` gives a command: the first Status whose
 * SourceRef is `ref` (or whose Cmd is `ref`, for "SyncHdr" and "Alert");
 * -1 when none. */
int sc_status(const char *xml, const char *ref);
/* How often `needle` occurs in `hay`. */
int sc_count(const char *hay, const char *needle);

#ifdef __cplusplus
}
#endif

#endif /* SMK_TEST_SYNC_CLIENT_H */
