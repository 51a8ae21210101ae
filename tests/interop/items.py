"""Test items for the interop tests: generate them, read both sides, compare.

Generation: N distinct contacts (vCard 3.0), events (VEVENT), tasks (VTODO) or
notes (plain text), the same for the same seed, one file per item, CRLF line
ends, long lines folded, some UTF-8 and some escaped characters.

Comparison: SyncEvolution's engine re-encodes every item it sends and every
item it writes (LF line ends, its own PRODID, properties reordered, the vCard
UID dropped, structured values padded), so items are compared by a
normalised identity made of a few properties per kind:

    contacts  N, FN, EMAIL, TEL
    events    SUMMARY, DTSTART, DTEND, RRULE
    tasks     SUMMARY, DUE, STATUS, PRIORITY

Line ends, folding, property order, group prefixes, parameter order and case,
and text escapes are ignored; PRODID, UID and every other property are not
part of the identity. Both sides are compared as multisets, so a duplicated
item counts as a difference.

Run `/usr/bin/python3 items.py --help` for the command line.
"""

import argparse
import collections
import datetime
import os
import quopri
import random
import re
import sqlite3
import sys

KINDS = ("contacts", "calendar", "tasks", "notes")
SUFFIX = {"contacts": ".vcf", "calendar": ".ics", "tasks": ".ics", "notes": ".txt"}

# --------------------------------------------------------------------------
# Parsing


def unfold(text):
    """Lines of a vCard/iCalendar text, folding undone, any line end."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = re.sub(r"\n[ \t]", "", text)
    return [line for line in text.split("\n") if line.strip()]


def split_unquoted(s, sep):
    """Splits at `sep` outside double quotes."""
    parts, cur, quoted = [], [], False
    for ch in s:
        if ch == '"':
            quoted = not quoted
        if ch == sep and not quoted:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return parts


def parse_line(line):
    """'item1.TEL;type=work:+49 1' -> ('TEL', {'TYPE': ('WORK',)}, '+49 1').

    Parameter names and values are upper-cased and each parameter's values
    made a sorted set, so 'TYPE=WORK,VOICE' and 'TYPE=voice;TYPE=work' agree.
    A vCard 2.1 bare parameter ('TEL;WORK:') counts as a TYPE value.
    """
    head, sep, value = "", "", ""
    quoted = False
    for i, ch in enumerate(line):
        if ch == '"':
            quoted = not quoted
        elif ch == ":" and not quoted:
            head, sep, value = line[:i], ":", line[i + 1:]
            break
    if not sep:
        return None
    name, *raw_params = split_unquoted(head, ";")
    name = name.split(".")[-1].strip().upper()  # drop a group prefix
    params = collections.defaultdict(set)
    for p in raw_params:
        pname, eq, pvalue = p.partition("=")
        if not eq:
            pname, pvalue = "TYPE", pname
        for v in split_unquoted(pvalue, ","):
            params[pname.strip().upper()].add(v.strip().strip('"').upper())
    return name, {k: tuple(sorted(v)) for k, v in params.items()}, value


def components(text):
    """The properties of each component: [(component, [(name, params, value)])].

    Nested components (VEVENT inside VCALENDAR, VALARM inside VEVENT) each get
    their own entry; the outermost wrapper's own properties (VERSION, PRODID)
    are never looked at.
    """
    result, stack = [], []
    for line in unfold(text):
        prop = parse_line(line)
        if prop is None:
            continue
        name, _, value = prop
        if name == "BEGIN":
            stack.append((value.strip().upper(), []))
        elif name == "END":
            if stack:
                result.append(stack.pop())
        elif stack:
            stack[-1][1].append(prop)
    return result


# --------------------------------------------------------------------------
# Normalising values


def unescape(value):
    r"""vCard/iCalendar text escapes: \, \; \\ \n \N."""
    return re.sub(r"\\([,;\\nN])", lambda m: "\n" if m.group(1) in "nN" else m.group(1), value)


def structured(value):
    """'Doe;John;;Dr.;' -> ('Doe', 'John', '', 'Dr.'): components unescaped,
    trailing empty ones dropped (the client pads N to five components)."""
    parts = [unescape(p).strip() for p in re.split(r"(?<!\\);", value)]
    while parts and not parts[-1]:
        parts.pop()
    return tuple(parts)


def datetime_value(params, value):
    """A DTSTART/DTEND/DUE: the value upper-cased, with its TZID if any.
    VALUE=DATE is implied by the value itself, so it is dropped."""
    tzid = params.get("TZID", ())
    return (value.strip().upper(),) + tuple("TZID=" + t for t in tzid)


def rrule_value(value):
    """Rule parts in a fixed order, INTERVAL=1 (the default) dropped."""
    parts = {p.strip().upper() for p in value.split(";") if p.strip()}
    parts.discard("INTERVAL=1")
    return tuple(sorted(parts))


def typed_value(params, value):
    """An EMAIL or TEL: its value and its TYPE set. INTERNET (EMAIL) and VOICE
    (TEL) are the defaults some encoders add and others drop, and PREF is a
    client's choice of order, so none of the three counts."""
    types = set(params.get("TYPE", ())) - {"INTERNET", "VOICE", "PREF"}
    return (value.strip(),) + tuple(sorted(types))


# property -> how its value is normalised, per kind
IDENTITY = {
    "contacts": ("VCARD", {
        "N": lambda p, v: structured(v),
        "FN": lambda p, v: unescape(v).strip(),
        "EMAIL": lambda p, v: typed_value(p, v.lower()),
        "TEL": typed_value,
    }),
    "calendar": ("VEVENT", {
        "SUMMARY": lambda p, v: unescape(v).strip(),
        "DTSTART": datetime_value,
        "DTEND": datetime_value,
        "RRULE": lambda p, v: rrule_value(v),
    }),
    "tasks": ("VTODO", {
        "SUMMARY": lambda p, v: unescape(v).strip(),
        "DUE": datetime_value,
        "STATUS": lambda p, v: v.strip().upper(),
        "PRIORITY": lambda p, v: v.strip() or "0",
    }),
}

# Values an encoder may leave out because they are the default.
DEFAULTS = {
    "tasks": {"PRIORITY": ("0",)},  # 0 = undefined (RFC 5545 3.8.1.9)
}


def note_identity(text):
    """A note's identity: its text, whether a plain text note (the client's)
    or the BODY of a vNote 1.1 (the server's store), line ends as LF."""
    if text.lstrip().upper().startswith("BEGIN:VNOTE"):
        body = None
        for line in vnote_lines(text):
            parsed = parse_line(line)
            if parsed and parsed[0] == "BODY":
                name, params, value = parsed
                if "QUOTED-PRINTABLE" in [e.upper() for e in params.get("ENCODING", ())]:
                    value = quopri.decodestring(value.encode("utf-8")).decode("utf-8")
                body = value.replace("\\;", ";").replace("\\\\", "\\")
        if body is None:
            raise ValueError("no BODY in vNote:\n%s" % text)
        text = body
    return (("BODY", (text.replace("\r\n", "\n").replace("\r", "\n").strip(),)),)


def vnote_lines(text):
    """vNote 1.1 lines with quoted-printable soft breaks joined."""
    lines = []
    for line in text.replace("\r\n", "\n").split("\n"):
        if lines and lines[-1].endswith("=") and "QUOTED-PRINTABLE" in lines[-1].upper():
            lines[-1] = lines[-1][:-1] + line
        else:
            lines.append(line)
    return lines


def identity(kind, text):
    """The normalised identity of one item text, a hashable tuple.

    Raises ValueError when the text holds no component of the kind."""
    if kind == "notes":
        return note_identity(text)
    component, rules = IDENTITY[kind]
    found = [props for name, props in components(text) if name == component]
    if not found:
        raise ValueError("no %s in item:\n%s" % (component, text))
    values = collections.defaultdict(list)
    for name, params, value in found[0]:
        # Some encoders write every field they know, empty ones too ("EMAIL:").
        if name in rules and value.strip():
            values[name].append(rules[name](params, value))
    for name, default in DEFAULTS.get(kind, {}).items():
        if not values.get(name):
            values[name] = list(default)
    if values.get("RRULE") and values.get("DTSTART"):
        values["RRULE"] = [weekly_on_start_day(rule, values["DTSTART"][0][0]) for rule in values["RRULE"]]
    return tuple((name, tuple(sorted(values[name], key=repr))) for name in sorted(rules) if values.get(name))


def weekly_on_start_day(rule, dtstart):
    """A weekly rule on the start's own weekday means the same with or
    without BYDAY=<that day> (RFC 5545 3.3.10); vCalendar clients write the
    day out ("W1 MO"), so both forms are one identity."""
    weekday = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
    try:
        start = datetime.date(int(dtstart[0:4]), int(dtstart[4:6]), int(dtstart[6:8]))
    except ValueError:
        return rule
    if "FREQ=WEEKLY" in rule and "BYDAY=" + weekday[start.weekday()] in rule:
        return tuple(part for part in rule if part != "BYDAY=" + weekday[start.weekday()])
    return rule


def describe(ident):
    """A one-line rendering of an identity for failure messages."""
    return "; ".join("%s=%s" % (name, " | ".join(map(_flat, vals))) for name, vals in ident)


def _flat(v):
    return ",".join(v) if isinstance(v, tuple) else str(v)


# --------------------------------------------------------------------------
# Reading both sides


def read_dir(directory):
    """{file name: text} of every regular file: SyncEvolution's file backend
    treats every file in its directory as one item."""
    items = {}
    for name in sorted(os.listdir(directory)):
        path = os.path.join(directory, name)
        if os.path.isfile(path):
            with open(path, encoding="utf-8", newline="") as f:
                items[name] = f.read()
    return items


# The store's schema (lib/store/sqlite_datastore.cpp): table and data column.
STORE_TABLE = "smk_items"
STORE_DATA_COLUMN = "data"


def server_item_texts(db_path):
    """Item texts of one SyncMLKit SQLite database file (<data>/<user>/<category>.sqlite).

    A database that was never synced has no file yet: that is no items. The
    file is opened read-only, so a running server is not disturbed."""
    if not os.path.exists(db_path):
        return []
    con = sqlite3.connect("file:%s?mode=ro" % db_path, uri=True, timeout=10)
    try:
        rows = con.execute("SELECT %s FROM %s" % (STORE_DATA_COLUMN, STORE_TABLE)).fetchall()
    finally:
        con.close()
    return [r[0].decode("utf-8") if isinstance(r[0], bytes) else r[0] for r in rows]


class Comparison:
    """The outcome of comparing a client directory with server texts."""

    def __init__(self, kind, client_items, server_texts):
        self.kind = kind
        self.client = collections.Counter(identity(kind, t) for t in client_items.values())
        self.server = collections.Counter(identity(kind, t) for t in server_texts)
        self.only_client = self.client - self.server
        self.only_server = self.server - self.client
        self.client_count = sum(self.client.values())
        self.server_count = sum(self.server.values())

    @property
    def same(self):
        return not self.only_client and not self.only_server

    def report(self):
        lines = ["%s: client holds %d, server holds %d" % (self.kind, self.client_count, self.server_count)]
        for title, diff in (("only on the client", self.only_client), ("only on the server", self.only_server)):
            for ident, n in sorted(diff.items(), key=repr):
                lines.append("  %s%s: %s" % (title, " (x%d)" % n if n > 1 else "", describe(ident)))
        return "\n".join(lines)


def compare(kind, client_dir, server_texts):
    """Compares the client's item directory with the server's item texts."""
    return Comparison(kind, read_dir(client_dir), server_texts)


def identities(kind, texts):
    """A multiset of the identities of some item texts."""
    return collections.Counter(identity(kind, t) for t in texts)


# --------------------------------------------------------------------------
# Generating


FIRST = ["Anna", "Ben", "Clara", "David", "Elif", "Frank", "Greta", "Hugo", "Ines", "Jonas",
         "Katja", "Lars", "Mia", "Noah", "Olga", "Paul", "Renée", "Søren", "Zoë", "Łukasz"]
LAST = ["Müller", "Schmidt", "Weber", "Wagner", "Becker", "Hoffmann", "Rossi", "García",
        "O'Neill", "Nowak", "Dubois", "Jensen", "Kowalski", "Yılmaz", "Novák"]
ORGS = ["Acme GmbH", "Initech", "Hooli, Inc.", "Globex; Ltd", "Umbrella"]
TOPICS = ["Planning", "Code review", "1:1", "Budget", "Retro", "Kick-off", "Workshop"]
TASKS = ["Write report", "Renew passport", "Call plumber", "Book flights", "Pay invoice"]
STATUSES = ["NEEDS-ACTION", "IN-PROCESS", "COMPLETED", "CANCELLED"]


def escape(text):
    """Text value escapes of vCard 3.0 and iCalendar."""
    return text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def fold(line):
    """Folds a content line at 75 octets without splitting a UTF-8 character."""
    out, cur = [], ""
    for ch in line:
        limit = 75 if not out else 74  # continuation lines start with a space
        if len((cur + ch).encode("utf-8")) > limit:
            out.append(cur)
            cur = ""
        cur += ch
    out.append(cur)
    return "\r\n ".join(out)


def render(lines):
    return "".join(fold(line) + "\r\n" for line in lines)


def when(rng, year=2026):
    """A random quarter hour of `year`, in UTC."""
    return datetime.datetime(year, rng.randint(1, 12), rng.randint(1, 28), rng.randint(6, 18),
                             rng.choice([0, 15, 30, 45]), tzinfo=datetime.timezone.utc)


def utc(t):
    return t.strftime("%Y%m%dT%H%M%SZ")


def make_contact(rng, i):
    first, last = rng.choice(FIRST), rng.choice(LAST)
    given = "%s %d" % (first, i)  # the number keeps every contact distinct
    lines = ["BEGIN:VCARD", "VERSION:3.0", "PRODID:-//SyncMLKit//interop items//EN",
             "UID:smk-contact-%05d@example.org" % i,
             "N:%s;%s;;;" % (escape(last), escape(given)),
             "FN:%s" % escape("%s %s" % (given, last)),
             "ORG:%s" % escape(rng.choice(ORGS)),
             "EMAIL;TYPE=INTERNET,WORK:%s.%d@example.org" % (first.lower().encode("ascii", "ignore").decode(), i),
             "TEL;TYPE=WORK,VOICE:+49 30 %07d" % rng.randint(0, 9999999)]
    if i % 2 == 0:
        lines.append("TEL;TYPE=CELL:+49 17%d %07d" % (rng.randint(0, 9), rng.randint(0, 9999999)))
    if i % 3 == 0:
        lines.append("EMAIL;TYPE=INTERNET,HOME:home%d@mail.example.net" % i)
        lines.append("NOTE:" + escape("Met at the fair, talked about sync; follow up.\nA second "
                                      "line, long enough to be folded by any encoder that folds."))
    lines.append("END:VCARD")
    return render(lines)


def make_event(rng, i):
    start = when(rng)
    end = start + datetime.timedelta(hours=rng.randint(1, 3))
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//SyncMLKit//interop items//EN",
             "BEGIN:VEVENT", "UID:smk-event-%05d@example.org" % i, "DTSTAMP:20260101T000000Z",
             "SUMMARY:%s" % escape("%s #%d, room %d" % (rng.choice(TOPICS), i, rng.randint(1, 99)))]
    all_day = i % 5 == 4
    if all_day:
        day = start.date()
        lines += ["DTSTART;VALUE=DATE:%s" % day.strftime("%Y%m%d"),
                  "DTEND;VALUE=DATE:%s" % (day + datetime.timedelta(days=1)).strftime("%Y%m%d")]
    else:
        lines += ["DTSTART:%s" % utc(start), "DTEND:%s" % utc(end)]
    if i % 3 == 0:
        # UNTIL, not COUNT: SyncEvolution turns COUNT into UNTIL when it
        # sends an event, so a COUNT rule would not come back as written.
        until = start + datetime.timedelta(weeks=rng.randint(1, 9))
        lines.append("RRULE:FREQ=WEEKLY;UNTIL=%s" % (until.strftime("%Y%m%d") if all_day else utc(until)))
    if i % 4 == 1:
        lines.append("DESCRIPTION:" + escape("Agenda:\n1. status\n2. next steps; owner Ben"))
    lines += ["END:VEVENT", "END:VCALENDAR"]
    return render(lines)


def make_task(rng, i):
    status = STATUSES[i % len(STATUSES)]
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//SyncMLKit//interop items//EN",
             "BEGIN:VTODO", "UID:smk-task-%05d@example.org" % i, "DTSTAMP:20260101T000000Z",
             "SUMMARY:%s" % escape("%s (%d)" % (rng.choice(TASKS), i)),
             "DUE:%s" % utc(when(rng)), "STATUS:%s" % status, "PRIORITY:%d" % rng.randint(1, 9)]
    if status == "COMPLETED":
        lines += ["COMPLETED:20260102T100000Z", "PERCENT-COMPLETE:100"]
    lines += ["END:VTODO", "END:VCALENDAR"]
    return render(lines)


def make_note(rng, i):
    """A plain text note: a first line, then a few lines of text."""
    lines = ["%s notes %d" % (rng.choice(TOPICS), i), "", "- %s" % rng.choice(TASKS),
             "- ask %s about the café; the room is %d" % (rng.choice(FIRST), rng.randint(1, 99))]
    return "\r\n".join(lines) + "\r\n"


MAKERS = {"contacts": make_contact, "calendar": make_event, "tasks": make_task, "notes": make_note}


def generate(kind, count, seed=1, first=1):
    """{file name: text} of `count` distinct items numbered from `first`."""
    rng = random.Random("%s-%d-%d" % (kind, seed, first))
    return {"%s-%05d%s" % (kind, i, SUFFIX[kind]): MAKERS[kind](rng, i) for i in range(first, first + count)}


def write_items(directory, items):
    """Writes {file name: text} into `directory` (created if missing)."""
    os.makedirs(directory, exist_ok=True)
    for name, text in items.items():
        with open(os.path.join(directory, name), "w", encoding="utf-8", newline="") as f:
            f.write(text)


def edited(kind, text):
    """The item with a change that alters its identity (for Replace tests)."""
    if kind == "notes":
        return text.replace("\r\n", " (edited)\r\n", 1)
    prop = {"contacts": "FN", "calendar": "SUMMARY", "tasks": "SUMMARY"}[kind]
    lines = unfold(text)
    for n, line in enumerate(lines):
        if line.upper().startswith(prop + ":"):
            lines[n] = line + " (edited)"
            break
    else:
        raise ValueError("no %s line to edit" % prop)
    return render(lines)


# --------------------------------------------------------------------------
# Command line


def main(argv=None):
    ap = argparse.ArgumentParser(description="Generate or compare interop test items.")
    sub = ap.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("generate", help="write COUNT items into DIR")
    g.add_argument("kind", choices=KINDS)
    g.add_argument("count", type=int)
    g.add_argument("dir")
    g.add_argument("--seed", type=int, default=1)
    c = sub.add_parser("compare", help="compare a client dir with a server SQLite file")
    c.add_argument("kind", choices=KINDS)
    c.add_argument("dir")
    c.add_argument("sqlite")
    args = ap.parse_args(argv)
    if args.cmd == "generate":
        write_items(args.dir, generate(args.kind, args.count, args.seed))
        return 0
    result = compare(args.kind, args.dir, server_item_texts(args.sqlite))
    print(result.report())
    return 0 if result.same else 1


if __name__ == "__main__":
    sys.exit(main())
