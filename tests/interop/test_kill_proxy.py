"""Unit tests of kill_proxy.py: a stand-in host (a Python HTTP server on
127.0.0.1) behind the proxy, and a kill callback that stops it. No client,
no syncmlkit-httpd; under a second."""

import http.client
import http.server
import os
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kill_proxy  # noqa: E402


class FakeHost:
    """Answers every POST with 'reply to <body>' after `delay` seconds and
    counts what it got; kill() makes it drop everything from then on."""

    def __init__(self, delay=0.0):
        self.got = []
        self.dead = False
        self.delay = delay
        host = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if host.dead:
                    self.close_connection = True
                    return
                host.got.append((body, self.headers.get("Content-Type")))
                time.sleep(host.delay)
                reply = b"reply to " + body
                self.send_response(200)
                self.send_header("Content-Type", "application/vnd.syncml+xml")
                self.send_header("Content-Length", str(len(reply)))
                try:
                    self.end_headers()
                    self.wfile.write(reply)
                except OSError:
                    pass  # the proxy gave up on this message (a kill `during` it)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True).start()

    def kill(self):
        self.dead = True

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class KillProxyTest(unittest.TestCase):
    def setUp(self):
        self.host = FakeHost()
        self.kills = 0
        self.proxy = kill_proxy.KillProxy(self.kill, keep_bodies=True)
        self.proxy.host_port = self.host.port
        self.addCleanup(self.host.close)
        self.addCleanup(self.proxy.close)

    def kill(self):
        self.kills += 1
        self.host.kill()

    def post(self, body):
        """(status, reply) of one POST through the proxy; None when the
        connection was closed without a reply."""
        conn = http.client.HTTPConnection("127.0.0.1", self.proxy.port, timeout=10)
        try:
            conn.request("POST", "/sync?s=token", body=body, headers={"Content-Type": "application/vnd.syncml+xml"})
            resp = conn.getresponse()
            return resp.status, resp.read()
        except (http.client.HTTPException, OSError):
            return None
        finally:
            conn.close()

    def test_forwards_and_numbers_messages(self):
        self.proxy.arm(None)
        self.assertEqual(self.post(b"one"), (200, b"reply to one"))
        self.assertEqual(self.post(b"two"), (200, b"reply to two"))
        self.assertEqual([b for b, _ in self.host.got], [b"one", b"two"])
        self.assertEqual(self.host.got[0][1], "application/vnd.syncml+xml")
        self.assertEqual([m.number for m in self.proxy.messages], [1, 2])
        self.assertEqual(self.proxy.messages[1].reply_body, b"reply to two")
        self.assertEqual(self.kills, 0)
        self.assertFalse(self.proxy.killed)

    def test_before(self):
        self.proxy.arm((2, "before", 0))
        self.assertEqual(self.post(b"one")[0], 200)
        self.assertIsNone(self.post(b"two"))
        self.assertIsNone(self.post(b"three"))
        self.assertEqual([b for b, _ in self.host.got], [b"one"])  # two never reached the host
        self.assertEqual((self.kills, self.proxy.dropped), (1, 1))
        self.assertIn("before message 2", self.proxy.outcome)

    def test_after(self):
        self.proxy.arm((1, "after", 0))
        self.assertIsNone(self.post(b"one"))
        self.assertEqual([b for b, _ in self.host.got], [b"one"])  # the host answered it
        self.assertEqual(self.proxy.messages[0].reply_body, b"reply to one")
        self.assertEqual(self.kills, 1)
        self.assertIn("never got", self.proxy.outcome)

    def test_between(self):
        self.proxy.arm((1, "between", 0))
        self.assertEqual(self.post(b"one"), (200, b"reply to one"))
        self.assertIsNone(self.post(b"two"))
        self.assertEqual(self.kills, 1)
        self.assertIn("client got the reply to message 1", self.proxy.outcome)

    def test_during(self):
        self.host.delay = 0.3
        self.proxy.arm((1, "during", 0.05))
        self.assertIsNone(self.post(b"one"))
        self.assertEqual(self.kills, 1)
        self.assertIn("no reply yet", self.proxy.outcome)

    def test_arm_starts_a_new_run(self):
        self.proxy.arm((1, "before", 0))
        self.assertIsNone(self.post(b"one"))
        self.host.dead = False
        self.proxy.arm(None)
        self.assertEqual(self.post(b"two"), (200, b"reply to two"))
        self.assertEqual([m.number for m in self.proxy.messages], [1])
        self.assertFalse(self.proxy.killed)


if __name__ == "__main__":
    unittest.main(verbosity=2)
