"""The Server class of the Python binding: a whole first package through it."""

import os
import shutil
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import syncmlkit  # noqa: E402

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


if __name__ == "__main__":
    unittest.main()
