"""End to end, with Debian's real SyncEvolution client: no duplicate, no
loss, no surprise (issue 9). Every scenario ends by counting, on the server
and on every client, item by item (items.py identities, as multisets):
lost (expected items missing), duplicated (extra copies of expected items)
and unexpected (items that should not be there at all). A table of every
count is printed at the end of the module.

    SlowSyncDuplicates*   the repro of tests/fixtures/interop/slow-sync-duplicates:
                          three clients of one user hold the same three
                          contacts, the third in the form SyncEvolution
                          writes items back (PRODID, REV, empty TEL:,
                          EMAIL:, ORG:;;;); each first sync is two-way,
                          turned slow; the server must end with exactly 3
                          and send nothing back as a copy. A variant edits
                          Bert on another client before the third's sync.
    SlowSyncsInARow       five slow syncs (--sync slow) of two clients that
                          hold half of COUNT generated contacts each plus a
                          tenth in common, in different forms (the second
                          client's files with empty properties, another
                          property order, PRODID/REV/UID, lower-case TYPE,
                          and vCard 2.1 with quoted-printable on the wire);
                          the fifth as a reinstalled client (new device ID,
                          no map): always exactly the union, everywhere.
    OneWayFromNewClient   a client the database has never seen asks
                          one-way-from-client (202) of a server holding 20:
                          nothing of the server's is deleted; an explicit
                          refresh-from-client still replaces the server's
                          data, after a snapshot. (SyncEvolution sends a
                          first one-way-from-client, without anchors, as
                          203 like a Recover: the server cannot tell them
                          apart; that case is checked for its snapshot.)
    MassDelete            a client deletes 30 of its 40 contacts: the server
                          refuses, keeps 40 and the client gets them back;
                          a refresh-from-client is not blocked.
    ClientKilled          the client process (syncevolution) killed with
                          SIGKILL mid-sync, through a proxy that stops it at
                          a chosen message: during its upload, after it got
                          the server's Adds but before its Map, during a
                          download; its next sync must end with exact data.
                          Also another device's sync in the middle of a
                          two-way session: its changes reach the first
                          device at its next sync.
    SnapshotRestore       a refresh-from-client that lost data; the
                          snapshot restored with the server running; every
                          client of the database gets the restored data at
                          its next sync, without duplicates.

Scenarios that show a behaviour the engine does not have yet are expected
failures, each with a comment naming what is missing.

Environment (ctest sets the first four, tests/interop/CMakeLists.txt):
    SMK_HTTPD, SMK_CURLFIX, SMK_INTEROP_WORK, SMK_SOURCE_DIR  as for every interop module
    SMK_ADMIN          the syncmlkit-admin binary (snapshots, restore)
    SMK_SAFETY_COUNT   contacts of the slow-syncs-in-a-row scenario (1000;
                       CMake sets 200 in the sanitizer build)
    SMK_SAFETY_KILL_COUNT  contacts of the client-kill scenarios (200)
"""

import collections
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import interop_server  # noqa: E402
import items  # noqa: E402
import kill_proxy  # noqa: E402
import syncevo  # noqa: E402
from interop_server import Device  # noqa: E402
import test_kill_recovery as kill_recovery  # noqa: E402  (its Host, message tags and copies)

KIND = "contacts"
COUNT = int(os.environ.get("SMK_SAFETY_COUNT", "1000"))
KILL_COUNT = int(os.environ.get("SMK_SAFETY_KILL_COUNT", "200"))
BIG_TIMEOUT = 300     # seconds for one sync of 1000 items
FAST_LOGLEVEL = 2     # the client's log level for the large syncs (5 is three times slower)
KILL_MSG_SIZE = 16384  # the kill host's and client's message size: packages span messages
VCARD21 = ("contacts/syncFormat=text/x-vcard", "contacts/forceSyncFormat=1")
SYNCEVOLUTION_PRODID = "PRODID:-//Synthesis AG//NONSGML SyncML Engine V3.4.0.47//EN"

SERVER = None
WORK = None
ROWS = []


def fixtures(name):
    source = os.environ.get("SMK_SOURCE_DIR") or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
    return os.path.join(source, "tests", "fixtures", "interop", "slow-sync-duplicates", name)


def setUpModule():
    global SERVER, WORK
    WORK = interop_server.prepare_work_dir()
    unittest.addModuleCleanup(print_table)
    SERVER = interop_server.start_server(WORK, args=("--verbose",))
    unittest.addModuleCleanup(interop_server.stop_server, SERVER, WORK)


def print_table():
    header = ("test", "step", "side", "held", "expected", "lost", "dup", "unexp")
    rows = [header] + ROWS
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(header))]
    lines = ["", "data safety: counts after each step (%d contacts in a row, %d per kill point)" % (
        COUNT, KILL_COUNT)]
    for r in rows:
        lines.append("  ".join(str(v).ljust(w) for v, w in zip(r, widths)).rstrip())
    print("\n".join(lines), file=sys.stderr)


def tally(actual, expected):
    """(lost, duplicated, unexpected) of a multiset of identities against
    the expected one."""
    lost = sum((expected - actual).values())
    duplicated = sum(max(0, actual[i] - expected[i]) for i in actual if i in expected)
    unexpected = sum(n for i, n in actual.items() if i not in expected)
    return lost, duplicated, unexpected


def admin_tool():
    tool = os.environ.get("SMK_ADMIN", "")
    if not os.access(tool, os.X_OK):
        raise unittest.SkipTest("set SMK_ADMIN to the syncmlkit-admin binary (ctest does)")
    return tool


def snapshots(data_dir, user):
    """The names of the snapshots of user's contacts, oldest first, as
    `syncmlkit-admin snapshots` lists them."""
    out = subprocess.run([admin_tool(), "--data", data_dir, "snapshots", user, KIND], capture_output=True,
                         text=True, timeout=60, check=True).stdout
    return [line.split()[0] for line in out.splitlines()
            if line.strip() and not line.startswith(("no snapshots", "NAME "))]


def restore_snapshot(test, data_dir, user, name):
    """`syncmlkit-admin restore`, with the server running."""
    out = subprocess.run([admin_tool(), "--data", data_dir, "restore", user, KIND, name], capture_output=True,
                         text=True, timeout=60)
    test.assertEqual(out.returncode, 0, "restore failed: %s%s" % (out.stdout, out.stderr))
    return out.stdout


def new_log_lines(path, offset):
    """The server's log lines written since byte `offset`, the access log's
    request lines left out (they say nothing about the data)."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            f.seek(offset)
            text = f.read()
    except FileNotFoundError:
        return []
    return [l for l in text.splitlines()
            if l.strip() and not re.match(r"^\d{4}-\d\d-\d\dT\S+ \S+ (POST|GET) ", l)]


def log_size(path):
    try:
        return os.path.getsize(path)
    except FileNotFoundError:
        return 0


def files_by_identity(directory):
    """{identity: [file names]} of a client directory."""
    found = collections.defaultdict(list)
    for name, text in items.read_dir(directory).items():
        found[items.identity(KIND, text)].append(name)
    return found


def without_some_properties(text, number):
    """Some people have no phone (every 7th from the 3rd) or no e-mail
    (every 7th from the 5th), as Bert and Chloé of the repro."""
    drop = "TEL" if number % 7 == 3 else "EMAIL" if number % 7 == 5 else None
    if not drop:
        return text
    return items.render([l for l in items.unfold(text) if not re.match(drop + r"[;:]", l, re.I)])


def written_back_form(text, number):
    """A generated contact as a different client holds the same person: the
    properties in reverse order, another PRODID, a REV and a UID of its own,
    lower-case TYPE values in another order, empty properties (as
    SyncEvolution writes them), LF line ends, no folding. Its identity
    (N, FN, EMAIL, TEL) is the same."""
    lines = items.unfold(text)
    body = [l for l in lines[2:-1] if not re.match(r"(?i)(PRODID|UID|REV)[;:]", l)]

    def types(m):
        return ";type=" + ",".join(reversed(m.group(1).lower().split(",")))
    body = [re.sub(r";TYPE=([^:;]*)", types, l) for l in body]
    body = [l + ";;;" if re.match(r"(?i)ORG[;:]", l) else l for l in body]  # ORG:Acme GmbH;;;
    body.reverse()
    names = {re.split(r"[;:]", l, 1)[0].upper() for l in body}
    empty = ["X-EVOLUTION-FILE-AS:", "NICKNAME:", "TITLE:", "ROLE:", "URL:", "ADR:;;;;;;", "BDAY:", "PHOTO:"]
    # A property the contact lacks is written empty, as SyncEvolution does.
    empty += [name + ":" for name in ("NOTE", "TEL", "EMAIL") if name not in names]
    head = ["BEGIN:VCARD", "VERSION:3.0", SYNCEVOLUTION_PRODID, "REV:20100328T103410Z",
            "UID:other-client-%05d" % number]
    return "\n".join(head + body[:2] + empty + body[2:] + ["END:VCARD"]) + "\n"


class SafetyChecks(interop_server.SyncChecks):
    """Counting helpers; the subclasses choose the encoding."""

    kind = KIND
    encoding = "wbxml"
    maxDiff = None

    def setUp(self):
        self.server = SERVER
        self.user, self.password = SERVER.new_account()
        self.workdir = os.path.join(WORK, "%s-%s" % (self.encoding, self._testMethodName))
        self.log_offset = log_size(SERVER.log_path)

    def server_log(self):
        """What the server logged during this test (access lines left out)."""
        return new_log_lines(self.server.log_path, self.log_offset)

    def count(self, step, expected, devices, server=True):
        """Counts the server's and each device's items against `expected`
        (a Counter of identities), records a row each, and returns the
        problems found (empty when every side is exact)."""
        sides = []
        if server:
            sides.append(("server", self.server_identities()))
        sides += [("client " + d.name, d.identities()) for d in devices]
        problems = []
        for side, actual in sides:
            lost, dup, unexp = tally(actual, expected)
            ROWS.append(("%s (%s)" % (self._testMethodName.replace("test_", "", 1), self.encoding), step, side,
                         sum(actual.values()),
                         sum(expected.values()), lost, dup, unexp))
            if lost or dup or unexp:
                problems.append("%s: %s holds %d, expected %d: %d lost, %d duplicated, %d unexpected" % (
                    step, side, sum(actual.values()), sum(expected.values()), lost, dup, unexp))
                problems += ["    lost:       " + items.describe(i) for i in list(expected - actual)[:8]]
                problems += ["    duplicated (x%d): %s" % (actual[i], items.describe(i))
                             for i in actual if i in expected and actual[i] > expected[i]][:8]
                problems += ["    unexpected: " + items.describe(i) for i in actual if i not in expected][:8]
        return problems

    def assertExact(self, step, expected, devices, server=True, result=None):
        problems = self.count(step, expected, devices, server)
        if problems:
            log = self.server_log()
            self.fail("\n".join(problems) + "\n--- the server's log lines of this test (last 40 of %d):\n%s%s" % (
                len(log), "\n".join(log[-40:]),
                "\n--- client session: %s" % result.session_dir if result is not None else ""))

    def assertNothingSentBack(self, result, step, adds_only=False):
        got = interop_server.change_counts(result, "incoming")
        if adds_only:
            got = {"Add": got["Add"]}
        self.assertEqual(got, {k: 0 for k in got}, "%s: the server sent these changes to the client (%s)" % (
            step, result.session_dir))


def load_fixture(device, name):
    for f in sorted(os.listdir(fixtures(name))):
        shutil.copy(os.path.join(fixtures(name), f), os.path.join(device.dir, f))


# -- 1. the repro: three clients, one in SyncEvolution's written-back form ---------


class SlowSyncDuplicates(SafetyChecks):

    def first_syncs(self):
        """a and b hold the plain contacts, c their written-back form; a and
        b sync first (two-way, turned slow), then a again as a first sync
        (its state lost, its device ID kept), as in the repro."""
        a, b, c = Device(self, "a"), Device(self, "b"), Device(self, "c")
        load_fixture(a, "plain")
        load_fixture(b, "plain")
        load_fixture(c, "written-back")
        expected = a.identities()
        self.assertEqual(sum(expected.values()), 3)
        self.assertEqual(c.identities(), expected, "the fixtures' two forms are the same three contacts")
        for device, step in ((a, "a's first sync"), (b, "b's first sync")):
            result = self.sync(device, "two-way")
            self.assertAlerts(result, step, 201)
            self.assertExact(step, expected, [device], result=result)
        a.state += "-again"
        result = self.sync(a, "two-way")
        self.assertAlerts(result, "a's first sync again", 201)
        self.assertExact("a's first sync again", expected, [a], result=result)
        return a, b, c, expected

    def test_written_back_form_pairs_every_contact(self):
        a, b, c, expected = self.first_syncs()
        result = self.sync(c, "two-way")
        self.assertAlerts(result, "c's first sync", 201)
        step = "c's first sync (written-back form)"
        problems = self.count(step, expected, [c])
        sent = interop_server.change_counts(result, "incoming")
        if sent["Add"]:
            problems.append("%s: the server sent %d Add(s) back to c (copies of its own contacts)" % (
                step, sent["Add"]))
        if problems:
            self.fail("\n".join(problems) + "\n--- server log:\n" + "\n".join(self.server_log()[-40:]) +
                      "\n--- client session: " + result.session_dir)
        for device in (a, b, c):
            result = self.sync(device, "two-way")
            self.assertAlerts(result, "%s's two-way sync" % device.name, 200)
            self.assertNothingSentBack(result, "%s's two-way sync" % device.name, adds_only=True)
        self.assertExact("everyone's two-way sync", expected, [a, b, c])

    def test_edit_on_another_client_before_the_slow_sync(self):
        """b adds a note to Bert and syncs (two-way) before c's first sync:
        c's Bert, written back before the edit, must pair with the edited
        one, and the note must survive and reach every client."""
        a, b, c, expected = self.first_syncs()
        bert = files_by_identity(b.dir)
        name = [n for i, names in bert.items() for n in names if "Bert" in items.describe(i)][0]
        path = os.path.join(b.dir, name)
        with open(path, encoding="utf-8", newline="") as f:
            text = f.read()
        syncevo.write_item(path, text.replace("END:VCARD", "NOTE:Prefers e-mail\nEND:VCARD"))
        result = self.sync(b, "two-way")
        self.assertAlerts(result, "b's edit", 200)
        self.assertTrue(any("Prefers e-mail" in t for t in self.server_texts()), "b's note reached the server")

        result = self.sync(c, "two-way")
        self.assertAlerts(result, "c's first sync", 201)
        step = "c's first sync after b edited Bert"
        problems = self.count(step, expected, [c])
        sent = interop_server.change_counts(result, "incoming")
        if sent["Add"]:
            problems.append("%s: the server sent %d Add(s) back to c" % (step, sent["Add"]))
        if problems:
            self.fail("\n".join(problems) + "\n--- server log:\n" + "\n".join(self.server_log()[-40:]) +
                      "\n--- client session: " + result.session_dir)
        for device in (a, b, c):
            self.sync(device, "two-way")
        self.assertExact("everyone's two-way sync", expected, [a, b, c])
        for side, texts in [("server", self.server_texts())] + [
                ("client " + d.name, d.texts().values()) for d in (a, b, c)]:
            notes = [t for t in texts if "Bert" in t and "Prefers e-mail" in t]
            self.assertEqual(len(notes), 1, "%s: Bert with b's note (lost: the slow sync's pairing let c's "
                             "older copy win)" % side)


class SlowSyncDuplicatesWbxml(SlowSyncDuplicates, unittest.TestCase):
    encoding = "wbxml"


class SlowSyncDuplicatesXml(SlowSyncDuplicates, unittest.TestCase):
    encoding = "xml"


# -- 2. five slow syncs in a row of two overlapping clients ------------------------


class SlowSyncsInARow(SafetyChecks, unittest.TestCase):
    encoding = "wbxml"

    def sync_big(self, device, mode, extra=()):
        return self.sync(device, mode, timeout=BIG_TIMEOUT, loglevel=FAST_LOGLEVEL, extra=extra)

    def test_five_slow_syncs_end_with_the_union(self):
        n = COUNT
        common = n // 10
        a_numbers = range(1, n // 2 + common // 2 + 1)
        b_numbers = range(n // 2 - common // 2 + 1, n + 1)
        base = {name: without_some_properties(text, number)
                for number, (name, text) in enumerate(items.generate(KIND, n, seed=11, first=1).items(), 1)}
        names = list(base)
        union = items.identities(KIND, base.values())
        a, b = Device(self, "a"), Device(self, "b")
        items.write_items(a.dir, {names[i - 1]: base[names[i - 1]] for i in a_numbers})
        items.write_items(b.dir, {"b-%05d.vcf" % i: written_back_form(base[names[i - 1]], i) for i in b_numbers})
        self.assertEqual(len(a.texts()) + len(b.texts()), n + common)
        self.assertEqual(a.identities() | b.identities(), union, "b's form changes no identity")
        self.assertEqual(sum((a.identities() & b.identities()).values()), common)

        # (device, what, extra properties, expected on the server and the device)
        a_own = items.identities(KIND, [base[names[i - 1]] for i in a_numbers])
        steps = [
            (a, "1 a slow (first)", (), a_own),
            (b, "2 b slow (first, vCard 2.1 on the wire)", VCARD21, union),
            (a, "3 a slow", (), union),
            (b, "4 b slow as a reinstalled device (vCard 3.0)", (), union),
            (a, "5 a slow", (), union),
        ]
        failures = []
        for device, step, extra, expected in steps:
            if "reinstalled" in step:
                # The same items, a new device ID and no state, so the server
                # has no map: every item pairs by identity, b's own in their
                # written-back form (empty properties and all).
                device.state += "-reinstalled"
                device.device_id += "-reinstalled"
            started = time.monotonic()
            result = self.sync_big(device, "slow", extra)
            self.assertEqual(result.session_status().get("source-contacts-mode"), "slow",
                             "%s: not a slow sync (%s)" % (step, result.session_dir))
            problems = self.count(step, expected, [device])
            print("\n%s: %.0f s, server %d, %s %d" % (step, time.monotonic() - started, len(self.server_texts()),
                                                       device.name, len(device.texts())), file=sys.stderr)
            if problems:
                failures.append("\n".join(problems))
        # Both devices once more, two-way: nothing changes anywhere.
        for device in (a, b):
            self.sync_big(device, "two-way")
        failures += self.count("both two-way at the end", union, [a, b])
        if failures:
            self.fail("\n".join(failures) + "\n--- server log (last 40 lines):\n" +
                      "\n".join(self.server_log()[-40:]))


# -- 3. one-way-from-client from a new client; refresh-from-client ------------------


class OneWayFromNewClient(SafetyChecks, unittest.TestCase):
    encoding = "wbxml"

    def seeded(self):
        seed = self.first_device("seed", 20)
        return seed, seed.identities()

    def test_client_new_to_the_database_one_way_from_client_deletes_nothing(self):
        """A client with a sync history elsewhere (its anchors come from
        another account) asks one-way-from-client (202) of a database that
        has never seen it and holds 20 contacts: the server cannot honour
        the anchors (508) and falls back, but a fallback adds and pairs,
        it never deletes what the client did not send."""
        seed, server_items = self.seeded()
        new = Device(self, "new")
        own = items.identities(KIND, new.add(5, first=101))
        other_user, other_password = self.server.new_account()
        self.sync(new, "two-way", user=other_user, password=other_password)
        before = len(snapshots(self.server.data_dir, self.user))
        result = self.sync(new, "one-way-from-client")
        sent, got = result.alert_codes("outgoing"), result.alert_codes("incoming")
        statuses = interop_server.status_codes(result, "Alert", "incoming")
        step = "one-way-from-client (sent %s, status %s, answered %s)" % (
            "/".join(map(str, sent)), "/".join(map(str, statuses)), "/".join(map(str, got)) or "-")
        self.assertEqual(set(sent), {202}, "the client asked for one-way-from-client: %s" % result.session_dir)
        expected = server_items + own
        problems = self.count(step, expected, [], server=True)
        # The client keeps its own; it may have been sent the server's 20
        # (a fallback to a slow sync) but never twice, and nothing else.
        client = new.identities()
        lost, dup, _ = tally(client, own)
        foreign = sum(n for i, n in (client - own).items() if i not in server_items)
        twice = sum(n - 1 for n in client.values() if n > 1)
        ROWS.append(("client_new_to_the_database (%s)" % self.encoding, step, "client new", sum(client.values()),
                     "5 (or 25)", lost, twice, foreign))
        if lost or twice or foreign:
            problems.append("%s: the client holds %d: %d of its own lost, %d duplicated, %d unexpected" % (
                step, sum(client.values()), lost, twice, foreign))
        if problems:
            self.fail("\n".join(problems) + "\n--- server log:\n" + "\n".join(self.server_log()[-30:]) +
                      "\n(snapshots before %d, after %d; client session %s)" % (
                          before, len(snapshots(self.server.data_dir, self.user)), result.session_dir))
        self.sync(seed, "two-way")
        self.assertExact("the seed client's two-way sync", expected, [seed])

    def test_first_one_way_from_client_goes_out_as_refresh(self):
        """SyncEvolution sends a first one-way-from-client (no anchors) as
        Alert 203, refresh-from-client, exactly as it sends a Recover: the
        server cannot tell them apart, so it replaces its data, and the
        snapshot it takes first is the way back."""
        seed, server_items = self.seeded()
        new = Device(self, "new")
        own = items.identities(KIND, new.add(5, first=101))
        before = snapshots(self.server.data_dir, self.user)
        result = self.sync(new, "one-way-from-client")
        outgoing = "".join(result.message_texts("outgoing"))
        self.assertEqual(set(result.alert_codes("outgoing")), {203}, result.session_dir)
        self.assertNotIn("<Last>", outgoing, "a first sync has no last anchor")
        self.assertExact("first one-way-from-client, sent as 203", own, [new])
        after = snapshots(self.server.data_dir, self.user)
        self.assertEqual(len(after), len(before) + 1, "a snapshot before the refresh: %s" % after)
        restore_snapshot(self, self.server.data_dir, self.user, after[-1])
        self.assertIdentities(self.server_identities(), server_items, "server after restoring the snapshot")

    def test_refresh_from_client_replaces_the_server_after_a_snapshot(self):
        seed, _ = self.seeded()
        before = snapshots(self.server.data_dir, self.user)
        recover = Device(self, "recover")
        own = items.identities(KIND, recover.add(5, first=201))
        self.sync_mode(recover, "refresh-from-client", 203)
        self.assertExact("refresh-from-client", own, [recover])
        after = snapshots(self.server.data_dir, self.user)
        self.assertEqual(len(after), len(before) + 1, "one snapshot taken by the refresh: %s" % after)
        self.sync(seed, "two-way")
        self.assertExact("the seed client's two-way sync after the refresh", own, [seed])


# -- 4. the mass-delete guard ---------------------------------------------------


class MassDelete(SafetyChecks, unittest.TestCase):
    encoding = "wbxml"

    def test_thirty_of_forty_deleted_are_refused_and_come_back(self):
        """The guard refuses the 30 Deletes (419 each: the server's data
        wins, which SyncEvolution takes as a resolved conflict; 403 made it
        abort the whole sync) with a log line, keeps the 40 and sends the 30
        back in the same session. Counted: the server never below 40, the
        client exact at the end of that sync, and a further sync quiet."""
        a = self.first_device("a", 40)
        everything = a.identities()
        for number in range(11, 41):
            a.delete(a.item_name(number))
        offset = log_size(self.server.log_path)
        result = self.sync(a, "two-way")
        codes = interop_server.status_codes(result, "Delete", "incoming")
        log = new_log_lines(self.server.log_path, offset)
        step = "two-way with 30 of 40 deleted (client exit %d)" % result.status
        problems = self.count(step, everything, [], server=True)
        refused = [c for c in codes if not 200 <= c < 300]
        # One Status may answer several Deletes (one item each, or a list).
        if not codes or len(refused) != len(codes):
            problems.append("the server's statuses for the 30 Deletes: %s (all should refuse)" % (
                dict(collections.Counter(codes))))
        if not any(re.search(r"(?i)delet", l) for l in log):
            problems.append("no server log line about the refused deletes; the log said:\n    " +
                            "\n    ".join(log[-10:]))
        if problems:
            self.fail("\n".join(problems) + "\n(client session %s)" % result.session_dir)
        self.assertEqual(interop_server.change_counts(result, "incoming")["Add"], 30,
                         "the refused items sent back as Adds (%s)" % result.session_dir)
        self.assertExact("the client after the refused deletes", everything, [a], result=result)
        result = self.sync(a, "two-way")
        self.assertNothingSentBack(result, "a quiet sync after the refused deletes")

        # A few deletes are no mass delete.
        for ident in list(everything)[:3]:
            for name in files_by_identity(a.dir)[ident]:
                a.delete(name)
        self.sync(a, "two-way")
        kept = a.identities()
        self.assertEqual(sum(kept.values()), 37)
        self.assertExact("3 of 40 deleted", kept, [a])

        # An explicit refresh-from-client is not blocked (a snapshot covers it).
        before = snapshots(self.server.data_dir, self.user)
        files = files_by_identity(a.dir)
        for ident in list(kept)[10:]:
            for name in files[ident]:
                a.delete(name)
        ten = a.identities()
        self.assertEqual(sum(ten.values()), 10)
        self.sync_mode(a, "refresh-from-client", 203)
        self.assertExact("refresh-from-client with 10 of 37", ten, [a])
        self.assertEqual(len(snapshots(self.server.data_dir, self.user)), len(before) + 1,
                         "a snapshot before the refresh")


# -- 5. the client killed mid-sync ---------------------------------------------


class ClientProcess:
    """The running syncevolution process of a sync (syncevo.run_sync's
    on_start), so the proxy can kill it: SIGKILL to its process group,
    which is the client and nothing else."""

    def __init__(self):
        self.proc = None
        self.kills = 0

    def started(self, proc):
        self.proc = proc

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.kills += 1
            except ProcessLookupError:
                pass


class KillScenario:
    """A saved state (the host's data dir and the devices) and what every
    side must hold after the killed sync and the next one."""

    def __init__(self, name, mode, victim, others, expected):
        self.name = name
        self.mode = mode          # the interrupted sync's mode
        self.victim = victim      # the device whose client is killed
        self.others = others      # devices that sync after it, to check they get exact data
        self.expected = expected
        self.saved = os.path.join(ClientKilled.work, "saved", name)
        self.messages = []        # [(number, tags)] of a sync without a kill

    def save(self, host):
        host.stop()
        kill_recovery.copy_tree(host.data_dir, os.path.join(self.saved, "data"))
        for d in [self.victim] + self.others:
            kill_recovery.copy_tree(os.path.dirname(d.dir), os.path.join(self.saved, d.name))

    def restore(self, host):
        host.stop()
        kill_recovery.copy_tree(os.path.join(self.saved, "data"), host.data_dir)
        for d in [self.victim] + self.others:
            kill_recovery.copy_tree(os.path.join(self.saved, d.name), os.path.dirname(d.dir))
            os.makedirs(d.dir, exist_ok=True)
        host.launch()

    def number(self, tag, which):
        numbers = [n for n, tags in self.messages if tag in tags]
        if not numbers:
            raise AssertionError("%s: no message tagged %s in %s" % (self.name, tag, self.messages))
        return numbers[len(numbers) // 2] if which == "mid" else numbers[which]


class PausingProxy(kill_proxy.KillProxy):
    """kill_proxy's proxy, but at the chosen message it runs an action
    (another device's sync, straight to the host) instead of killing, and
    goes on forwarding. With mode "between" the host has answered the
    message and the client gets the reply once the action is done, so the
    action runs while the client's session is open on the server."""

    def _kill(self, outcome):
        self.kill_host()
        with self.lock:
            self.outcome = outcome.replace("killed", "paused for a concurrent sync")


# (name, message tag, which one): where another device changes the server
# while a two-way session of 200 contacts runs.
CONCURRENT_POINTS = [
    ("during_upload", "changes", "mid"),
    ("during_download", "server", 0),
]


# (test name, scenario, kill mode, message tag, which one of those)
# The proxy's `before`: the client has the reply to the message before and is
# sending this one; `after`: the host answered this one (and committed it),
# the client dies waiting for the reply.
KILL_POINTS = [
    ("slow_upload_mid", "slow-upload", "before", "changes", "mid"),
    ("slow_download_before_map", "slow-download", "before", "map", 0),
    ("twoway_upload_mid", "two-way", "after", "changes", "mid"),
    ("twoway_download_mid", "two-way", "before", "server", "mid"),
    ("twoway_before_map", "two-way", "before", "map", 0),
    ("slow_upload_last_after", "slow-upload", "after", "changes", -1),
    ("twoway_last_map_after", "two-way", "after", "map", -1),
]


# Points that fail until the engine has it, {name: what is missing}: the
# point's test is an expected failure.
KILL_KNOWN_DEFECTS = {}  # none now: items sent but never mapped are paired with what the client sends back


class ClientKilled(SafetyChecks, unittest.TestCase):
    """Its own host (restartable, for restoring saved states) behind a
    proxy whose kill callback kills the client, not the host."""

    encoding = "xml"   # the proxy reads the messages to find the kill points
    work = None
    host = None
    proxy = None
    client = None
    scenarios = {}

    @classmethod
    def setUpClass(cls):
        cls.work = os.path.join(WORK, "kill")
        binary = os.environ.get("SMK_HTTPD", "")
        cls.host = kill_recovery.Host(binary, os.path.join(cls.work, "httpd"),
                                      args=("--verbose", "--max-msg-size", str(KILL_MSG_SIZE)))
        cls.addClassCleanup(interop_server.stop_server, cls.host, WORK)
        cls.host.start()
        cls.client = ClientProcess()
        cls.proxy = kill_proxy.KillProxy(cls.client.kill, keep_bodies=True)
        cls.addClassCleanup(cls.proxy.close)
        cls.proxy.host_port = cls.host.port
        cls.action = None
        cls.pausing = PausingProxy(lambda: cls.action(), keep_bodies=True)
        cls.addClassCleanup(cls.pausing.close)
        cls.pausing.host_port = cls.host.port

    def setUp(self):
        self.server = self.host
        self.workdir = os.path.join(self.work, "devices")
        self.log_offset = log_size(self.host.log_path)

    def run_device(self, device, user, password, mode, extra=(), on_start=None, url=None):
        return syncevo.run_sync(syncevo.SyncRun(
            url=url or self.proxy.url, user=user, password=password, remote_db=KIND, local_dir=device.dir, kind=KIND,
            state_dir=device.state, curlfix=os.environ["SMK_CURLFIX"], mode=mode, encoding=self.encoding,
            max_msg_size=KILL_MSG_SIZE, device_id=device.device_id, timeout=BIG_TIMEOUT, loglevel=FAST_LOGLEVEL,
            extra=tuple(extra)), on_start)

    def setup_sync(self, device, mode):
        self.proxy.arm(None)
        result = self.run_device(device, self.user, self.password, mode)
        if not result.ok:
            self.fail("setting up: %s sync of %s failed\n%s\n%s" % (
                mode, device.name, result.log_tail(), self.host.log_tail()))

    def scenario(self, name):
        """Builds the scenarios once (each with a user of its own) and saves them."""
        if name in self.scenarios:
            return self.scenarios[name]
        self.user, self.password = self.host.new_account()
        k = KILL_COUNT
        if name == "slow-upload":
            a = Device(self, "upload-a", user=self.user)
            a.add(k, first=1)
            s = KillScenario(name, "slow", a, [], a.identities())
        elif name == "slow-download":
            a = Device(self, "download-a", user=self.user)
            a.add(k, first=1)
            self.setup_sync(a, "slow")
            c = Device(self, "download-c", user=self.user)
            s = KillScenario(name, "two-way", c, [a], a.identities())
        else:
            # a and b share k contacts; a adds, edits and deletes a fifth of
            # them through the server; b did the same to others, not synced.
            a = Device(self, "twoway-a", user=self.user)
            a.add(k, first=1)
            self.setup_sync(a, "slow")
            b = Device(self, "twoway-b", user=self.user)
            self.setup_sync(b, "refresh-from-server")
            change, new = k // 10, 2 * k // 5
            base = items.generate(KIND, k, seed=7, first=1)
            names = list(base)
            a_edit, a_delete = range(1, change + 1), range(change + 1, 2 * change + 1)
            b_edit, b_delete = range(k - change + 1, k + 1), range(k - 2 * change + 1, k - change + 1)
            for number in a_edit:
                a.edit(a.item_name(number))
            for number in a_delete:
                a.delete(a.item_name(number))
            a.add(new, first=1001)
            self.setup_sync(a, "two-way")
            by_ident = files_by_identity(b.dir)
            for number in b_edit:
                path = os.path.join(b.dir, by_ident[items.identity(KIND, base[names[number - 1]])][0])
                with open(path, encoding="utf-8", newline="") as f:
                    text = f.read()
                syncevo.write_item(path, items.edited(KIND, text))
            for number in b_delete:
                os.remove(os.path.join(b.dir, by_ident[items.identity(KIND, base[names[number - 1]])][0]))
            items.write_items(b.dir, items.generate(KIND, new, seed=7, first=2001))
            texts = dict(base)
            for number in list(a_edit) + list(b_edit):
                texts[names[number - 1]] = items.edited(KIND, texts[names[number - 1]])
            for number in list(a_delete) + list(b_delete):
                del texts[names[number - 1]]
            texts.update(items.generate(KIND, new, seed=7, first=1001))
            texts.update(items.generate(KIND, new, seed=7, first=2001))
            expected = items.identities(KIND, texts.values())
            s = KillScenario(name, "two-way", b, [a], expected)
        s.user, s.password = self.user, self.password
        s.save(self.host)
        self.host.launch()
        self.scenarios[name] = s
        return s

    def baseline(self, s):
        """The scenario once without a kill: its end state is the expected
        one, and its messages say which number is which package."""
        if s.messages:
            return
        s.restore(self.host)
        self.proxy.arm(None)
        result = self.run_device(s.victim, s.user, s.password, s.mode)
        self.assertTrue(result.ok, "baseline %s failed\n%s\n%s" % (s.name, result.log_tail(), self.host.log_tail()))
        seen = list(self.proxy.messages)
        out, inc = kill_recovery.texts(seen, "outgoing"), kill_recovery.texts(seen, "incoming")
        s.messages = [(m.number, kill_recovery.message_tags(out[i], inc[i], i == len(seen) - 1))
                      for i, m in enumerate(seen)]
        self.user = s.user
        self.assertExact("baseline %s" % s.name, s.expected, [s.victim])
        print("\nbaseline %s: %s" % (s.name, ", ".join("%d %s" % (n, "+".join(sorted(t)) or "-")
                                                        for n, t in s.messages)), file=sys.stderr)

    def kill_point(self, point, scenario, mode, tag, which):
        s = self.scenario(scenario)
        self.baseline(s)
        number = s.number(tag, which)
        s.restore(self.host)
        self.user, self.password = s.user, s.password
        self.host.mark("client kill %s: message %d, %s" % (point, number, mode))
        self.proxy.arm((number, mode, 0.0))
        kills = self.client.kills
        broken = self.run_device(s.victim, s.user, s.password, s.mode, extra=("RetryInterval=0",),
                                 on_start=self.client.started)
        self.assertEqual(self.client.kills, kills + 1, "%s: the client was not killed (%s; exit %d)" % (
            point, self.proxy.outcome, broken.status))
        self.assertEqual(broken.status, -signal.SIGKILL, "%s: the client's exit" % point)
        # The client's next sync, in its configured mode (two-way).
        self.proxy.arm(None)
        first = self.run_device(s.victim, s.user, s.password, "two-way")
        summary = kill_recovery.alert_summary(self.proxy.messages)
        self.assertTrue(first.ok, "%s: the next sync failed (%s)\n%s\n%s" % (
            point, summary, first.log_tail(30), "\n".join(self.server_log()[-30:])))
        problems = self.count("%s: next sync (%s)" % (point, summary), s.expected, [s.victim])
        for other in s.others:
            self.proxy.arm(None)
            result = self.run_device(other, s.user, s.password, "two-way")
            if not result.ok:
                problems.append("%s: %s's sync failed\n%s" % (point, other.name, result.log_tail(20)))
        problems += self.count("%s: the other devices' sync" % point, s.expected, s.others, server=False)
        # Once more: a quiet sync, nothing sent either way.
        self.proxy.arm(None)
        again = self.run_device(s.victim, s.user, s.password, "two-way")
        changes = {"Add": 0, "Replace": 0, "Delete": 0}
        for text in kill_recovery.texts(self.proxy.messages, "incoming"):
            for cmd in re.findall(r"<(Add|Replace|Delete)>", text):
                changes[cmd] += 1
        if not again.ok or any(changes.values()):
            problems.append("%s: the sync after that (exit %d) received %s" % (point, again.status, changes))
        problems += self.count("%s: a quiet sync" % point, s.expected, [s.victim])
        if problems:
            self.fail("\n".join(problems) + "\n--- the host's log lines (last 30):\n" +
                      "\n".join(self.server_log()[-30:]) + "\n(host log %s)" % self.host.log_path)


    def concurrent_point(self, point, tag, which):
        """Device a changes the server (adds, edits, deletes one contact)
        while b's two-way session is open: b's session ends well, and the
        change reaches b at its next sync, not lost, and nothing doubles."""
        s = self.scenario("two-way")
        self.baseline(s)
        number = s.number(tag, which)
        s.restore(self.host)
        self.user, self.password = s.user, s.password
        self.host.mark("concurrent change %s: after message %d" % (point, number))
        a = s.others[0]
        done = {}

        def change_and_sync():
            old, new = a.edit(a.item_name(KILL_COUNT // 2))
            deleted = a.delete(a.item_name(KILL_COUNT // 2 + 1))
            added = a.add(1, first=3001)
            done["gone"], done["new"] = [old, deleted], [new] + added
            done["result"] = self.run_device(a, s.user, s.password, "two-way", url=self.host.url)
        type(self).action = change_and_sync
        self.pausing.arm((number, "between", 0.0))
        result = self.run_device(s.victim, s.user, s.password, s.mode, url=self.pausing.url)
        self.assertIn("result", done, "%s: a's sync never ran (%s)" % (point, self.pausing.outcome))
        self.assertTrue(done["result"].ok, "%s: a's sync during b's session failed\n%s" % (
            point, done["result"].log_tail(20)))
        self.assertTrue(result.ok, "%s: b's session with a's sync in the middle failed\n%s" % (
            point, result.log_tail(20)))
        expected = s.expected - items.identities(KIND, done["gone"]) + items.identities(KIND, done["new"])
        problems = []
        for device in (s.victim, a, s.victim):
            self.proxy.arm(None)
            r = self.run_device(device, s.user, s.password, "two-way")
            if not r.ok:
                problems.append("%s: %s's next sync failed\n%s" % (point, device.name, r.log_tail(20)))
        problems += self.count("concurrent change %s: both synced again" % point, expected, [s.victim, a])
        if problems:
            self.fail("\n".join(problems) + "\n(host log %s)" % self.host.log_path)


def make_kill_test(point):
    name, scenario, mode, tag, which = point

    def test(self):
        self.kill_point(name, scenario, mode, tag, which)
    test.__doc__ = "the client killed %s the %s message tagged %s (%s)" % (mode, which, tag, scenario)
    if name in KILL_KNOWN_DEFECTS:
        test = unittest.expectedFailure(test)
    return test


for _point in KILL_POINTS:
    setattr(ClientKilled, "test_kill_" + _point[0], make_kill_test(_point))


def make_concurrent_test(point):
    def test(self):
        self.concurrent_point(*point)
    test.__doc__ = "another device changes the server after the %s message tagged %s" % point[2:0:-1]
    return test


for _point in CONCURRENT_POINTS:
    setattr(ClientKilled, "test_concurrent_change_" + _point[0], make_concurrent_test(_point))


# -- 6. a snapshot restored while the server runs ------------------------------


class SnapshotRestore(SafetyChecks, unittest.TestCase):
    encoding = "wbxml"

    def test_restored_snapshot_reaches_every_client(self):
        a = self.first_device("a", 20)
        everything = a.identities()
        b = Device(self, "b")
        self.sync(b, "two-way")
        self.assertExact("b's first sync", everything, [a, b])
        # A phone that lost 15 contacts recovers the wrong way.
        c = Device(self, "c")
        c.add(5, first=1)
        five = c.identities()
        before = snapshots(self.server.data_dir, self.user)
        self.sync_mode(c, "refresh-from-client", 203)
        self.assertExact("c's refresh-from-client", five, [c])
        taken = snapshots(self.server.data_dir, self.user)
        self.assertEqual(len(taken), len(before) + 1, "one snapshot taken: %s" % taken)
        # a syncs in between and loses the 15 too.
        self.sync(a, "two-way")
        self.assertExact("a's sync after the refresh", five, [a])

        print("\n" + restore_snapshot(self, self.server.data_dir, self.user, taken[-1]).strip(), file=sys.stderr)
        self.assertIdentities(self.server_identities(), everything, "server after the restore")

        # Every client gets the restored data at its next sync.
        for device in (a, b, c, a, b, c):
            result = self.sync(device, "two-way")
            self.assertExact("%s's sync after the restore" % device.name, everything, [device], result=result)
        self.assertExact("the end", everything, [a, b, c])


if __name__ == "__main__":
    unittest.main(verbosity=2)
