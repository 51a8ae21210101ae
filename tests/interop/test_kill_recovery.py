"""End to end: the host killed with SIGKILL in the middle of a 1000-contact
sync, restarted, and the client synced again; the data on both sides must
then be exactly right (no item lost, none duplicated, nothing unexpected)
and the first sync after the restart must succeed.

SyncEvolution talks to a forwarding proxy (kill_proxy.py) in front of
syncmlkit-httpd; the proxy numbers the client's messages and kills the host
at one point per test: before a message reaches it, a few ms into its work
on one (`during`), after it answered one whose reply the client never gets
(`after`: the host committed, the client did not see it), or right after
the client got a reply (`between`). Messages are small (16 or 32 kB, see
SMALL and LARGE), so every package spans several of them. Three
scenarios, each started from the same saved state at every point (the server's data dir and the client's items and state, restored
while the host is down):

    upload    a new device holding 1000 contacts slow-syncs (201) to an
              empty server; expected: both sides hold those 1000
    two-way   a device and the server share 1000 contacts; the device added
              100, edited 50 and deleted 50, and a second device did the
              same to 100 other contacts on the server; two-way sync (200);
              expected: both sides hold the union of both sets of changes
              (1000 + 200 - 100 = 1100, the edited versions only)
    download  a new, empty device asks for refresh-from-server (205) of the
              server's 1050 contacts; expected: both sides hold those 1050

After the kill the host is restarted on the same data dir and port and the
client runs a plain two-way sync, its configured mode, with its state as
the interrupted session left it. That sync must succeed (exit 0), and the
items of both sides are counted and compared, as multisets of identities
(items.py), with the scenario's expectation: lost = expected items missing,
duplicated = extra copies of expected items, unexpected = items that should
not exist at all (a deleted item back, an old version of an edited one).
Should the first sync fail, a second one is run so that the table still
shows the data; the test fails either way.

The interrupted sync runs with RetryInterval=0 so that the client gives up
at once when its message finds no host, instead of resending for minutes;
the sync after the restart uses the harness's normal retry settings.

Before the kill points, each scenario is run once without a kill (the
`baseline` rows): it checks the expectation, and its messages (as the
proxy saw them, XML) tell which message number belongs to which package,
and how long the host took for each (a `during` kill comes at half of it).
The alert codes in the table are read from the proxy's copies too.

SMK_KILL_POINTS=few (set by CMake in the sanitizer build) runs only the
points marked `few`; the default is all 20. A table of every point is
printed at the end. Logs: work/kill_recovery/points/<point>/ (the client's
session logs) and work/kill_recovery/httpd/ (the server's log, with a
line per point, and every message it got and sent).

Points that show a known engine defect are listed in KNOWN_DEFECTS: the
client's items of such a point are checked by a test of their own, an
expected failure; everything else of the point is asserted as usual.
"""

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

KIND = "contacts"
ENCODING = "xml"
COUNT = 1000
# Message sizes (the server's --max-msg-size, the client's maxMsgSize) per
# scenario: for the 1000-item upload and download, messages of some 80
# items, so that a kill `during` a message comes while the host stores or
# reads them, and the sync still takes two dozen messages; for the
# two-way sync, messages of some 40 items, so that its 200 changes each way
# take several. (Smaller messages cost time: the client spends 100-200 ms
# on each.)
SMALL = (16384, 16384)
LARGE = (32768, 32768)
SYNC_TIMEOUT = 300            # seconds for one sync of 1000 items
RESTART_TIMEOUT = 20          # seconds for the restarted host to listen
FEW = os.environ.get("SMK_KILL_POINTS", "") == "few"
# The client's log level: 2 (its errors and the session's summary) is
# three times faster than the harness's 5 (every message, a debug trace)
# with 1000 items; the messages are kept by the server (--log-dir) anyway.
# SMK_KILL_LOGLEVEL=5 for the whole client log.
LOGLEVEL = int(os.environ.get("SMK_KILL_LOGLEVEL", "2"))

# (name, scenario, package, which message of the package, mode, in the reduced set)
# package: init (the client's Alert), changes (package 3, the client's
# Sync), server (a message whose reply carries package 4, the server's
# Sync), replace and delete (one whose reply carries a Replace, a Delete),
# map (package 5), last (the client's last message).
# which: 0 the first, -1 the last, "mid" the middle one of the package.
POINTS = [
    ("upload-init-before", "upload", "init", 0, "before", False),
    ("upload-init-after", "upload", "init", 0, "after", True),
    ("upload-changes-mid-during", "upload", "changes", "mid", "during", True),
    ("upload-changes-mid-after", "upload", "changes", "mid", "after", False),
    ("upload-changes-mid-between", "upload", "changes", "mid", "between", False),
    ("upload-changes-last-after", "upload", "changes", -1, "after", False),
    ("upload-last-after", "upload", "last", -1, "after", False),
    ("twoway-init-between", "two-way", "init", 0, "between", False),
    ("twoway-changes-mid-during", "two-way", "changes", "mid", "during", False),
    ("twoway-changes-last-after", "two-way", "changes", -1, "after", True),
    ("twoway-server-first-during", "two-way", "server", 0, "during", False),
    ("twoway-replace-after", "two-way", "replace", 0, "after", False),
    ("twoway-delete-after", "two-way", "delete", 0, "after", False),
    ("twoway-server-last-between", "two-way", "server", -1, "between", False),
    ("twoway-map-first-during", "two-way", "map", 0, "during", False),
    ("twoway-map-last-after", "two-way", "map", -1, "after", True),
    ("twoway-last-after", "two-way", "last", -1, "after", False),
    ("download-server-first-during", "download", "server", 0, "during", False),
    ("download-server-mid-between", "download", "server", "mid", "between", True),
    ("download-map-last-after", "download", "map", -1, "after", False),
]

# Points that show a known engine defect, not fixed yet: {name: what}. The
# point's own test asserts everything but the client's items; a companion
# test, <point>_known_defect, asserts those, as an expected failure (so it
# turns into an unexpected success, a failure, once the defect is fixed:
# then remove the point from here).
# Points that show a known engine defect, {name: what goes wrong}; none now
# (a reply lost with the host used to lose the server's Replaces and Deletes
# on the client: they are now recorded only when the client confirms them).
KNOWN_DEFECTS = {}
KNOWN_RESULTS = {}  # {name: the client's problems} of the points in KNOWN_DEFECTS

WORK = None
HOST = None
PROXY = None
SCENARIOS = {}
ROWS = []


class Host(interop_server.Httpd):
    """syncmlkit-httpd that can be killed and started again on the same
    port and data dir."""

    def argv(self):
        return [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--data", self.data_dir,
                "--users", self.users_path, "--log-dir", self.message_dir] + self.args

    def launch(self):
        """Starts the host again on its port (after start() chose one)."""
        deadline = time.monotonic() + RESTART_TIMEOUT
        while True:
            with open(self.log_path, "ab") as log:
                self.proc = subprocess.Popen(
                    self.argv(), stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                    start_new_session=True, preexec_fn=interop_server.die_with_parent)
            if self.wait_listening():
                return
            self.stop()
            if time.monotonic() > deadline:
                raise RuntimeError("syncmlkit-httpd did not start again on port %d:\n%s" % (
                    self.port, self.log_tail()))
            time.sleep(0.5)  # the port may still be taken for a moment

    def kill9(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def mark(self, text):
        """A line in the host's log (while it is down), to find each point there."""
        with open(self.log_path, "a") as log:
            log.write("\n===== %s =====\n" % text)


def copy_tree(src, dst):
    """dst becomes a copy of src (file times kept: the client's file
    backend tells changes by mtime); a missing src makes dst missing."""
    shutil.rmtree(dst, ignore_errors=True)
    if os.path.exists(src):
        shutil.copytree(src, dst, symlinks=True)


class Scenario:
    """A saved starting state and what both sides must hold in the end.

    `server_data` is a copy of the host's data dir, `device` a copy of the
    client's items and state; `mode` the interrupted sync's mode."""

    def __init__(self, name, mode, user, password, device_id, expected, sizes):
        self.name = name
        self.sizes = sizes                # (the server's, the client's maximum message size)
        self.mode = mode
        self.user = user
        self.password = password
        self.device_id = device_id
        self.expected = expected          # Counter of identities
        self.saved = os.path.join(WORK, "saved", name)
        self.live = os.path.join(WORK, "live", name)
        self.messages = []                # [(number, tags, host seconds)] of the baseline
        self.broken = ""                  # why the baseline failed

    @property
    def items_dir(self):
        return os.path.join(self.live, "items")

    @property
    def state_dir(self):
        return os.path.join(self.live, "state")

    def save(self, device_dir):
        """Saves the host's data dir (the host must be down) and the device."""
        copy_tree(HOST.data_dir, os.path.join(self.saved, "data"))
        copy_tree(device_dir, os.path.join(self.saved, "device"))

    def restore(self):
        """The host's data and the device as saved (the host must be down)."""
        assert HOST.proc is None or HOST.proc.poll() is not None, "the host is running"
        copy_tree(os.path.join(self.saved, "data"), HOST.data_dir)
        os.makedirs(HOST.data_dir, exist_ok=True)
        copy_tree(os.path.join(self.saved, "device"), self.live)
        os.makedirs(self.items_dir, exist_ok=True)

    def launch_host(self):
        HOST.args = ["--max-msg-size", str(self.sizes[0])]
        HOST.launch()

    def run(self, mode, timeout=SYNC_TIMEOUT, extra=()):
        return syncevo.run_sync(syncevo.SyncRun(
            url=PROXY.url, user=self.user, password=self.password, remote_db=KIND, local_dir=self.items_dir,
            kind=KIND, state_dir=self.state_dir, curlfix=os.environ["SMK_CURLFIX"], mode=mode,
            encoding=ENCODING, max_msg_size=self.sizes[1], device_id=self.device_id,
            timeout=timeout, loglevel=LOGLEVEL, extra=tuple(extra)))

    def server_identities(self):
        return items.identities(KIND, HOST.item_texts(self.user, KIND))

    def client_identities(self):
        return items.identities(KIND, items.read_dir(self.items_dir).values())

    def message_number(self, package, which):
        numbers = [n for n, tags, _ in self.messages if package in tags]
        if not numbers:
            raise AssertionError("scenario %s has no message of package %r: %s" % (
                self.name, package, self.layout()))
        index = len(numbers) // 2 if which == "mid" else which
        return numbers[index]

    def host_seconds(self, number):
        return self.messages[number - 1][2]

    def layout(self):
        """The baseline's messages, e.g. '1 init, 2-14 changes, ...'."""
        runs, out = [], []
        for n, tags, _ in self.messages:
            label = "+".join(sorted(tags)) or "-"
            if runs and runs[-1][2] == label:
                runs[-1][1] = n
            else:
                runs.append([n, n, label])
        for first, last, label in runs:
            out.append("%s %s" % (first if first == last else "%d-%d" % (first, last), label))
        return ", ".join(out)


# -- what the messages are ----------------------------------------------------


def alerts(text):
    return [int(c) for c in re.findall(r"<Alert>.*?<Data>\s*(\d+)\s*</Data>.*?</Alert>", text, re.S)]


def message_tags(outgoing, incoming, last):
    """The packages a client message (and its reply) belong to."""
    tags = set()
    if any(200 <= c <= 205 or c == 225 for c in alerts(outgoing)):
        tags.add("init")
    if "<Sync>" in outgoing:
        tags.add("changes")
    if "<Map>" in outgoing:
        tags.add("map")
    if "<Sync>" in incoming:
        tags.add("server")
        if "<Replace>" in incoming:
            tags.add("replace")
        if "<Delete>" in incoming:
            tags.add("delete")
    if last:
        tags.add("last")
    return tags


def texts(messages, direction):
    """The XML of the messages the proxy saw in one run, "outgoing" (the
    client's) or "incoming" (the host's replies; none for a message the
    host never answered)."""
    attr = "request_body" if direction == "outgoing" else "reply_body"
    return [getattr(m, attr).decode("utf-8", "replace") for m in messages]


def sync_alerts(messages, direction):
    """Sync alert codes (200-205, 225) sent in one direction."""
    return [c for t in texts(messages, direction) for c in alerts(t) if 200 <= c <= 205 or c == 225]


def alert_statuses(messages):
    """The codes of the host's Status elements answering an Alert."""
    codes = []
    for text in texts(messages, "incoming"):
        for status in re.findall(r"<Status>(.*?)</Status>", text, re.S):
            if re.search(r"<Cmd>\s*Alert\s*</Cmd>", status):
                m = re.search(r"<Data>\s*(\d+)\s*</Data>", status)
                if m:
                    codes.append(m.group(1))
    return codes


def alert_summary(messages):
    """e.g. 'sent 225, status 509, server alert 200': what the client
    alerted, the host's status for it, what the host alerted back."""
    sent = sync_alerts(messages, "outgoing")
    got = sync_alerts(messages, "incoming")
    return "sent %s, status %s, server alert %s" % (
        "/".join(map(str, sent)) or "-", "/".join(alert_statuses(messages)) or "-",
        "/".join(map(str, got)) or "-")


def tally(actual, expected):
    """(lost, duplicated, unexpected) of a multiset of identities."""
    lost = sum((expected - actual).values())
    duplicated = sum(max(0, actual[i] - expected[i]) for i in actual if i in expected)
    unexpected = sum(n for i, n in actual.items() if i not in expected)
    return lost, duplicated, unexpected


# -- building the scenarios ---------------------------------------------------


def identity_files(directory):
    """{identity: file name} of a client directory."""
    return {items.identity(KIND, t): name for name, t in items.read_dir(directory).items()}


def change_device(directory, numbers_to_edit, numbers_to_delete, first_new, count_new):
    """Edits and deletes the generated contacts with these numbers (found by
    identity, whatever the client named their files) and adds new ones."""
    base = items.generate(KIND, COUNT, seed=7, first=1)
    files = identity_files(directory)
    names = list(base)
    for n in numbers_to_edit:
        path = os.path.join(directory, files[items.identity(KIND, base[names[n - 1]])])
        with open(path, encoding="utf-8", newline="") as f:
            text = f.read()
        syncevo.write_item(path, items.edited(KIND, text))
    for n in numbers_to_delete:
        os.remove(os.path.join(directory, files[items.identity(KIND, base[names[n - 1]])]))
    new = items.generate(KIND, count_new, seed=7, first=first_new)
    items.write_items(directory, new)


def expected_after(numbers_to_edit, numbers_to_delete, new_firsts):
    base = items.generate(KIND, COUNT, seed=7, first=1)
    names = list(base)
    texts = dict(base)
    for n in numbers_to_edit:
        texts[names[n - 1]] = items.edited(KIND, texts[names[n - 1]])
    for n in numbers_to_delete:
        del texts[names[n - 1]]
    for first, count in new_firsts:
        texts.update(items.generate(KIND, count, seed=7, first=first))
    return items.identities(KIND, texts.values())


def build_scenarios():
    """Syncs the starting states once and saves them (about 30 s)."""
    base_dir = os.path.join(WORK, "setup")
    base = items.generate(KIND, COUNT, seed=7, first=1)

    # upload: an empty server, a new device with 1000 contacts.
    user, password = HOST.new_account()
    up = Scenario("upload", "slow", user, password, "smk-kill-upload", items.identities(KIND, base.values()),
                  LARGE)
    device = os.path.join(base_dir, "upload")
    items.write_items(os.path.join(device, "items"), base)
    HOST.stop()
    up.save(device)
    SCENARIOS["upload"] = up

    # two-way: device a and the server share 1000 contacts; a second device
    # b changes 100 of them and adds 100 through the server; a changes 100
    # others and adds 100 of its own, not synced yet.
    user, password = HOST.new_account()
    a_edit, a_delete, a_new = range(1, 51), range(51, 101), 2001
    b_edit, b_delete, b_new = range(501, 551), range(551, 601), 3001
    tw = Scenario("two-way", "two-way", user, password, "smk-kill-a",
                  expected_after(list(a_edit) + list(b_edit), list(a_delete) + list(b_delete),
                                 [(a_new, 100), (b_new, 100)]), SMALL)
    HOST.launch()
    a = os.path.join(base_dir, "a")
    items.write_items(os.path.join(a, "items"), base)
    setup_sync(tw, a, "smk-kill-a", "slow")
    b = os.path.join(base_dir, "b")
    setup_sync(tw, b, "smk-kill-b", "refresh-from-server")
    change_device(os.path.join(b, "items"), b_edit, b_delete, b_new, 100)
    setup_sync(tw, b, "smk-kill-b", "two-way")
    change_device(os.path.join(a, "items"), a_edit, a_delete, a_new, 100)
    HOST.stop()
    tw.save(a)
    SCENARIOS["two-way"] = tw

    # download: the same server data, a new device c with no items.
    down_expected = expected_after(list(b_edit), list(b_delete), [(b_new, 100)])
    dn = Scenario("download", "refresh-from-server", user, password, "smk-kill-c", down_expected, LARGE)
    c = os.path.join(base_dir, "c")
    os.makedirs(os.path.join(c, "items"))
    dn.save(c)
    SCENARIOS["download"] = dn


def setup_sync(scenario, device, device_id, mode):
    result = syncevo.run_sync(syncevo.SyncRun(
        url=PROXY.url, user=scenario.user, password=scenario.password, remote_db=KIND,
        local_dir=os.path.join(device, "items"), kind=KIND, state_dir=os.path.join(device, "state"),
        curlfix=os.environ["SMK_CURLFIX"], mode=mode, encoding=ENCODING, max_msg_size=LARGE[1],
        device_id=device_id, timeout=SYNC_TIMEOUT, loglevel=LOGLEVEL))
    if not result.ok:
        raise AssertionError("setting up %s: %s sync of %s failed\n%s\n%s" % (
            scenario.name, mode, device_id, result.log_tail(), HOST.log_tail()))


def setUpModule():
    global WORK, HOST, PROXY
    WORK = interop_server.prepare_work_dir()
    binary = os.environ.get("SMK_HTTPD", "")
    if not os.access(binary, os.X_OK):
        raise RuntimeError("set SMK_HTTPD to the syncmlkit-httpd binary (ctest does), got %r" % binary)
    HOST = Host(binary, os.path.join(WORK, "httpd"), args=("--max-msg-size", str(LARGE[0])))
    unittest.addModuleCleanup(print_table)
    unittest.addModuleCleanup(interop_server.stop_server, HOST, WORK)
    HOST.start()
    PROXY = kill_proxy.KillProxy(HOST.kill9, keep_bodies=True)
    unittest.addModuleCleanup(PROXY.close)
    PROXY.host_port = HOST.port
    started = time.monotonic()
    build_scenarios()
    print("\nscenarios set up in %.0f s" % (time.monotonic() - started), file=sys.stderr)


def print_table():
    header = ("point", "msg", "what happened", "1st sync after restart", "server", "client",
              "lost s/c", "dup s/c", "unexp s/c", "s")
    rows = [header] + ROWS
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(header))]
    lines = ["", "kill recovery: %d point(s)%s" % (
        sum(1 for r in ROWS if not r[0].startswith("baseline")),
        " (reduced set, SMK_KILL_POINTS=few)" if FEW else "")]
    for r in rows:
        lines.append("  ".join(str(v).ljust(w) for v, w in zip(r, widths)).rstrip())
    print("\n".join(lines), file=sys.stderr)


# -- the tests ----------------------------------------------------------------


class KillRecovery(unittest.TestCase):
    maxDiff = None

    def check_sides(self, scenario, what):
        """(row cells, problems) of both sides against the expectation."""
        server, client = scenario.server_identities(), scenario.client_identities()
        s, c = tally(server, scenario.expected), tally(client, scenario.expected)
        cells = [sum(server.values()), sum(client.values()), "%d/%d" % (s[0], c[0]),
                 "%d/%d" % (s[1], c[1]), "%d/%d" % (s[2], c[2])]
        problems = {}
        for side, actual in (("server", server), ("client", client)):
            problems[side] = []
            if actual != scenario.expected:
                problems[side].append("%s: %s holds %d items, expected %d" % (
                    what, side, sum(actual.values()), sum(scenario.expected.values())))
                problems[side] += ["  missing:    " + items.describe(i)
                                   for i in list(scenario.expected - actual)[:5]]
                problems[side] += ["  extra:      " + items.describe(i)
                                   for i in list(actual - scenario.expected)[:5]]
        return cells, problems["server"] + problems["client"], problems["client"]

    def baseline(self, scenario):
        """One sync of the scenario without a kill: the expectation holds,
        and the message numbers of each package are learnt."""
        if scenario.messages:
            return
        if scenario.broken:
            self.fail("the baseline of %s failed before: %s" % (scenario.name, scenario.broken))
        scenario.broken = "it did not finish"
        started = time.monotonic()
        HOST.stop()
        scenario.restore()
        HOST.mark("baseline %s" % scenario.name)
        scenario.launch_host()
        PROXY.arm(None)
        result = scenario.run(scenario.mode)
        seen = list(PROXY.messages)
        texts_out, texts_in = texts(seen, "outgoing"), texts(seen, "incoming")
        cells, problems, _ = self.check_sides(scenario, "baseline %s" % scenario.name)
        ROWS.append(["baseline " + scenario.name, len(seen), "no kill",
                     ("ok" if result.ok else "FAILED %d" % result.status) + ": " + alert_summary(seen)]
                    + cells + ["%.0f" % (time.monotonic() - started)])
        HOST.stop()
        self.assertTrue(result.ok, "baseline %s sync failed\n%s\n%s" % (
            scenario.name, result.log_tail(), HOST.log_tail()))
        self.assertFalse(problems, "\n".join(problems))
        self.assertTrue(all(m.reply_size for m in seen), "a message without a reply in the baseline")
        scenario.messages = [
            (m.number, message_tags(texts_out[i], texts_in[i], i == len(seen) - 1), m.elapsed or 0.0)
            for i, m in enumerate(seen)]
        scenario.broken = ""
        print("\nbaseline %s: %d messages: %s" % (scenario.name, len(seen), scenario.layout()), file=sys.stderr)

    def kill_point(self, name, scenario_name, package, which, mode):
        scenario = SCENARIOS[scenario_name]
        self.baseline(scenario)
        number = scenario.message_number(package, which)
        delay = max(0.001, scenario.host_seconds(number) / 2) if mode == "during" else 0.0
        started = time.monotonic()
        HOST.stop()
        scenario.restore()
        HOST.mark("point %s: message %d, %s" % (name, number, mode))
        scenario.launch_host()
        PROXY.arm((number, mode, delay))
        # RetryInterval=0: no resending to a dead host, the client gives up at once.
        broken = scenario.run(scenario.mode, extra=("RetryInterval=0",))
        outcome, killed = PROXY.outcome, PROXY.killed
        HOST.kill9()  # in case the kill point was never reached
        self.assertTrue(killed, "%s: the host was never killed (%d messages, %s)" % (
            name, len(PROXY.messages), outcome))

        scenario.launch_host()
        PROXY.arm(None)
        first = scenario.run("two-way")
        summary = ("ok" if first.ok else "FAILED %d" % first.status) + ": " + alert_summary(PROXY.messages)
        second = None
        if not first.ok:
            # Only so that the table shows the data all the same.
            PROXY.arm(None)
            second = scenario.run("two-way")
            summary += "; 2nd sync %s: %s" % ("ok" if second.ok else "FAILED %d" % second.status,
                                              alert_summary(PROXY.messages))
        cells, problems, client_problems = self.check_sides(scenario, name)
        if name in KNOWN_DEFECTS:
            # The client's side is asserted by the point's known_defect test.
            KNOWN_RESULTS[name] = client_problems
            problems = [p for p in problems if p not in client_problems]
        HOST.stop()
        ROWS.append([name + (" (known defect)" if name in KNOWN_DEFECTS else ""), "%d/%d" % (number, len(scenario.messages)), outcome, summary] + cells +
                    ["%.0f" % (time.monotonic() - started)])
        self.keep_logs(name, broken, first, second)

        failures = []
        if broken.ok:
            failures.append("the interrupted sync succeeded")
        if not first.ok:
            failures.append("the first sync after the restart failed: %s\n%s" % (summary, first.log_tail(30)))
        failures += problems
        failures += HOST.sanitizer_reports()[:20]
        if failures:
            self.fail("%s (message %d of %d, %s):\n%s\n(client logs: %s; server log: %s)" % (
                name, number, len(scenario.messages), outcome, "\n".join(failures),
                os.path.join(WORK, "points", name), HOST.log_path))

    def keep_logs(self, name, *results):
        """The client's session logs of a point, under work/points/<name>/."""
        dest = os.path.join(WORK, "points", name)
        os.makedirs(dest, exist_ok=True)
        for label, result in zip(("interrupted", "after-restart", "after-restart-2"), results):
            if result is not None and result.session_dir and os.path.isdir(result.session_dir):
                shutil.move(result.session_dir, os.path.join(dest, label))


def make_test(point):
    name, scenario, package, which, mode, _ = point

    def test(self):
        self.kill_point(name, scenario, package, which, mode)
    test.__doc__ = "%s: kill %s %s message of package %s" % (scenario, mode, which, package)
    return test


def make_known_defect_test(name):
    """The client's side of a point in KNOWN_DEFECTS, as an expected
    failure (everything else of the point is asserted by its own test)."""
    @unittest.expectedFailure
    def test(self):
        self.assertIn(name, KNOWN_RESULTS, "%s did not get as far as comparing" % name)
        self.assertFalse(KNOWN_RESULTS[name], "%s: known defect: %s\n%s" % (
            name, KNOWN_DEFECTS[name], "\n".join(KNOWN_RESULTS[name])))
    test.__doc__ = "%s: the client's items (known defect)" % name
    return test


for _n, _point in enumerate(POINTS, 1):
    if FEW and not _point[5]:
        continue
    _name = "test_%02d_%s" % (_n, _point[0].replace("-", "_"))
    setattr(KillRecovery, _name, make_test(_point))
    if _point[0] in KNOWN_DEFECTS:
        setattr(KillRecovery, _name + "_known_defect", make_known_defect_test(_point[0]))


if __name__ == "__main__":
    unittest.main(verbosity=2)
