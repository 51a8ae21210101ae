"""Unit tests of the harness itself: the item normaliser and generator
(items.py) and the parts of syncevo.py and interop_server.py that need no
client. No server, no SyncEvolution; ctest label interop-unit."""

import os
import sqlite3
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import interop_server  # noqa: E402
import items  # noqa: E402
import syncevo  # noqa: E402

# A contact as the generator writes it ...
WRITTEN = (
    "BEGIN:VCARD\r\nVERSION:3.0\r\nPRODID:-//SyncMLKit//interop items//EN\r\n"
    "UID:smk-contact-00003@example.org\r\nN:Jensen;Mia 3;;;\r\nFN:Mia 3 Jensen\r\n"
    "ORG:Acme GmbH\r\nEMAIL;TYPE=INTERNET,WORK:mia.3@example.org\r\n"
    "TEL;TYPE=WORK,VOICE:+49 30 0532025\r\nEMAIL;TYPE=INTERNET,HOME:home3@mail.example.net\r\n"
    "NOTE:Met at the fair\\, talked about sync\\; follow up.\\nA second line\\, long\r\n"
    "  enough to be folded by any encoder that folds.\r\nEND:VCARD\r\n")
# ... and as SyncEvolution 2.0.0 wrote it back after a round trip (recorded):
# its PRODID, no UID, properties reordered, ORG padded, empty fields added.
ROUND_TRIPPED = (
    "BEGIN:VCARD\nVERSION:3.0\nPRODID:-//Synthesis AG//NONSGML SyncML Engine V3.4.0.47//EN\n"
    "REV:20100328T103410Z\nN:Jensen;Mia 3;;;\nFN:Mia 3 Jensen\nX-EVOLUTION-FILE-AS:\nX-GENDER:\n"
    "NICKNAME:\nTITLE:\nORG:Acme GmbH;;;\nROLE:\nTEL;TYPE=WORK,VOICE:+49 30 0532025\n"
    "EMAIL;TYPE=WORK,INTERNET:mia.3@example.org\nEMAIL;TYPE=HOME,INTERNET:home3@mail.example.net\n"
    "URL:\nX-MOZILLA-HTML:\nADR:;;;;;;\nBDAY:\nNOTE:Met at the fair\\, talked about sync\\; follow up.\\nA\n"
    " second line\\, long enough to be folded by any encoder that folds.\nPHOTO:\nGEO:;\nEND:VCARD\n")

EVENT = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//x//EN\r\nBEGIN:VEVENT\r\nUID:e1\r\n"
    "SUMMARY:Budget\\, Q3\r\nDTSTART:20261107T171500Z\r\nDTEND:20261107T201500Z\r\n"
    "RRULE:FREQ=WEEKLY;UNTIL=20261226T171500Z\r\n"
    "BEGIN:VALARM\r\nACTION:DISPLAY\r\nSUMMARY:not the event's summary\r\nEND:VALARM\r\n"
    "END:VEVENT\r\nEND:VCALENDAR\r\n")

TASK = (
    "BEGIN:VCALENDAR\nVERSION:2.0\nBEGIN:VTODO\nUID:t1\nSUMMARY:Pay invoice (5)\n"
    "DUE:20260509T091500Z\nSTATUS:NEEDS-ACTION\nPRIORITY:0\nEND:VTODO\nEND:VCALENDAR\n")


def replace_line(text, old, new):
    assert old in text, old
    return text.replace(old, new)


class Parsing(unittest.TestCase):
    def test_unfold_any_line_end_and_folding(self):
        self.assertEqual(items.unfold("A:1\r\n 2\n\t3\rB:x\r\n\r\n"), ["A:123", "B:x"])

    def test_group_and_parameter_case_and_order(self):
        a = items.parse_line("item1.tel;type=voice;TYPE=Work:+49 1")
        b = items.parse_line("TEL;TYPE=WORK,VOICE:+49 1")
        self.assertEqual(a, b)
        self.assertEqual(a, ("TEL", {"TYPE": ("VOICE", "WORK")}, "+49 1"))

    def test_vcard21_bare_parameter_is_a_type(self):
        self.assertEqual(items.parse_line("TEL;CELL:1")[1], {"TYPE": ("CELL",)})

    def test_quoted_parameter_may_hold_colon_and_semicolon(self):
        name, params, value = items.parse_line('DTSTART;TZID="Europe/Berlin;x:y":20260101T100000')
        self.assertEqual((name, value), ("DTSTART", "20260101T100000"))
        self.assertEqual(params["TZID"], ("EUROPE/BERLIN;X:Y",))

    def test_nested_components(self):
        names = [name for name, _ in items.components(EVENT)]
        self.assertEqual(names, ["VALARM", "VEVENT", "VCALENDAR"])


class Identity(unittest.TestCase):
    def test_client_round_trip_keeps_the_identity(self):
        self.assertEqual(items.identity("contacts", WRITTEN), items.identity("contacts", ROUND_TRIPPED))

    def test_contact_identity_uses_n_fn_email_tel(self):
        ident = dict(items.identity("contacts", WRITTEN))
        self.assertEqual(sorted(ident), ["EMAIL", "FN", "N", "TEL"])
        self.assertEqual(ident["N"], (("Jensen", "Mia 3"),))
        self.assertEqual(ident["TEL"], (("+49 30 0532025", "WORK"),))

    def test_a_changed_value_changes_the_identity(self):
        base = items.identity("contacts", WRITTEN)
        for old, new in [("FN:Mia 3 Jensen", "FN:Mia 3 Jensen (edited)"),
                         ("N:Jensen;Mia 3", "N:Jensen;Mia 4"),
                         ("+49 30 0532025", "+49 30 0532026"),
                         ("home3@mail", "home4@mail"),
                         ("TYPE=INTERNET,HOME", "TYPE=INTERNET,WORK")]:
            with self.subTest(new=new):
                self.assertNotEqual(items.identity("contacts", replace_line(WRITTEN, old, new)), base)

    def test_other_properties_do_not_count(self):
        changed = replace_line(WRITTEN, "ORG:Acme GmbH", "ORG:Other")
        changed = replace_line(changed, "UID:smk-contact-00003@example.org", "UID:else")
        self.assertEqual(items.identity("contacts", changed), items.identity("contacts", WRITTEN))

    def test_email_case_and_default_types_do_not_count(self):
        changed = replace_line(WRITTEN, "EMAIL;TYPE=INTERNET,WORK:mia.3@", "EMAIL;TYPE=work;type=pref:MIA.3@")
        self.assertEqual(items.identity("contacts", changed), items.identity("contacts", WRITTEN))

    def test_event_identity_ignores_alarm_and_rule_part_order(self):
        changed = replace_line(EVENT, "FREQ=WEEKLY;UNTIL=20261226T171500Z", "UNTIL=20261226T171500Z;INTERVAL=1;FREQ=WEEKLY")
        changed = replace_line(changed, "SUMMARY:not the event's summary", "SUMMARY:other")
        self.assertEqual(items.identity("calendar", changed), items.identity("calendar", EVENT))
        self.assertEqual(dict(items.identity("calendar", EVENT))["SUMMARY"], ("Budget, Q3",))

    def test_event_time_and_rule_count(self):
        base = items.identity("calendar", EVENT)
        for old, new in [("DTSTART:20261107T171500Z", "DTSTART:20261107T171600Z"),
                         ("DTEND:20261107T201500Z", "DTEND;TZID=Europe/Berlin:20261107T201500"),
                         ("FREQ=WEEKLY", "FREQ=DAILY")]:
            with self.subTest(new=new):
                self.assertNotEqual(items.identity("calendar", replace_line(EVENT, old, new)), base)

    def test_all_day_value_parameter_is_implied(self):
        a = replace_line(EVENT, "DTSTART:20261107T171500Z", "DTSTART;VALUE=DATE:20261107")
        b = replace_line(EVENT, "DTSTART:20261107T171500Z", "DTSTART:20261107")
        self.assertEqual(items.identity("calendar", a), items.identity("calendar", b))

    def test_task_priority_zero_is_no_priority(self):
        without = replace_line(TASK, "PRIORITY:0\n", "")
        self.assertEqual(items.identity("tasks", without), items.identity("tasks", TASK))
        self.assertNotEqual(items.identity("tasks", replace_line(TASK, "PRIORITY:0", "PRIORITY:1")),
                            items.identity("tasks", TASK))
        self.assertNotEqual(items.identity("tasks", replace_line(TASK, "NEEDS-ACTION", "COMPLETED")),
                            items.identity("tasks", TASK))

    def test_wrong_kind_is_an_error(self):
        with self.assertRaises(ValueError):
            items.identity("tasks", EVENT)


class Generation(unittest.TestCase):
    def test_same_seed_same_items(self):
        for kind in items.KINDS:
            with self.subTest(kind=kind):
                self.assertEqual(items.generate(kind, 5, seed=3), items.generate(kind, 5, seed=3))
                self.assertNotEqual(items.generate(kind, 5, seed=3), items.generate(kind, 5, seed=4))

    def test_items_are_distinct_and_well_formed(self):
        for kind in items.KINDS:
            with self.subTest(kind=kind):
                texts = list(items.generate(kind, 40).values())
                self.assertEqual(len(set(items.identity(kind, t) for t in texts)), 40)
                for t in texts:
                    self.assertTrue(t.endswith("\r\n"))
                    self.assertNotIn("\n", t.replace("\r\n", ""))
                    for line in t.split("\r\n"):
                        self.assertLessEqual(len(line.encode("utf-8")), 75)

    def test_numbering_continues_without_clashes(self):
        first = items.generate("contacts", 10)
        more = items.generate("contacts", 2, first=11)
        self.assertFalse(set(first) & set(more))
        ids = items.identities("contacts", list(first.values()) + list(more.values()))
        self.assertEqual(len(ids), 12)

    def test_edited_changes_the_identity(self):
        for kind in items.KINDS:
            with self.subTest(kind=kind):
                text = items.generate(kind, 1)[next(iter(items.generate(kind, 1)))]
                self.assertNotEqual(items.identity(kind, items.edited(kind, text)), items.identity(kind, text))


class Comparing(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = self.tmp.name

    def tearDown(self):
        self.tmp.cleanup()

    def test_same_items_in_other_encodings(self):
        items.write_items(self.dir, {"1.vcf": WRITTEN})
        self.assertTrue(items.compare("contacts", self.dir, [ROUND_TRIPPED]).same)

    def test_missing_extra_and_duplicate_items_are_reported(self):
        texts = list(items.generate("contacts", 3).values())
        items.write_items(self.dir, {"1": texts[0], "2": texts[1]})
        result = items.compare("contacts", self.dir, [texts[0], texts[0], texts[2]])
        self.assertFalse(result.same)
        self.assertEqual(sum(result.only_client.values()), 1)
        self.assertEqual(sum(result.only_server.values()), 2)
        report = result.report()
        self.assertIn("client holds 2, server holds 3", report)
        self.assertIn("only on the server", report)

    def test_server_item_texts_reads_the_store_file(self):
        path = os.path.join(self.dir, "contacts.sqlite")
        con = sqlite3.connect(path)
        # The columns of lib/store/sqlite_datastore.cpp's smk_items.
        con.execute("CREATE TABLE smk_items(guid TEXT PRIMARY KEY, revision TEXT, content_type TEXT,"
                    " content_version TEXT, data BLOB)")
        con.execute("INSERT INTO smk_items VALUES ('1', '1', 'text/vcard', '3.0', ?)", (WRITTEN.encode(),))
        con.commit()
        con.close()
        self.assertEqual(items.server_item_texts(path), [WRITTEN])
        self.assertEqual(items.server_item_texts(os.path.join(self.dir, "none.sqlite")), [])


class SyncevoWithoutClient(unittest.TestCase):
    def run_for(self, **kw):
        args = dict(url="http://127.0.0.1:1/sync", user="u", password="secret-pw", remote_db="contacts",
                    local_dir="/tmp/x", kind="contacts", state_dir="/tmp/s", curlfix="/nonexistent.so")
        args.update(kw)
        return syncevo.SyncRun(**args)

    def test_password_is_not_in_the_configuration(self):
        props = syncevo.config_properties(self.run_for())
        self.assertFalse([p for p in props if "secret-pw" in p])
        self.assertIn("password=${%s}" % syncevo.PASSWORD_VAR, props)
        env = syncevo.client_env("/tmp/s", "secret-pw")
        self.assertEqual(env[syncevo.PASSWORD_VAR], "secret-pw")
        self.assertTrue(env["HOME"].startswith("/tmp/s"))
        self.assertNotIn("DBUS_SESSION_BUS_ADDRESS", env)

    def test_encoding_and_sizes(self):
        props = syncevo.config_properties(self.run_for(encoding="xml", max_msg_size=4000))
        self.assertIn("enableWBXML=0", props)
        self.assertIn("maxMsgSize=4000", props)
        self.assertIn("contacts/uri=contacts", props)

    def test_bad_arguments_are_refused(self):
        for kw in ({"mode": "sideways"}, {"kind": "journal"}, {"encoding": "json"}, {"auth": "ntlm"}):
            with self.subTest(**kw):
                with self.assertRaises(ValueError):
                    syncevo.check(self.run_for(**kw))
        with self.assertRaises(FileNotFoundError):
            syncevo.check(self.run_for())

    def test_write_item_moves_the_mtime_to_a_new_second(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "item")
            syncevo.write_item(path, "one")
            first = int(os.stat(path).st_mtime)
            syncevo.write_item(path, "two")
            self.assertGreater(int(os.stat(path).st_mtime), first)

    def test_timeout_kills_the_whole_process_group(self):
        start = time.monotonic()
        status, _, timed_out = syncevo.run_bounded(["/bin/sh", "-c", "sleep 30 & sleep 30"], dict(os.environ), 0.5)
        self.assertTrue(timed_out)
        self.assertEqual(status, syncevo.STATUS_TIMEOUT)
        self.assertLess(time.monotonic() - start, 10)

    def test_alert_codes_and_status_from_a_session_dir(self):
        with tempfile.TemporaryDirectory() as d:
            def put(name, text):
                with open(os.path.join(d, name), "w") as f:
                    f.write(text)
            put("syncevolution-log_trm001_001_outgoing.xml",
                "<SyncML><SyncBody><Alert><CmdID>3</CmdID><Data>200</Data></Alert></SyncBody></SyncML>")
            put("syncevolution-log_trm001_004_incoming.xml",
                "<SyncML><SyncBody><Alert><CmdID>6</CmdID><Data>201</Data></Alert>"
                "<Alert><CmdID>7</CmdID><Data>222</Data></Alert></SyncBody></SyncML>")
            put("status.ini", "status = 200\nsource-contacts-mode = two-way\n")
            result = syncevo.SyncResult(0, d, "")
            self.assertEqual(result.alert_codes(), [200])
            self.assertEqual(result.alert_codes("incoming"), [201])
            self.assertEqual(result.session_status()["source-contacts-mode"], "two-way")



class SessionMessages(unittest.TestCase):
    """interop_server's readers of a client session dir (no server, no client)."""

    def session(self, d):
        def put(name, text):
            with open(os.path.join(d, name), "w") as f:
                f.write(text)
        put("syncevolution-log_msg001_002_outgoing.xml", "x" * 14022)
        put("syncevolution-log_msg001_003_incoming.xml", "y" * 1118)
        put("syncevolution-log_msg002_006_outgoing.wbxml", "z" * 4000)
        put("syncevolution-log_trm001_001_outgoing.xml",
            "<SyncML><SyncHdr><Cred><Meta><Type>syncml:auth-basic</Type></Meta><Data>x</Data></Cred></SyncHdr>"
            "<SyncBody><Sync><Add><CmdID>4</CmdID></Add><Add><CmdID>5</CmdID></Add></Sync></SyncBody></SyncML>")
        put("syncevolution-log_trm001_004_incoming.xml",
            "<SyncML><SyncBody><Status><CmdID>1</CmdID><Cmd>SyncHdr</Cmd><Chal><Meta><NextNonce>QUJD</NextNonce>"
            "</Meta></Chal><Data>212</Data></Status><Status><CmdID>2</CmdID><CmdRef>3</CmdRef><Cmd>Alert</Cmd>"
            "<Data>404</Data><Item><Data>9</Data></Item></Status><Status><Cmd>Add</Cmd><Data>201</Data></Status>"
            "<Sync><Replace><CmdID>7</CmdID></Replace><Delete><CmdID>8</CmdID></Delete></Sync></SyncBody></SyncML>")
        return syncevo.SyncResult(1, d, "")

    def test_status_codes_per_command(self):
        with tempfile.TemporaryDirectory() as d:
            result = self.session(d)
            self.assertEqual(interop_server.status_codes(result, "Alert"), [404])
            self.assertEqual(interop_server.status_codes(result, "SyncHdr"), [212])
            self.assertEqual(interop_server.status_codes(result, "Add"), [201])
            self.assertEqual(interop_server.status_codes(result, "Map"), [])

    def test_change_counts_per_direction(self):
        with tempfile.TemporaryDirectory() as d:
            result = self.session(d)
            self.assertEqual(interop_server.change_counts(result, "outgoing"), {"Add": 2, "Replace": 0, "Delete": 0})
            self.assertEqual(interop_server.change_counts(result, "incoming"), {"Add": 0, "Replace": 1, "Delete": 1})

    def test_raw_messages_in_order_with_sizes(self):
        with tempfile.TemporaryDirectory() as d:
            result = self.session(d)
            self.assertEqual(interop_server.raw_messages(result),
                             [(2, "outgoing", 14022), (3, "incoming", 1118), (6, "outgoing", 4000)])
            self.assertEqual(interop_server.raw_messages(syncevo.SyncResult(1, "", "")), [])

if __name__ == "__main__":
    unittest.main(verbosity=2)
