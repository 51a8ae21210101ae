"""A scripted SyncML client for the binding's tests: it builds SyncML 1.2
messages as XML, sends them through Server.process() and reads the replies.

    c = ScriptedClient(server, "alice", "secret", "dev-1")
    result = c.sync("contacts", 201, adds={"c1": vcard, ...})
    result.statuses("Add") -> [201, ...]; result.server_ops -> [("Add", guid, data), ...]

sync() runs a whole session: package 1 (Alert), 3 (the client's changes
plus statuses), 5 (statuses plus a Map of the server's Adds), and stops as
soon as the server ends the session. Every Status of every reply is kept.
"""

import base64
import hashlib
import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape

CONTENT_TYPE = "application/vnd.syncml+xml"
MAX_MESSAGES = 12  # a session that takes more is a failure, not a loop


def strip_namespaces(element):
    for e in element.iter():
        if "}" in e.tag:
            e.tag = e.tag.split("}", 1)[1]
    return element


def text(element, path, default=""):
    found = element.find(path)
    return found.text if found is not None and found.text is not None else default


def vcard(n):
    """A distinct vCard 3.0 contact number n."""
    return ("BEGIN:VCARD\r\nVERSION:3.0\r\nN:Person%03d;Test;;;\r\nFN:Test Person%03d\r\n"
            "EMAIL;TYPE=INTERNET:person%03d@example.com\r\nTEL;TYPE=CELL:+4930%06d\r\nEND:VCARD\r\n"
            % (n, n, n, n))


class SessionResult:
    def __init__(self):
        self.replies = []          # parsed replies, in order
        self.http_statuses = []
        self.status_list = []      # (cmd, code) of every Status the server sent
        self.server_ops = []       # (kind, source LocURI, data) the server's Sync carried
        self.server_alerts = []    # codes of the server's Alert commands
        self.ended = False

    def statuses(self, cmd):
        return [code for c, code in self.status_list if c == cmd]

    def failures(self):
        return [(c, code) for c, code in self.status_list if code >= 400]


class ScriptedClient:
    def __init__(self, server, user, password, device, url="http://127.0.0.1:7887/sync", auth="basic",
                 devinf=None):
        self.server, self.user, self.password, self.device = server, user, password, device
        self.devinf = devinf  # (Man, Mod): a DevInf Put in package 1
        self.base_url = url
        self.auth = auth
        self.nonce = b""
        self.session = 0
        self.anchor = 0

    # -- messages ----------------------------------------------------------

    def _cred(self):
        if self.auth == "basic":
            data = base64.b64encode(("%s:%s" % (self.user, self.password)).encode()).decode()
            kind = "syncml:auth-basic"
        else:
            secret = base64.b64encode(hashlib.md5(("%s:%s" % (self.user, self.password)).encode()).digest())
            data = base64.b64encode(hashlib.md5(secret + b":" + self.nonce).digest()).decode()
            kind = "syncml:auth-md5"
        return ('<Cred><Meta><Format xmlns="syncml:metinf">b64</Format><Type xmlns="syncml:metinf">%s</Type>'
                '</Meta><Data>%s</Data></Cred>' % (kind, data))

    def _message(self, body, final=True):
        self.msg_id += 1
        cred = self._cred() if self.msg_id == 1 else ""
        name = "<LocName>%s</LocName>" % escape(self.user) if self.auth == "md5" else ""
        return ('<?xml version="1.0" encoding="UTF-8"?><SyncML><SyncHdr><VerDTD>1.2</VerDTD>'
                '<VerProto>SyncML/1.2</VerProto><SessionID>%d</SessionID><MsgID>%d</MsgID>'
                '<Target><LocURI>%s</LocURI></Target><Source><LocURI>%s</LocURI>%s</Source>%s'
                '<Meta><MaxMsgSize xmlns="syncml:metinf">150000</MaxMsgSize></Meta></SyncHdr>'
                '<SyncBody>%s%s</SyncBody></SyncML>'
                % (self.session, self.msg_id, escape(self.base_url), escape(self.device), name, cred, body,
                   "<Final/>" if final else "")).encode("utf-8")

    def _statuses(self, reply, code_for=None):
        """Statuses answering every command of `reply` (200, or code_for(cmd))."""
        out = ['<Status><CmdID>%d</CmdID><MsgRef>%s</MsgRef><CmdRef>0</CmdRef><Cmd>SyncHdr</Cmd>'
               '<Data>200</Data></Status>' % (self._cmd_id(), text(reply, "SyncHdr/MsgID"))]

        def walk(commands):
            for c in commands:
                if c.tag in ("Status", "Final", "Meta", "Target", "Source", "CmdID", "NumberOfChanges"):
                    continue
                code = code_for(c) if code_for else 200
                out.append('<Status><CmdID>%d</CmdID><MsgRef>%s</MsgRef><CmdRef>%s</CmdRef><Cmd>%s</Cmd>'
                           '<Data>%d</Data></Status>' % (self._cmd_id(), text(reply, "SyncHdr/MsgID"),
                                                         text(c, "CmdID"), c.tag, code))
                if c.tag == "Sync":
                    walk(list(c))
        walk(list(reply.find("SyncBody")))
        return "".join(out)

    def _devinf_put(self, db):
        man, mod = self.devinf
        return ('<Put><CmdID>%d</CmdID><Meta><Type xmlns="syncml:metinf">application/vnd.syncml-devinf+xml</Type>'
                '</Meta><Item><Source><LocURI>./devinf12</LocURI></Source><Data><DevInf xmlns="syncml:devinf">'
                '<VerDTD>1.2</VerDTD><Man>%s</Man><Mod>%s</Mod><DevID>%s</DevID><DevTyp>phone</DevTyp>'
                '<DataStore><SourceRef>./%s</SourceRef><Rx-Pref><CTType>text/vcard</CTType><VerCT>3.0</VerCT>'
                '</Rx-Pref><Tx-Pref><CTType>text/vcard</CTType><VerCT>3.0</VerCT></Tx-Pref><SyncCap>'
                '<SyncType>1</SyncType><SyncType>2</SyncType></SyncCap></DataStore></DevInf></Data></Item></Put>'
                % (self._cmd_id(), escape(man), escape(mod), escape(self.device), escape(db)))

    def _cmd_id(self):
        self.cmd_id += 1
        return self.cmd_id

    def send(self, body, result):
        reply = self.server.process(body, CONTENT_TYPE, self.url, "127.0.0.1")
        result.http_statuses.append(reply.http_status)
        if reply.http_status != 200:
            result.ended = True
            return None
        doc = strip_namespaces(ET.fromstring(reply.body))
        result.replies.append(doc)
        resp_uri = text(doc, "SyncHdr/RespURI")
        if resp_uri:
            self.url = resp_uri
        for status in doc.iter("Status"):
            result.status_list.append((text(status, "Cmd"), int(text(status, "Data", "0"))))
            nonce = text(status, "Chal/Meta/NextNonce")
            if nonce:
                self.nonce = base64.b64decode(nonce)
        for alert in doc.findall("SyncBody/Alert"):
            result.server_alerts.append(int(text(alert, "Data", "0")))
        for sync in doc.findall("SyncBody/Sync"):
            for op in sync:
                if op.tag in ("Add", "Replace", "Delete"):
                    for item in op.findall("Item"):
                        result.server_ops.append((op.tag, text(item, "Source/LocURI"), text(item, "Data")))
        if reply.session_ended:
            result.ended = True
        return doc

    # -- a session ---------------------------------------------------------

    def sync(self, db, code, adds=None, replaces=None, deletes=(), last=None):
        """One session: Alert `code` for `db`, then the client's changes
        (adds and replaces: {luid: vCard text}; deletes: [luid]), then the
        Map of the server's Adds. Returns a SessionResult."""
        self.session += 1
        self.msg_id = 0
        self.cmd_id = 0
        self.url = self.base_url
        result = SessionResult()
        previous = str(self.anchor) if last is None else last
        next_anchor = self.anchor + 1
        alert = ('<Alert><CmdID>%d</CmdID><Data>%d</Data><Item><Target><LocURI>%s</LocURI></Target>'
                 '<Source><LocURI>./%s</LocURI></Source><Meta><Anchor xmlns="syncml:metinf"><Last>%s</Last>'
                 '<Next>%d</Next></Anchor></Meta></Item></Alert>'
                 % (self._cmd_id(), code, escape(db), escape(db), previous, next_anchor))
        if self.devinf:
            alert = self._devinf_put(db) + alert
        reply = self.send(self._message(alert), result)
        if self.auth == "md5" and result.statuses("SyncHdr") == [401] and self.nonce:
            # The first MD5 credential had no nonce: the server sent one
            # with its 401, and a client starts the session over with it.
            self.session += 1
            self.msg_id = 0
            self.url = self.base_url
            result.ended = False
            result.status_list.clear()
            reply = self.send(self._message(alert), result)
        if reply is None or result.ended:
            return result

        ops = []
        for kind, items in (("Add", adds or {}), ("Replace", replaces or {})):
            for luid, data in items.items():
                ops.append('<%s><CmdID>%d</CmdID><Meta><Type xmlns="syncml:metinf">text/vcard</Type></Meta>'
                           '<Item><Source><LocURI>%s</LocURI></Source><Data>%s</Data></Item></%s>'
                           % (kind, self._cmd_id(), escape(luid), escape(data), kind))
        for luid in deletes:
            ops.append('<Delete><CmdID>%d</CmdID><Item><Source><LocURI>%s</LocURI></Source></Item></Delete>'
                       % (self._cmd_id(), escape(luid)))
        sync = ('<Sync><CmdID>%d</CmdID><Target><LocURI>%s</LocURI></Target><Source><LocURI>./%s</LocURI>'
                '</Source>%s</Sync>' % (self._cmd_id(), escape(db), escape(db), "".join(ops)))
        reply = self.send(self._message(self._statuses(reply) + sync), result)

        # Answer the server's changes (201 for its Adds, mapped to "c<GUID>")
        # until it ends the session.
        for _ in range(MAX_MESSAGES):
            # Over HTTP there is no session_ended: a reply of statuses only
            # leaves the client nothing to answer, and ends the session too.
            if reply is not None and all(c.tag in ("Status", "Final") for c in reply.find("SyncBody")):
                result.ended = True
            if reply is None or result.ended:
                # As a client does: the next anchor counts only when the
                # session completed (item statuses like 510 do not stop it).
                if set(result.http_statuses) == {200} and 500 not in [c for _, c in result.status_list]:
                    self.anchor = next_anchor
                return result
            maps = []
            for s in reply.findall("SyncBody/Sync"):
                for op in s.findall("Add"):
                    for item in op.findall("Item"):
                        guid = text(item, "Source/LocURI")
                        maps.append('<MapItem><Target><LocURI>%s</LocURI></Target><Source><LocURI>c%s</LocURI>'
                                    '</Source></MapItem>' % (escape(guid), escape(guid)))
            body = self._statuses(reply, lambda c: 201 if c.tag == "Add" else 200)
            if maps:
                body += ('<Map><CmdID>%d</CmdID><Target><LocURI>%s</LocURI></Target><Source><LocURI>./%s</LocURI>'
                         '</Source>%s</Map>' % (self._cmd_id(), escape(db), escape(db), "".join(maps)))
            reply = self.send(self._message(body), result)
        raise AssertionError("the session did not end within %d messages" % MAX_MESSAGES)
