"""A forwarding HTTP proxy on 127.0.0.1 that kills the SyncML host at a
chosen point of a sync (test_kill_recovery.py).

The client talks to the proxy; the proxy forwards every POST to the host
and relays the reply. It numbers the client's messages (1, 2, ... per
armed run) and, at the one message the plan names, kills the host through
a callback (SIGKILL), in one of these ways:

    before   the message arrives, the host is killed, it is never forwarded
    during   the message is forwarded, the host is killed `delay` seconds
             later, while it is (or may still be) working on it
    after    the host answered, then it is killed, and the reply is thrown
             away: the host committed the message, the client never saw it
    between  the reply reaches the client, then the host is killed: the
             client's next message finds no host

Whatever the client sends once the host is dead is dropped: the connection
is closed without a reply, as a dead host's would be. Only the standard
library, loopback only.
"""

import http.client
import http.server
import select
import socket
import threading
import time

MODES = ("before", "during", "after", "between")
# Headers that belong to one connection, not to the message.
HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer",
              "upgrade", "expect", "content-length", "host"}
FORWARD_TIMEOUT = 300  # seconds for the host to answer one message


class Message:
    """What the proxy saw of one client message."""

    def __init__(self, number, size):
        self.number = number
        self.size = size            # request body, bytes
        self.reply_size = None      # reply body, bytes; None when there was none
        self.elapsed = None         # seconds from forwarding to the whole reply
        self.reply_body = b""
        self.request_body = b""


class KillProxy:
    """The proxy. `kill` is called (once per armed run) to kill the host;
    `host_port` is where the host listens now (it may change between runs)."""

    def __init__(self, kill, keep_bodies=False):
        self.kill_host = kill
        self.keep_bodies = keep_bodies
        self.host_port = None
        self.lock = threading.Lock()
        self.arm(None)
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                proxy._handle(self)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.1,), daemon=True)
        self.thread.start()

    @property
    def url(self):
        return "http://127.0.0.1:%d/sync" % self.port

    def arm(self, point):
        """Starts a new run: messages are numbered from 1 again. `point` is
        None (forward everything) or (message number, mode, delay)."""
        with self.lock:
            self.point = point
            self.messages = []
            self.killed = False
            self.dropped = 0
            self.outcome = ""     # what happened at the kill point
            self.kill_time = None

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    # -- one request -------------------------------------------------------

    def _kill(self, outcome):
        self.kill_host()
        with self.lock:
            self.killed = True
            self.outcome = outcome
            self.kill_time = time.monotonic()

    def _handle(self, handler):
        body = read_body(handler)
        with self.lock:
            msg = Message(len(self.messages) + 1, len(body))
            if self.keep_bodies:
                msg.request_body = body
            self.messages.append(msg)
            dead = self.killed
            point = self.point
        if dead:
            with self.lock:
                self.dropped += 1
            return drop(handler)
        mode, delay = None, 0.0
        if point and point[0] == msg.number:
            mode, delay = point[1], point[2]
        if mode == "before":
            self._kill("killed before message %d reached it" % msg.number)
            return drop(handler)

        headers = {k: v for k, v in handler.headers.items() if k.lower() not in HOP_BY_HOP}
        conn = http.client.HTTPConnection("127.0.0.1", self.host_port, timeout=FORWARD_TIMEOUT)
        try:
            started = time.monotonic()
            conn.request("POST", handler.path, body=body, headers=headers)
            if mode == "during":
                time.sleep(delay)
                answered = readable(conn.sock)
                self._kill("killed %.0f ms into message %d (%s)" % (
                    (time.monotonic() - started) * 1000, msg.number,
                    "its reply had begun" if answered else "no reply yet"))
                return drop(handler)
            resp = conn.getresponse()
            data = resp.read()
            msg.elapsed = time.monotonic() - started
            msg.reply_size = len(data)
            if self.keep_bodies:
                msg.reply_body = data
            if mode == "after":
                self._kill("killed after the reply to message %d, which the client never got" % msg.number)
                return drop(handler)
            if mode == "between":
                # Killed before the reply is relayed (the host has answered
                # and committed), so that the client's next message can never
                # slip through to the host while the kill is under way.
                self._kill("killed after the client got the reply to message %d" % msg.number)
            handler.send_response(resp.status, resp.reason)
            for k, v in resp.getheaders():
                if k.lower() not in HOP_BY_HOP and k.lower() not in ("date", "server"):
                    handler.send_header(k, v)
            handler.send_header("Content-Length", str(len(data)))
            handler.end_headers()
            handler.wfile.write(data)
            handler.wfile.flush()
        except (OSError, http.client.HTTPException) as e:
            # The host died on its own (or was killed by another message).
            with self.lock:
                if not self.outcome:
                    self.outcome = "forwarding message %d failed: %s" % (msg.number, e)
            return drop(handler)
        finally:
            conn.close()


def read_body(handler):
    """The request body, by Content-Length or chunked."""
    if handler.headers.get("Transfer-Encoding", "").lower() == "chunked":
        chunks = []
        while True:
            size = int(handler.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while handler.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(chunks)
            chunks.append(handler.rfile.read(size))
            handler.rfile.readline()
    return handler.rfile.read(int(handler.headers.get("Content-Length") or 0))


def readable(sock):
    try:
        return bool(select.select([sock], [], [], 0)[0])
    except (OSError, ValueError):
        return False


def drop(handler):
    """Closes the client's connection without a reply, as a dead host would."""
    handler.close_connection = True
    try:
        handler.connection.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
