#!/usr/bin/env python3
"""syncmlkit-httpd under abuse, on 127.0.0.1.

Usage: abuse_test.py SYNCMLKIT_HTTPD FIXTURES_DIR WORK_DIR [unittest args]

1. slowloris: hundreds of connections that send half a request and then
   stall, or dribble a byte a second; meanwhile a normal client's SyncML
   POSTs are answered quickly, again and again, and the server closes the
   stalled connections after its idle timeout and the dribbling ones after
   its request timeout.
2. burst: thousands of connections opened at once, each sending a SyncML
   POST: every one is answered (none reset or refused).
3. concurrent clients: a thousand clients, each logging in as its own user
   with its own device (a SyncML exchange over HTTP), all at once: no
   errors; latency p50/p99 and throughput are printed.
4. per-address limit: connections beyond --max-connections-per-address are
   closed at once, unanswered, while those within it are served.

Every scenario starts its own server (--port 0) and stops it; every wait is
bounded. The figures are printed as "ABUSE <scenario>: ..." lines.
SMK_ABUSE_LONG=1 makes the numbers and durations larger (for a person, not
for CI).
"""

import asyncio
import base64
import os
import re
import resource
import selectors
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import unittest

HTTPD = FIXTURES = WORK = None
LONG = os.environ.get("SMK_ABUSE_LONG", "") not in ("", "0")
STARTUP_TIMEOUT = 20
REPLY_TIMEOUT = 180  # seconds for one reply in the burst and the concurrent clients (queued behind the rest)
STOP_TIMEOUT = 20
SYNCML_XML = "application/vnd.syncml+xml"
LOGIN_MESSAGE = "captures/syncevolution/first-message/contacts-two-way-xml-basic.xml"  # Basic test:test
LISTENING = re.compile(r"^syncmlkit-httpd (\S+) listening on (https?)://127\.0\.0\.1:(\d+)/ \(data: (.*)\)$")

SLOW_CONNECTIONS = 1000 if LONG else 300
SLOW_IDLE_TIMEOUT = 15 if LONG else 5      # --idle-timeout for the slowloris server
SLOW_REQUEST_TIMEOUT = 60 if LONG else 10  # --request-timeout for the slowloris server
NORMAL_LATENCY_LIMIT = 2.0  # seconds for the normal client's every exchange
BURST = 5000 if LONG else 2000
CLIENTS = 1000
CLIENT_ROUNDS = 5 if LONG else 1
PER_ADDRESS_LIMIT = 20
# Clients share users, 8 devices a user (ServerConfig::max_sessions_per_user).
# A user's first login creates the user's SQLite stores, some 40 ms of disk
# work that is not what these tests measure: every user logs in once
# beforehand (one client a user, all users at once) and the server restarts,
# unless SMK_ABUSE_COLD=1.
DEVICES_PER_USER = 8
COLD = os.environ.get("SMK_ABUSE_COLD", "") not in ("", "0")


def fixture(relative):
    with open(os.path.join(FIXTURES, relative), "rb") as f:
        return f.read()


def raise_fd_limit(needed):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        soft = hard
    return soft >= needed


def login_message(user, password, device):
    """The captured first message with its Basic credentials and device id replaced."""
    message = fixture(LOGIN_MESSAGE)
    cred = base64.b64encode(("%s:%s" % (user, password)).encode())
    message = message.replace(b"dGVzdDp0ZXN0", cred)
    return message.replace(b"syncevo-ci-client", device.encode())


def users_file(clients):
    users = (clients + DEVICES_PER_USER - 1) // DEVICES_PER_USER
    return "".join("u%04d:pw%04d\n" % (i, i) for i in range(users))


def client_login(n, device):
    """Client n's login message: user n / DEVICES_PER_USER, its own device."""
    user = n // DEVICES_PER_USER
    return login_message("u%04d" % user, "pw%04d" % user, device)


def post_bytes(body, path="/sync", keep_alive=True):
    head = ("POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: %s\r\nContent-Length: %d\r\n%s\r\n"
            % (path, SYNCML_XML, len(body), "" if keep_alive else "Connection: close\r\n"))
    return head.encode() + body


def header_status(reply):
    m = re.search(rb"<Cmd>SyncHdr</Cmd>.*?<Data>(\d+)</Data>", reply)
    return m.group(1).decode() if m else None


def listen_overflows():
    """The kernel's count of connections dropped because a listen queue was
    full (TcpExt ListenOverflows, this network namespace), or None."""
    try:
        with open("/proc/net/netstat") as f:
            lines = f.read().splitlines()
    except OSError:
        return None
    for names, values in zip(lines[::2], lines[1::2]):
        if names.startswith("TcpExt:"):
            table = dict(zip(names.split()[1:], values.split()[1:]))
            return int(table["ListenOverflows"]) if "ListenOverflows" in table else None
    return None


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100.0 * (len(ordered) - 1))))]


class Server:
    """One syncmlkit-httpd process; output collected line by line (and counted)."""

    def __init__(self, name, args):
        self.dir = os.path.join(WORK, name)
        shutil.rmtree(self.dir, ignore_errors=True)
        os.makedirs(self.dir)
        self.args = [HTTPD, "--port", "0", "--bind", "127.0.0.1", "--data", os.path.join(self.dir, "data")] + args
        self.out, self.err = [], []
        self.lock = threading.Lock()
        self.proc = None
        self.port = None

    def write(self, name, text):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def start(self):
        with self.lock:
            self.out, self.err = [], []
        self.proc = subprocess.Popen(self.args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, cwd=self.dir)
        for stream, lines in ((self.proc.stdout, self.out), (self.proc.stderr, self.err)):
            threading.Thread(target=self._collect, args=(stream, lines), daemon=True).start()
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            with self.lock:
                for line in self.out:
                    m = LISTENING.match(line)
                    if m:
                        self.port = int(m.group(3))
                        return
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError("no start-up line; stderr:\n" + "\n".join(self.err))

    def _collect(self, stream, lines):
        for raw in stream:
            with self.lock:
                lines.append(raw.decode("utf-8", "replace").rstrip("\n"))

    def cpu_seconds(self):
        """User plus system CPU time the server used so far."""
        with open("/proc/%d/stat" % self.proc.pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def access_lines(self, needle):
        with self.lock:
            return [l for l in self.out if needle in l]

    def stop(self):
        """SIGTERM (SIGKILL if it does not go); keeps its output in stdout.txt and stderr.txt."""
        if self.proc is None:
            return None
        status = self.proc.poll()
        if status is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                status = self.proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=STOP_TIMEOUT)
                status = None
        time.sleep(0.1)  # the last lines
        with self.lock:
            for name, lines in (("stdout.txt", self.out), ("stderr.txt", self.err)):
                with open(os.path.join(self.dir, name), "w") as f:
                    f.write("\n".join(lines) + "\n")
        return status


# --- a small HTTP/1.1 client on asyncio streams -----------------------------

async def read_reply(reader):
    """(status, headers dict with lower-case names, body) of one reply."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return status, headers, body


async def close_writer(writer):
    writer.close()
    try:
        await writer.wait_closed()
    except OSError:
        pass


def warm_up(port, clients):
    """One login a user (users of `clients` clients), all at once; returns the SyncHdr statuses."""
    users = (clients + DEVICES_PER_USER - 1) // DEVICES_PER_USER

    async def login(user):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            writer.write(post_bytes(client_login(user * DEVICES_PER_USER, "warm-up-%04d" % user), keep_alive=False))
            await writer.drain()
            status, headers, body = await asyncio.wait_for(read_reply(reader), REPLY_TIMEOUT)
            return header_status(body) if status == 200 else "HTTP %d" % status
        finally:
            await close_writer(writer)

    async def run():
        return await asyncio.gather(*(login(u) for u in range(users)), return_exceptions=True)
    return [r if isinstance(r, str) else repr(r) for r in asyncio.run(run())]


class Abuse(unittest.TestCase):

    def warm_up(self, server, clients):
        if COLD:
            return
        statuses = warm_up(server.port, clients)
        self.assertEqual([s for s in statuses if s not in ("200", "212")], [], "warm-up logins")
        # A restart ends the warm-up sessions; the stores stay.
        self.assertEqual(server.stop(), 0)
        server.start()

    def start(self, name, args):
        server = Server(name, args)
        self.addCleanup(server.stop)
        server.start()
        return server

    # ---------------------------------------------------------------------

    def test_slowloris(self):
        self.assertTrue(raise_fd_limit(SLOW_CONNECTIONS + 200), "open-file limit too low")
        users = Server("slowloris", []).write("users", "test:test\n")
        server = self.start("slowloris-run", ["--users", users, "--max-connections-per-address", "0",
                                              "--idle-timeout", str(SLOW_IDLE_TIMEOUT),
                                              "--request-timeout", str(SLOW_REQUEST_TIMEOUT)])
        address = ("127.0.0.1", server.port)

        # Half stall after half a request line and headers; half dribble a
        # header byte a second, which keeps them from being idle.
        stalled, dribbling = [], []
        opened = time.monotonic()
        for i in range(SLOW_CONNECTIONS):
            s = socket.create_connection(address, timeout=5)
            s.sendall(b"POST /sync HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: " + SYNCML_XML.encode() +
                      b"\r\nContent-Length: 5000\r\nX-Slow: ")
            (stalled if i % 2 == 0 else dribbling).append(s)
        self.addCleanup(lambda: [s.close() for s in stalled + dribbling])

        stop_dribbling = threading.Event()
        dribble_errors = []

        def dribble():
            while not stop_dribbling.wait(1.0):
                for s in dribbling:
                    try:
                        s.send(b"a")
                    except OSError as e:  # closed by the server: expected, later
                        dribble_errors.append(e)
        threading.Thread(target=dribble, daemon=True).start()
        self.addCleanup(stop_dribbling.set)

        # The normal client, while all of them are held.
        message = login_message("test", "test", "normal-client")
        latencies = []
        normal_errors = []
        while time.monotonic() - opened < SLOW_IDLE_TIMEOUT - 2:
            started = time.monotonic()
            try:
                with socket.create_connection(address, timeout=NORMAL_LATENCY_LIMIT * 2) as c:
                    c.sendall(post_bytes(message, keep_alive=False))
                    reply = b""
                    while True:
                        chunk = c.recv(65536)
                        if not chunk:
                            break
                        reply += chunk
                self.assertTrue(reply.startswith(b"HTTP/1.1 200 "), reply[:200])
                self.assertIn(b"</SyncML>", reply)
                latencies.append(time.monotonic() - started)
            except (OSError, AssertionError) as e:
                normal_errors.append(repr(e))
            time.sleep(0.05)

        # Still held (none answered, none closed) while the normal client ran?
        held = 0
        for s in stalled + dribbling:
            s.setblocking(False)
            try:
                data = s.recv(1)
                if data == b"":
                    continue  # closed
            except BlockingIOError:
                held += 1
            except OSError:
                pass
            finally:
                s.setblocking(True)

        # Now wait for the server to close them: the stalled ones after the
        # idle timeout, the dribbling ones after the request timeout.
        closed_at = {}
        selector = selectors.DefaultSelector()
        for kind, group in (("stalled", stalled), ("dribbling", dribbling)):
            for s in group:
                s.setblocking(False)
                selector.register(s, selectors.EVENT_READ, kind)
        deadline = opened + SLOW_REQUEST_TIMEOUT + 5
        while len(closed_at) < len(stalled) + len(dribbling) and time.monotonic() < deadline:
            for key, _ in selector.select(timeout=0.2):
                try:
                    data = key.fileobj.recv(4096)
                except BlockingIOError:
                    continue
                except OSError:
                    data = b""
                if data == b"":
                    closed_at[key.fileobj] = (key.data, time.monotonic() - opened)
                    selector.unregister(key.fileobj)
        selector.close()
        stop_dribbling.set()
        stalled_times = [t for kind, t in closed_at.values() if kind == "stalled"]
        dribbling_times = [t for kind, t in closed_at.values() if kind == "dribbling"]

        print("ABUSE slowloris: %d slow connections (%d stalled, %d dribbling a byte a second) held %d; "
              "normal client: %d exchanges, %d errors, latency max %.0f ms, median %.0f ms; "
              "closed by the server: %d stalled after %.1f-%.1f s (idle timeout %d s), "
              "%d dribbling after %.1f-%.1f s (request timeout %d s)"
              % (SLOW_CONNECTIONS, len(stalled), len(dribbling), held, len(latencies), len(normal_errors),
                 1000 * max(latencies, default=0), 1000 * statistics.median(latencies) if latencies else 0,
                 len(stalled_times), min(stalled_times, default=0), max(stalled_times, default=0), SLOW_IDLE_TIMEOUT,
                 len(dribbling_times), min(dribbling_times, default=0), max(dribbling_times, default=0),
                 SLOW_REQUEST_TIMEOUT), flush=True)

        self.assertEqual(normal_errors, [])
        self.assertGreaterEqual(len(latencies), 5, "the normal client got through again and again")
        self.assertLess(max(latencies), NORMAL_LATENCY_LIMIT)
        self.assertEqual(held, SLOW_CONNECTIONS, "the slow connections were all still open meanwhile")
        self.assertEqual(len(stalled_times), len(stalled), "every stalled connection closed by the server")
        self.assertEqual(len(dribbling_times), len(dribbling), "every dribbling connection closed by the server")
        self.assertGreater(min(stalled_times), SLOW_IDLE_TIMEOUT - 1)
        self.assertLess(max(stalled_times), SLOW_IDLE_TIMEOUT + 3)
        # Dribbling kept them from being idle: the request timeout closed them.
        self.assertGreater(min(dribbling_times), SLOW_REQUEST_TIMEOUT - 1)
        self.assertLess(max(dribbling_times), SLOW_REQUEST_TIMEOUT + 3)
        self.assertEqual(len(server.access_lines(" POST /sync ")), len(latencies),
                         "one access line a normal exchange, none for the slow ones")

    # ---------------------------------------------------------------------

    def test_burst(self):
        self.assertTrue(raise_fd_limit(BURST + 200), "open-file limit too low")
        users = Server("burst", []).write("users", users_file(BURST))
        server = self.start("burst-run", ["--users", users, "--max-connections-per-address", "0"])
        self.warm_up(server, BURST)
        requests = [post_bytes(client_login(i, "burst-%04d" % i), keep_alive=False) for i in range(BURST)]

        async def run():
            # Connect all at once, then send on all, then read all.
            connect_started = time.monotonic()
            opened = await asyncio.gather(*(asyncio.open_connection("127.0.0.1", server.port) for _ in range(BURST)),
                                          return_exceptions=True)
            connect_errors = [repr(o) for o in opened if isinstance(o, BaseException)]
            pairs = [o for o in opened if not isinstance(o, BaseException)]
            started = time.monotonic()
            connect_seconds = started - connect_started
            for (reader, writer), request in zip(pairs, requests):
                writer.write(request)

            async def answer(reader, writer):
                try:
                    await writer.drain()
                    return await asyncio.wait_for(read_reply(reader), REPLY_TIMEOUT)
                finally:
                    await close_writer(writer)
            replies = await asyncio.gather(*(answer(r, w) for r, w in pairs), return_exceptions=True)
            return connect_errors, connect_seconds, replies, time.monotonic() - started

        cpu_before = server.cpu_seconds()
        overflows_before = listen_overflows()
        connect_errors, connect_seconds, replies, seconds = asyncio.run(run())
        overflows = None if overflows_before is None else listen_overflows() - overflows_before
        cpu = server.cpu_seconds() - cpu_before
        errors = [repr(r) for r in replies if isinstance(r, BaseException)]
        good = [r for r in replies if not isinstance(r, BaseException) and r[0] == 200 and b"</SyncML>" in r[2]]
        statuses = {}
        for r in good:
            statuses[header_status(r[2])] = statuses.get(header_status(r[2]), 0) + 1
        print("ABUSE burst: %d connections opened at once (in %.2f s, %s listen-queue overflows), %d connect errors, "
              "%d answered (HTTP 200 SyncML; SyncHdr statuses %s), %d errors, all answered in %.1f s (server CPU %.1f s)"
              % (BURST, connect_seconds, overflows, len(connect_errors), len(good), statuses, len(errors), seconds, cpu),
              flush=True)
        self.assertEqual(connect_errors, [])
        # A full listen queue drops SYNs; the client's connect then waits
        # for a retransmission (1 s, 3 s, ...) or fails.
        if overflows is not None:
            self.assertEqual(overflows, 0, "no connection dropped for a full listen queue")
        self.assertEqual(errors[:5], [])
        self.assertEqual(len(good), BURST)

    # ---------------------------------------------------------------------

    def test_concurrent_clients(self):
        self.assertTrue(raise_fd_limit(CLIENTS + 200), "open-file limit too low")
        users = Server("clients", []).write("users", users_file(CLIENTS))
        server = self.start("clients-run", ["--users", users, "--max-connections-per-address", "0"])
        self.warm_up(server, CLIENTS)

        async def client(n, start_gate):
            await start_gate.wait()
            latencies, statuses = [], []
            for round_ in range(CLIENT_ROUNDS):
                message = client_login(n, "client-%04d" % n)
                started = time.monotonic()
                reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
                try:
                    writer.write(post_bytes(message))
                    await writer.drain()
                    status, headers, body = await asyncio.wait_for(read_reply(reader), REPLY_TIMEOUT)
                finally:
                    await close_writer(writer)
                latencies.append(time.monotonic() - started)
                if status != 200 or b"</SyncML>" not in body:
                    raise AssertionError("HTTP %d %r" % (status, body[:200]))
                statuses.append(header_status(body))
            return latencies, statuses

        async def run():
            gate = asyncio.Event()
            tasks = [asyncio.ensure_future(client(n, gate)) for n in range(CLIENTS)]
            await asyncio.sleep(0.1)
            started = time.monotonic()
            gate.set()
            results = await asyncio.gather(*tasks, return_exceptions=True)
            return results, time.monotonic() - started

        cpu_before = server.cpu_seconds()
        results, seconds = asyncio.run(run())
        cpu = server.cpu_seconds() - cpu_before
        errors = [repr(r) for r in results if isinstance(r, BaseException)]
        latencies = [l for r in results if not isinstance(r, BaseException) for l in r[0]]
        statuses = {}
        for r in results:
            if not isinstance(r, BaseException):
                for s in r[1]:
                    statuses[s] = statuses.get(s, 0) + 1
        print("ABUSE concurrent: %d clients x %d login exchanges, %d errors, SyncHdr statuses %s; latency p50 %.0f ms, "
              "p99 %.0f ms, max %.0f ms; %.0f exchanges/s (%.1f s in all, server CPU %.1f s)"
              % (CLIENTS, CLIENT_ROUNDS, len(errors), statuses, 1000 * percentile(latencies, 50),
                 1000 * percentile(latencies, 99), 1000 * max(latencies), len(latencies) / seconds, seconds, cpu),
              flush=True)
        self.assertEqual(errors[:5], [])
        self.assertEqual(len(latencies), CLIENTS * CLIENT_ROUNDS)
        # Every client logged in (212: authentication accepted, or 200).
        self.assertEqual(sum(statuses.get(s, 0) for s in ("200", "212")), CLIENTS * CLIENT_ROUNDS, statuses)

    # ---------------------------------------------------------------------

    def test_per_address_limit(self):
        users = Server("per-address", []).write("users", "test:test\n")
        server = self.start("per-address-run", ["--users", users,
                                                "--max-connections-per-address", str(PER_ADDRESS_LIMIT)])
        address = ("127.0.0.1", server.port)
        held = [socket.create_connection(address, timeout=5) for _ in range(PER_ADDRESS_LIMIT)]
        self.addCleanup(lambda: [s.close() for s in held])
        for s in held:
            s.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # half a request
        time.sleep(0.3)
        # One more from the same address: closed at once, unanswered.
        with socket.create_connection(address, timeout=5) as extra:
            extra.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            try:
                refused = extra.recv(4096) == b""
            except ConnectionResetError:
                refused = True
        # Those within the limit are served.
        held[0].sendall(b"\r\n")
        reply = held[0].recv(4096)
        print("ABUSE per-address: limit %d, connection %d from the same address %s, connection 1 answered %r"
              % (PER_ADDRESS_LIMIT, PER_ADDRESS_LIMIT + 1, "closed unanswered" if refused else "ANSWERED",
                 reply[:15]), flush=True)
        self.assertTrue(refused)
        self.assertTrue(reply.startswith(b"HTTP/1.1 200 "), reply[:100])


if __name__ == "__main__":
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    HTTPD, FIXTURES, WORK = (os.path.abspath(a) for a in sys.argv[1:4])
    shutil.rmtree(WORK, ignore_errors=True)
    os.makedirs(WORK)
    unittest.main(argv=[sys.argv[0], "-v"] + sys.argv[4:])
