"""syncmlkit.convert: items between formats through the C ABI."""

import json
import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import syncmlkit  # noqa: E402

CARD21 = (b"BEGIN:VCARD\r\nVERSION:2.1\r\nN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:M=C3=BCller;J=C3=B6rg;;;\r\n"
          b"TEL;WORK;VOICE:+49 30 1234\r\nEND:VCARD\r\n")


class Convert(unittest.TestCase):
    def test_vcard21_to_vcard30(self):
        out, warnings = syncmlkit.convert(CARD21, "vcard30")
        text = out.decode("utf-8")
        self.assertIn("VERSION:3.0\r\n", text)
        self.assertIn("N:Müller;Jörg;;;\r\n", text)
        self.assertIn("TEL;TYPE=WORK,VOICE:+49 30 1234\r\n", text)
        self.assertEqual(warnings, [])

    def test_the_model_as_json(self):
        out, _ = syncmlkit.convert(CARD21, "json", source="vcard21")
        model = json.loads(out)
        self.assertEqual(model["contact"]["n"], {"family": "Müller", "given": "Jörg"})
        self.assertEqual(model["contact"]["tel"][0]["number"], "+49 30 1234")

    def test_warnings_name_the_line(self):
        _, warnings = syncmlkit.convert(b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:A\r\nbroken line\r\nEND:VCARD\r\n", "vcard30")
        self.assertTrue(any(w.startswith("line 4:") for w in warnings), warnings)

    def test_unknown_names_and_unreadable_items(self):
        with self.assertRaises(syncmlkit.SyncMLError):
            syncmlkit.convert(CARD21, "vcard99")
        with self.assertRaises(syncmlkit.SyncMLError):
            syncmlkit.convert(CARD21, "vcard30", profile="no-such-phone")
        with self.assertRaises(syncmlkit.DecodeError):
            syncmlkit.convert(b"<contact><broken", "vcard30", source="sifc")


if __name__ == "__main__":
    unittest.main()
