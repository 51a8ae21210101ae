"""Differential test of the vCard conversion against an independent reader:
Debian's python3-vobject parses what syncmlkit-convert writes, and must find
the values the input meant, and the values our normalized model (--to json)
holds. vobject is known to mishandle some 2.1 input itself (it crashes on a
quoted-printable soft break inside a UTF-8 sequence, and ignores CHARSET), so
it reads only our 3.0 output, never the 2.1 input. It cannot read vCard 4.0
at all (see test_vobject_cannot_judge_our_40_output).

    SMK_CONVERT=build/tools/syncmlkit-convert /usr/bin/python3 -m unittest vobject_oracle
"""

import base64
import json
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


def convert(text, to="vcard30"):
    out = subprocess.run([CONVERT, "--to", to, "-"], input=text.encode("latin-1"),
                         capture_output=True, check=True, timeout=30)
    return out.stdout.decode("utf-8")


def our_model(text):
    document, _ = json.JSONDecoder().raw_decode(convert(text, "json").lstrip())
    return document["contact"]


GIF = "R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw=="
JPEG_BYTES = b"\xff\xd8\xff\xe0" + bytes(range(256)) + b"\xff\xd9"


def folded_base64(data, first_line):
    """A 3.0 base64 value folded as a client writes it: 75-octet lines, one space of indent."""
    text = first_line + base64.b64encode(data).decode("ascii")
    lines = [text[:75]] + [" " + text[i:i + 74] for i in range(75, len(text), 74)]
    return "\r\n".join(lines) + "\r\n"


def apple_label(card, group):
    """The X-ABLabel of a vCard group, without Apple's _$!<...>!$_ wrapping."""
    for child in card.getChildren():
        if child.name == "X-ABLABEL" and (child.group or "").lower() == group.lower():
            value = child.value
            return value[4:-4] if value.startswith("_$!<") and value.endswith(">!$_") else value
    return None


def name_parts(n):
    return tuple(n.get(k, "") for k in ("family", "given", "additional", "prefixes", "suffixes"))


def adr_parts(a):
    return (a.get("street", ""), a.get("locality", ""), a.get("postal_code", ""), a.get("country", ""))


# field: (how vobject gives it from our 3.0 output, how our model gives it).
FIELDS = {
    "fn": (lambda c: c.fn.value, lambda m: m.get("fn")),
    "n": (lambda c: (c.n.value.family, c.n.value.given, c.n.value.additional, c.n.value.prefix, c.n.value.suffix),
          lambda m: name_parts(m.get("n", {}))),
    "note": (lambda c: c.note.value, lambda m: m.get("note")),
    "org": (lambda c: c.org.value, lambda m: [m.get("org", "")] + m.get("org_units", [])),
    "categories": (lambda c: c.categories.value, lambda m: m.get("categories")),
    "url": (lambda c: c.url.value, lambda m: m["url"][0]["uri"]),
    "tel": (lambda c: c.tel.value, lambda m: m["tel"][0]["number"]),
    "email": (lambda c: c.email.value, lambda m: m["email"][0]["address"]),
    "email.group": (lambda c: c.email.group.lower(), lambda m: m["email"][0].get("group")),
    "email.label": (lambda c: apple_label(c, c.email.group), lambda m: m["email"][0].get("label")),
    "adr": (lambda c: [(a.value.street, a.value.city, a.value.code, a.value.country) for a in c.adr_list],
            lambda m: [adr_parts(a) for a in m.get("adr", [])]),
    "photo": (lambda c: c.photo.value, None),  # the model gives only the size of the bytes
    "photo.size": (lambda c: len(c.photo.value), lambda m: m["photo"].get("bytes")),
    "photo.type": (lambda c: c.photo.params["TYPE"][0].upper(),
                   lambda m: m["photo"].get("media_type", "").split("/")[-1].upper()),
}

# (what the case is about, input, {field: expected value}), the values
# written from the input by hand.
VARIED_CARDS = [
    ("2.1 photo in spec-style BASE64, ended by a blank line (guide A4)",
     "BEGIN:VCARD\r\nVERSION:2.1\r\nN:Pixel;Paula\r\nFN:Paula Pixel\r\n"
     "PHOTO;ENCODING=BASE64;TYPE=GIF:\r\n" + GIF + "\r\n\r\nTEL:123\r\nEND:VCARD\r\n",
     {"fn": "Paula Pixel", "tel": "123", "photo": base64.b64decode(GIF), "photo.size": 43, "photo.type": "GIF"}),
    ("3.0 photo, folded ENCODING=b (guide B10)",
     "BEGIN:VCARD\r\nVERSION:3.0\r\nN:Jpeg;Jim;;;\r\nFN:Jim Jpeg\r\n"
     + folded_base64(JPEG_BYTES, "PHOTO;ENCODING=b;TYPE=JPEG:") + "END:VCARD\r\n",
     {"fn": "Jim Jpeg", "photo": JPEG_BYTES, "photo.size": 262, "photo.type": "JPEG"}),
    ("Apple grouped label (guide B6)",
     "BEGIN:VCARD\r\nVERSION:3.0\r\nN:Appleseed;John;;;\r\nFN:John Appleseed\r\n"
     "item1.EMAIL;type=INTERNET;type=pref:john@example.com\r\nitem1.X-ABLabel:_$!<Other>!$_\r\nEND:VCARD\r\n",
     {"fn": "John Appleseed", "email": "john@example.com", "email.group": "item1", "email.label": "Other"}),
    ("3.0 escapes: \\n \\\\ \\; \\, in text, compound and list values (guide B3)",
     "BEGIN:VCARD\r\nVERSION:3.0\r\nN:Escape;Eve;;;\r\nFN:Eve Escape\r\n"
     "NOTE:a\\nb\\\\c\\;d\r\nORG:ACME\\, Inc.;R&D\r\nCATEGORIES:a,b\\,c\r\nEND:VCARD\r\n",
     {"fn": "Eve Escape", "note": "a\nb\\c;d", "org": ["ACME, Inc.", "R&D"], "categories": ["a", "b,c"]}),
    ("2.1 8-bit ISO-8859-1 and Windows-1252 quoted-printable (guide A7)",
     "BEGIN:VCARD\r\nVERSION:2.1\r\nN;CHARSET=ISO-8859-1:M\xfcller;J\xf6rg\r\n"
     "FN;CHARSET=ISO-8859-1:J\xf6rg M\xfcller\r\n"
     "NOTE;CHARSET=WINDOWS-1252;ENCODING=QUOTED-PRINTABLE:Preis 5=80\r\nEND:VCARD\r\n",
     {"fn": "J\u00f6rg M\u00fcller", "n": ("M\u00fcller", "J\u00f6rg", "", "", ""), "note": "Preis 5\u20ac"}),
    ("2.1 quoted-printable soft breaks with and without indent, UTF-8 split (guide A1, A3)",
     "BEGIN:VCARD\r\nVERSION:2.1\r\n"
     "N;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:=D0=90=D0=B2=D0=B8=D0=\r\n =B0;;;;\r\nFN:Avia\r\n"
     "NOTE;ENCODING=QUOTED-PRINTABLE:first line=0D=\r\n=0Asecond line=\r\n still second\r\n"
     "URL;CHARSET=utf-8;ENCODING=QUOTED-PRINTABLE:=\r\nhttp://www.example.org\r\nEND:VCARD\r\n",
     {"fn": "Avia", "n": ("\u0410\u0432\u0438\u0430", "", "", "", ""),
      "note": "first line\nsecond line still second", "url": "http://www.example.org"}),
    ("2.1 escaped ';' inside ADR and literal ',' (guide B1, B2)",
     "BEGIN:VCARD\r\nVERSION:2.1\r\nN:Comma;Carl\r\nFN:Carl Comma\r\n"
     "ADR;HOME:;;Hauptstr. 1\\;Hinterhaus;Berlin;;10115;DE\r\n"
     "ADR;WORK:;;Silicon Alley 5,;New York;NY;10001;USA\r\n"
     "ORG:Company, The;TheDepartment\r\nEND:VCARD\r\n",
     {"fn": "Carl Comma", "org": ["Company, The", "TheDepartment"],
      "adr": [("Hauptstr. 1;Hinterhaus", "Berlin", "10115", "DE"), ("Silicon Alley 5,", "New York", "10001", "USA")]}),
]


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


    def test_vobject_and_our_model_agree_on_varied_cards(self):
        for about, source, expected in VARIED_CARDS:
            card = vobject.readOne(convert(source))
            model = our_model(source)
            for field, value in expected.items():
                from_vobject, from_model = FIELDS[field]
                with self.subTest(case=about, field=field, reader="vobject"):
                    self.assertEqual(from_vobject(card), value)
                if from_model is not None:
                    with self.subTest(case=about, field=field, reader="our model"):
                        self.assertEqual(from_model(model), value)

    def test_vobject_cannot_judge_our_40_output(self):
        # python3-vobject 0.9.6 knows vCard 2.1 and 3.0 only: it reads a 4.0
        # card with 3.0 rules, so TEL;VALUE=uri:tel:+1 comes back as the text
        # "tel:+1", a PHOTO data: URI as text, PREF=1 as an unknown parameter.
        # Its answers would be about vobject, not about our writer.
        self.skipTest("python3-vobject 0.9.6 cannot read vCard 4.0")


if __name__ == "__main__":
    unittest.main()
