"""Clients of one user that speak different versions of a format: the
server keeps one copy of each item in its native format and gives every
client its own.

- SyncEvolution forced to send and receive text/x-vcard 2.1, as the Funambol
  plug-in does, adds contacts; the server keeps them as vCard 3.0 and a
  second, vCard 3.0, client receives them as 3.0 with the same fields; the
  3.0 client's additions reach the 2.1 client as 2.1.
- The same for events: a vCalendar 1.0 client and an iCalendar 2.0 client.

Run by ctest (label interop) with SMK_HTTPD and SMK_CURLFIX set.
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
# SyncEvolution sends its own format unless told to use this one for the
# exchange too (forceSyncFormat), which it then converts to and from.
VCARD21 = ("contacts/syncFormat=text/x-vcard", "contacts/forceSyncFormat=1")
VCAL10 = ("calendar/syncFormat=text/x-vcalendar", "calendar/forceSyncFormat=1")


def setUpModule():
    global SERVER, WORK
    WORK = interop_server.prepare_work_dir()
    SERVER = interop_server.start_server(WORK)
    unittest.addModuleCleanup(interop_server.stop_server, SERVER, WORK)


class VCardVersions(interop_server.SyncChecks, unittest.TestCase):
    kind = "contacts"
    encoding = "wbxml"

    def setUp(self):
        self.server = SERVER
        self.user, self.password = SERVER.new_account()
        self.workdir = os.path.join(WORK, self._testMethodName)

    def test_21_client_and_30_client_share_contacts(self):
        old = Device(self, "vcard21")
        old.add(5, first=1)
        sent = old.identities()
        result = self.sync(old, "slow", extra=VCARD21)
        self.assertIn("VERSION:2.1", "".join(interop_server.message_texts(result, "outgoing")),
                      "the 2.1 client sent vCard 2.1")
        # Kept once, as vCard 3.0, with what the client said.
        stored = self.server_texts()
        self.assertEqual(len(stored), 5)
        for text in stored:
            self.assertIn("VERSION:3.0", text)
        self.assertIdentities(self.server_identities(), sent, "server after the 2.1 client's upload")

        new = Device(self, "vcard30")
        result = self.sync(new, "refresh-from-server")
        self.assertIdentities(new.identities(), sent, "the 3.0 client after its download")
        for text in new.texts().values():
            self.assertIn("VERSION:3.0", text)

        added = new.add(2, first=100)
        self.sync(new, "two-way")
        result = self.sync(old, "two-way", extra=VCARD21)
        self.assertIn("VERSION:2.1", "".join(interop_server.message_texts(result, "incoming")),
                      "the 2.1 client received vCard 2.1")
        self.assertIdentities(old.identities(), sent + items.identities("contacts", added),
                              "the 2.1 client after the 3.0 client's additions")


class CalendarVersions(interop_server.SyncChecks, unittest.TestCase):
    kind = "calendar"
    encoding = "xml"

    def setUp(self):
        self.server = SERVER
        self.user, self.password = SERVER.new_account()
        self.workdir = os.path.join(WORK, self._testMethodName)

    def test_vcal10_client_and_ical20_client_share_events(self):
        old = Device(self, "vcal10")
        old.add(6, first=1)
        sent = old.identities()
        result = self.sync(old, "slow", extra=VCAL10)
        self.assertIn("VERSION:1.0", "".join(interop_server.message_texts(result, "outgoing")),
                      "the vCalendar client sent vCalendar 1.0")
        stored = self.server_texts()
        self.assertEqual(len(stored), 6)
        for text in stored:
            self.assertIn("VERSION:2.0", text)
        self.assertIdentities(self.server_identities(), sent, "server after the vCalendar client's upload")

        new = Device(self, "ical20")
        self.sync(new, "refresh-from-server")
        self.assertIdentities(new.identities(), sent, "the iCalendar client after its download")

        added = new.add(3, first=100)
        self.sync(new, "two-way")
        result = self.sync(old, "two-way", extra=VCAL10)
        self.assertIn("VERSION:1.0", "".join(interop_server.message_texts(result, "incoming")),
                      "the vCalendar client received vCalendar 1.0")
        self.assertIdentities(old.identities(), sent + items.identities("calendar", added),
                              "the vCalendar client after the iCalendar client's additions")


if __name__ == "__main__":
    unittest.main()
