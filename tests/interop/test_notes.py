"""The fourth database, "notes": SyncEvolution's plain text memos (text/plain)
are kept by the server as vNote 1.1 and reach a second client as the same
text, in both directions, over XML and WBXML.

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


def setUpModule():
    global SERVER, WORK
    WORK = interop_server.prepare_work_dir()
    SERVER = interop_server.start_server(WORK)
    unittest.addModuleCleanup(interop_server.stop_server, SERVER, WORK)


class NotesBase(interop_server.SyncChecks):
    kind = "notes"

    def setUp(self):
        self.server = SERVER
        self.user, self.password = SERVER.new_account()
        self.workdir = os.path.join(WORK, type(self).__name__, self._testMethodName)

    def test_plain_text_notes_kept_as_vnote_and_shared(self):
        first = Device(self, "memo-a")
        first.add(4, first=1)
        sent = first.identities()
        self.sync(first, "slow")
        stored = self.server_texts()
        self.assertEqual(len(stored), 4)
        for text in stored:
            self.assertIn("BEGIN:VNOTE", text)
            self.assertIn("VERSION:1.1", text)
        self.assertIdentities(self.server_identities(), sent, "server after the upload")

        second = Device(self, "memo-b")
        self.sync(second, "refresh-from-server")
        self.assertIdentities(second.identities(), sent, "the second client after its download")

        added = second.add(2, first=50)
        self.sync(second, "two-way")
        self.sync(first, "two-way")
        self.assertIdentities(first.identities(), sent + items.identities("notes", added),
                              "the first client after the second one's additions")


class NotesXml(NotesBase, unittest.TestCase):
    encoding = "xml"


class NotesWbxml(NotesBase, unittest.TestCase):
    encoding = "wbxml"


if __name__ == "__main__":
    unittest.main()
