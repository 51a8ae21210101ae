#!/usr/bin/env python3
"""syncmlkit-httpd as a user runs it, checked at the HTTP layer.

Usage: httpd_process_test.py SYNCMLKIT_HTTPD FIXTURES_DIR WORK_DIR

Starts the real binary on a free loopback port (--port 0) with a data and a
log directory of its own under WORK_DIR, POSTs a captured first message
plainly and compressed, and checks status lines, Content-Length,
Content-Encoding and Uncompressed-Content-Length, the GET page, the
start-up and access-log lines, the --log-dir files and a clean stop on
SIGTERM. Every server started is stopped whatever happens, and every wait is
bounded.

The SyncML content itself is the engine's business (tests/unit, tests/interop):
the checks here hold whether process() answers 200 with a SyncML body or
an error status with a text body.
"""

import base64
import gzip
import http.client
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
import unittest
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
import zlib

HTTPD = FIXTURES = WORK = None
STARTUP_TIMEOUT = 20      # seconds until the start-up line
STOP_TIMEOUT = 15         # seconds from SIGTERM to exit (keep-alive waits up to 5)
REQUEST_TIMEOUT = 30      # seconds for any one HTTP exchange
FIRST_MESSAGE = "captures/syncevolution/first-message/contacts-two-way-xml-md5.xml"
SYNCML_XML = "application/vnd.syncml+xml"
LISTENING = re.compile(r"^syncmlkit-httpd (\S+) listening on (https?)://127\.0\.0\.1:(\d+)/ \(data: (.*)\)$")


class Server:
    """One syncmlkit-httpd process, its output collected line by line."""

    def __init__(self, args, name):
        self.dir = os.path.join(WORK, name)
        shutil.rmtree(self.dir, ignore_errors=True)
        os.makedirs(self.dir)
        self.data = os.path.join(self.dir, "data")
        self.logs = os.path.join(self.dir, "logs")
        self.args = [HTTPD, "--port", "0", "--bind", "127.0.0.1", "--data", self.data] + args
        self.out, self.err = [], []
        self.lock = threading.Lock()
        self.proc = None
        self.port = None
        self.scheme = None

    def start(self, expect_listening=True):
        self.proc = subprocess.Popen(self.args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, cwd=self.dir)
        for stream, lines in ((self.proc.stdout, self.out), (self.proc.stderr, self.err)):
            threading.Thread(target=self._collect, args=(stream, lines), daemon=True).start()
        if not expect_listening:
            return
        line = self.wait_for_line(LISTENING.match, STARTUP_TIMEOUT)
        if line is None:
            raise AssertionError("no start-up line within %ds; stdout:\n%s\nstderr:\n%s"
                                 % (STARTUP_TIMEOUT, "\n".join(self.out), "\n".join(self.err)))
        m = LISTENING.match(line)
        self.scheme, self.port = m.group(2), int(m.group(3))

    def _collect(self, stream, lines):
        for raw in stream:
            with self.lock:
                lines.append(raw.decode("utf-8", "replace").rstrip("\n"))

    def wait_for_line(self, predicate, timeout, stream="out"):
        """The first line of stdout (or stderr) for which predicate holds, or None."""
        deadline = time.monotonic() + timeout
        while True:
            with self.lock:
                for line in (self.out if stream == "out" else self.err):
                    if predicate(line):
                        return line
            if time.monotonic() > deadline:
                return None
            time.sleep(0.05)

    def wait_exit(self, timeout):
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self):
        """SIGTERM, then SIGKILL if it does not go; returns the exit status after SIGTERM, or None."""
        if self.proc is None or self.proc.poll() is not None:
            return None if self.proc is None else self.proc.returncode
        self.proc.send_signal(signal.SIGTERM)
        status = self.wait_exit(STOP_TIMEOUT)
        if status is None:
            self.proc.kill()
            self.wait_exit(STOP_TIMEOUT)
        return status

    def connection(self):
        if self.scheme == "https":
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE  # the test's own self-signed certificate
            return http.client.HTTPSConnection("127.0.0.1", self.port, timeout=REQUEST_TIMEOUT, context=context)
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=REQUEST_TIMEOUT)


def fixture(relative):
    with open(os.path.join(FIXTURES, relative), "rb") as f:
        return f.read()


def raw_deflate(data):
    """A raw deflate stream (RFC 1951, no zlib header), as some clients send."""
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush()


def syncml_header_status(reply):
    """The Data of the reply's Status for the SyncHdr (XML), or None."""
    m = re.search(rb"<Status><CmdID>\d+</CmdID><MsgRef>\d+</MsgRef><CmdRef>0</CmdRef><Cmd>SyncHdr</Cmd>.*?<Data>(\d+)</Data>",
                  reply)
    return m.group(1).decode() if m else None


def exchange(conn, method, path, body=None, headers=None):
    """(response, body bytes) of one request on `conn`."""
    conn.request(method, path, body=body, headers=headers or {})
    response = conn.getresponse()
    return response, response.read()


class HttpLayer(unittest.TestCase):
    """The server with the demo user (no --users) and --log-dir."""

    @classmethod
    def setUpClass(cls):
        cls.server = Server(["--log-dir", "logs"], "main")
        cls.addClassCleanup(cls.server.stop)
        cls.server.start()
        cls.message = fixture(FIRST_MESSAGE)

    def setUp(self):
        self.conn = self.server.connection()
        self.addCleanup(self.conn.close)

    def post(self, body, headers, path="/sync"):
        all_headers = {"Content-Type": SYNCML_XML}
        all_headers.update(headers)
        return exchange(self.conn, "POST", path, body, all_headers)

    def check_length(self, response, body):
        self.assertEqual(response.version, 11, "HTTP/1.1 status line")
        self.assertIsNone(response.getheader("Transfer-Encoding"), "never chunked")
        self.assertIsNotNone(response.getheader("Content-Length"), "Content-Length always sent")
        self.assertEqual(int(response.getheader("Content-Length")), len(body))

    def check_syncml_reply(self, response, plain):
        """A SyncML message gets HTTP 200 and a SyncML reply (the fixture's
        credentials are not the demo user's: the reply is a 401 challenge
        inside SyncML, not an HTTP error; after a few of them the engine
        refuses logins from this address for a while, 503 inside SyncML,
        and the host says for how long in Retry-After)."""
        self.assertEqual(response.status, 200)
        content_type = response.getheader("Content-Type", "")
        self.assertEqual(content_type.split(";")[0], SYNCML_XML)
        self.assertIn(b"<SyncML", plain)
        self.assertIn(b"</SyncML>", plain)
        status = syncml_header_status(plain)
        self.assertIn(status, ("401", "503"))
        if status == "503":
            self.assertGreater(int(response.getheader("Retry-After")), 0)
        else:
            self.assertIsNone(response.getheader("Retry-After"))

    def test_startup_output(self):
        out = "\n".join(self.server.out)
        self.assertRegex(out, r'user "demo", password "[A-Za-z0-9]{16}"')
        # Kept in the data dir, owner-only, so a configured client still logs in after a restart.
        password = re.search(r'password "([A-Za-z0-9]{16})"', out).group(1)
        kept = os.path.join(self.server.data, "demo-password")
        with open(kept) as f:
            self.assertEqual(f.read().strip(), password)
        self.assertEqual(os.stat(kept).st_mode & 0o777, 0o600)
        line = self.server.wait_for_line(LISTENING.match, 1)
        version, scheme, port, data = LISTENING.match(line).groups()
        self.assertRegex(version, r"^\d+\.\d+\.\d+$")
        self.assertEqual(scheme, "http")
        self.assertEqual(data, self.server.data)
        self.assertTrue(os.path.isdir(self.server.data), "--data is created")
        self.assertTrue(os.path.isdir(os.path.join(self.server.data, "state")), "state_dir is <data>/state")

    def test_post_without_length(self):
        """No Content-Length and no chunked coding: 411 at once, not a wait."""
        sock = socket.create_connection(("127.0.0.1", self.server.port), timeout=10)
        self.addCleanup(sock.close)
        started = time.monotonic()
        sock.sendall(b"POST /sync HTTP/1.1\r\nHost: x\r\nContent-Type: " + SYNCML_XML.encode() +
                     b"\r\n\r\n<SyncML>")
        head = sock.recv(4096)
        # Before, the host waited for the body until its request timeout
        # (60 s by default); half of that is "at once" even on a loaded machine.
        self.assertLess(time.monotonic() - started, 30)
        self.assertTrue(head.startswith(b"HTTP/1.1 411 "), head[:80])
        self.assertIn(b"Content-Length", head)

    def test_plain_post(self):
        response, body = self.post(self.message, {"Accept-Encoding": "identity"}, "/sync?probe=plain")
        self.check_length(response, body)
        self.assertIsNone(response.getheader("Content-Encoding"))
        self.assertIsNone(response.getheader("Uncompressed-Content-Length"))
        self.check_syncml_reply(response, body)
        line = self.server.wait_for_line(lambda l: " POST /sync?probe=plain " in l, 5)
        self.assertIsNotNone(line, "one access-log line a message")
        self.assertRegex(line, r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z 127\.0\.0\.1 POST /sync\?probe=plain '
                               r'"application/vnd\.syncml\+xml" %d %d %d [0-9.]+ms$'
                         % (len(self.message), 200, len(body)))

    def test_deflate_post(self):
        # Both forms HTTP clients send as "deflate": zlib streams and raw deflate.
        for name, compressed in (("zlib", zlib.compress(self.message)), ("raw", raw_deflate(self.message))):
            with self.subTest(name):
                response, body = self.post(compressed, {"Content-Encoding": "deflate", "Accept-Encoding": "deflate"},
                                           "/sync?probe=deflate-" + name)
                self.check_length(response, body)
                self.assertEqual(response.getheader("Content-Encoding"), "deflate")
                plain = zlib.decompress(body)
                self.assertEqual(int(response.getheader("Uncompressed-Content-Length")), len(plain))
                self.check_syncml_reply(response, plain)
                line = self.server.wait_for_line(lambda l: " POST /sync?probe=deflate-%s " % name in l, 5)
                self.assertIsNotNone(line)
                self.assertIn(" %d/deflate %d %d/deflate " % (len(compressed), response.status, len(body)), line)

    def test_gzip_post(self):
        response, body = self.post(gzip.compress(self.message),
                                   {"Content-Encoding": "gzip", "Accept-Encoding": "gzip, deflate"})
        self.check_length(response, body)
        self.assertEqual(response.getheader("Content-Encoding"), "gzip", "the request's own coding is preferred")
        self.assertIsNone(response.getheader("Uncompressed-Content-Length"))
        self.check_syncml_reply(response, gzip.decompress(body))

    def test_plain_post_deflated_reply(self):
        response, body = self.post(self.message, {"Accept-Encoding": "gzip, deflate"})
        self.check_length(response, body)
        self.assertEqual(response.getheader("Content-Encoding"), "deflate", "deflate preferred when offered")
        plain = zlib.decompress(body)
        self.assertEqual(int(response.getheader("Uncompressed-Content-Length")), len(plain))
        self.check_syncml_reply(response, plain)

    def test_unknown_content_encoding(self):
        response, body = self.post(self.message, {"Content-Encoding": "br"})
        self.check_length(response, body)
        self.assertEqual(response.status, 415)
        self.assertIn(b"unsupported Content-Encoding", body)

    def test_corrupt_deflate(self):
        response, body = self.post(b"this is not deflate", {"Content-Encoding": "deflate"})
        self.check_length(response, body)
        self.assertEqual(response.status, 400)

    def test_zip_bomb(self):
        c = zlib.compressobj(9)
        chunk = bytes(1 << 20)
        bomb = b"".join(c.compress(chunk) for _ in range(40)) + c.flush()  # 40 MiB of zeros in 40 kB
        started = time.monotonic()
        response, body = self.post(bomb, {"Content-Encoding": "deflate"})
        self.check_length(response, body)
        self.assertEqual(response.status, 413)
        self.assertLess(time.monotonic() - started, REQUEST_TIMEOUT)

    def test_chunked_post(self):
        # A body without Content-Length, in chunks; the reply still has one.
        pieces = [self.message[i:i + 1000] for i in range(0, len(self.message), 1000)]
        self.conn.request("POST", "/sync?probe=chunked", body=iter(pieces),
                          headers={"Content-Type": SYNCML_XML}, encode_chunked=True)
        response = self.conn.getresponse()
        body = response.read()
        self.check_length(response, body)
        self.check_syncml_reply(response, body)

    def test_too_large(self):
        # The bound is twice the MaxMsgSize (150000): smk::effective_max_request_size.
        big = b"x" * (2 * 150000 + 1000)
        response, body = self.post(big, {})
        self.check_length(response, body)
        self.assertEqual(response.status, 413)
        self.assertIn(b"larger than 300000 bytes", body)
        # The body was read: the connection serves the next request.
        response, body = exchange(self.conn, "GET", "/")
        self.assertEqual(response.status, 200)
        # A body far too large to be worth reading is refused at once.
        conn = self.server.connection()
        self.addCleanup(conn.close)
        conn.putrequest("POST", "/sync")
        conn.putheader("Content-Type", SYNCML_XML)
        conn.putheader("Content-Length", str(1 << 30))
        conn.endheaders()
        response = conn.getresponse()
        body = response.read()
        self.check_length(response, body)
        self.assertEqual(response.status, 413)
        # Sent in chunks, the bound holds too (little is left unread on the
        # connection: the server stops in the last chunk).
        conn = self.server.connection()
        self.addCleanup(conn.close)
        conn.request("POST", "/sync", body=iter([big[i:i + (1 << 20)] for i in range(0, len(big), 1 << 20)]),
                     headers={"Content-Type": SYNCML_XML}, encode_chunked=True)
        response = conn.getresponse()
        body = response.read()
        self.check_length(response, body)
        self.assertEqual(response.status, 413)

    def test_concurrent_posts(self):
        results, errors = [], []

        def client(n):
            try:
                conn = self.server.connection()
                try:
                    for i in range(4):
                        response, body = exchange(conn, "POST", "/sync?probe=c%d-%d" % (n, i), zlib.compress(self.message),
                                                  {"Content-Type": SYNCML_XML, "Content-Encoding": "deflate",
                                                   "Accept-Encoding": "deflate"})
                        results.append((response.status, int(response.getheader("Content-Length")), len(body),
                                        int(response.getheader("Uncompressed-Content-Length") or -1),
                                        len(zlib.decompress(body)) if body else -1))
                finally:
                    conn.close()
            except Exception as e:  # reported below, in the test's thread
                errors.append(repr(e))

        threads = [threading.Thread(target=client, args=(n,)) for n in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(REQUEST_TIMEOUT * 4)
        self.assertFalse(any(t.is_alive() for t in threads), "clients finished in time")
        self.assertEqual(errors, [])
        self.assertEqual(len(results), 32)
        for status, length, got, uncompressed, inflated in results:
            self.assertEqual(status, 200)
            self.assertEqual(length, got)
            self.assertEqual(uncompressed, inflated)

    def test_get_page(self):
        response, body = exchange(self.conn, "GET", "/")
        self.check_length(response, body)
        self.assertEqual(response.status, 200)
        self.assertTrue(response.getheader("Content-Type").startswith("text/plain"))
        self.assertIn(b"SyncML server", body)
        self.assertIn(("http://127.0.0.1:%d/" % self.server.port).encode(), body)
        self.assertIn(b"notes", body)
        self.assertNotIn(b"demo", body, "the public page names no user")
        # HEAD: the same headers, no body; the connection goes on.
        self.conn.request("HEAD", "/")
        response = self.conn.getresponse()
        self.assertEqual(response.status, 200)
        self.assertEqual(int(response.getheader("Content-Length")), len(body))
        self.assertEqual(response.read(), b"")
        response, again = exchange(self.conn, "GET", "/")
        self.assertEqual(again, body)

    def test_other_methods(self):
        # PUT with a body, then a GET on the same connection: the body was read.
        response, body = exchange(self.conn, "PUT", "/sync", b"x" * 1000, {"Content-Type": "text/plain"})
        self.check_length(response, body)
        self.assertEqual(response.status, 405)
        self.assertIn("POST", response.getheader("Allow"))
        response, body = exchange(self.conn, "GET", "/")
        self.assertEqual(response.status, 200)
        for method in ("DELETE", "OPTIONS", "PATCH"):
            with self.subTest(method):
                conn = self.server.connection()
                self.addCleanup(conn.close)
                response, body = exchange(conn, method, "/")
                self.check_length(response, body)
                self.assertEqual(response.status, 405)

    def test_headers_bounded(self):
        # Request line and headers must fit in 32 kB: a 40 kB header is refused
        # by libmicrohttpd before any handler runs.
        conn = self.server.connection()
        self.addCleanup(conn.close)
        response, body = exchange(conn, "GET", "/?probe=big-header", headers={"X-Filler": "a" * 40000})
        self.assertEqual(response.status, 431)
        self.assertIsNone(self.server.wait_for_line(lambda l: "probe=big-header" in l, 0.5))
        # 20 kB are fine.
        response, body = exchange(self.conn, "GET", "/", headers={"X-Filler": "a" * 20000})
        self.assertEqual(response.status, 200)

    def test_session_token_not_logged(self):
        token = "0123456789abcdef0123456789abcdef"
        response, _ = self.post(self.message, {}, "/sync?probe=token&s=" + token)
        self.assertEqual(response.status, 200)
        line = self.server.wait_for_line(lambda l: " POST /sync?probe=token&s=" in l, 5)
        self.assertIsNotNone(line)
        self.assertIn(" /sync?probe=token&s=01234567... ", line)
        self.assertNotIn(token, "\n".join(self.server.out + self.server.err))

    def test_message_log_files(self):
        response, _ = self.post(self.message, {}, "/sync?probe=log")
        names = sorted(os.listdir(os.path.join(self.server.dir, "logs")))
        pattern = re.compile(r"^\d{8}T\d{6}\.\d{3}Z-127\.0\.0\.1-syncevo-ci-client-\d{4}-(in|out)\.(xml|txt|bin)$")
        for name in names:
            self.assertRegex(name, pattern)
        ins = [n for n in names if n.endswith("-in.xml")]
        self.assertTrue(ins, names)
        for name in ins:
            with open(os.path.join(self.server.dir, "logs", name), "rb") as f:
                text = f.read()
            self.assertIn(b"<SyncML", text)
            self.assertIn(b"<LocURI>syncevo-ci-client</LocURI>", text)
            stem = name[: -len("-in.xml")]
            outs = [n for n in names if n.startswith(stem + "-out.")]
            self.assertEqual(len(outs), 1, "one reply file for %s" % name)
            self.assertTrue(outs[0].endswith(".xml"))
            with open(os.path.join(self.server.dir, "logs", outs[0]), "rb") as f:
                reply = f.read()
            self.assertIn(b"<SyncML", reply)
            self.assertIn(b"<SourceRef>syncevo-ci-client</SourceRef>", reply)


def basic(user, password):
    return "Basic " + base64.b64encode(("%s:%s" % (user, password)).encode()).decode()


def http_get(url, authorization=None, method="GET"):
    """(status, headers, body text) of one request with urllib."""
    request = urllib.request.Request(url, method=method)
    if authorization is not None:
        request.add_header("Authorization", authorization)
    try:
        with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT) as response:
            return response.status, response.headers, response.read().decode("utf-8")
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read().decode("utf-8")


class ScriptedClient:
    """A SyncML client over HTTP, scripted: one two-way or slow sync of one
    database with the client's own Adds, packages 1, 3 and 5, Basic
    credentials and a DevInf."""

    NS = "{SYNCML:SYNCML1.2}"

    def __init__(self, url, user, password, device, man, mod):
        self.url, self.user, self.password, self.device = url, user, password, device
        self.man, self.mod = man, mod
        self.session = str(int(time.time() * 1000) % 100000)
        self.msg_id = 0
        self.target = url

    def header(self, cred):
        self.msg_id += 1
        text = ("<SyncHdr><VerDTD>1.2</VerDTD><VerProto>SyncML/1.2</VerProto><SessionID>%s</SessionID>"
                "<MsgID>%d</MsgID><Target><LocURI>%s</LocURI></Target><Source><LocURI>%s</LocURI></Source>"
                % (self.session, self.msg_id, self.url, self.device))
        if cred:
            text += ("<Cred><Meta><Format xmlns='syncml:metinf'>b64</Format><Type xmlns='syncml:metinf'>"
                     "syncml:auth-basic</Type></Meta><Data>%s</Data></Cred>"
                     % base64.b64encode(("%s:%s" % (self.user, self.password)).encode()).decode())
        return text + "<Meta><MaxMsgSize xmlns='syncml:metinf'>150000</MaxMsgSize></Meta></SyncHdr>"

    def send(self, body, cred=False):
        message = ("<?xml version='1.0' encoding='UTF-8'?><SyncML xmlns='SYNCML:SYNCML1.2'>" + self.header(cred) +
                   "<SyncBody>" + body + "<Final/></SyncBody></SyncML>")
        request = urllib.request.Request(self.target, data=message.encode(), method="POST",
                                         headers={"Content-Type": SYNCML_XML})
        with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT) as response:
            reply = response.read()
        root = ET.fromstring(reply)
        resp_uri = root.find(self.NS + "SyncHdr/" + self.NS + "RespURI")
        if resp_uri is not None and resp_uri.text:
            self.target = resp_uri.text
        return root

    def statuses(self, reply):
        """A Status 200 for the reply's header and each of its commands."""
        ns = self.NS
        msg_ref = reply.find(ns + "SyncHdr/" + ns + "MsgID").text
        out = ["<Status><CmdID>%d</CmdID><MsgRef>%s</MsgRef><CmdRef>0</CmdRef><Cmd>SyncHdr</Cmd><Data>200</Data>"
               "</Status>" % (1, msg_ref)]
        commands = []
        for cmd in reply.find(ns + "SyncBody"):
            name = cmd.tag[len(ns):]
            if name in ("Status", "Final"):
                continue
            commands.append(cmd)
            if name == "Sync":
                commands.extend(c for c in cmd if c.tag[len(ns):] in ("Add", "Replace", "Delete"))
        for cmd in commands:
            out.append("<Status><CmdID>%d</CmdID><MsgRef>%s</MsgRef><CmdRef>%s</CmdRef><Cmd>%s</Cmd><Data>200</Data>"
                       "</Status>" % (len(out) + 1, msg_ref, cmd.find(ns + "CmdID").text, cmd.tag[len(ns):]))
        return "".join(out)

    def header_status(self, reply):
        ns = self.NS
        for status in reply.find(ns + "SyncBody").findall(ns + "Status"):
            if status.find(ns + "Cmd").text == "SyncHdr":
                return status.find(ns + "Data").text
        return None

    def sync(self, database, vcards, alert="201"):
        """Packages 1, 3 and 5; returns the SyncHdr status of the server's first reply."""
        devinf = ("<Put><CmdID>1</CmdID><Meta><Type xmlns='syncml:metinf'>application/vnd.syncml-devinf+xml</Type>"
                  "</Meta><Item><Source><LocURI>./devinf12</LocURI></Source><Data><DevInf xmlns='syncml:devinf'>"
                  "<VerDTD>1.2</VerDTD><Man>%s</Man><Mod>%s</Mod><DevID>%s</DevID><DevTyp>phone</DevTyp>"
                  "<DataStore><SourceRef>./%s</SourceRef><Rx-Pref><CTType>text/x-vcard</CTType><VerCT>2.1</VerCT>"
                  "</Rx-Pref><Tx-Pref><CTType>text/x-vcard</CTType><VerCT>2.1</VerCT></Tx-Pref><SyncCap>"
                  "<SyncType>1</SyncType><SyncType>2</SyncType></SyncCap></DataStore></DevInf></Data></Item></Put>"
                  % (self.man, self.mod, self.device, database.replace("/", "-")))
        alert_cmd = ("<Alert><CmdID>2</CmdID><Data>%s</Data><Item><Target><LocURI>%s</LocURI></Target><Source>"
                     "<LocURI>./%s</LocURI></Source><Meta><Anchor xmlns='syncml:metinf'><Next>%s</Next></Anchor>"
                     "</Meta></Item></Alert>" % (alert, database, database.replace("/", "-"), self.session))
        package2 = self.send(devinf + alert_cmd, cred=True)
        status = self.header_status(package2)
        if status not in ("200", "212"):
            return status
        adds = "".join("<Add><CmdID>%d</CmdID><Meta><Type xmlns='syncml:metinf'>text/x-vcard</Type></Meta><Item>"
                       "<Source><LocURI>%d</LocURI></Source><Data>%s</Data></Item></Add>" % (20 + i, i + 1, card)
                       for i, card in enumerate(vcards))
        sync = ("<Sync><CmdID>10</CmdID><Target><LocURI>%s</LocURI></Target><Source><LocURI>./%s</LocURI></Source>"
                "%s</Sync>" % (database, database.replace("/", "-"), adds))
        package4 = self.send(self.statuses(package2) + sync)
        self.send(self.statuses(package4))
        return status


class StatusPages(unittest.TestCase):
    """GET / for anyone, GET /devices for a signed-in user, after real syncs."""

    @classmethod
    def setUpClass(cls):
        files = os.path.join(WORK, "pages-files")
        os.makedirs(files, exist_ok=True)
        users = os.path.join(files, "users")
        with open(users, "w") as f:
            f.write("alice:alice-secret\nbob:bob-secret\ncarol:carol-secret\nerin:erin-secret\n")
        grants = os.path.join(files, "grants")
        with open(grants, "w") as f:
            f.write("alice/contacts: bob\n")
        cls.server = Server(["--users", users, "--grants", grants], "pages")
        cls.addClassCleanup(cls.server.stop)
        cls.server.start()
        cls.base = "http://127.0.0.1:%d" % cls.server.port

    def sync(self, user, password, device, database, cards, man="Maker", mod="Model"):
        client = ScriptedClient(self.base + "/sync", user, password, device, man, mod)
        self.assertIn(client.sync(database, cards), ("200", "212"))

    def devices(self, user, password):
        status, headers, body = http_get(self.base + "/devices", basic(user, password))
        self.assertEqual(status, 200, body)
        self.assertEqual(headers.get("Cache-Control"), "no-store")
        return body

    def test_front_page(self):
        status, headers, body = http_get(self.base + "/")
        self.assertEqual(status, 200)
        self.assertTrue(headers.get("Content-Type").startswith("text/plain"))
        self.assertEqual(headers.get("X-Content-Type-Options"), "nosniff")
        self.assertIn("syncmlkit-httpd %s:" % LISTENING.match(self.server.wait_for_line(LISTENING.match, 1)).group(1),
                      body)
        self.assertIn("\n  %s/\n" % self.base, body, "the URL for clients")
        for name in ("contacts", "calendar", "tasks", "notes"):
            self.assertRegex(body, r"(?m)^  %s +your " % name)
            self.assertIn("OWNER/%s" % name, body)
        self.assertIn("Global Address Book/contacts", body)
        self.assertIn("%s/devices" % self.base, body)
        # The aliases are the engine's, each beside its category.
        with open(os.path.join(FIXTURES, "..", "..", "lib", "engine", "database_name.cpp")) as f:
            builtins = re.findall(r'\{"([a-z]+)", Category::([a-z]+)\}', f.read())
        self.assertGreaterEqual(len(builtins), 14)
        for alias, category in builtins:
            if alias != category:
                line = re.search(r"(?m)^  %s .*$" % category, body).group(0)
                self.assertRegex(line, r"[ :]%s[,)]" % alias, "alias %s of %s" % (alias, category))
        # HEAD: the same length, no body.
        status, headers, head_body = http_get(self.base + "/", method="HEAD")
        self.assertEqual(status, 200)
        self.assertEqual(int(headers.get("Content-Length")), len(body.encode()))
        self.assertEqual(head_body, "")

    def test_devices_needs_credentials(self):
        self.sync("carol", "carol-secret", "carol-phone", "tasks", [])
        for authorization in (None, basic("carol", "wrong"), basic("nobody", "carol-secret"), "Basic !!!",
                              "Bearer abc", basic("", "")):
            with self.subTest(authorization=authorization):
                status, headers, body = http_get(self.base + "/devices", authorization)
                self.assertEqual(status, 401)
                self.assertEqual(headers.get("WWW-Authenticate"), 'Basic realm="SyncMLKit"')
                self.assertNotIn("carol", body)
                self.assertNotIn("phone", body)
        status, headers, body = http_get(self.base + "/devices", method="HEAD")
        self.assertEqual(status, 401)
        self.assertIn("carol-phone", self.devices("carol", "carol-secret"))

    def test_wrong_passwords_are_throttled(self):
        # The engine's login throttle: from loopback only the user counts;
        # after a few failures even the right password waits (429), and a
        # SyncML login of that user is held back as well (503 inside SyncML).
        self.sync("erin", "erin-secret", "erin-phone", "tasks", [])
        codes = [http_get(self.base + "/devices", basic("erin", "guess-%d" % i))[0] for i in range(8)]
        self.assertEqual(codes[:5], [401] * 5)
        self.assertEqual(codes[5:], [429] * 3)
        status, headers, body = http_get(self.base + "/devices", basic("erin", "erin-secret"))
        self.assertEqual(status, 429)
        self.assertGreater(int(headers.get("Retry-After")), 0)
        self.assertNotIn("erin-phone", body)
        client = ScriptedClient(self.base + "/sync", "erin", "erin-secret", "erin-other-phone", "M", "N")
        self.assertEqual(client.sync("tasks", []), "503")
        # The block ends; the right password gets in again.
        time.sleep(int(headers.get("Retry-After")) + 1)
        self.assertIn("erin-phone", self.devices("erin", "erin-secret"))

    def test_devices_after_a_sync(self):
        card = "BEGIN:VCARD\r\nVERSION:2.1\r\nN:Example;Ann\r\nFN:Ann Example\r\nEND:VCARD\r\n"
        before = time.time()
        self.sync("alice", "alice-secret", "alice-phone", "contacts", [card], "Nokia", "N95 &lt;8GB&gt;")
        self.sync("bob", "bob-secret", "bob-phone", "alice/contacts", [])   # granted: state in alice's file
        self.sync("bob", "bob-secret", "bob-phone", "notes", [])
        page = self.devices("alice", "alice-secret")
        self.assertIn("the devices of alice", page)
        self.assertRegex(page, r"(?m)^alice-phone\n  make: Nokia, model: N95 <8GB>, last login: "
                               r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\n  contacts: last sync "
                               r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) UTC \(1 item\)$")
        when = re.search(r"contacts: last sync (\S+ \S+) UTC", page).group(1)
        synced = time.mktime(time.strptime(when, "%Y-%m-%d %H:%M:%S")) - time.timezone
        self.assertLessEqual(abs(synced - before), 60)
        self.assertNotIn("bob", page, "bob's device has state in alice/contacts, but is not alice's")
        self.assertEqual(page.count("\n  make: "), 1)
        page = self.devices("bob", "bob-secret")
        self.assertRegex(page, r"(?m)^bob-phone\n  make: Maker, model: Model, last login: .* UTC\n"
                               r"  notes: last sync .* UTC \(0 items\)$")
        self.assertNotIn("alice", page)
        # The public page names nobody.
        status, _, front = http_get(self.base + "/")
        self.assertEqual(status, 200)
        for name in ("alice", "bob", "carol", "phone", "Nokia"):
            self.assertNotIn(name, front)


class Startup(unittest.TestCase):
    """Start-up refusals, users and grants files, HTTPS, and the stop."""

    def start(self, args, name, expect_listening=True):
        server = Server(args, name)
        self.addCleanup(server.stop)
        server.start(expect_listening)
        return server

    def write(self, server_dir_name, name, text):
        path = os.path.join(WORK, server_dir_name + "-files", name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)
        return path

    def test_demo_password_survives_a_restart(self):
        server = self.start([], "demo-restart")
        first = re.search(r'password "([A-Za-z0-9]{16})"', "\n".join(server.out)).group(1)
        self.assertEqual(server.stop(), 0)
        server.out.clear()
        server.start()
        again = re.search(r'password "([A-Za-z0-9]{16})"', "\n".join(server.out)).group(1)
        self.assertEqual(again, first, "the same demo password after a restart on the same --data")

    def test_bad_users_file_refuses_to_start(self):
        users = self.write("bad-users", "users", "alice:secret\nno colon\n")
        server = self.start(["--users", users], "bad-users", expect_listening=False)
        status = server.wait_exit(STARTUP_TIMEOUT)
        self.assertIsNotNone(status, "exits by itself")
        self.assertNotEqual(status, 0)
        self.assertIsNotNone(server.wait_for_line(lambda l: l.endswith("users:2: expected user:password"), 5, "err"))
        self.assertIsNotNone(server.wait_for_line(lambda l: "not started" in l, 5, "err"))
        self.assertIsNone(server.wait_for_line(LISTENING.match, 0))

    def test_bad_grants_file_refuses_to_start(self):
        users = self.write("bad-grants", "users", "alice:secret\nbob:pw\n")
        grants = self.write("bad-grants", "grants", "# grants\nalice/contacts: bob\nalice/journal: bob\n")
        server = self.start(["--users", users, "--grants", grants], "bad-grants", expect_listening=False)
        self.assertNotIn(server.wait_exit(STARTUP_TIMEOUT), (None, 0))
        self.assertIsNotNone(server.wait_for_line(lambda l: l.endswith('grants:3: unknown category "journal" '
                                                                       '(contacts, calendar, tasks or notes)'), 5, "err"))

    def test_bad_option(self):
        server = self.start(["--port-number", "1"], "bad-option", expect_listening=False)
        self.assertEqual(server.wait_exit(STARTUP_TIMEOUT), 2)
        self.assertIsNotNone(server.wait_for_line(lambda l: "unknown option --port-number" in l, 5, "err"))

    def test_users_grants_and_clean_stop(self):
        users = self.write("files", "users", "# users\nalice:secret\nbob:pw:with:colons\n")
        grants = self.write("files", "grants", "alice/contacts: bob:ro\n")
        gab = self.write("files", "gab.vcf", "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Ann Example\r\nEMAIL:ann@example.com\r\n"
                         "END:VCARD\r\nBEGIN:VCARD\r\nVERSION:3.0\r\nFN:Bob Example\r\nTEL:+1 555 0100\r\nEND:VCARD\r\n")
        server = self.start(["--users", users, "--grants", grants, "--gab", gab, "--session-timeout", "60",
                             "--max-msg-size", "20000"], "files")
        out = "\n".join(server.out)
        self.assertIn("2 users from", out)
        self.assertIn("1 grants from", out)
        self.assertIn("Global Address Book: 2 entries from", out)
        self.assertNotIn("demo", out)
        self.assertEqual(server.stop(), 0, "SIGTERM stops it cleanly")
        self.assertIsNotNone(server.wait_for_line(lambda l: l.endswith(": stopped"), 5))

    def test_login_session_url_and_throttle(self):
        # A real login (the fixture's Basic credentials, test:test): the
        # reply's RespURI carries the session token, which the access log
        # shows cut; the next message goes to that URL.
        users = self.write("login", "users", "test:test\n")
        server = self.start(["--users", users], "login")
        conn = server.connection()
        self.addCleanup(conn.close)
        message = fixture("captures/syncevolution/first-message/contacts-two-way-xml-basic.xml")
        response, body = exchange(conn, "POST", "/sync", message, {"Content-Type": SYNCML_XML})
        self.assertEqual(response.status, 200)
        self.assertIn(syncml_header_status(body), ("200", "212"))
        m = re.search(rb"<RespURI>([^<]*)</RespURI>", body)
        self.assertIsNotNone(m, body)
        resp_uri = m.group(1).decode()
        token = re.search(r"[?&]s=([0-9a-f]+)", resp_uri).group(1)
        self.assertGreaterEqual(len(token), 16)
        path = resp_uri[resp_uri.index("/", len("http://")):]
        response, body = exchange(conn, "POST", path, message, {"Content-Type": SYNCML_XML})
        self.assertEqual(response.status, 200)
        line = server.wait_for_line(lambda l: " POST /sync?s=" in l, 5)
        self.assertIsNotNone(line)
        self.assertIn(" /sync?s=%s... " % token[:8], line)
        self.assertNotIn(token, "\n".join(server.out + server.err))

        # Wrong passwords: after a few the engine refuses logins from this
        # address for a while, and the reply says how long in Retry-After.
        wrong = message.replace(b"dGVzdDp0ZXN0", b"dGVzdDp3cm9uZw==")  # test:wrong
        retry_after = []
        for i in range(8):
            conn2 = server.connection()
            self.addCleanup(conn2.close)
            response, body = exchange(conn2, "POST", "/sync?try=%d" % i,
                                      wrong.replace(b"syncevo-ci-client", b"guesser-%d" % i),
                                      {"Content-Type": SYNCML_XML})
            self.assertEqual(response.status, 200)
            status = syncml_header_status(body)
            self.assertIn(status, ("401", "503"))
            if status == "503":
                retry_after.append(int(response.getheader("Retry-After")))
            else:
                self.assertIsNone(response.getheader("Retry-After"))
        self.assertTrue(retry_after, "throttled after repeated failures")
        self.assertTrue(all(r > 0 for r in retry_after), retry_after)

    @unittest.skipUnless(shutil.which("openssl"), "needs the openssl command to make a certificate")
    def test_https(self):
        files = os.path.join(WORK, "https-files")
        os.makedirs(files, exist_ok=True)
        cert, key = os.path.join(files, "cert.pem"), os.path.join(files, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                        "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=127.0.0.1"],
                       check=True, capture_output=True, timeout=60)
        server = self.start(["--tls-cert", cert, "--tls-key", key], "https")
        self.assertEqual(server.scheme, "https")
        conn = server.connection()
        self.addCleanup(conn.close)
        response, body = exchange(conn, "GET", "/")
        self.assertEqual(response.status, 200)
        self.assertIn(("https://127.0.0.1:%d/" % server.port).encode(), body)
        response, body = exchange(conn, "POST", "/sync", zlib.compress(fixture(FIRST_MESSAGE)),
                                  {"Content-Type": SYNCML_XML, "Content-Encoding": "deflate",
                                   "Accept-Encoding": "deflate"})
        self.assertEqual(response.status, 200)
        self.assertEqual(response.getheader("Content-Type", "").split(";")[0], SYNCML_XML)
        self.assertEqual(int(response.getheader("Content-Length")), len(body))
        self.assertEqual(int(response.getheader("Uncompressed-Content-Length")), len(zlib.decompress(body)))
        self.assertEqual(server.stop(), 0)

    def test_bad_certificate(self):
        cert = self.write("bad-cert", "cert.pem", "not a certificate\n")
        server = self.start(["--tls-cert", cert, "--tls-key", cert], "bad-cert", expect_listening=False)
        self.assertNotIn(server.wait_exit(STARTUP_TIMEOUT), (None, 0))
        self.assertIsNotNone(server.wait_for_line(lambda l: "cannot load the TLS certificate" in l, 5, "err"))


if __name__ == "__main__":
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    HTTPD, FIXTURES, WORK = (os.path.abspath(a) for a in sys.argv[1:4])
    shutil.rmtree(WORK, ignore_errors=True)
    os.makedirs(WORK)
    unittest.main(argv=[sys.argv[0], "-v"] + sys.argv[4:])
