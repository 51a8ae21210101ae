"""End to end: Debian's SyncEvolution client syncs contacts with syncmlkit-httpd.

Each test has a user of its own (so an empty database on the server) and
client devices of its own (an item directory and a state dir each), and runs
once over XML and once over WBXML:

    slow sync          10 client contacts reach an empty server
    two-way            one add, one replace and one delete reach the server
    refresh-from-server  a new device with an empty directory gets everything
    refresh-from-client  a new device's items replace all of the server's
    one-way-from-client  the client's changes go up, the server's stay there
    one-way-from-server  the server's changes come down, the client's stay local
    wrong password     the sync fails and neither side changes

After every sync both sides are compared item by item (items.py says how),
and the alert codes on the wire are checked: the client asked for the mode
and the server answered with the same one (not, say, a forced slow sync).

Environment, set by ctest (tests/interop/CMakeLists.txt):
    SMK_HTTPD         the syncmlkit-httpd binary
    SMK_CURLFIX       the LD_PRELOAD shim libsmk_curlfix.so
    SMK_INTEROP_WORK  where logs and data go; kept after the run, wiped before
    SMK_SOURCE_DIR    the checkout (for fixtures; this test needs none)
"""

import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import items  # noqa: E402
import syncevo  # noqa: E402

KIND = "contacts"
SYNC_TIMEOUT = 120      # seconds for one sync, connection included
STARTUP_TIMEOUT = 20    # seconds for the server to accept connections
SHUTDOWN_GRACE = 10     # seconds between SIGTERM and SIGKILL
ACCOUNTS = 32           # more than the tests use


def free_port():
    """A port nobody listens on right now (the server may still lose it to
    a race; Httpd.start() then tries again)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tail(path, lines=40):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return "\n".join(f.read().splitlines()[-lines:])
    except FileNotFoundError:
        return "(no %s)" % path


class Httpd:
    """syncmlkit-httpd on 127.0.0.1 with a data dir and users file of its own."""

    def __init__(self, binary, workdir):
        self.binary = binary
        self.workdir = workdir
        self.data_dir = os.path.join(workdir, "data")
        self.log_path = os.path.join(workdir, "httpd.log")
        self.users_path = os.path.join(workdir, "users")
        self.accounts = [("user%02d" % n, "pw-%02d-%s" % (n, secrets.token_hex(4))) for n in range(1, ACCOUNTS + 1)]
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
            f.write("".join("%s:%s\n" % a for a in self.accounts))
        for _ in range(3):
            self.port = free_port()
            with open(self.log_path, "ab") as log:
                self.proc = subprocess.Popen(
                    [self.binary, "--port", str(self.port), "--bind", "127.0.0.1",
                     "--data", self.data_dir, "--users", self.users_path],
                    stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
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
        """(user, password) of a user no test has used yet."""
        account = self.accounts[self.next_account]
        self.next_account += 1
        return account

    def item_texts(self, user, category):
        return items.server_item_texts(os.path.join(self.data_dir, user, category + ".sqlite"))

    def log_tail(self, lines=40):
        return tail(self.log_path, lines)


SERVER = None
WORK = None


def start_server(workdir):
    """The server under test. A function, so that the harness can be tried
    against another SyncML server by replacing it."""
    binary = os.environ.get("SMK_HTTPD", "")
    if not os.access(binary, os.X_OK):
        raise RuntimeError("set SMK_HTTPD to the syncmlkit-httpd binary (ctest does), got %r" % binary)
    server = Httpd(binary, os.path.join(workdir, "httpd"))
    server.start()
    return server


def setUpModule():
    global SERVER, WORK
    WORK = os.environ.get("SMK_INTEROP_WORK") or tempfile.mkdtemp(prefix="smk-interop-")
    shutil.rmtree(WORK, ignore_errors=True)
    os.makedirs(WORK)
    curlfix = os.environ.get("SMK_CURLFIX", "")
    if not os.path.isfile(curlfix):
        raise RuntimeError("set SMK_CURLFIX to the built libsmk_curlfix.so (ctest does), got %r" % curlfix)
    SERVER = start_server(WORK)
    unittest.addModuleCleanup(stop_server)


def stop_server():
    SERVER.stop()
    print("\ninterop work dir (logs, data): %s" % WORK, file=sys.stderr)
    # In the sanitizer build the server reports memory errors and leaks in
    # its log (leaks only when it exits), so the last look is there.
    reports = [l for l in SERVER.log_tail(100000).splitlines() if "Sanitizer" in l or "runtime error:" in l]
    if reports:
        raise AssertionError("the server's log has sanitizer reports:\n" + "\n".join(reports[:20]) +
                             "\n(see %s)" % os.path.join(WORK, "httpd"))


class Device:
    """One client device: its item directory, its SyncEvolution state, its ID."""

    def __init__(self, test, name):
        base = os.path.join(test.workdir, name)
        self.name = name
        self.dir = os.path.join(base, "items")
        self.state = os.path.join(base, "state")
        self.device_id = "smk-%s-%s-%s" % (test.encoding, test.user, name)
        os.makedirs(self.dir)

    def texts(self):
        return items.read_dir(self.dir)

    def identities(self):
        return items.identities(KIND, self.texts().values())

    def add(self, count, first):
        """Adds `count` new items numbered from `first`; returns their texts."""
        new = items.generate(KIND, count, seed=7, first=first)
        items.write_items(self.dir, new)
        return list(new.values())

    def edit(self, name):
        """Changes one item's identity; returns (old text, new text)."""
        path = os.path.join(self.dir, name)
        with open(path, encoding="utf-8", newline="") as f:
            old = f.read()
        new = items.edited(KIND, old)
        syncevo.write_item(path, new)
        return old, new

    def delete(self, name):
        """Deletes one item; returns its text."""
        path = os.path.join(self.dir, name)
        with open(path, encoding="utf-8", newline="") as f:
            text = f.read()
        os.remove(path)
        return text


class ContactsModes:
    """The tests; the subclasses below choose the encoding."""

    encoding = None

    def setUp(self):
        self.user, self.password = SERVER.new_account()
        self.workdir = os.path.join(WORK, "%s-%s" % (self.encoding, self._testMethodName))

    # -- helpers ----------------------------------------------------------

    def sync(self, device, mode, password=None, expect_ok=True):
        run = syncevo.SyncRun(
            url=SERVER.url, user=self.user, password=password or self.password,
            remote_db=KIND, local_dir=device.dir, kind=KIND, state_dir=device.state,
            curlfix=os.environ["SMK_CURLFIX"], mode=mode, encoding=self.encoding,
            device_id=device.device_id, timeout=SYNC_TIMEOUT)
        result = syncevo.run_sync(run)
        if result.ok != expect_ok:
            self.fail("%s sync of device %s (user %s, %s) %s\n%s\n--- server log (last lines):\n%s" % (
                mode, device.name, self.user, self.encoding,
                "failed" if expect_ok else "succeeded, but should have failed",
                result.log_tail(), SERVER.log_tail()))
        return result

    def sync_mode(self, device, mode, code):
        """Syncs and checks the alert codes: the client asked for `code`
        and the server answered with it."""
        result = self.sync(device, mode)
        sent, got = result.alert_codes("outgoing"), result.alert_codes("incoming")
        self.assertTrue(sent and set(sent) == {code},
                        "%s: client sent alert codes %s, expected %d (%s)" % (mode, sent, code, result.session_dir))
        self.assertTrue(got and set(got) == {code},
                        "%s: server answered alert codes %s to %d (%s)" % (mode, got, code, result.session_dir))
        return result

    def server_texts(self):
        return SERVER.item_texts(self.user, KIND)

    def server_identities(self):
        return items.identities(KIND, self.server_texts())

    def assertSameItems(self, device, step):
        result = items.compare(KIND, device.dir, self.server_texts())
        if not result.same:
            self.fail("after %s, device %s and the server differ:\n%s" % (step, device.name, result.report()))

    def assertIdentities(self, actual, expected, what):
        if actual != expected:
            lines = ["%s: %d items, expected %d" % (what, sum(actual.values()), sum(expected.values()))]
            lines += ["  unexpected: " + items.describe(i) for i in (actual - expected)]
            lines += ["  missing:    " + items.describe(i) for i in (expected - actual)]
            self.fail("\n".join(lines))

    def first_device(self, name="a", count=10):
        """A device holding `count` generated contacts, slow-synced to the
        still empty server."""
        device = Device(self, name)
        device.add(count, first=1)
        self.assertEqual(self.server_texts(), [], "the test's database is not empty")
        self.sync_mode(device, "slow", 201)
        self.assertSameItems(device, "the first slow sync")
        return device

    # -- the tests ---------------------------------------------------------

    def test_slow_sync_uploads_every_item(self):
        a = Device(self, "a")
        a.add(10, first=1)
        sent = a.identities()
        self.sync_mode(a, "slow", 201)
        self.assertIdentities(self.server_identities(), sent, "server after the slow sync")
        self.assertIdentities(a.identities(), sent, "client after the slow sync")

    def test_two_way_sends_add_replace_delete(self):
        a = self.first_device()
        a.add(1, first=11)
        a.edit("contacts-00002.vcf")
        a.delete("contacts-00003.vcf")
        expected = a.identities()
        self.sync_mode(a, "two-way", 200)
        self.assertIdentities(self.server_identities(), expected, "server after the two-way sync")
        self.assertIdentities(a.identities(), expected, "client after the two-way sync")

    def test_refresh_from_server_fills_an_empty_device(self):
        self.first_device()
        b = Device(self, "b")
        self.sync_mode(b, "refresh-from-server", 205)
        self.assertEqual(len(b.texts()), 10)
        self.assertSameItems(b, "refresh-from-server")

    def test_refresh_from_client_replaces_the_server_items(self):
        self.first_device()
        c = Device(self, "c")
        c.add(5, first=101)
        expected = c.identities()
        self.sync_mode(c, "refresh-from-client", 203)
        self.assertIdentities(self.server_identities(), expected, "server after refresh-from-client")
        self.assertIdentities(c.identities(), expected, "client after refresh-from-client")

    def test_one_way_from_client_sends_but_receives_nothing(self):
        a = self.first_device()
        # Another device adds an item, which device a must not receive.
        b = Device(self, "b")
        self.sync_mode(b, "refresh-from-server", 205)
        b.add(1, first=201)
        self.sync_mode(b, "two-way", 200)
        self.assertSameItems(b, "device b's two-way sync")

        server_before = self.server_identities()
        added = a.add(1, first=11)
        old, new = a.edit("contacts-00002.vcf")
        deleted = a.delete("contacts-00003.vcf")
        client_before = a.identities()
        self.sync_mode(a, "one-way-from-client", 202)
        expected = (server_before - items.identities(KIND, [old, deleted])
                    + items.identities(KIND, added + [new]))
        self.assertIdentities(self.server_identities(), expected, "server after one-way-from-client")
        self.assertIdentities(a.identities(), client_before, "client after one-way-from-client")

    def test_one_way_from_server_receives_but_sends_nothing(self):
        a = self.first_device()
        b = Device(self, "b")
        self.sync_mode(b, "refresh-from-server", 205)
        # Device a changes the server; device b adds an item that must stay local.
        a.add(1, first=11)
        a.edit("contacts-00002.vcf")
        a.delete("contacts-00003.vcf")
        self.sync_mode(a, "two-way", 200)
        self.assertSameItems(a, "device a's two-way sync")
        local = b.add(1, first=301)

        server_before = self.server_identities()
        self.sync_mode(b, "one-way-from-server", 204)
        self.assertIdentities(self.server_identities(), server_before, "server after one-way-from-server")
        self.assertIdentities(b.identities(), server_before + items.identities(KIND, local),
                              "client after one-way-from-server")

    def test_wrong_password_fails_and_changes_nothing(self):
        a = self.first_device()
        a.add(1, first=11)
        a.edit("contacts-00002.vcf")
        server_before = sorted(self.server_texts())
        client_before = a.texts()
        result = self.sync(a, "two-way", password=self.password + "-wrong", expect_ok=False)
        self.assertFalse(result.timed_out, "the server did not answer the wrong password in time")
        self.assertEqual(result.session_status().get("status"), "401",
                         "the client should have ended with 401 (invalid credentials)\n" + result.log_tail())
        self.assertEqual(sorted(self.server_texts()), server_before, "the server's items changed")
        self.assertEqual(a.texts(), client_before, "the client's items changed")
        # The right password still works afterwards, and the changes go up.
        self.sync_mode(a, "two-way", 200)
        self.assertSameItems(a, "the two-way sync after the failed one")


class ContactsModesXml(ContactsModes, unittest.TestCase):
    encoding = "xml"


class ContactsModesWbxml(ContactsModes, unittest.TestCase):
    encoding = "wbxml"


if __name__ == "__main__":
    unittest.main(verbosity=2)
