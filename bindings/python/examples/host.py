#!/usr/bin/python3
"""A SyncML server in Python on its own in-memory store and user table.

    python3 host.py --port 7887 --user alice:secret [--user bob:hunter2 ...]

Clients sync with http://127.0.0.1:PORT/sync (databases "contacts",
"calendar", "tasks", "notes"). Everything lives in dictionaries and is gone
when the host stops; the engine's own state (nonces, devices, per-client
sync state) goes to --state (a new temporary directory by default).

What a host has to write is all here: a Datastore (DictDatastore), a
DatastoreProvider (DictProvider), a user check (Users), and an HTTP
listener that hands each POST body to Server.process(). Set SYNCMLKIT_LIB
to libsyncmlkit.so when the library is not installed.
"""

import argparse
import http.server
import itertools
import os
import shutil
import signal
import sys
import tempfile
import threading
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import syncmlkit  # noqa: E402

# The format each category's items are kept in (the engine converts what
# clients send to it, and back).
NATIVE_FORMATS = {
    "contacts": ("text/vcard", "3.0"),
    "calendar": ("text/calendar", "2.0"),
    "tasks": ("text/calendar", "2.0"),
    "notes": ("text/plain", "1.0"),
}
LEVELS = {syncmlkit.LOG_DEBUG: "debug", syncmlkit.LOG_INFO: "info", syncmlkit.LOG_WARNING: "warning",
          syncmlkit.LOG_ERROR: "error"}


class DictDatastore(syncmlkit.Datastore):
    """One user's items of one category in a dictionary:
    guid -> (data, revision, (type, version)).

    Revisions come from a counter that never goes back, so a revision is
    never reused, not even after a rollback. begin() keeps a copy of the
    dictionary that rollback() puts back: the writes of a failed message
    leave no trace."""

    def __init__(self, native_format):
        self.format = tuple(native_format)
        self.items = {}
        self.snapshots = {}
        self._counter = itertools.count(1)
        self._before = None
        self._lock = threading.RLock()
        self._holder = None
        self._depth = 0

    def _revision(self):
        return str(next(self._counter))

    def native_format(self):
        return self.format

    def list(self):
        # A copy: the engine may write while it walks the listing.
        return [(guid, item[1]) for guid, item in list(self.items.items())]

    def read(self, guid):
        return self.items.get(guid)

    def revision(self, guid):
        item = self.items.get(guid)
        return item[1] if item else None

    def add(self, type, version, data):
        guid = uuid.uuid4().hex
        rev = self._revision()
        self.items[guid] = (data, rev, (type, version))
        return guid, rev

    def replace(self, guid, type, version, data):
        if guid not in self.items:
            return None
        rev = self._revision()
        self.items[guid] = (data, rev, (type, version))
        return rev

    def remove(self, guid):
        return self.items.pop(guid, None) is not None

    # Two devices of one user may sync at once, each session with the store
    # open: the lock, held from begin() to commit() or rollback() (one
    # message, on one thread), keeps their messages apart. It is reentrant
    # for a session that has the store open twice (two names of one
    # database in one message).
    def begin(self):
        self._lock.acquire()
        self._holder = threading.get_ident()
        self._depth += 1
        if self._depth == 1:
            self._before = dict(self.items)

    def commit(self):
        self._end(restore=False)

    def rollback(self):
        self._end(restore=True)

    def _end(self, restore):
        if self._holder != threading.get_ident():
            return  # no begin() of this thread (it failed, or none came)
        if restore and self._before is not None:
            self.items = dict(self._before)
        self._depth -= 1
        if self._depth == 0:
            self._before = None
            self._holder = None
        self._lock.release()

    def snapshot(self, reason):
        name = "%d-%s" % (len(self.snapshots) + 1, reason)
        self.snapshots[name] = dict(self.items)
        return name


class DictProvider(syncmlkit.DatastoreProvider):
    """Every user's four databases, made on first use; no grants and no
    Global Address Book (a host answers grant() and
    open_global_address_book() from its own sharing settings)."""

    def __init__(self):
        self.stores = {}
        self._lock = threading.Lock()

    def open(self, owner, category):
        if category not in NATIVE_FORMATS:
            return None
        with self._lock:
            key = (owner, category)
            if key not in self.stores:
                self.stores[key] = DictDatastore(NATIVE_FORMATS[category])
            return self.stores[key]

    def grant(self, owner, category, user):
        return None

    def open_global_address_book(self):
        return None


class Users:
    """The user table: Basic passwords checked here, and for MD5 the
    digest base64(md5("user:password")), which a real host would store
    instead of the password."""

    def __init__(self, passwords):
        self.digests = {user: syncmlkit.md5_digest(user, pw) for user, pw in passwords.items()}
        self.passwords = dict(passwords)

    def check_password(self, user, password):
        return user in self.passwords and self.passwords[user] == password

    def md5_digest(self, user):
        return self.digests.get(user)


def make_handler(server, verbose=False):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            length = self.headers.get("Content-Length")
            if length is None or not length.isdigit():
                self.answer(411, "text/plain", b"Content-Length required\n")
                return
            if int(length) > server.max_request_size():
                self.close_connection = True  # the body stays unread
                self.answer(413, "text/plain", b"request too large\n")
                return
            body = self.rfile.read(int(length))
            try:
                reply = server.process(body, self.headers.get("Content-Type"), self.path, self.client_address[0])
            except syncmlkit.SyncMLError as e:
                self.answer(500, "text/plain", ("%s\n" % e).encode())
                return
            self.answer(reply.http_status, reply.content_type, reply.body)

        def do_GET(self):
            self.answer(200, "text/plain; charset=utf-8",
                        b"SyncML server: sync contacts, calendar, tasks or notes at /sync\n")

        def answer(self, status, content_type, body):
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format, *args):
            if verbose:
                super().log_message(format, *args)

    return Handler


def serve(port, passwords, state_dir, bind="127.0.0.1", verbose=False, provider=None, log=None):
    """The host's parts, started: (ThreadingHTTPServer serving in a thread,
    syncmlkit.Server, DictProvider). Stop with stop(httpd, server)."""
    provider = provider or DictProvider()

    def engine_log(level, message):
        if log is not None:
            log(level, message)
        elif verbose or level >= syncmlkit.LOG_WARNING:
            print("%s: %s" % (LEVELS.get(level, level), message), file=sys.stderr, flush=True)

    server = syncmlkit.Server(state_dir=state_dir, datastores=provider, auth=Users(passwords), logger=engine_log)
    httpd = http.server.ThreadingHTTPServer((bind, port), make_handler(server, verbose))
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, name="http", daemon=True)
    thread.start()
    return httpd, server, provider


def stop(httpd, server):
    httpd.shutdown()
    httpd.server_close()
    server.close()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=7887)
    ap.add_argument("--bind", default="127.0.0.1")
    ap.add_argument("--user", action="append", default=[], metavar="NAME:PASSWORD", required=True)
    ap.add_argument("--state", help="the engine's state directory (default: a temporary one)")
    ap.add_argument("--verbose", action="store_true", help="every engine log line and HTTP request")
    args = ap.parse_args(argv)
    passwords = {}
    for spec in args.user:
        name, colon, password = spec.partition(":")
        if not name or not colon:
            ap.error("--user takes NAME:PASSWORD, not %r" % spec)
        passwords[name] = password
    state = args.state or tempfile.mkdtemp(prefix="syncmlkit-host-")
    httpd, server, _ = serve(args.port, passwords, state, args.bind, args.verbose)
    print("listening on http://%s:%d/sync (users: %s)" % (args.bind, httpd.server_address[1],
                                                          ", ".join(sorted(passwords))), flush=True)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    try:
        done.wait()
    except KeyboardInterrupt:
        pass
    stop(httpd, server)
    if not args.state:
        shutil.rmtree(state, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
