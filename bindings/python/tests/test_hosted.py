"""A server on a store written in Python: the example host's dictionary
store (examples/host.py) synced by scripted SyncML sessions, item by item;
every callback failing in turn; several Python threads in process() at once.
"""

import http.client
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import unittest
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
sys.path.insert(0, os.path.join(HERE, "..", "examples"))
sys.path.insert(0, HERE)
import syncmlkit  # noqa: E402
from host import DictDatastore, DictProvider, Users  # noqa: E402
from syncml_client import ScriptedClient, vcard  # noqa: E402

PASSWORDS = {"alice": "secret", "bob": "hunter2"}
FIXTURES = os.environ.get("SYNCMLKIT_FIXTURES", os.path.join(HERE, "../../../tests/fixtures"))
FUNAMBOL_FIRST = "captures/funambol/first-messages/contacts-vcard21-basic-twoway/msg01.xml"


class Injected(Exception):
    pass


class FaultyStore(DictDatastore):
    """The dictionary store with failures on demand: each method named in
    `failing` raises Injected; `calls` counts every method's calls."""

    def __init__(self, native_format):
        super().__init__(native_format)
        self.failing = set()
        self.calls = {}

    def _enter(self, name):
        self.calls[name] = self.calls.get(name, 0) + 1
        if name in self.failing:
            raise Injected("injected failure in %s" % name)

    def native_format(self):
        self._enter("native_format")
        return super().native_format()

    def list(self):
        self._enter("list")
        listing = super().list()

        def walk():
            for entry in listing:
                self._enter("list_next")
                yield entry
        return walk()

    def read(self, guid):
        self._enter("read")
        return super().read(guid)

    def revision(self, guid):
        self._enter("revision")
        return super().revision(guid)

    def add(self, type, version, data):
        self._enter("add")
        return super().add(type, version, data)

    def replace(self, guid, type, version, data):
        self._enter("replace")
        return super().replace(guid, type, version, data)

    def remove(self, guid):
        self._enter("remove")
        return super().remove(guid)

    def begin(self):
        self._enter("begin")
        super().begin()

    def commit(self):
        if "commit" in self.failing:
            super().rollback()  # a transaction that fails to commit is undone
        self._enter("commit")
        super().commit()

    def rollback(self):
        # The rollback happens whether or not the host then reports a failure.
        super().rollback()
        self._enter("rollback")

    def snapshot(self, reason):
        self._enter("snapshot")
        return super().snapshot(reason)


class FaultyProvider(DictProvider):
    def __init__(self):
        super().__init__()
        self.failing = set()
        self.gab = FaultyStore(("text/vcard", "3.0"))

    def open(self, owner, category):
        if "open" in self.failing:
            raise Injected("injected failure in open")
        with self._lock:
            key = (owner, category)
            if key not in self.stores:
                self.stores[key] = FaultyStore(("text/vcard", "3.0"))
            return self.stores[key]

    def grant(self, owner, category, user):
        if "grant" in self.failing:
            raise Injected("injected failure in grant")
        return "read-write" if (owner, user) == ("bob", "alice") else None

    def open_global_address_book(self):
        if "open_global_address_book" in self.failing:
            raise Injected("injected failure in open_global_address_book")
        return self.gab


class FaultyUsers(Users):
    def __init__(self, passwords):
        super().__init__(passwords)
        self.failing = set()

    def check_password(self, user, password):
        if "check_password" in self.failing:
            raise Injected("injected failure in check_password")
        return super().check_password(user, password)

    def md5_digest(self, user):
        if "md5_digest" in self.failing:
            raise Injected("injected failure in md5_digest")
        return super().md5_digest(user)


def contents(store):
    """guid -> data of a dictionary store, for comparing before and after."""
    return {guid: item[0] for guid, item in store.items.items()}


class HostedTestCase(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="smk-py-hosted-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.lines = []
        self.lines_lock = threading.Lock()

    def log(self, level, text):
        with self.lines_lock:
            self.lines.append((level, text))

    def server(self, provider, auth, **options):
        s = syncmlkit.Server(state_dir=os.path.join(self.dir, "state"), datastores=provider, auth=auth,
                             logger=self.log, **options)
        self.addCleanup(s.close)
        return s

    def logged(self, text):
        return [line for _, line in self.lines if text in line]


class DictStoreSync(HostedTestCase):
    def test_slow_sync_then_two_way_both_ways(self):
        provider = DictProvider()
        server = self.server(provider, Users(PASSWORDS))
        a = ScriptedClient(server, "alice", "secret", "dev-a")
        r = a.sync("contacts", 201, adds={"a%d" % n: vcard(n) for n in range(20)})
        self.assertTrue(r.ended)
        self.assertEqual(r.statuses("Add"), [201] * 20)
        self.assertEqual(r.failures(), [])
        store = provider.stores[("alice", "contacts")]
        self.assertEqual(len(store.items), 20)
        self.assertEqual(sorted(item[0].decode().count("BEGIN:VCARD") for item in store.items.values()), [1] * 20)
        self.assertEqual({item[2] for item in store.items.values()}, {("text/vcard", "3.0")})
        self.assertEqual(len({item[1] for item in store.items.values()}), 20, "revisions are distinct")

        # A second device's slow sync gets the 20, and maps them.
        b = ScriptedClient(server, "alice", "secret", "dev-b", auth="md5")
        r = b.sync("contacts", 201)
        self.assertEqual(r.failures(), [])
        self.assertEqual(r.server_alerts, [201])
        adds = [op for op in r.server_ops if op[0] == "Add"]
        self.assertEqual(len(adds), 20)
        self.assertEqual({guid for _, guid, _ in adds}, set(store.items))
        self.assertEqual(sorted(data.count("Person") for _, _, data in adds), [2] * 20)
        self.assertEqual(r.statuses("Map"), [200])

        # Device b edits one and deletes one; device a gets exactly that.
        edited, deleted = sorted(store.items)[:2]
        r = b.sync("contacts", 200, replaces={"c" + edited: vcard(100)}, deletes=["c" + deleted])
        self.assertEqual(r.failures(), [])
        self.assertEqual(r.statuses("Replace"), [200])
        self.assertEqual(r.statuses("Delete"), [200])
        self.assertEqual(r.server_ops, [])
        self.assertEqual(len(store.items), 19)
        self.assertNotIn(deleted, store.items)
        self.assertIn(b"Person100", store.items[edited][0])

        r = a.sync("contacts", 200)
        self.assertEqual(r.failures(), [])
        self.assertEqual(sorted(op[0] for op in r.server_ops), ["Delete", "Replace"])
        replace = [op for op in r.server_ops if op[0] == "Replace"][0]
        self.assertIn("Person100", replace[2])
        self.assertEqual(len(store.items), 19)
        # Nothing left to send either way.
        self.assertEqual(b.sync("contacts", 200).server_ops, [])
        self.assertEqual(a.sync("contacts", 200).server_ops, [])
        self.assertEqual([line for level, line in self.lines if level >= syncmlkit.LOG_ERROR], [])
        # Every store the engine opened and every listing it began were given back.
        self.assertEqual(server._hosted.stores, {})
        self.assertEqual(server._hosted.cursors, {})

    def test_auth_forms(self):
        provider = DictProvider()
        # A plain callable: Basic works, MD5 is turned away.
        server = self.server(provider, lambda user, password: (user, password) == ("alice", "secret"))
        r = ScriptedClient(server, "alice", "secret", "dev-1").sync("contacts", 201, adds={"x": vcard(1)})
        self.assertEqual(r.statuses("SyncHdr")[0], 212)
        self.assertEqual(r.statuses("Add"), [201])
        r = ScriptedClient(server, "alice", "wrong", "dev-2").sync("contacts", 201, adds={"y": vcard(2)})
        self.assertEqual(r.statuses("SyncHdr"), [401])
        r = ScriptedClient(server, "alice", "secret", "dev-3", auth="md5").sync("contacts", 201)
        self.assertNotIn(212, r.statuses("SyncHdr"))
        self.assertEqual(len(provider.stores[("alice", "contacts")].items), 1)
        # A dict of passwords: both.
        server = self.server(DictProvider(), dict(PASSWORDS))
        for auth in ("basic", "md5"):
            r = ScriptedClient(server, "bob", "hunter2", "dev-" + auth, auth=auth).sync("contacts", 201)
            self.assertIn(212, r.statuses("SyncHdr"), auth)
            r = ScriptedClient(server, "bob", "nope", "dev-x" + auth, auth=auth).sync("contacts", 201)
            self.assertNotIn(212, r.statuses("SyncHdr"), auth)

    def test_conflict_policy_per_database(self):
        asked = []

        def policy(owner, category):
            asked.append((owner, category))
            return "server-wins" if owner == "alice" else "client-wins"

        provider = DictProvider()
        server = self.server(provider, PASSWORDS, conflict_policy=policy)
        for user in ("alice", "bob"):
            a = ScriptedClient(server, user, PASSWORDS[user], "dev-a-" + user)
            b = ScriptedClient(server, user, PASSWORDS[user], "dev-b-" + user)
            self.assertEqual(a.sync("contacts", 201, adds={"x": vcard(1)}).failures(), [])
            guid = [op[1] for op in b.sync("contacts", 201).server_ops][0]
            # Both change the one contact; a's change reaches the server first.
            self.assertEqual(a.sync("contacts", 200, replaces={"x": vcard(2)}).failures(), [])
            b.sync("contacts", 200, replaces={"c" + guid: vcard(3)})
            data = provider.stores[(user, "contacts")].items[guid][0]
            self.assertIn(b"Person002" if user == "alice" else b"Person003", data, user)
        self.assertIn(("alice", "contacts"), asked)
        self.assertIn(("bob", "contacts"), asked)
        # A name alone applies to every database.
        for name, wins in (("client-wins", b"Person003"), ("server-wins", b"Person002")):
            provider = DictProvider()
            server = self.server(provider, PASSWORDS, conflict_policy=name)
            a = ScriptedClient(server, "alice", "secret", "dev-a")
            b = ScriptedClient(server, "alice", "secret", "dev-b")
            a.sync("contacts", 201, adds={"x": vcard(1)})
            guid = [op[1] for op in b.sync("contacts", 201).server_ops][0]
            a.sync("contacts", 200, replaces={"x": vcard(2)})
            b.sync("contacts", 200, replaces={"c" + guid: vcard(3)})
            self.assertIn(wins, provider.stores[("alice", "contacts")].items[guid][0], name)

    def test_config_hooks(self):
        calls = {"profile": [], "zone": [], "trace": [], "session_lines": []}
        provider = DictProvider()
        server = self.server(
            provider, PASSWORDS, aliases={"addressbook": "contacts"}, server_id="Mail-42",
            max_xml_depth=40, login_max_tracked=10,
            client_profile=lambda man, mod, dev: calls["profile"].append((man, mod, dev)) or "generic",
            user_time_zone=lambda user: calls["zone"].append(user) or "Europe/Berlin",
            trace=lambda direction, session, xml: calls["trace"].append((direction, session, xml)),
            session_logger=lambda level, session, text: calls["session_lines"].append((level, session, text)))
        # The Funambol plug-in's first message asks for the server's DevInf.
        with open(os.path.join(FIXTURES, FUNAMBOL_FIRST), "rb") as f:
            reply = server.process(f.read(), "application/vnd.syncml+xml", "/sync", "127.0.0.1")
        self.assertEqual(reply.http_status, 200)
        self.assertIn(b"<DevID>Mail-42</DevID>", reply.body)
        session = re.search(rb"\?s=([0-9a-f]{8})", reply.body).group(1).decode()
        self.assertEqual([(d, sess) for d, sess, _ in calls["trace"]], [("in", session), ("out", session)])
        self.assertIn("<SyncML", calls["trace"][0][2])
        self.assertIn("Mail-42", calls["trace"][1][2])
        self.assertTrue(any(sess == session and "alice" in text for _, sess, text in calls["session_lines"]),
                        calls["session_lines"])
        # A client with a DevInf syncs "addressbook", the alias: the profile
        # and time zone are asked for once, when its Sync comes.
        c = ScriptedClient(server, "bob", "hunter2", "phone-1", devinf=("ACME", "Phone 1"))
        r = c.sync("addressbook", 201, adds={"p1": vcard(1), "p2": vcard(2)})
        self.assertEqual(r.failures(), [])
        self.assertEqual(r.statuses("Add"), [201, 201])
        self.assertEqual(len(provider.stores[("bob", "contacts")].items), 2)
        self.assertEqual(calls["profile"], [("ACME", "Phone 1", "phone-1")])
        self.assertEqual(calls["zone"], ["bob"])

    def test_config_hooks_raising(self):
        def boom(*args):
            raise Injected("injected failure in a hook")

        provider = DictProvider()
        server = self.server(provider, PASSWORDS, client_profile=boom, user_time_zone=boom, trace=boom,
                             conflict_policy=boom)
        c = ScriptedClient(server, "bob", "hunter2", "phone-1", devinf=("ACME", "Phone 1"))
        r = c.sync("contacts", 201, adds={"p1": vcard(1), "p2": vcard(2)})
        self.assertEqual(r.failures(), [])
        self.assertEqual(len(provider.stores[("bob", "contacts")].items), 2)
        for hook in ("client_profile('ACME', 'Phone 1', 'phone-1')", "user_time_zone('bob')"):
            self.assertTrue(self.logged(hook + " raised Injected: injected failure in a hook"),
                            "\n".join(l for _, l in self.lines))

    def test_mass_delete_allow(self):
        asked = []
        provider = DictProvider()
        server = self.server(provider, PASSWORDS,
                             mass_delete_allow=lambda owner, category, device: asked.append(
                                 (owner, category, device)) or device == "dev-yes")
        # 25 of 30 deleted: over the guard's 50% of more than 20 items.
        for user, device in (("bob", "dev-no"), ("alice", "dev-yes")):
            c = ScriptedClient(server, user, PASSWORDS[user], device)
            adds = {"%s-%d" % (device, n): vcard(n) for n in range(30)}
            self.assertEqual(c.sync("contacts", 201, adds=adds).failures(), [])
            r = c.sync("contacts", 200, deletes=sorted(adds)[:25])
            after = len(provider.stores[(user, "contacts")].items)
            if device == "dev-no":
                self.assertEqual(after, 30, "the guard refused the deletes")
                self.assertEqual(len(r.failures()), 25)
            else:
                self.assertEqual(after, 5)
                self.assertEqual(r.statuses("Delete"), [200] * 25)
        self.assertEqual(asked, [("bob", "contacts", "dev-no"), ("alice", "contacts", "dev-yes")])

    def test_bad_arguments(self):
        with self.assertRaises(TypeError):
            syncmlkit.Server(state_dir=self.dir, datastores=object(), auth=PASSWORDS)
        with self.assertRaises(TypeError):
            syncmlkit.Server(datastores=DictProvider(), auth=PASSWORDS)
        with self.assertRaises(TypeError):
            syncmlkit.Server(state_dir=self.dir, datastores=DictProvider(), auth=PASSWORDS, max_msgsize=1)
        with self.assertRaises(ValueError):
            syncmlkit.Server(state_dir=self.dir, datastores=DictProvider(), auth=PASSWORDS,
                             conflict_policy="loudest-wins")
        server = self.server(DictProvider(), PASSWORDS)
        for call in (lambda: server.grant("bob", "contacts", "alice"), lambda: server.devices("alice"),
                     lambda: server.snapshots("alice", "contacts"), lambda: server.restore("alice", "contacts")):
            with self.assertRaises(syncmlkit.SyncMLError):
                call()

    def test_max_request_size(self):
        self.assertEqual(self.server(DictProvider(), PASSWORDS, max_msg_size=40000).max_request_size(), 80000)
        self.assertEqual(self.server(DictProvider(), PASSWORDS, max_msg_size=20000).max_request_size(), 65536)
        self.assertEqual(self.server(DictProvider(), PASSWORDS, max_request_size=70000).max_request_size(), 70000)

    def test_check_login_through_the_host_users(self):
        users = FaultyUsers(PASSWORDS)
        server = self.server(DictProvider(), users)
        self.assertEqual(server.check_login("bob", "hunter2", "192.0.2.7"), (True, 0))
        self.assertEqual(server.check_login("bob", "nope", "192.0.2.7"), (False, 0))
        users.failing.add("check_password")
        with self.assertRaises(syncmlkit.SyncMLError):
            server.check_login("bob", "hunter2")
        self.assertTrue(self.logged("injected failure in check_password"))

    def test_threads_process_at_once(self):
        # Each user's store waits in list() until the other user's session
        # is in list() too: only possible when process() lets go of the GIL
        # and the engine runs both sessions at once.
        barrier = threading.Barrier(2, timeout=20)

        class Meeting(DictDatastore):
            def list(self):
                barrier.wait()
                return super().list()

        class Provider(DictProvider):
            def open(self, owner, category):
                with self._lock:
                    return self.stores.setdefault((owner, category), Meeting(("text/vcard", "3.0")))

        provider = Provider()
        server = self.server(provider, PASSWORDS)
        results = {}

        def run(user):
            c = ScriptedClient(server, user, PASSWORDS[user], "dev-" + user)
            results[user] = c.sync("contacts", 201, adds={"%s%d" % (user, n): vcard(n) for n in range(5)})

        threads = [threading.Thread(target=run, args=(u,)) for u in PASSWORDS]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        self.assertFalse(barrier.broken)
        for user in PASSWORDS:
            self.assertEqual(results[user].failures(), [], user)
            self.assertEqual(len(provider.stores[(user, "contacts")].items), 5, user)


class Closing(HostedTestCase):
    def test_close_inside_a_callback_is_refused_and_the_server_goes_on(self):
        holder = {}

        class Closer(DictDatastore):
            def list(self):
                holder["server"].close()  # raises: the engine sees a failed list()
                return super().list()

        class Provider(DictProvider):
            def open(self, owner, category):
                with self._lock:
                    return self.stores.setdefault((owner, category), Closer(("text/vcard", "3.0")))

        server = holder["server"] = self.server(Provider(), PASSWORDS)
        r = ScriptedClient(server, "alice", "secret", "dev-a").sync("contacts", 201, adds={"a": vcard(1)})
        self.assertTrue(set(r.http_statuses) - {200} or r.failures())
        self.assertTrue(self.logged("close() from inside a callback"), self.lines)
        # Still open: a plain call works.
        self.assertEqual(server.session_count() >= 0, True)
        self.assertIsNotNone(server.process(b"<SyncML>", "application/vnd.syncml+xml"))

    def test_close_from_another_thread_waits_for_process(self):
        entered, release = threading.Event(), threading.Event()

        class Slow(DictDatastore):
            def list(self):
                entered.set()
                release.wait(20)
                return super().list()

        class Provider(DictProvider):
            def open(self, owner, category):
                with self._lock:
                    return self.stores.setdefault((owner, category), Slow(("text/vcard", "3.0")))

        provider = Provider()
        server = self.server(provider, PASSWORDS)
        result = {}

        def sync():
            result["r"] = ScriptedClient(server, "alice", "secret", "dev-a").sync(
                "contacts", 201, adds={"a%d" % n: vcard(n) for n in range(3)})

        syncing = threading.Thread(target=sync)
        syncing.start()
        self.assertTrue(entered.wait(20))
        closer = threading.Thread(target=server.close)
        closer.start()
        closer.join(0.5)
        self.assertTrue(closer.is_alive(), "close() must wait for the process() call inside the engine")
        release.set()
        closer.join(20)
        self.assertFalse(closer.is_alive())
        syncing.join(20)
        # The message inside the engine completed; the next one found the server closed.
        with self.assertRaises(syncmlkit.SyncMLError):
            server.process(b"<SyncML>", "application/vnd.syncml+xml")


class SameStoreTwoDevices(HostedTestCase):
    def test_two_devices_of_one_user_at_once(self):
        # Both sessions have alice's contacts open at once; the store's
        # lock keeps their messages apart: nothing lost, nothing doubled.
        provider = DictProvider()
        server = self.server(provider, PASSWORDS)
        results = {}
        slow_syncs_done = threading.Barrier(4, timeout=30)

        def run(device, first):
            c = ScriptedClient(server, "alice", "secret", device)
            results[device] = [c.sync("contacts", 201, adds={"%s-%d" % (device, n): vcard(first + n)
                                                              for n in range(10)})]
            slow_syncs_done.wait()
            results[device].append(c.sync("contacts", 200))

        threads = [threading.Thread(target=run, args=("dev-%d" % i, 100 * i)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        store = provider.stores[("alice", "contacts")]
        self.assertEqual(len(store.items), 40)
        self.assertEqual(len({item[0] for item in store.items.values()}), 40)
        for device, (slow, two_way) in sorted(results.items()):
            self.assertEqual(slow.statuses("Add"), [201] * 10, device)
            self.assertEqual(slow.failures() + two_way.failures(), [], device)
        # Each device ends up with the other devices' 30 contacts, each once
        # (what came during its slow sync then, the rest by its two-way sync).
        for device, (slow, two_way) in sorted(results.items()):
            got = [guid for kind, guid, _ in slow.server_ops + two_way.server_ops if kind == "Add"]
            self.assertEqual(len(got), len(set(got)), device)
            self.assertEqual(len(got), 30, device)


class HostProgram(unittest.TestCase):
    """examples/host.py as a program: it listens, answers a SyncML login
    over HTTP and stops on SIGTERM."""

    def test_run_login_stop(self):
        proc = subprocess.Popen([sys.executable, "-B", os.path.join(HERE, "..", "examples", "host.py"),
                                 "--port", "0", "--user", "alice:secret", "--user", "bob:hunter2"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            line = proc.stdout.readline()
            self.assertRegex(line, r"^listening on http://127\.0\.0\.1:\d+/sync \(users: alice, bob\)$")
            url = line.split()[2]
            with urllib.request.urlopen(url.replace("/sync", "/"), timeout=10) as page:
                self.assertIn(b"SyncML server", page.read())

            class Http:
                def process(self, body, content_type, url_, peer):
                    # The client's URL: the host's, then the RespURI the engine made of it.
                    req = urllib.request.Request(url_, data=body, headers={"Content-Type": content_type})
                    with urllib.request.urlopen(req, timeout=10) as reply:
                        return syncmlkit.Response(reply.read(), reply.headers["Content-Type"], reply.status,
                                                  False)

            r = ScriptedClient(Http(), "bob", "hunter2", "dev-http", url=url).sync(
                "contacts", 201, adds={"h%d" % n: vcard(n) for n in range(3)})
            self.assertEqual(r.statuses("Add"), [201] * 3)
            self.assertEqual(r.failures(), [])
            with self.assertRaises(urllib.error.HTTPError) as e:
                urllib.request.urlopen(urllib.request.Request(url, data=b"<SyncML>", headers={
                    "Content-Type": "application/vnd.syncml+xml"}), timeout=10)
            self.assertEqual(e.exception.code, 400)
            # A body larger than the server takes is refused before it is read.
            host, port = url.split("/")[2].split(":")
            conn = http.client.HTTPConnection(host, int(port), timeout=10)
            conn.putrequest("POST", "/sync")
            conn.putheader("Content-Type", "application/vnd.syncml+xml")
            conn.putheader("Content-Length", str(10 ** 9))
            conn.endheaders()
            self.assertEqual(conn.getresponse().status, 413)
            conn.close()
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                out, err = proc.communicate(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                out, err = proc.communicate()
        self.assertEqual(proc.returncode, 0, err)


class CallbackFailures(HostedTestCase):
    """Each callback raises in turn. The engine answers with a failure
    status, logs the exception's text, leaves the store as it was before
    the failed message, and the next clean session ends with exact counts."""

    def setUp(self):
        super().setUp()
        self.provider = FaultyProvider()
        self.users = FaultyUsers(PASSWORDS)
        self.srv = self.server(self.provider, self.users)
        # Device a holds 3 contacts, synced: the store's starting point.
        self.a = ScriptedClient(self.srv, "alice", "secret", "dev-a")
        r = self.a.sync("contacts", 201, adds={"a%d" % n: vcard(n) for n in range(3)})
        self.assertEqual(r.failures(), [])
        self.store = self.provider.stores[("alice", "contacts")]
        self.assertEqual(len(self.store.items), 3)

    def tearDown(self):
        # The stores of aborted sessions may stay open until the server is
        # freed; then every one is given back.
        hosted = self.srv._hosted
        self.srv.close()
        self.assertEqual(hosted.stores, {})
        self.assertEqual(hosted.cursors, {})

    def inject(self, name, scenario, also=()):
        """Runs `scenario` (a function returning a SessionResult) with
        callback `name` raising (and those in `also`); checks that it was
        called, that some status or the HTTP status says failure, that the
        log has the exception's text, and that the store is as before."""
        owner = {"open": self.provider, "grant": self.provider, "open_global_address_book": self.provider,
                 "check_password": self.users, "md5_digest": self.users}.get(name, self.store)
        before = contents(self.store)
        calls = self.store.calls.get(name, 0)
        owner.failing.update((name,) + tuple(also))
        self.lines.clear()
        try:
            r = scenario()
        finally:
            owner.failing.clear()
        if owner is self.store:
            self.assertGreater(self.store.calls.get(name, 0), calls, "%s was never called" % name)
        text = "injected failure in " + name
        self.assertTrue(self.logged(text), "no log line says %r; the log:\n%s" % (
            text, "\n".join(line for _, line in self.lines)))
        codes = [code for _, code in r.failures()] + [s for s in r.http_statuses if s != 200]
        self.assertTrue(codes, "%s: no failure status (%s)" % (name, r.status_list))
        self.assertEqual(contents(self.store), before, "%s: the store changed" % name)
        return r, codes

    def slow_sync_c(self):
        return ScriptedClient(self.srv, "alice", "secret", "dev-c").sync(
            "contacts", 201, adds={"c%d" % n: vcard(10 + n) for n in range(2)})

    def assert_clean_slow_sync(self):
        """After the failure: device c's slow sync brings the store to 5
        items and gets the other 3, nothing lost or duplicated."""
        r = self.slow_sync_c()
        self.assertEqual(r.failures(), [])
        self.assertEqual(len(self.store.items), 5)
        self.assertEqual(len([op for op in r.server_ops if op[0] == "Add"]), 3)
        datas = sorted(item[0] for item in self.store.items.values())
        self.assertEqual(len(set(datas)), 5, "duplicates in the store")
        # Failed sessions, too, closed every listing they began.
        self.assertEqual(self.srv._hosted.cursors, {})

    def test_datastore_calls_on_a_slow_sync(self):
        for name, also in (("native_format", ()), ("list", ()), ("list_next", ()), ("read", ()), ("add", ()),
                           ("begin", ()), ("commit", ()), ("list", ("rollback",))):
            with self.subTest(callback=name, also=also):
                _, codes = self.inject(name, self.slow_sync_c, also)
                if also:
                    self.assertTrue(self.logged("injected failure in rollback"), "the rollback's failure")
                self.assertTrue(set(codes) & {500, 510}, "%s: %s" % (name, codes))
                self.assert_clean_slow_sync()
                self.tearDown_c()

    def tearDown_c(self):
        """Takes device c's two contacts out again with device a's two-way sync."""
        for guid in [g for g, item in self.store.items.items() if b"Person01" in item[0]]:
            self.store.items.pop(guid)
        self.assertEqual(len(self.store.items), 3)

    def test_datastore_calls_on_a_two_way_sync(self):
        # A failed replace or remove is answered 510 for that item only.
        for name, changes, cmd in (("replace", {"replaces": {"a0": vcard(50)}}, "Replace"),
                                   ("remove", {"deletes": ["a1"]}, "Delete"),
                                   # a Delete reads the revision first, always (a
                                   # Replace may not: the outbox comes from the listing)
                                   ("revision", {"deletes": ["a1"]}, None)):
            with self.subTest(callback=name):
                r, codes = self.inject(name, lambda: self.a.sync("contacts", 200, **changes))
                if cmd:
                    self.assertEqual(r.statuses(cmd), [510])
        r = self.a.sync("contacts", 200, replaces={"a0": vcard(50)}, deletes=["a1"])
        self.assertEqual(r.failures(), [])
        self.assertEqual(r.server_alerts, [200])
        self.assertEqual(len(self.store.items), 2)
        self.assertEqual(sum(b"Person050" in item[0] for item in self.store.items.values()), 1)

    def test_snapshot(self):
        r, _ = self.inject("snapshot", lambda: ScriptedClient(self.srv, "alice", "secret", "dev-r").sync(
            "contacts", 203, adds={"r1": vcard(70)}))
        self.assertEqual(len(self.store.items), 3)

    def test_provider_and_auth(self):
        self.inject("open", self.slow_sync_c)
        self.inject("grant", lambda: ScriptedClient(self.srv, "alice", "secret", "dev-g").sync(
            "bob/contacts", 201, adds={"g": vcard(80)}))
        self.assertNotIn(("bob", "contacts"), {k for k, s in self.provider.stores.items() if s.items})
        self.inject("open_global_address_book", lambda: ScriptedClient(self.srv, "alice", "secret", "dev-gab").sync(
            "Global Address Book/contacts", 201))
        self.inject("check_password", self.slow_sync_c)
        self.inject("md5_digest", lambda: ScriptedClient(self.srv, "alice", "secret", "dev-m", auth="md5").sync(
            "contacts", 201, adds={"m": vcard(90)}))
        self.assert_clean_slow_sync()

    def test_garbage_from_callbacks(self):
        bad = {
            "read": lambda guid: "not a tuple",
            "add": lambda type, version, data: None,
            "list": lambda: [("only-a-guid",)],
            "native_format": lambda: "text/vcard",
        }
        for name, method in bad.items():
            with self.subTest(callback=name):
                before = contents(self.store)
                setattr(self.store, name, method)
                self.lines.clear()
                try:
                    r = self.slow_sync_c()
                finally:
                    delattr(self.store, name)
                self.assertTrue(r.failures() or set(r.http_statuses) - {200}, name)
                self.assertTrue(self.logged("Datastore.%s raised" % name), "\n".join(l for _, l in self.lines))
                self.assertEqual(contents(self.store), before, name)
                self.assert_clean_slow_sync()
                self.tearDown_c()


if __name__ == "__main__":
    unittest.main()
