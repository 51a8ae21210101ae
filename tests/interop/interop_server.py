"""Shared parts of the end-to-end tests (test_*_modes.py, test_server_features.py,
test_max_msg_size.py): syncmlkit-httpd on 127.0.0.1, the client devices, and
the sync and comparison helpers of the test cases.

A test module starts one server for all of its tests:

    def setUpModule():
        global SERVER, WORK
        WORK = interop_server.prepare_work_dir()
        SERVER = interop_server.start_server(WORK)
        unittest.addModuleCleanup(interop_server.stop_server, SERVER, WORK)

and its test cases mix in SyncChecks, which needs self.server, self.user,
self.password, self.kind, self.encoding and self.workdir (see setUp there).

Environment, set by ctest (tests/interop/CMakeLists.txt):
    SMK_HTTPD         the syncmlkit-httpd binary
    SMK_CURLFIX       the LD_PRELOAD shim libsmk_curlfix.so
    SMK_INTEROP_WORK  where logs and data go; kept after the run, wiped before
    SMK_SOURCE_DIR    the checkout (for fixtures)
"""

import ctypes
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import items  # noqa: E402
import syncevo  # noqa: E402

SYNC_TIMEOUT = 120      # seconds for one sync, connection included
STARTUP_TIMEOUT = 20    # seconds for the server to accept connections
SHUTDOWN_GRACE = 10     # seconds between SIGTERM and SIGKILL
PR_SET_PDEATHSIG = 1    # <sys/prctl.h>
ACCOUNTS = 32           # generated users user01 ... user32, more than a module uses


def free_port():
    """A port nobody listens on right now (the server may still lose it to
    a race; Httpd.start() then tries again)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def die_with_parent():
    """In the child before exec: SIGTERM when the test process dies, so that
    a test killed by ctest's TIMEOUT (SIGKILL, no cleanup) does not leave
    the server running. Linux only; elsewhere a no-op."""
    if _LIBC is not None and hasattr(_LIBC, "prctl"):
        _LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


try:
    _LIBC = ctypes.CDLL(None)
except OSError:
    _LIBC = None


def tail(path, lines=40):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return "\n".join(f.read().splitlines()[-lines:])
    except FileNotFoundError:
        return "(no %s)" % path


class Httpd:
    """syncmlkit-httpd on 127.0.0.1 with a data dir and users file of its own.

    `named` adds users with fixed names (e.g. "alice", "bob") besides the
    generated user01 ... user32; `args` are more command-line options, e.g.
    ("--gab", path) or ("--max-msg-size", "4000"). Every message the server
    receives and sends is kept under <workdir>/messages (--log-dir)."""

    def __init__(self, binary, workdir, args=(), named=()):
        self.binary = binary
        self.workdir = workdir
        self.args = list(args)
        self.data_dir = os.path.join(workdir, "data")
        self.log_path = os.path.join(workdir, "httpd.log")
        self.message_dir = os.path.join(workdir, "messages")
        self.users_path = os.path.join(workdir, "users")
        self.accounts = [("user%02d" % n, "pw-%02d-%s" % (n, secrets.token_hex(4))) for n in range(1, ACCOUNTS + 1)]
        self.named = {name: "pw-%s-%s" % (name, secrets.token_hex(4)) for name in named}
        self.next_account = 0
        self.proc = None
        self.port = None

    @property
    def url(self):
        return "http://127.0.0.1:%d/sync" % self.port

    def start(self):
        os.makedirs(self.workdir, exist_ok=True)
        fd = os.open(self.users_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write("".join("%s:%s\n" % a for a in self.accounts + sorted(self.named.items())))
        for _ in range(3):
            self.port = free_port()
            with open(self.log_path, "ab") as log:
                self.proc = subprocess.Popen(
                    [self.binary, "--port", str(self.port), "--bind", "127.0.0.1",
                     "--data", self.data_dir, "--users", self.users_path,
                     "--log-dir", self.message_dir] + self.args,
                    stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                    preexec_fn=die_with_parent)
            if self.wait_listening():
                return
            self.stop()
        raise RuntimeError("syncmlkit-httpd did not start:\n" + tail(self.log_path))

    def wait_listening(self):
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return True
            except OSError:
                time.sleep(0.1)
        return False

    def stop(self):
        if self.proc and self.proc.poll() is None:
            syncevo.kill_group(self.proc, grace=SHUTDOWN_GRACE)
        self.proc = None

    def new_account(self):
        """(user, password) of a generated user no test has used yet."""
        account = self.accounts[self.next_account]
        self.next_account += 1
        return account

    def account(self, name):
        """(user, password) of a named user."""
        return name, self.named[name]

    def database_path(self, owner, category):
        """<data>/<owner>/<category>.sqlite; owner "_global" is the Global Address Book."""
        return os.path.join(self.data_dir, owner, category + ".sqlite")

    def item_texts(self, owner, category):
        return items.server_item_texts(self.database_path(owner, category))

    def log_tail(self, lines=40):
        return tail(self.log_path, lines)

    def sanitizer_reports(self):
        return [l for l in self.log_tail(100000).splitlines() if "Sanitizer" in l or "runtime error:" in l]


def prepare_work_dir():
    """$SMK_INTEROP_WORK (or a new temporary dir), emptied; checks $SMK_CURLFIX."""
    work = os.environ.get("SMK_INTEROP_WORK") or tempfile.mkdtemp(prefix="smk-interop-")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    curlfix = os.environ.get("SMK_CURLFIX", "")
    if not os.path.isfile(curlfix):
        raise RuntimeError("set SMK_CURLFIX to the built libsmk_curlfix.so (ctest does), got %r" % curlfix)
    return work


def start_server(workdir, name="httpd", args=(), named=()):
    """The server under test, in <workdir>/<name>. A function, so that the
    harness can be tried against another SyncML server by replacing it."""
    binary = os.environ.get("SMK_HTTPD", "")
    if not os.access(binary, os.X_OK):
        raise RuntimeError("set SMK_HTTPD to the syncmlkit-httpd binary (ctest does), got %r" % binary)
    server = Httpd(binary, os.path.join(workdir, name), args=args, named=named)
    server.start()
    return server


def stop_server(server, workdir):
    """Stops the server; fails when its log has sanitizer reports."""
    server.stop()
    print("\ninterop work dir (logs, data): %s" % workdir, file=sys.stderr)
    # In the sanitizer build the server reports memory errors and leaks in
    # its log (leaks only when it exits), so the last look is there.
    reports = server.sanitizer_reports()
    if reports:
        raise AssertionError("the server's log has sanitizer reports:\n" + "\n".join(reports[:20]) +
                             "\n(see %s)" % server.workdir)


class Device:
    """One client device: its item directory, its SyncEvolution state, its ID.

    The kind of its items and the user in its device ID are the test's
    unless given."""

    def __init__(self, test, name, kind=None, user=None):
        base = os.path.join(test.workdir, name)
        self.name = name
        self.kind = kind or test.kind
        self.dir = os.path.join(base, "items")
        self.state = os.path.join(base, "state")
        self.device_id = "smk-%s-%s-%s" % (test.encoding, user or test.user, name)
        os.makedirs(self.dir)

    def texts(self):
        return items.read_dir(self.dir)

    def identities(self):
        return items.identities(self.kind, self.texts().values())

    def add(self, count, first):
        """Adds `count` new items numbered from `first`; returns their texts."""
        new = items.generate(self.kind, count, seed=7, first=first)
        items.write_items(self.dir, new)
        return list(new.values())

    def item_name(self, number):
        """The file name the generator gives item `number`, e.g. contacts-00002.vcf."""
        return "%s-%05d%s" % (self.kind, number, items.SUFFIX[self.kind])

    def edit(self, name):
        """Changes one item's identity; returns (old text, new text)."""
        path = os.path.join(self.dir, name)
        with open(path, encoding="utf-8", newline="") as f:
            old = f.read()
        new = items.edited(self.kind, old)
        syncevo.write_item(path, new)
        return old, new

    def delete(self, name):
        """Deletes one item; returns its text."""
        path = os.path.join(self.dir, name)
        with open(path, encoding="utf-8", newline="") as f:
            text = f.read()
        os.remove(path)
        return text


def message_texts(result, direction):
    """The engine's XML translation of every message of one direction
    ("outgoing" = client to server, "incoming"), in order."""
    return result.message_texts(direction)


def status_codes(result, cmd, direction="incoming"):
    """The codes of the Status elements answering `cmd` ("Alert", "Add",
    "Sync", ...) in the messages of one direction, in order."""
    codes = []
    for text in message_texts(result, direction):
        for status in re.findall(r"<Status>(.*?)</Status>", text, re.S):
            if re.search(r"<Cmd>\s*%s\s*</Cmd>" % re.escape(cmd), status):
                m = re.search(r"<Data>\s*(\d+)\s*</Data>", status)
                if m:
                    codes.append(int(m.group(1)))
    return codes


def change_counts(result, direction="incoming"):
    """How many Add, Replace and Delete commands the messages of one
    direction carried, e.g. {"Add": 1, "Replace": 1, "Delete": 1}."""
    counts = {"Add": 0, "Replace": 0, "Delete": 0}
    for text in message_texts(result, direction):
        for cmd in re.findall(r"<(Add|Replace|Delete)>", text):
            counts[cmd] += 1
    return counts


def raw_messages(result):
    """(sequence, direction, size in bytes) of every raw message of the
    session as sent or received on the wire (*_msgNNN_<sequence>_<direction>.*),
    in order; direction is "outgoing" (client to server) or "incoming"."""
    if not result.session_dir:
        return []
    found = []
    for name in os.listdir(result.session_dir):
        m = re.search(r"_msg\d+_(\d+)_(outgoing|incoming)\.[a-z]+$", name)
        if m:
            found.append((int(m.group(1)), m.group(2), os.path.getsize(os.path.join(result.session_dir, name))))
    return sorted(found)


class SyncChecks:
    """Sync and comparison helpers of a unittest.TestCase.

    Needs: self.server (an Httpd), self.user, self.password, self.kind
    ("contacts", "calendar", "tasks", "notes"), self.encoding ("xml", "wbxml") and
    self.workdir (where the test's devices live). The remote database is
    self.kind unless self.remote_db says otherwise."""

    remote_db = None

    def sync(self, device, mode, password=None, expect_ok=True, user=None, remote_db=None, **run_args):
        """One sync of `device`; fails the test unless it succeeded (or, with
        expect_ok=False, failed). run_args go to syncevo.SyncRun (auth, ...)."""
        user = user or self.user
        run = syncevo.SyncRun(
            url=self.server.url, user=user, password=password or self.password,
            remote_db=remote_db or self.remote_db or device.kind, local_dir=device.dir, kind=device.kind,
            state_dir=device.state, curlfix=os.environ["SMK_CURLFIX"], mode=mode, encoding=self.encoding,
            device_id=device.device_id, timeout=run_args.pop("timeout", SYNC_TIMEOUT), **run_args)
        result = syncevo.run_sync(run)
        if result.ok != expect_ok:
            self.fail("%s sync of device %s (user %s, %s %s) %s\n%s\n--- server log (last lines):\n%s" % (
                mode, device.name, user, run.remote_db, self.encoding,
                "failed" if expect_ok else "succeeded, but should have failed",
                result.log_tail(), self.server.log_tail()))
        return result

    def assertAlerts(self, result, mode, sent_code, answered_code=None):
        """The client asked for `sent_code` and the server answered with
        `answered_code` (by default the same)."""
        answered_code = sent_code if answered_code is None else answered_code
        sent, got = result.alert_codes("outgoing"), result.alert_codes("incoming")
        self.assertTrue(sent and set(sent) == {sent_code},
                        "%s: client sent alert codes %s, expected %d (%s)" % (
                            mode, sent, sent_code, result.session_dir))
        self.assertTrue(got and set(got) == {answered_code},
                        "%s: server answered alert codes %s to %d, expected %d (%s)" % (
                            mode, got, sent_code, answered_code, result.session_dir))

    def assertReceived(self, result, step, add=0, replace=0, delete=0):
        """The server sent exactly these changes (none of the device's own back)."""
        got = change_counts(result, "incoming")
        self.assertEqual(got, {"Add": add, "Replace": replace, "Delete": delete},
                         "%s: the changes the server sent (%s)" % (step, result.session_dir))

    def sync_mode(self, device, mode, code, **sync_args):
        """Syncs and checks the alert codes: the client asked for `code`
        and the server answered with it."""
        result = self.sync(device, mode, **sync_args)
        self.assertAlerts(result, mode, code)
        return result

    def server_texts(self, owner=None, category=None):
        return self.server.item_texts(owner or self.user, category or self.kind)

    def server_identities(self, owner=None, category=None):
        return items.identities(category or self.kind, self.server_texts(owner, category))

    def assertSameItems(self, device, step, owner=None):
        result = items.compare(device.kind, device.dir, self.server_texts(owner, device.kind))
        if not result.same:
            self.fail("after %s, device %s and the server (%s/%s) differ:\n%s" % (
                step, device.name, owner or self.user, device.kind, result.report()))

    def assertIdentities(self, actual, expected, what):
        if actual != expected:
            lines = ["%s: %d items, expected %d" % (what, sum(actual.values()), sum(expected.values()))]
            lines += ["  unexpected: " + items.describe(i) for i in (actual - expected)]
            lines += ["  missing:    " + items.describe(i) for i in (expected - actual)]
            self.fail("\n".join(lines))

    def first_device(self, name="a", count=10):
        """A device holding `count` generated items, slow-synced to the
        still empty server."""
        device = Device(self, name)
        device.add(count, first=1)
        self.assertEqual(self.server_texts(), [], "the test's database is not empty")
        self.sync_mode(device, "slow", 201)
        self.assertSameItems(device, "the first slow sync")
        return device
