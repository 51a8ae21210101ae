"""End to end: Debian's SyncEvolution client syncs events and tasks with
syncmlkit-httpd, in all six sync modes, over XML and over WBXML.

One server for the module; one user per category and encoding (one test
each), whose devices go through the six modes one after the other:

    1 slow                device a's 10 items reach the empty server (201)
    2 two-way             a adds one, edits one, deletes one (200)
    3 refresh-from-server a new device b with an empty directory gets them (205)
    4 two-way             b adds one item, which a must not receive in 5 (200)
    5 one-way-from-client a adds, edits and deletes; the server gets all
                          three, a receives nothing (202)
    6 one-way-from-server b gets a's changes; b's own new item stays local;
                          the server does not change (204)
    7 refresh-from-client a new device c's 5 other items replace all of
                          the server's (203)

After every sync the device's directory and the server's SQLite file are
compared item by item (items.py: by identity; for events SUMMARY, DTSTART,
DTEND, RRULE, for tasks SUMMARY, DUE, STATUS, PRIORITY), and the alert codes
on the wire are checked in both directions: the client asked for the mode
and the server answered with the same code.
"""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import interop_server  # noqa: E402
import items  # noqa: E402
from interop_server import Device  # noqa: E402

SERVER = None
WORK = None


def setUpModule():
    global SERVER, WORK
    WORK = interop_server.prepare_work_dir()
    SERVER = interop_server.start_server(WORK)
    unittest.addModuleCleanup(interop_server.stop_server, SERVER, WORK)


class SixModes(interop_server.SyncChecks):
    """The test; the subclasses below choose the category and the encoding."""

    kind = None
    encoding = None

    def setUp(self):
        self.server = SERVER
        self.user, self.password = SERVER.new_account()
        self.workdir = os.path.join(WORK, "%s-%s" % (self.kind, self.encoding))

    def test_all_six_modes(self):
        kind = self.kind
        # 1. slow: a's 10 items reach the empty server.
        a = Device(self, "a")
        a.add(10, first=1)
        sent = a.identities()
        self.assertEqual(self.server_texts(), [], "the test's database is not empty")
        self.sync_mode(a, "slow", 201)
        self.assertIdentities(self.server_identities(), sent, "server after the slow sync")
        self.assertSameItems(a, "1 slow")

        # 2. two-way: an add, a replace and a delete on a reach the server.
        a.add(1, first=11)
        a.edit(a.item_name(2))
        a.delete(a.item_name(3))
        expected = a.identities()
        result = self.sync_mode(a, "two-way", 200)
        self.assertReceived(result, "2 two-way")
        self.assertIdentities(self.server_identities(), expected, "server after 2 two-way")
        self.assertIdentities(a.identities(), expected, "client a after 2 two-way")
        self.assertSameItems(a, "2 two-way")

        # 3. refresh-from-server into an empty directory.
        b = Device(self, "b")
        result = self.sync_mode(b, "refresh-from-server", 205)
        self.assertReceived(result, "3 refresh-from-server", add=10)
        self.assertEqual(len(b.texts()), 10, "device b after 3 refresh-from-server")
        self.assertSameItems(b, "3 refresh-from-server")

        # 4. b adds an item on the server (two-way), which a must not receive in 5.
        from_b = b.add(1, first=201)
        result = self.sync_mode(b, "two-way", 200)
        self.assertReceived(result, "4 device b's two-way sync")
        self.assertSameItems(b, "4 device b's two-way sync")
        self.assertEqual(sum(self.server_identities().values()), 11)

        # 5. one-way-from-client: a's three changes go up, b's item does not come down.
        server_before = self.server_identities()
        added = a.add(1, first=12)
        old, new = a.edit(a.item_name(4))
        deleted = a.delete(a.item_name(5))
        client_before = a.identities()
        self.sync_mode(a, "one-way-from-client", 202)
        expected = server_before - items.identities(kind, [old, deleted]) + items.identities(kind, added + [new])
        self.assertIdentities(self.server_identities(), expected, "server after 5 one-way-from-client")
        self.assertIdentities(a.identities(), client_before, "client a after 5 one-way-from-client")
        self.assertNotIn(items.identity(kind, from_b[0]), a.identities(), "b's item reached a in 5")

        # 6. one-way-from-server: b gets a's changes, b's own new item stays local.
        local = b.add(1, first=301)
        server_before = self.server_identities()
        result = self.sync_mode(b, "one-way-from-server", 204)
        self.assertReceived(result, "6 one-way-from-server", add=1, replace=1, delete=1)
        self.assertIdentities(self.server_identities(), server_before, "server after 6 one-way-from-server")
        self.assertIdentities(b.identities(), server_before + items.identities(kind, local),
                              "client b after 6 one-way-from-server")

        # 7. refresh-from-client: a new device c's 5 other items replace the server's.
        c = Device(self, "c")
        c.add(5, first=101)
        expected = c.identities()
        result = self.sync_mode(c, "refresh-from-client", 203)
        self.assertReceived(result, "7 refresh-from-client")
        self.assertIdentities(self.server_identities(), expected, "server after 7 refresh-from-client")
        self.assertIdentities(c.identities(), expected, "client c after 7 refresh-from-client")
        self.assertSameItems(c, "7 refresh-from-client")


class CalendarXml(SixModes, unittest.TestCase):
    kind, encoding = "calendar", "xml"


class CalendarWbxml(SixModes, unittest.TestCase):
    kind, encoding = "calendar", "wbxml"


class TasksXml(SixModes, unittest.TestCase):
    kind, encoding = "tasks", "xml"


class TasksWbxml(SixModes, unittest.TestCase):
    kind, encoding = "tasks", "wbxml"


if __name__ == "__main__":
    unittest.main(verbosity=2)
