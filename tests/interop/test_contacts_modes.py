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

The server, the devices and the sync and comparison helpers are shared
with the other end-to-end tests (interop_server.py, which also lists the
environment ctest sets).
"""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import interop_server  # noqa: E402
import items  # noqa: E402
from interop_server import Device  # noqa: E402

KIND = "contacts"
SERVER = None
WORK = None


def setUpModule():
    global SERVER, WORK
    WORK = interop_server.prepare_work_dir()
    SERVER = interop_server.start_server(WORK)
    unittest.addModuleCleanup(interop_server.stop_server, SERVER, WORK)


class ContactsModes(interop_server.SyncChecks):
    """The tests; the subclasses below choose the encoding."""

    encoding = None
    kind = KIND

    def setUp(self):
        self.server = SERVER
        self.user, self.password = SERVER.new_account()
        self.workdir = os.path.join(WORK, "%s-%s" % (self.encoding, self._testMethodName))

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
