"""The PIM fixture corpus against syncmlkit-convert.

    SMK_CONVERT=build/tools/syncmlkit-convert /usr/bin/python3 -B -m unittest -v fixture_corpus

Each case is tests/fixtures/pim/<area>/<case>.<ext> with <case>.json beside
it (see tests/fixtures/pim/README.md). Two checks per case:

read
    `--from <from> --to json` must give the fixture's "model" exactly
    (parsed JSON equality; a failure lists every leaf that differs).

round trip through T, for every format T of the case's kind
    the model is written as T (`--from <from> --to T`), that output is read
    back (`--from T --to json`), and the set of *field paths* where the
    result differs from "model" must equal losses[T] (no key: no loss).
    New-dialect output (vCard 3.0/4.0, iCalendar) must also keep every
    physical line within 75 octets.

A field path names one field of the model, not a leaf:
    "contact.<field>"               e.g. contact.tel, contact.n, contact.bday
    "note.<field>"                  e.g. note.categories
    "calendar.<field>"              e.g. calendar.time_zones, calendar.extra
    "calendar.items[<i>].<field>"   e.g. calendar.items[0].rrule
    "calendar.items[<i>]"           when item i exists on one side only
A field differs when its JSON value differs in any way (a list of phones
differing in one type is "contact.tel"). `sent_empty` records what a reader
saw sent empty, not content, so the round trip ignores it (SIF writes every
field it does not have as an empty element); the read check compares it as
a set.

"profile" and "time_zone" of a case apply to every run of that case. A case
may carry "xfail": {"<check>": "<reason>"} where <check> is "read" or a
target format name: that check is then expected to fail (a known bug,
reported with a minimal input); once it passes the test fails until the
xfail is removed.
"""

import json
import os
import subprocess
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.normpath(os.path.join(HERE, "..", "fixtures", "pim"))
CONVERT = os.environ.get("SMK_CONVERT", "syncmlkit-convert")
AREAS = ("vcard", "vcal", "ical", "sif", "note")

CONTACT_TARGETS = ("vcard21", "vcard30", "vcard40", "sifc")
CALENDAR_TARGETS = ("vcal10", "ical20")  # plus sife or sift, by the first item
NOTE_TARGETS = ("vnote11", "sifn", "text")
NEW_DIALECTS = ("vcard30", "vcard40", "ical20")
MAX_LINE_OCTETS = 75
TIMEOUT_SECONDS = 20


# ------------------------------------------------------------ the tool --

def run_tool(case, args, data_path):
    """Runs the converter with the case's profile and zone; (exit, stdout bytes, stderr text)."""
    command = [CONVERT]
    if case.get("profile"):
        command += ["--profile", case["profile"]]
    if case.get("time_zone"):
        command += ["--time-zone", case["time_zone"]]
    command += args + [data_path]
    done = subprocess.run(command, capture_output=True, timeout=TIMEOUT_SECONDS)
    return done.returncode, done.stdout, done.stderr.decode("utf-8", "replace")


def read_as_json(case, fmt, data_path):
    """The model the tool reads from a file, or an error text."""
    code, out, err = run_tool(case, ["--from", fmt, "--to", "json"], data_path)
    if code != 0:
        return None, "exit %d reading %s: %s" % (code, fmt, err.strip())
    try:
        return json.loads(out.decode("utf-8")), None
    except (UnicodeDecodeError, ValueError) as e:
        return None, "no JSON from --to json (%s): %r" % (e, out[:200])


# ------------------------------------------------------- comparisons --

def normalized(model):
    """`sent_empty` is a set: sorted so that order does not count."""
    if isinstance(model, dict):
        return {k: (sorted(v) if k == "sent_empty" and isinstance(v, list) else normalized(v))
                for k, v in model.items()}
    if isinstance(model, list):
        return [normalized(v) for v in model]
    return model


def leaf_differences(expected, actual, path=""):
    """Every leaf path where the two differ, with both values: the readable diff."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        out = []
        for key in list(expected) + [k for k in actual if k not in expected]:
            sub = "%s.%s" % (path, key) if path else key
            if key not in actual:
                out.append((sub, expected[key], "<missing>"))
            elif key not in expected:
                out.append((sub, "<missing>", actual[key]))
            else:
                out += leaf_differences(expected[key], actual[key], sub)
        return out
    if isinstance(expected, list) and isinstance(actual, list) and len(expected) == len(actual):
        out = []
        for i, (e, a) in enumerate(zip(expected, actual)):
            out += leaf_differences(e, a, "%s[%d]" % (path, i))
        return out
    return [] if expected == actual else [(path, expected, actual)]


def describe(differences):
    return "\n".join("  %s: expected %s, got %s" % (p, json.dumps(e, ensure_ascii=False),
                                                    json.dumps(a, ensure_ascii=False))
                     for p, e, a in differences)


def field_paths(model):
    """{field path: value} of a model, as the module docstring defines them."""
    fields = {}
    for kind, body in model.items():
        if not isinstance(body, dict):
            fields[kind] = body
            continue
        for key, value in body.items():
            if key == "sent_empty":
                continue
            if kind == "calendar" and key == "items" and isinstance(value, list):
                for i, item in enumerate(value):
                    for item_key, item_value in item.items():
                        if item_key != "sent_empty":
                            fields["calendar.items[%d].%s" % (i, item_key)] = item_value
                    fields["calendar.items[%d]" % i] = True  # the item exists
            else:
                fields["%s.%s" % (kind, key)] = value
    return fields


def differing_fields(expected, actual):
    want, got = field_paths(expected), field_paths(actual)
    differing = {p for p in set(want) | set(got) if want.get(p, None) != got.get(p, None)}
    # An item present on one side only is one difference, not one per field.
    missing_items = {p for p in differing if p.endswith("]")}
    return {p for p in differing if p in missing_items or p.split("].")[0] + "]" not in missing_items}


# ------------------------------------------------------------ the corpus --

def kind_targets(case):
    model = case["model"]
    if "contact" in model:
        return CONTACT_TARGETS
    if "note" in model:
        return NOTE_TARGETS
    items = model.get("calendar", {}).get("items", [])
    sif = "sift" if items and items[0].get("type") == "task" else "sife"
    return CALENDAR_TARGETS + (sif,)


def load_cases():
    """(area, case name, input path, case dict) for every fixture, sorted."""
    cases = []
    for area in AREAS:
        folder = os.path.join(CORPUS, area)
        if not os.path.isdir(folder):
            continue
        for name in sorted(os.listdir(folder)):
            stem, ext = os.path.splitext(name)
            if ext == ".json" or name.startswith("."):
                continue
            expectation = os.path.join(folder, stem + ".json")
            if not os.path.exists(expectation):
                continue
            with open(expectation, encoding="utf-8") as f:
                cases.append((area, stem, os.path.join(folder, name), json.load(f)))
    return cases


def long_lines(data):
    return [line for line in data.split(b"\r\n") if len(line.rstrip(b"\n")) > MAX_LINE_OCTETS]


class FixtureCorpus(unittest.TestCase):
    maxDiff = None

    def expect(self, case, check, ok, message):
        """Asserts one check, honouring the case's xfail for it."""
        reason = case.get("xfail", {}).get(check)
        if reason is None:
            if not ok:
                self.fail(message)
        elif ok:
            self.fail("xfail for %r passes now (%s): remove it" % (check, reason))
        else:
            self.skipTest("known bug (%s): %s\n%s" % (check, reason, message))

    def check_read(self, path, case):
        actual, error = read_as_json(case, case["from"], path)
        if error:
            self.expect(case, "read", False, error)
            return
        differences = leaf_differences(normalized(case["model"]), normalized(actual))
        self.expect(case, "read", not differences, "the model read differs:\n" + describe(differences))

    def check_round_trip(self, path, case, target):
        code, written, err = run_tool(case, ["--from", case["from"], "--to", target], path)
        if code != 0:
            self.expect(case, target, False, "exit %d writing %s: %s" % (code, target, err.strip()))
            return
        if target in NEW_DIALECTS:
            self.assertEqual(long_lines(written), [], "%s lines over %d octets" % (target, MAX_LINE_OCTETS))
        with tempfile.NamedTemporaryFile(suffix="." + target) as f:
            f.write(written)
            f.flush()
            actual, error = read_as_json(case, target, f.name)
        if error:
            self.expect(case, target, False, error + "\nwritten:\n" + written.decode("utf-8", "replace"))
            return
        lost = differing_fields(case["model"], actual)
        declared = set(case.get("losses", {}).get(target, []))
        detail = describe([d for d in leaf_differences(case["model"], actual) if any(
            d[0].startswith(p) for p in lost ^ declared)])
        self.expect(case, target, lost == declared,
                    "through %s: differing fields %s, declared losses %s\nunexpected: %s\nnot lost: %s\n%s\n"
                    "written:\n%s" % (target, sorted(lost), sorted(declared), sorted(lost - declared),
                                      sorted(declared - lost), detail, written.decode("utf-8", "replace")))


def add_tests():
    """One test method per case and check, so that each result is named."""
    for area, stem, path, case in load_cases():
        base = "test_%s_%s" % (area, stem.replace("-", "_"))

        def read_test(self, path=path, case=case):
            self.check_read(path, case)
        setattr(FixtureCorpus, base + "__read", read_test)
        for target in kind_targets(case):
            def trip_test(self, path=path, case=case, target=target):
                self.check_round_trip(path, case, target)
            setattr(FixtureCorpus, "%s__via_%s" % (base, target), trip_test)


add_tests()

if __name__ == "__main__":
    unittest.main()
