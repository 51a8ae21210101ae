"""The Server class of the Python binding: a whole first package through it."""

import os
import shutil
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import syncmlkit  # noqa: E402
from syncml_client import ScriptedClient, vcard  # noqa: E402

FIXTURES = os.environ.get("SYNCMLKIT_FIXTURES", os.path.join(os.path.dirname(__file__), "../../../tests/fixtures"))
FUNAMBOL_FIRST = "captures/funambol/first-messages/contacts-vcard21-basic-twoway/msg01.xml"


class ServerTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="smk-py-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.lines = []

    def server(self, passwords):
        s = syncmlkit.Server(self.dir, passwords, log=lambda level, text: self.lines.append((level, text)))
        self.addCleanup(s.close)
        return s

    def message(self):
        with open(os.path.join(FIXTURES, FUNAMBOL_FIRST), "rb") as f:
            return f.read()

    def test_first_package(self):
        server = self.server({"alice": "secret"})
        reply = server.process(self.message(), "application/vnd.syncml+xml", "/sync", "127.0.0.1")
        self.assertEqual(reply.http_status, 200)
        self.assertEqual(reply.content_type, "application/vnd.syncml+xml")
        self.assertIn(b"<Data>212</Data>", reply.body)
        self.assertIn(b"<RespURI>http://127.0.0.1:18080/sync?s=", reply.body)
        self.assertFalse(reply.session_ended)
        self.assertIn("<SyncML", syncmlkit.render_xml(reply.body, reply.content_type))

    def test_wrong_password_is_refused_in_syncml(self):
        server = self.server(lambda user: "other" if user == "alice" else None)
        reply = server.process(self.message(), "application/vnd.syncml+xml", "/sync")
        self.assertEqual(reply.http_status, 200)
        self.assertIn(b"<Data>401</Data>", reply.body)
        self.assertTrue(reply.session_ended)
        self.assertTrue(any("refused" in text for _, text in self.lines))

    def test_throttled_login_carries_retry_after(self):
        server = self.server(lambda user: "other" if user == "alice" else None)
        replies = [server.process(self.message(), "application/vnd.syncml+xml", "/sync", "192.0.2.9")
                   for _ in range(6)]
        self.assertTrue(all(b"<Data>401</Data>" in r.body for r in replies[:5]))
        self.assertTrue(all(r.retry_after == 0 for r in replies[:5]))
        # The sixth wrong try in a row is held back: 503 and a delay to send as Retry-After.
        self.assertIn(b"<Data>503</Data>", replies[5].body)
        self.assertGreater(replies[5].retry_after, 0)

    def test_password_lookup_raising_is_an_unknown_user(self):
        server = self.server({"bob": "x"}.__getitem__)  # KeyError for the message's alice
        reply = server.process(self.message(), "application/vnd.syncml+xml", "/sync")
        self.assertIn(b"<Data>401</Data>", reply.body)
        self.assertTrue(reply.session_ended)

    def test_undecodable_body(self):
        server = self.server({})
        reply = server.process(b"<SyncML>", "application/vnd.syncml+xml")
        self.assertEqual(reply.http_status, 400)
        self.assertIn(b"undecodable", reply.body)

    def test_grant_and_gab(self):
        server = self.server({})
        server.grant("bob", "contacts", "alice", read_only=True)
        with self.assertRaises(syncmlkit.SyncMLError):
            server.grant("bob", "journal", "alice")
        vcf = os.path.join(self.dir, "gab.vcf")
        with open(vcf, "w") as f:
            f.write("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:A\r\nN:A;;;;\r\nEND:VCARD\r\n")
        self.assertEqual(server.import_global_address_book(vcf), 1)
        with self.assertRaises(syncmlkit.SyncMLError):
            server.import_global_address_book(os.path.join(self.dir, "missing.vcf"))


class AdministrationTest(unittest.TestCase):
    """The built-in store's administration after scripted syncs."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="smk-py-admin-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.server = syncmlkit.Server(self.dir, {"alice": "secret", "bob": "hunter2"})
        self.addCleanup(self.server.close)

    def test_devices_reset_snapshots_restore(self):
        server = self.server
        phone = ScriptedClient(server, "alice", "secret", "phone-1", devinf=("ACME", "Phone 1"))
        r = phone.sync("contacts", 201, adds={"p%d" % n: vcard(n) for n in range(3)})
        self.assertEqual(r.failures(), [])
        self.assertEqual(server.session_count(), 0)
        [device] = server.devices("alice")
        self.assertEqual((device.device, device.make, device.model), ("phone-1", "ACME", "Phone 1"))
        self.assertIsNotNone(device.last_seen)
        contacts = [db for db in device.databases if db.category == "contacts"]
        self.assertEqual(len(contacts), 1)
        self.assertTrue(contacts[0].completed)
        self.assertEqual(contacts[0].items, 3)
        self.assertEqual(server.devices("bob"), [])

        name = server.snapshot("alice", "contacts", "before-cleanup")
        self.assertIn("before-cleanup", name)
        self.assertEqual([(x.name, x.reason) for x in server.snapshots("alice", "contacts")],
                         [(name, "before-cleanup")])
        # Two more contacts after the snapshot; the restore deletes them.
        r = phone.sync("contacts", 200, adds={"q1": vcard(10), "q2": vcard(11)})
        self.assertEqual(r.statuses("Add"), [201, 201])
        counts = server.restore("alice", "contacts", name)
        self.assertEqual(counts, syncmlkit.ItemCounts(added=0, changed=0, unchanged=3, removed=2))
        r = phone.sync("contacts", 200)
        self.assertEqual(sorted(op[0] for op in r.server_ops), ["Delete", "Delete"])

        self.assertEqual(server.reset_device("alice", "phone-1"), 1)
        with self.assertRaises(syncmlkit.NotFoundError):
            server.reset_device("alice", "phone-1")
        with self.assertRaises(syncmlkit.NotFoundError):
            server.restore("bob", "contacts")
        r = phone.sync("contacts", 200)
        self.assertEqual(r.statuses("Alert"), [508], "a slow sync after the reset")

    def test_check_login(self):
        self.assertEqual(self.server.check_login("alice", "secret", "192.0.2.1"), (True, 0))
        self.assertEqual(self.server.check_login("alice", "wrong", "192.0.2.1"), (False, 0))
        self.assertEqual(self.server.check_login("nobody", "x"), (False, 0))
        self.server.expire_idle_sessions()
        self.assertEqual(self.server.session_count(), 0)


if __name__ == "__main__":
    unittest.main()
