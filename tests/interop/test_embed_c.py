"""End to end: Debian's SyncEvolution client syncs with syncmlkit-embed-example,
the host in plain C (examples/embed_c/embed_example.c) that keeps the items
in its own memory, checks passwords against its own user table (MD5 through
the digest it hands out, Basic through check_password) and serves HTTP on a
loop of its own.

    fifty contacts     device a slow-syncs 50 contacts (201); device b gets
                       them by refresh-from-server (205): 50 files, no
                       duplicates; a edits one and deletes one (200), b gets
                       both (200); then b edits one and deletes one, a gets them
    other databases    5 events, 5 tasks, 5 notes up from one device and down
                       to another
    wrong password     MD5 and Basic: the sync fails with 401, neither the
                       host's store nor the device changes; the right
                       password (Basic: check_password) then syncs
    shared databases   --grant: a read-write grantee's changes reach the
                       owner's store and the owner's device, a read-only
                       grantee's do not, a user without a grant gets 404;
                       --directory: the Global Address Book comes down to
                       any user, and nothing goes up
    GET /              a short text

The host's store is read from its --dump-dir (one file per item, rewritten
after every request that changed a store). Run by ctest (label interop)
with SMK_EMBED_EXAMPLE and SMK_CURLFIX set (tests/interop/CMakeLists.txt).
"""

import os
import subprocess
import sys
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import interop_server  # noqa: E402
import items  # noqa: E402
from interop_server import Device  # noqa: E402

SERVER = None
WORK = None


class EmbedHost(interop_server.Httpd):
    """syncmlkit-embed-example on 127.0.0.1: the generated accounts as --user
    options, its state and its store's dump in its work dir."""

    def __init__(self, binary, workdir):
        super().__init__(binary, workdir)
        self.dump_dir = os.path.join(workdir, "dump")
        self.state_dir = os.path.join(workdir, "state")
        self.trace_dir = os.path.join(workdir, "trace")

    def traces(self):
        """{file name: text} of the messages the host traced so far."""
        return items.read_dir(self.trace_dir) if os.path.isdir(self.trace_dir) else {}

    def roles(self):
        """The last accounts, kept out of new_account(): an owner whose
        contacts two others may use (read-write, read-only), one without a
        grant, and the directory's owner."""
        owner, writer, reader, stranger, directory = self.accounts[-5:]
        return owner, writer, reader, stranger, directory

    def start(self):
        os.makedirs(self.state_dir, exist_ok=True)
        owner, writer, reader, _, directory = self.roles()
        users = ["--grant", "%s/contacts:%s" % (owner[0], writer[0]),
                 "--grant", "%s/contacts:%s:ro" % (owner[0], reader[0]),
                 "--directory", directory[0]]
        for name, password in self.accounts:
            users += ["--user", "%s:%s" % (name, password)]
        for _ in range(3):
            self.port = interop_server.free_port()
            with open(self.log_path, "ab") as log:
                self.proc = subprocess.Popen(
                    [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--state", self.state_dir,
                     "--dump-dir", self.dump_dir, "--trace-dir", self.trace_dir] + users,
                    stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                    preexec_fn=interop_server.die_with_parent)
            if self.wait_listening():
                return
            self.stop()
        raise RuntimeError("syncmlkit-embed-example did not start:\n" + interop_server.tail(self.log_path))

    def item_texts(self, owner, category):
        """The texts of the items the host holds in memory, from its dump."""
        directory = os.path.join(self.dump_dir, owner, category)
        return list(items.read_dir(directory).values()) if os.path.isdir(directory) else []


def setUpModule():
    global SERVER, WORK
    WORK = interop_server.prepare_work_dir()
    binary = os.environ.get("SMK_EMBED_EXAMPLE", "")
    if not os.access(binary, os.X_OK):
        raise RuntimeError("set SMK_EMBED_EXAMPLE to the syncmlkit-embed-example binary (ctest does), got %r"
                           % binary)
    SERVER = EmbedHost(binary, os.path.join(WORK, "host"))
    SERVER.start()
    unittest.addModuleCleanup(interop_server.stop_server, SERVER, WORK)


def field(text, name):
    """The value of the first property `name` of an item, unfolded."""
    for line in items.unfold(text):
        prop, _, value = line.partition(":")
        if prop.split(";")[0].upper() == name:
            return value
    return None


class EmbedC(interop_server.SyncChecks):
    """The tests; the subclasses below choose the encoding."""

    encoding = None
    kind = "contacts"

    def setUp(self):
        self.server = SERVER
        self.user, self.password = SERVER.new_account()
        self.workdir = os.path.join(WORK, "%s-%s" % (self.encoding, self._testMethodName))

    def assertNoDuplicates(self, identities, what):
        twice = [items.describe(i) for i, n in identities.items() if n > 1]
        self.assertEqual(twice, [], "%s holds duplicates" % what)

    def assertFn(self, device, name, expected, what):
        with open(os.path.join(device.dir, name), encoding="utf-8", newline="") as f:
            self.assertEqual(field(f.read(), "FN"), expected, what)

    def fn_on(self, texts, fn):
        """How many of these texts have this FN."""
        return sum(1 for t in texts if field(t, "FN") == fn)

    def test_fifty_contacts_between_two_clients(self):
        a = Device(self, "a")
        a.add(50, first=1)
        sent = a.identities()
        self.assertEqual(sum(sent.values()), 50)
        traced = set(SERVER.traces())
        self.sync_mode(a, "slow", 201)
        # The host's trace callback got every message of the session as XML.
        new = {n: t for n, t in SERVER.traces().items() if n not in traced}
        into = [t for n, t in new.items() if n.endswith("-in.xml")]
        out = [t for n, t in new.items() if n.endswith("-out.xml")]
        self.assertTrue(len(into) >= 2 and len(out) == len(into), "traced messages: %s" % sorted(new))
        self.assertTrue(all("<SyncML" in t for t in into + out), "a traced message is no SyncML XML")
        self.assertEqual(sum(t.count("BEGIN:VCARD") for t in into), 50, "vCards in the traced client messages")
        self.assertEqual(len(self.server_texts()), 50, "contacts in the host's store after the slow sync")
        self.assertIdentities(self.server_identities(), sent, "the host's store after the slow sync")
        self.assertIdentities(a.identities(), sent, "device a after the slow sync")

        b = Device(self, "b")
        self.sync_mode(b, "refresh-from-server", 205)
        self.assertEqual(len(b.texts()), 50, "files on device b after the refresh")
        self.assertNoDuplicates(b.identities(), "device b")
        self.assertIdentities(b.identities(), sent, "device b after the refresh")

        # a edits one contact and deletes another; b gets both.
        old, new = a.edit("contacts-00007.vcf")
        old_fn, new_fn = field(old, "FN"), field(new, "FN")
        self.assertNotEqual(old_fn, new_fn)
        deleted = a.delete("contacts-00011.vcf")
        expected = a.identities()
        result = self.sync_mode(a, "two-way", 200)
        self.assertReceived(result, "a's two-way sync")
        server = self.server_texts()
        self.assertEqual(len(server), 49, "contacts in the host's store after a's edit and delete")
        self.assertEqual((self.fn_on(server, new_fn), self.fn_on(server, old_fn)), (1, 0),
                         "the edited name in the host's store")
        self.assertEqual(self.fn_on(server, field(deleted, "FN")), 0, "the deleted contact in the host's store")
        self.assertIdentities(self.server_identities(), expected, "the host's store after a's two-way sync")

        result = self.sync_mode(b, "two-way", 200)
        self.assertReceived(result, "b's two-way sync", replace=1, delete=1)
        self.assertEqual(len(b.texts()), 49, "files on device b after its two-way sync")
        self.assertEqual((self.fn_on(b.texts().values(), new_fn), self.fn_on(b.texts().values(), old_fn)), (1, 0),
                         "the edited name on device b")
        self.assertEqual(self.fn_on(b.texts().values(), field(deleted, "FN")), 0, "the deleted contact on device b")
        self.assertIdentities(b.identities(), expected, "device b after its two-way sync")

        # And back: b edits and deletes (its own file names), a gets both.
        names = sorted(b.texts())
        old, new = b.edit(names[0])
        deleted = b.delete(names[1])
        expected = b.identities()
        result = self.sync_mode(b, "two-way", 200)
        self.assertReceived(result, "b's second two-way sync")
        self.assertEqual(len(self.server_texts()), 48)
        result = self.sync_mode(a, "two-way", 200)
        self.assertReceived(result, "a's second two-way sync", replace=1, delete=1)
        self.assertEqual(len(a.texts()), 48, "files on device a after b's edit and delete")
        self.assertEqual(self.fn_on(a.texts().values(), field(new, "FN")), 1, "b's edit on device a")
        self.assertEqual(self.fn_on(a.texts().values(), field(deleted, "FN")), 0, "b's delete on device a")
        self.assertIdentities(a.identities(), expected, "device a after b's changes")
        self.assertIdentities(self.server_identities(), expected, "the host's store at the end")
        self.assertNoDuplicates(self.server_identities(), "the host's store")

    def test_calendar_tasks_and_notes(self):
        for kind in ("calendar", "tasks", "notes"):
            with self.subTest(kind=kind):
                a = Device(self, "a-" + kind, kind=kind)
                a.add(5, first=1)
                sent = a.identities()
                self.sync(a, "slow", remote_db=kind)
                self.assertIdentities(self.server_identities(category=kind), sent, "the host's %s" % kind)
                b = Device(self, "b-" + kind, kind=kind)
                self.sync(b, "refresh-from-server", remote_db=kind)
                self.assertIdentities(b.identities(), sent, "device b's %s" % kind)

    def wrong_password(self, auth):
        a = self.first_device(count=5)
        a.add(1, first=11)
        a.edit("contacts-00002.vcf")
        server_before = sorted(self.server_texts())
        client_before = a.texts()
        result = self.sync(a, "two-way", password=self.password + "-wrong", expect_ok=False, auth=auth)
        self.assertFalse(result.timed_out, "the host did not answer the wrong password in time")
        self.assertEqual(result.session_status().get("status"), "401",
                         "the client should have ended with 401 (invalid credentials)\n" + result.log_tail())
        self.assertEqual(sorted(self.server_texts()), server_before, "the host's store changed")
        self.assertEqual(a.texts(), client_before, "the device's items changed")
        return a

    def test_wrong_md5_password_is_refused(self):
        a = self.wrong_password("md5")
        self.sync_mode(a, "two-way", 200)
        self.assertSameItems(a, "the two-way sync after the failed one")
        self.assertEqual(len(self.server_texts()), 6)

    def test_wrong_basic_password_is_refused(self):
        a = self.wrong_password("basic")
        # A new device's first session with Basic goes through check_password.
        c = Device(self, "c")
        result = self.sync_mode(c, "refresh-from-server", 205, auth="basic")
        self.assertTrue(any("syncml:auth-basic" in t for t in result.message_texts("outgoing")),
                        "device c did not send Basic credentials")
        self.assertEqual(len(c.texts()), 5)
        self.sync_mode(a, "two-way", 200)
        self.assertEqual(len(self.server_texts()), 6)


class EmbedCXml(EmbedC, unittest.TestCase):
    encoding = "xml"


class EmbedCWbxml(EmbedC, unittest.TestCase):
    encoding = "wbxml"


class EmbedCShared(interop_server.SyncChecks, unittest.TestCase):
    """The provider's grant and Global Address Book (--grant, --directory), over XML."""

    encoding = "xml"
    kind = "contacts"

    def setUp(self):
        self.server = SERVER
        self.workdir = os.path.join(WORK, "shared-" + self._testMethodName)

    def as_user(self, account):
        self.user, self.password = account

    def test_granted_users_sync_the_owners_contacts(self):
        owner, writer, reader, stranger, _ = SERVER.roles()
        self.as_user(owner)
        mine = self.first_device("owner", count=5)
        remote = "%s/contacts" % owner[0]

        self.as_user(writer)
        w = Device(self, "writer")
        self.sync_mode(w, "refresh-from-server", 205, remote_db=remote)
        self.assertIdentities(w.identities(), mine.identities(), "the read-write grantee's device")
        added = w.add(1, first=60)
        self.sync_mode(w, "two-way", 200, remote_db=remote)
        self.assertIdentities(self.server_identities(owner[0]),
                              mine.identities() + items.identities("contacts", added), "the owner's contacts")
        self.assertEqual(self.server_texts(writer[0]), [], "the grantee's own contacts")

        self.as_user(owner)
        result = self.sync_mode(mine, "two-way", 200)
        self.assertReceived(result, "the owner's two-way sync", add=1)

        self.as_user(reader)
        r = Device(self, "reader")
        self.sync_mode(r, "refresh-from-server", 205, remote_db=remote)
        self.assertEqual(len(r.texts()), 6)
        before = sorted(self.server_texts(owner[0]))
        r.add(1, first=70)
        r.edit(sorted(r.texts())[0])
        result = self.sync(r, "two-way", remote_db=remote)
        self.assertAlerts(result, "two-way", 200, 204)  # read-only: from the server only
        self.assertEqual(sorted(self.server_texts(owner[0])), before, "the read-only grantee changed the owner's")

        self.as_user(stranger)
        s = Device(self, "stranger")
        result = self.sync(s, "two-way", remote_db=remote, expect_ok=False)
        self.assertEqual(result.session_status().get("status"), "404", result.log_tail())
        self.assertEqual(sorted(self.server_texts(owner[0])), before)

    def test_directory_comes_down_and_nothing_goes_up(self):
        _, _, _, _, directory = SERVER.roles()
        self.as_user(directory)
        admin = self.first_device("admin", count=5)
        before = sorted(self.server_texts(directory[0]))

        self.as_user(SERVER.new_account())
        d = Device(self, "gab")
        self.sync_mode(d, "refresh-from-server", 205, remote_db="Global Address Book/contacts")
        self.assertIdentities(d.identities(), admin.identities(), "the directory on a user's device")
        d.add(1, first=80)
        d.delete(sorted(d.texts())[0])
        result = self.sync(d, "two-way", remote_db="Global Address Book/contacts")
        self.assertAlerts(result, "two-way", 200, 204)
        self.assertEqual(sorted(self.server_texts(directory[0])), before, "a user's changes reached the directory")
        self.assertEqual(self.server_texts(), [], "the user's own contacts")


class EmbedCPage(unittest.TestCase):
    def test_get_root_answers_a_short_text(self):
        with urllib.request.urlopen("http://127.0.0.1:%d/" % SERVER.port, timeout=10) as r:
            self.assertEqual(r.status, 200)
            self.assertTrue(r.headers["Content-Type"].startswith("text/plain"))
            self.assertIn("SyncML", r.read().decode())


if __name__ == "__main__":
    unittest.main(verbosity=2)
