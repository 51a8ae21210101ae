"""Tests of the Python binding; run by ctest with SYNCMLKIT_LIB and
SYNCMLKIT_FIXTURES set."""

import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import syncmlkit  # noqa: E402

FIXTURES = os.environ.get("SYNCMLKIT_FIXTURES", os.path.join(os.path.dirname(__file__), "../../../tests/fixtures"))


def fixture(path):
    with open(os.path.join(FIXTURES, path), "rb") as f:
        return f.read()


class RenderTest(unittest.TestCase):
    def test_version(self):
        self.assertRegex(syncmlkit.version(), r"^\d+\.\d+\.\d+$")

    def test_renders_wbxml_with_nested_devinf(self):
        xml = syncmlkit.render_xml(
            fixture("captures/syncevolution/first-message/contacts-two-way-wbxml-md5.wbxml"),
            "application/vnd.syncml+wbxml")
        self.assertIn("<DevID>syncevo-ci-client</DevID>", xml)
        self.assertIn("<LocName>test</LocName>", xml)

    def test_sniffs_xml(self):
        xml = syncmlkit.render_xml(fixture("captures/funambol/first-messages/contacts-slow/msg01.xml"))
        self.assertIn("<SyncML", xml)

    def test_decode_error_says_where(self):
        with self.assertRaises(syncmlkit.DecodeError) as caught:
            syncmlkit.render_xml(b"<SyncML>\n<SyncHdr>\n  <VerDTD>1.2</Ver>", "application/vnd.syncml+xml")
        self.assertIn("line 3", str(caught.exception))
        self.assertEqual(caught.exception.status, -2)

    def test_unknown_content_type(self):
        with self.assertRaises(syncmlkit.SyncMLError) as caught:
            syncmlkit.render_xml(b"<SyncML/>", "text/html")
        self.assertNotIsInstance(caught.exception, syncmlkit.DecodeError)
        self.assertIn("text/html", str(caught.exception))

    def test_rejects_text(self):
        with self.assertRaises(TypeError):
            syncmlkit.render_xml("<SyncML/>")


if __name__ == "__main__":
    unittest.main()
