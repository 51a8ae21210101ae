"""Differential test of the vCard conversion against an independent reader:
Debian's python3-vobject parses what syncmlkit-convert writes, and must find
the values the vCard 2.1 input meant. vobject is known to mishandle some 2.1
input itself (it crashes on a quoted-printable soft break inside a UTF-8
sequence, and ignores CHARSET), so it reads only our 3.0 output, never the
2.1 input.

    SMK_CONVERT=build/tools/syncmlkit-convert /usr/bin/python3 -m unittest vobject_oracle
"""

import os
import subprocess
import unittest

import vobject

CONVERT = os.environ.get("SMK_CONVERT", "syncmlkit-convert")

CASES = [
    # (vCard 2.1 input, {property: expected value as vobject gives it})
    ("BEGIN:VCARD\r\nVERSION:2.1\r\n"
     "N;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:M=C3=BCller;J=C3=B6rg=C3=\r\n=A4;;Dr.;\r\n"
     "FN;CHARSET=ISO-8859-1:J\xf6rg M\xfcller\r\n"
     "TEL;WORK;VOICE:+49 30 1234\r\n"
     "NOTE;ENCODING=QUOTED-PRINTABLE:first line=0D=\r\n=0Asecond, line; with semicolon\r\n"
     "ORG:Widgets \\; Co;R&D\r\n"
     "END:VCARD\r\n",
     {"fn": "J\u00f6rg M\u00fcller",
      "n": ("M\u00fcller", "J\u00f6rg\u00e4", "Dr."),
      "tel": "+49 30 1234",
      "tel.type": {"WORK", "VOICE"},
      "note": "first line\nsecond, line; with semicolon",
      "org": ["Widgets ; Co", "R&D"]}),
    ("BEGIN:VCARD\r\nVERSION:2.1\r\nN:Doe;John\r\nFN:John Doe\r\n"
     "NOTE:This is a long\r\n line\r\nEMAIL;INTERNET;PREF:john@example.com\r\nEND:VCARD\r\n",
     {"fn": "John Doe", "n": ("Doe", "John", ""), "note": "This is a long line",
      "email": "john@example.com"}),
]


def convert(text):
    out = subprocess.run([CONVERT, "--to", "vcard30", "-"], input=text.encode("latin-1"),
                         capture_output=True, check=True, timeout=30)
    return out.stdout.decode("utf-8")


class VObjectOracle(unittest.TestCase):
    def test_vobject_reads_what_the_21_input_meant(self):
        for source, expected in CASES:
            with self.subTest(source=source[:60]):
                card = vobject.readOne(convert(source))
                self.assertEqual(card.fn.value, expected["fn"])
                n = card.n.value
                self.assertEqual((n.family, n.given, n.prefix), expected["n"])
                if "tel" in expected:
                    self.assertEqual(card.tel.value, expected["tel"])
                    self.assertEqual({t.upper() for t in card.tel.params.get("TYPE", [])}, expected["tel.type"])
                self.assertEqual(card.note.value, expected["note"])
                if "org" in expected:
                    self.assertEqual(card.org.value, expected["org"])
                if "email" in expected:
                    self.assertEqual(card.email.value, expected["email"])


if __name__ == "__main__":
    unittest.main()
