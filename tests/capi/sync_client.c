/* The scripted C client of sync_client.h. */
#include "sync_client.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct sc_buf {
    char *p;
    size_t n, cap;
} sc_buf;

static void put(sc_buf *b, const char *fmt, ...) {
    va_list ap;
    int len;
    va_start(ap, fmt);
    len = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (len < 0) abort();
    if (b->n + (size_t)len + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        while (cap < b->n + (size_t)len + 1) cap *= 2;
        b->p = (char *)realloc(b->p, cap);
        if (!b->p) abort();
        b->cap = cap;
    }
    va_start(ap, fmt);
    vsnprintf(b->p + b->n, (size_t)len + 1, fmt, ap);
    va_end(ap);
    b->n += (size_t)len;
}

static char *dup_text(const char *s) {
    size_t n = strlen(s) + 1;
    char *p = (char *)malloc(n);
    if (!p) abort();
    memcpy(p, s, n);
    return p;
}

static void base64(const char *in, char *out) {
    static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t n = strlen(in), i, o = 0;
    for (i = 0; i < n; i += 3) {
        unsigned v = (unsigned)(unsigned char)in[i] << 16;
        if (i + 1 < n) v |= (unsigned)(unsigned char)in[i + 1] << 8;
        if (i + 2 < n) v |= (unsigned char)in[i + 2];
        out[o++] = abc[(v >> 18) & 63];
        out[o++] = abc[(v >> 12) & 63];
        out[o++] = i + 1 < n ? abc[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < n ? abc[v & 63] : '=';
    }
    out[o] = '\0';
}

void sc_client_init(sc_client *c, smk_server *server, const char *device, const char *user, const char *password) {
    memset(c, 0, sizeof *c);
    c->server = server;
    snprintf(c->device, sizeof c->device, "%s", device);
    snprintf(c->user, sizeof c->user, "%s", user);
    snprintf(c->password, sizeof c->password, "%s", password);
    snprintf(c->db, sizeof c->db, "contacts");
    c->next_anchor = 1;
}

void sc_client_free(sc_client *c) {
    free(c->reply);
    c->reply = NULL;
}

const char *sc_vcard(char *buf, size_t size, const char *fn) {
    snprintf(buf, size, "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:%s\r\nN:%s;;;;\r\nEND:VCARD\r\n", fn, fn);
    return buf;
}

void sc_op(char *ops, size_t size, const char *op, const char *luid, const char *data) {
    size_t n = strlen(ops);
    if (strcmp(op, "Delete") == 0)
        snprintf(ops + n, size - n, "<Delete><CmdID>#</CmdID><Item><Source><LocURI>%s</LocURI></Source></Item></Delete>",
                 luid);
    else
        snprintf(ops + n, size - n,
                 "<%s><CmdID>#</CmdID><Meta><Type xmlns='syncml:metinf'>text/vcard</Type></Meta>"
                 "<Item><Source><LocURI>%s</LocURI></Source><Data>%s</Data></Item></%s>",
                 op, luid, data, op);
}

int sc_count(const char *hay, const char *needle) {
    int n = 0;
    size_t len = strlen(needle);
    const char *p = hay;
    if (!hay) return 0;
    while ((p = strstr(p, needle)) != NULL) {
        ++n;
        p += len;
    }
    return n;
}

/* The text of the first <tag> at or after p, copied to out; NULL when none. */
static const char *text_of(const char *p, const char *tag, char *out, size_t size) {
    char open[48], close[48];
    const char *b, *e;
    size_t n;
    snprintf(open, sizeof open, "<%s>", tag);
    snprintf(close, sizeof close, "</%s>", tag);
    b = p ? strstr(p, open) : NULL;
    if (!b) return NULL;
    b += strlen(open);
    e = strstr(b, close);
    if (!e) return NULL;
    n = (size_t)(e - b) < size - 1 ? (size_t)(e - b) : size - 1;
    memcpy(out, b, n);
    out[n] = '\0';
    return e;
}

int sc_status(const char *xml, const char *ref) {
    char key[160], data[16];
    const char *p = xml, *end;
    if (!xml) return -1;
    while ((p = strstr(p, "<Status>")) != NULL) {
        end = strstr(p, "</Status>");
        if (!end) return -1;
        snprintf(key, sizeof key, "<SourceRef>%s</SourceRef>", ref);
        {
            const char *hit = strstr(p, key);
            char cmd[160];
            snprintf(cmd, sizeof cmd, "<Cmd>%s</Cmd>", ref);
            if ((hit && hit < end) || ((hit = strstr(p, cmd)) != NULL && hit < end)) {
                if (text_of(p, "Data", data, sizeof data) && strstr(p, "<Data>") < end) return atoi(data);
                return -1;
            }
        }
        p = end;
    }
    return -1;
}

static void header(sc_client *c, sc_buf *b) {
    ++c->msg;
    put(b,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><SyncML xmlns='SYNCML:SYNCML1.2'><SyncHdr><VerDTD>1.2</VerDTD>"
        "<VerProto>SyncML/1.2</VerProto><SessionID>%d</SessionID><MsgID>%d</MsgID>"
        "<Target><LocURI>http://localhost/sync</LocURI></Target><Source><LocURI>%s</LocURI></Source>",
        c->session, c->msg, c->device);
    if (c->msg == 1) {
        char plain[160], coded[220];
        snprintf(plain, sizeof plain, "%s:%s", c->user, c->password);
        base64(plain, coded);
        put(b,
            "<Cred><Meta><Format xmlns='syncml:metinf'>b64</Format><Type xmlns='syncml:metinf'>syncml:auth-basic"
            "</Type></Meta><Data>%s</Data></Cred>",
            coded);
    }
    put(b, "<Meta><MaxMsgSize xmlns='syncml:metinf'>150000</MaxMsgSize></Meta></SyncHdr><SyncBody>");
}

/* Statuses for every command of the last reply. */
static void statuses(sc_client *c, sc_buf *b, int *cmd_id) {
    static const char *const kinds[] = {"Alert", "Sync", "Add", "Replace", "Delete", "Put", "Get", "Results"};
    char msg_ref[16] = "1", id[16];
    size_t k;
    text_of(c->reply, "MsgID", msg_ref, sizeof msg_ref);
    put(b, "<Status><CmdID>%d</CmdID><MsgRef>%s</MsgRef><CmdRef>0</CmdRef><Cmd>SyncHdr</Cmd><Data>200</Data></Status>",
        (*cmd_id)++, msg_ref);
    for (k = 0; k < sizeof kinds / sizeof kinds[0]; ++k) {
        char open[24];
        const char *p = c->reply;
        snprintf(open, sizeof open, "<%s>", kinds[k]);
        while ((p = strstr(p, open)) != NULL) {
            p += strlen(open);
            if (!text_of(p, "CmdID", id, sizeof id)) break;
            put(b, "<Status><CmdID>%d</CmdID><MsgRef>%s</MsgRef><CmdRef>%s</CmdRef><Cmd>%s</Cmd><Data>%d</Data></Status>",
                (*cmd_id)++, msg_ref, id, kinds[k], strcmp(kinds[k], "Add") == 0 ? 201 : 200);
        }
    }
}

static int send(sc_client *c, sc_buf *b) {
    smk_response r;
    const char *resp_uri;
    put(b, "<Final/></SyncBody></SyncML>");
    c->rc = smk_server_process(c->server, b->p, b->n, "application/vnd.syncml+xml", c->url, "192.0.2.7", &r);
    b->n = 0;
    free(c->reply);
    c->reply = NULL;
    if (c->rc != SMK_OK) return -1;
    c->reply = dup_text(r.body ? r.body : "");
    c->http_status = r.http_status;
    c->session_ended = r.session_ended;
    smk_response_free(&r);
    resp_uri = strstr(c->reply, "<RespURI>");
    if (resp_uri) text_of(resp_uri, "RespURI", c->url, sizeof c->url);
    return c->http_status == 200 ? 0 : -1;
}

/* Every <kind> of the server's Sync. */
static int count_ops(const char *reply, const char *kind) {
    char open[24];
    const char *sync = reply ? strstr(reply, "<Sync>") : NULL;
    snprintf(open, sizeof open, "<%s>", kind);
    return sync ? sc_count(sync, open) : 0;
}

int sc_sync(sc_client *c, int code, const char *ops, sc_session *out) {
    sc_buf b = {NULL, 0, 0};
    char next[32], id[16];
    int cmd_id = 1;
    memset(out, 0, sizeof *out);
    out->header_status = out->alert_status = -1;
    ++c->session;
    c->msg = 0;
    snprintf(c->url, sizeof c->url, "http://localhost/sync");
    snprintf(next, sizeof next, "A%d", c->next_anchor);

    /* Package 1: the Alert. */
    header(c, &b);
    put(&b,
        "<Alert><CmdID>%d</CmdID><Data>%d</Data><Item><Target><LocURI>%s</LocURI></Target><Source><LocURI>./%s"
        "</LocURI></Source><Meta><Anchor xmlns='syncml:metinf'><Last>%s</Last><Next>%s</Next></Anchor></Meta></Item>"
        "</Alert>",
        cmd_id++, code, c->db, c->db, c->anchor, next);
    if (send(c, &b) != 0) goto stop;
    out->header_status = sc_status(c->reply, "SyncHdr");
    out->alert_status = sc_status(c->reply, "Alert");
    if (out->header_status != 212 || (out->alert_status != 200 && out->alert_status != 508)) goto stop;

    /* Package 3: the client's changes, CmdIDs numbered in place of '#'. */
    header(c, &b);
    cmd_id = 1;
    statuses(c, &b, &cmd_id);
    put(&b, "<Sync><CmdID>%d</CmdID><Target><LocURI>%s</LocURI></Target><Source><LocURI>./%s</LocURI></Source>",
        cmd_id++, c->db, c->db);
    {
        const char *p = out->alert_status == 508 && c->slow_ops ? c->slow_ops : ops, *hash;
        while ((hash = strstr(p, "<CmdID>#</CmdID>")) != NULL) {
            put(&b, "%.*s<CmdID>%d</CmdID>", (int)(hash - p), p, cmd_id++);
            p = hash + strlen("<CmdID>#</CmdID>");
        }
        put(&b, "%s</Sync>", p);
    }
    if (send(c, &b) != 0) goto stop;
    out->changes_reply = dup_text(c->reply);
    if (sc_status(c->reply, "SyncHdr") != 200) goto stop;
    out->server_sync = dup_text(c->reply);
    out->server_adds = count_ops(c->reply, "Add");
    out->server_replaces = count_ops(c->reply, "Replace");
    out->server_deletes = count_ops(c->reply, "Delete");
    if (c->session_ended) { /* nothing for the client to answer (a refresh from it, say) */
        out->completed = 1;
        goto done;
    }

    /* Package 5: statuses and the Map. */
    header(c, &b);
    cmd_id = 1;
    statuses(c, &b, &cmd_id);
    if (out->server_adds) {
        const char *p = strstr(c->reply, "<Sync>");
        put(&b, "<Map><CmdID>%d</CmdID><Target><LocURI>%s</LocURI></Target><Source><LocURI>./%s</LocURI></Source>",
            cmd_id++, c->db, c->db);
        while ((p = strstr(p, "<Add>")) != NULL) {
            const char *src = strstr(p, "<Source>");
            p += 5;
            if (src && text_of(src, "LocURI", id, sizeof id))
                put(&b, "<MapItem><Target><LocURI>%s</LocURI></Target><Source><LocURI>c%s</LocURI></Source></MapItem>",
                    id, id);
        }
        put(&b, "</Map>");
    }
    if (send(c, &b) != 0) goto stop;
    if (sc_status(c->reply, "SyncHdr") != 200) goto stop;
    out->completed = c->session_ended;
done:
    if (out->completed) {
        snprintf(c->anchor, sizeof c->anchor, "%s", next);
        ++c->next_anchor;
    }
stop:
    free(b.p);
    return out->completed ? 0 : -1;
}

void sc_session_free(sc_session *s) {
    free(s->server_sync);
    free(s->changes_reply);
    s->server_sync = s->changes_reply = NULL;
}
