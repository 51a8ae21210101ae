"""syncmlkit-admin as an administrator runs it, one test per subcommand.

Each test makes a data directory with admin_fixture (whole sessions through
the engine: alice's IMEI:1 and IMEI:2 hold Anne, Bert and Cleo, bob's
bob-phone holds Zoe), runs the tool, asserts its output and exit status, and
then asserts the effect: the store's rows, or the next sync of a client with
the items counted on both sides.

Environment: SMK_ADMIN (the tool), SMK_ADMIN_FIXTURE (admin_fixture).
"""
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
import unittest

ADMIN = os.environ["SMK_ADMIN"]
FIXTURE = os.environ["SMK_ADMIN_FIXTURE"]


def parse_sync(line):
    """admin_fixture's line: 'alice IMEI:1 contacts: alert=200 ... names=Anne,Bert,' -> dict."""
    fields = dict(re.findall(r"(\w+)=(\S*)", line))
    fields["names"] = sorted(n for n in fields.get("names", "").split(",") if n)
    return fields


class Admin(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="smk-admin-")
        self.data = os.path.join(self.tmp, "data")
        self.clients = os.path.join(self.tmp, "clients")
        self.fixture("setup", self.data, self.clients)

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def fixture(self, *args):
        p = subprocess.run([FIXTURE, *args], capture_output=True, text=True, timeout=120)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        return p.stdout

    def sync(self, user, device, category="contacts"):
        out = self.fixture("sync", self.data, self.clients, user, device, category)
        return parse_sync(out.strip().splitlines()[-1])

    def admin(self, *args, status=0):
        p = subprocess.run([ADMIN, "--data", self.data, *args], capture_output=True, text=True, timeout=120)
        self.assertEqual(p.returncode, status, f"{args}: {p.stdout}{p.stderr}")
        return p.stdout, p.stderr

    def db(self, user="alice", category="contacts"):
        return sqlite3.connect(os.path.join(self.data, user, category + ".sqlite"))

    def test_usage(self):
        out, _ = self.admin("--help")
        for sub in ("users", "devices", "reset", "snapshots", "snapshot", "restore", "import-gab", "check"):
            self.assertRegex(out, rf"\n  {sub} +\S")
            sub_help, _ = self.admin(sub, "--help")
            self.assertTrue(sub_help.startswith(f"usage: syncmlkit-admin --data DIR {sub}"), sub_help)
            if sub in ("reset", "snapshots", "snapshot", "restore", "check"):
                self.assertIn("\nCATEGORY: contacts, calendar, tasks or notes.\n", sub_help)
        self.assertIn("\nCATEGORY: contacts, calendar, tasks or notes.", out)
        _, err = self.admin("frobnicate", status=2)
        self.assertIn('no subcommand "frobnicate"', err)
        _, err = self.admin("devices", status=2)
        self.assertIn("usage: syncmlkit-admin --data DIR devices USER", err)
        p = subprocess.run([ADMIN, "users"], capture_output=True, text=True)
        self.assertEqual(p.returncode, 2)
        self.assertIn("--data DIR is required", p.stderr)
        p = subprocess.run([ADMIN, "--data", os.path.join(self.tmp, "none"), "users"], capture_output=True, text=True)
        self.assertEqual(p.returncode, 1)
        self.assertIn("no such data directory", p.stderr)

    def test_users(self):
        out, _ = self.admin("users")
        self.assertEqual(out, "alice: databases: contacts calendar; 2 devices\n"
                              "bob: databases: contacts; 1 device\n")
        # The data dir's own folders are no users.
        self.assertTrue(os.path.isdir(os.path.join(self.data, "state")))
        empty = os.path.join(self.tmp, "empty")
        os.mkdir(empty)
        p = subprocess.run([ADMIN, "--data", empty, "users"], capture_output=True, text=True)
        self.assertEqual((p.returncode, p.stdout), (0, f"no users in {empty}\n"))

    def test_devices(self):
        out, _ = self.admin("devices", "alice")
        lines = out.splitlines()
        self.assertEqual([l for l in lines if not l.startswith(" ")], ["IMEI:1", "IMEI:2"])
        self.assertRegex(out, r"IMEI:1\n  make: Nokia, model: E71, last login: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\n"
                              r"  contacts: last sync \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(3 items\)\n"
                              r"  calendar: last sync [^(]+ \(0 items\)\n")
        self.assertRegex(out, r"IMEI:2\n  make: SonyEricsson, model: K800i, last login: [^\n]+\n"
                              r"  contacts: last sync [^\n]+ \(3 items\)\n  calendar: never synced\n")
        out, _ = self.admin("devices", "bob")
        self.assertRegex(out, r"^bob-phone\n  make: Palm, model: Treo, .*\n  contacts: last sync .* \(1 item\)\n$")
        # A file of an older version: anchors without a completion time.
        with self.db() as db:
            db.execute("UPDATE smk_anchors SET completed = NULL WHERE device = 'IMEI:2'")
        out, _ = self.admin("devices", "alice")
        self.assertIn("IMEI:2\n  make: SonyEricsson, model: K800i", out)
        self.assertIn("  contacts: last sync at a time not recorded (3 items)\n", out)
        _, err = self.admin("devices", "carol", status=1)
        self.assertIn('no user "carol"', err)

    def test_reset(self):
        with self.db() as db:
            before = db.execute("SELECT count(*) FROM smk_items").fetchone()[0]
        out, _ = self.admin("reset", "alice", "IMEI:1", "contacts")
        self.assertEqual(out, "alice/contacts: forgot IMEI:1 (anchors, 3 items it held); "
                              "its next sync is a slow sync, no item was deleted\n")
        with self.db() as db:
            self.assertEqual(db.execute("SELECT count(*) FROM smk_items").fetchone()[0], before)
            self.assertEqual(db.execute("SELECT count(*) FROM smk_anchors WHERE device = 'IMEI:1'").fetchone()[0], 0)
            self.assertEqual(db.execute("SELECT count(*) FROM smk_client_items WHERE device = 'IMEI:1'").fetchone()[0], 0)
            self.assertEqual(db.execute("SELECT count(*) FROM smk_client_items WHERE device = 'IMEI:2'").fetchone()[0], 3)
        # Its calendar state stays; IMEI:2 is untouched.
        out, _ = self.admin("devices", "alice")
        self.assertRegex(out, r"IMEI:1\n[^\n]*\n  contacts: never synced\n  calendar: last sync")
        # The next sync is slow and pairs: three items on each side, no duplicate.
        r = self.sync("alice", "IMEI:1")
        self.assertEqual((r["alert"], r["mode"]), ("508", "201"))
        self.assertEqual((r["client"], r["server"], r["client_duplicates"], r["server_duplicates"]), ("3", "3", "0", "0"))
        self.assertEqual(self.sync("alice", "IMEI:2")["alert"], "200")
        # All databases at once; a device with no state is an error.
        out, _ = self.admin("reset", "alice", "IMEI:1")
        self.assertEqual(out.count("forgot IMEI:1"), 2)
        _, err = self.admin("reset", "alice", "IMEI:9", status=1)
        self.assertIn('device "IMEI:9" has no sync state in any database of alice', err)
        _, err = self.admin("reset", "alice", "IMEI:2", "tasks", status=1)
        self.assertIn("no database alice/tasks (alice has contacts, calendar)", err)

    def test_snapshots(self):
        out, _ = self.admin("snapshots", "alice", "contacts")
        self.assertEqual(out, "no snapshots of alice/contacts\n")
        self.admin("snapshot", "alice", "contacts")
        self.fixture("change", self.data, "alice")
        self.admin("snapshot", "alice", "contacts")
        out, _ = self.admin("snapshots", "alice", "contacts")
        rows = out.splitlines()
        self.assertRegex(rows[0], r"^NAME +ITEMS  FILE$")
        self.assertEqual(len(rows), 3)
        for row, items in zip(rows[1:], ("3", "3")):
            name, count, path = row.split()
            self.assertRegex(name, r"^\d{8}T\d{6}Z-\d\d-admin$")
            self.assertEqual(count, items)
            self.assertEqual(path, os.path.join(self.data, "alice", "snapshots", f"contacts-{name}.sqlite"))
        self.assertLess(rows[1].split()[0], rows[2].split()[0])  # oldest first
        _, err = self.admin("snapshots", "alice", "tasks", status=1)
        self.assertIn("no database alice/tasks", err)
        _, err = self.admin("snapshots", "alice", "pictures", status=2)
        self.assertIn('no database kind "pictures"', err)

    def test_snapshot(self):
        out, _ = self.admin("snapshot", "alice", "contacts")
        m = re.match(r"took (\S+) of alice/contacts \(3 items\)\n  (\S+)\n$", out)
        self.assertTrue(m, out)
        self.assertTrue(os.path.isfile(m.group(2)))
        with sqlite3.connect(m.group(2)) as snap:
            self.assertEqual(snap.execute("SELECT count(*) FROM smk_items").fetchone()[0], 3)
        # Only the newest five are kept, and the tool says which went.
        for _ in range(4):
            self.admin("snapshot", "alice", "contacts")
        out, _ = self.admin("snapshot", "alice", "contacts")
        self.assertIn(f"dropped the oldest, {m.group(1)} (only the newest 5 are kept)", out)
        self.assertEqual(len(os.listdir(os.path.join(self.data, "alice", "snapshots"))), 5)
        _, err = self.admin("snapshot", "carol", "contacts", status=1)
        self.assertIn('no user "carol"', err)
        self.assertFalse(os.path.exists(os.path.join(self.data, "carol")))

    def test_restore(self):
        out, _ = self.admin("snapshot", "alice", "contacts")
        name = out.split()[1]
        # Since the snapshot: Dana added and Anne deleted on the server, IMEI:1 synced them.
        self.fixture("change", self.data, "alice")
        r = self.sync("alice", "IMEI:1")
        self.assertEqual((r["adds"], r["deletes"], r["names"]), ("1", "1", ["Bert", "Cleo", "Dana"]))
        out, _ = self.admin("restore", "alice", "contacts", name)
        m = re.fullmatch(f"restored alice/contacts from {name}: 3 items \\(1 brought back, 0 changed back, "
                         "2 unchanged; 1 made since removed\\); each client gets them at its next sync\n"
                         "the data as it was is kept as (\\S+-before-restore) \\(restore it to undo\\)\n", out)
        self.assertTrue(m, out)
        undo = m.group(1)
        # IMEI:1: an ordinary two-way sync, Anne back as an Add, Dana deleted, nothing twice.
        r = self.sync("alice", "IMEI:1")
        self.assertEqual((r["alert"], r["adds"], r["replaces"], r["deletes"]), ("200", "1", "0", "1"))
        self.assertEqual(r["names"], ["Anne", "Bert", "Cleo"])
        self.assertEqual((r["server"], r["client_duplicates"], r["server_duplicates"]), ("3", "0", "0"))
        # IMEI:2 never saw the change: it ends with the same three.
        r = self.sync("alice", "IMEI:2")
        self.assertEqual((r["alert"], r["adds"], r["deletes"]), ("200", "0", "0"))
        self.assertEqual((r["names"], r["server"], r["client_duplicates"]), (["Anne", "Bert", "Cleo"], "3", "0"))
        # Undone: Dana back, Anne gone, on both clients.
        out, _ = self.admin("restore", "alice", "contacts", undo)
        self.assertIn("3 items (1 brought back, 0 changed back, 2 unchanged; 1 made since removed)", out)
        for device in ("IMEI:1", "IMEI:2"):
            r = self.sync("alice", device)
            self.assertEqual((r["alert"], r["names"], r["server"]), ("200", ["Bert", "Cleo", "Dana"], "3"))
            self.assertEqual((r["client_duplicates"], r["server_duplicates"]), ("0", "0"))
        # The other names restore takes; a missing one is an error.
        self.admin("restore", "alice", "contacts", f"contacts-{name}.sqlite")
        newest = self.admin("snapshots", "alice", "contacts")[0].splitlines()[-1].split()[0]
        out, _ = self.admin("restore", "alice", "contacts", "latest")
        self.assertTrue(out.startswith(f"restored alice/contacts from {newest}: 3 items"), out)
        _, err = self.admin("restore", "alice", "contacts", "19990101T000000Z-01-admin", status=1)
        self.assertIn('no snapshot "19990101T000000Z-01-admin" of alice/contacts', err)
        # A full set: restoring the oldest takes no snapshot that would push it out.
        for _ in range(5):
            self.admin("snapshot", "alice", "contacts")
        oldest = self.admin("snapshots", "alice", "contacts")[0].splitlines()[1].split()[0]
        out, _ = self.admin("restore", "alice", "contacts", oldest)
        self.assertIn("no snapshot of the data as it was: it would have pushed out the one restored", out)
        _, err = self.admin("restore", "bob", "calendar", "latest", status=1)
        self.assertIn("no database bob/calendar", err)

    def test_import_gab(self):
        vcf = os.path.join(self.tmp, "directory.vcf")
        cards = "".join(f"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Staff {i}\r\nEMAIL:staff{i}@example.com\r\nEND:VCARD\r\n"
                        for i in range(40))
        cards += "BEGIN:VCARD\nVERSION:3.0\nUID:room-1\nFN:Room One\nEND:VCARD\n"
        cards += "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Staff 3\r\nEMAIL:staff3@example.com\r\nNOTE:again\r\nEND:VCARD\r\n"
        with open(vcf, "w", newline="") as f:
            f.write(cards)
        gab = os.path.join(self.data, "_global", "contacts.sqlite")

        def entries():
            with sqlite3.connect(gab) as db:
                return dict(db.execute("SELECT guid, revision FROM smk_items"))

        out, _ = self.admin("import-gab", vcf)
        self.assertEqual(out, "imported 41 entries into the Global Address Book: 41 added, 0 changed, 0 unchanged, "
                              "0 removed; 1 card skipped (same UID, or name and address, as an earlier card)\n")
        first = entries()
        self.assertEqual(len(first), 41)
        out, _ = self.admin("import-gab", vcf)
        self.assertIn("imported 41 entries into the Global Address Book: 0 added, 0 changed, 41 unchanged, 0 removed", out)
        self.assertEqual(entries(), first)  # same GUIDs, same revisions: no client downloads anything
        # The room renamed (same UID), one person gone.
        with open(vcf, "w", newline="") as f:
            f.write(cards.replace("FN:Room One", "FN:Room 1").replace(
                "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Staff 0\r\nEMAIL:staff0@example.com\r\nEND:VCARD\r\n", ""))
        out, _ = self.admin("import-gab", vcf)
        self.assertIn("40 entries into the Global Address Book: 0 added, 1 changed, 39 unchanged, 1 removed", out)
        self.assertEqual(len(entries()), 40)
        _, err = self.admin("import-gab", os.path.join(self.tmp, "missing.vcf"), status=1)
        self.assertIn("missing.vcf: cannot open", err)

    def test_check(self):
        out, _ = self.admin("check", "alice")
        self.assertRegex(out, r"^alice/contacts: 3 items, 2 devices: ok\n")
        self.assertRegex(out, r"\nalice/calendar: 0 items, 1 device: ok\n")
        self.assertIn("  ok      0 state rows pointing nowhere", out)
        self.assertIn("  info    0 items without state", out)
        # Normal between syncs: an item no device holds yet, one deleted here.
        self.fixture("change", self.data, "alice")
        out, _ = self.admin("check", "alice", "contacts")
        self.assertIn("alice/contacts: 3 items, 2 devices: ok", out)
        self.assertIn("  info    1 item without state", out)
        self.assertIn("  info    2 state rows without items", out)  # Anne, held by both devices
        # Broken by hand: a row for a GUID never handed out, a LUID mapped twice,
        # a revision beyond the counter.
        with self.db() as db:
            db.execute("INSERT INTO smk_client_items VALUES ('IMEI:1', '999', 'lost', '1')")
            luid, guid = db.execute("SELECT luid, guid FROM smk_client_items WHERE device = 'IMEI:2' "
                                    "AND guid IN (SELECT guid FROM smk_items) LIMIT 1").fetchone()
            other = db.execute("SELECT guid FROM smk_items WHERE guid <> ? LIMIT 1", (guid,)).fetchone()[0]
            db.execute("UPDATE smk_client_items SET luid = ? WHERE device = 'IMEI:2' AND guid = ?", (luid, other))
            db.execute("UPDATE smk_items SET revision = '100000' WHERE guid = ?", (guid,))
        out, err = self.admin("check", "alice", "contacts", status=1)
        self.assertIn("alice/contacts: 3 items, 2 devices: 3 problems", out)
        self.assertIn("  PROBLEM 1 state row pointing nowhere", out)
        self.assertIn("  PROBLEM 1 LUID mapped twice", out)
        self.assertIn("  PROBLEM 1 revision never handed out", out)
        self.assertIn("3 problems found in alice/contacts", err)
        self.admin("check", "bob")  # other users are not concerned
        _, err = self.admin("check", "carol", status=1)
        self.assertIn('no user "carol"', err)


if __name__ == "__main__":
    unittest.main()
