"""End to end, scaled out: Debian's SyncEvolution clients sync through
HAProxy (round-robin, no stickiness) with three syncmlkit-httpd processes
that share one PostgreSQL (`--state URL --store postgresql`), so the
consecutive messages of one session are served by different processes.

    SixModes*        contacts (XML), events (WBXML), tasks (XML): the seven
                     steps of tests/interop/test_calendar_tasks_modes.py, every
                     mode (slow, two-way, refresh-from-server, one-way-from-
                     client, one-way-from-server, refresh-from-client), two
                     devices, items counted and compared after every sync
    TwoClients       two devices of one user change the same database, sync at
                     the same time (two sessions on different processes), then
                     in turn: all three sides hold the same 22 contacts
    KillMidSync      one process killed with SIGKILL while it works on a
                     message of a 300-contact slow sync (upload), and of a
                     refresh-from-server (download); HAProxy routes on to the
                     other two; the next sync succeeds and both sides hold
                     exactly the expected items (0 lost, 0 duplicated)

After every sync (one client at a time) the messages are checked to have
gone round the processes: HAProxy's log names the process of each request
(no two consecutive ones on the same process, none left out), and the
processes' own access logs count the same messages each.

Without the PostgreSQL options in the binary (a build before them), the
harness runs one process on its SQLite default behind HAProxy: the modes and
two-client tests run, and what needs several processes is skipped.

Environment: see scale_cluster.py (ctest sets it, tests/scale/CMakeLists.txt).
"""

import collections
import os
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scale_cluster  # noqa: E402  (puts tests/interop on the path)
import interop_server  # noqa: E402
import items  # noqa: E402
import syncevo  # noqa: E402
import test_calendar_tasks_modes as six  # noqa: E402
from interop_server import Device  # noqa: E402

PROCESSES = 3
CLUSTER = None
WORK = None
# Every sync's messages per process, for the summary at the end.
TALLY = collections.Counter()
SYNCS = []   # (test, mode, messages, {process: messages})


def setUpModule():
    global CLUSTER, WORK
    WORK = scale_cluster.prepare_work_dir()
    CLUSTER = scale_cluster.Cluster(WORK, processes=PROCESSES)
    # Registered before the start: whatever did start is stopped, even when
    # a later part fails to.
    unittest.addModuleCleanup(stop_cluster)
    CLUSTER.start()
    print("\nscale: PostgreSQL from %s, %s; %d process(es)%s behind HAProxy %s" % (
        CLUSTER.pg.how, CLUSTER.pg.url, len(CLUSTER.processes),
        " with --state/--store postgresql" if CLUSTER.postgres_mode else " on SQLite (no --state option yet)",
        CLUSTER.url), file=sys.stderr)


def stop_cluster():
    try:
        print("\nscale: %d syncs, %d messages; per process: %s" % (
            len(SYNCS), sum(TALLY.values()), ", ".join("%s %d" % kv for kv in sorted(TALLY.items()))),
            file=sys.stderr)
    finally:
        CLUSTER.stop()


def needs_postgres(test):
    if not CLUSTER.postgres_mode:
        test.skipTest("syncmlkit-httpd has no --state/--store postgresql yet: one process on SQLite")


class Balanced(interop_server.SyncChecks):
    """SyncChecks through the cluster: every sync's messages are checked to
    have gone round the live processes (unless `rotate=False`: when
    another client syncs at the same time)."""

    def setUp(self):
        self.server = CLUSTER
        self.user, self.password = CLUSTER.new_account()
        self.workdir = os.path.join(WORK, "%s-%s" % (type(self).__name__, self._testMethodName))

    def sync(self, device, mode, rotate=True, expect_ok=True, **kwargs):
        """One sync (SyncChecks.sync); expect_ok=None accepts either outcome."""
        offset = CLUSTER.haproxy.log_size()
        served_before = {p.name: len(p.posts()) for p in CLUSTER.processes}
        if expect_ok is None:
            result = self.run_client(device, mode, **kwargs)
        else:
            result = super().sync(device, mode, expect_ok=expect_ok, **kwargs)
        requests = CLUSTER.haproxy.requests_since(offset)
        by_process = collections.Counter(r[0] for r in requests)
        SYNCS.append((self.id(), mode, len(requests), dict(by_process)))
        TALLY.update(by_process)
        if rotate and result.ok:
            self.assertRotated(requests, served_before, "%s sync of %s" % (mode, device.name))
        result.requests = requests
        return result

    def run_client(self, device, mode, **run_args):
        """One sync of `device`, whatever its outcome."""
        return syncevo.run_sync(syncevo.SyncRun(
            url=CLUSTER.url, user=self.user, password=self.password, remote_db=device.kind, local_dir=device.dir,
            kind=device.kind, state_dir=device.state, curlfix=os.environ["SMK_CURLFIX"], mode=mode,
            encoding=self.encoding, device_id=device.device_id,
            timeout=run_args.pop("timeout", interop_server.SYNC_TIMEOUT), **run_args))

    def assertRotated(self, requests, served_before, what):
        live = [p.name for p in CLUSTER.processes if p.alive]
        self.assertGreaterEqual(len(requests), 2, "%s: HAProxy logged %d messages" % (what, len(requests)))
        bad = [r for r in requests if r[1] != 200]
        self.assertEqual(bad, [], "%s: messages not answered 200 through HAProxy" % what)
        if len(live) > 1:
            problems = scale_cluster.round_robin_problems(requests, live)
            self.assertEqual(problems, [], "%s: the messages did not go round the processes %s: %s" % (
                what, live, [r[0] for r in requests]))
            # Each session of more than one message was served by more than
            # one process (its first message has no token, the others carry it).
            for session in scale_cluster.sessions_of(requests):
                self.assertTrue(len(session) < 2 or len(set(r[0] for r in session)) >= 2,
                                "%s: a session's %d messages all went to %s" % (what, len(session), session[0][0]))
        # The processes' own access logs count the same messages.
        served = {p.name: len(p.posts()) - served_before[p.name] for p in CLUSTER.processes}
        logged = collections.Counter(r[0] for r in requests)
        self.assertEqual({n: c for n, c in served.items() if c}, dict(logged),
                         "%s: messages per process, the processes' access logs vs HAProxy's log" % what)

    def assertExact(self, actual, expected, what):
        """Counts lost and duplicated items (as identities) and fails on any."""
        lost = expected - actual
        extra = actual - expected
        duplicated = sum(n for ident, n in extra.items() if ident in expected)
        unexpected = sum(n for ident, n in extra.items() if ident not in expected)
        counts = "%s: %d items, expected %d: %d lost, %d duplicated, %d unexpected" % (
            what, sum(actual.values()), sum(expected.values()), sum(lost.values()), duplicated, unexpected)
        print("scale: " + counts, file=sys.stderr)
        if lost or extra:
            self.assertIdentities(actual, expected, counts)

    def assertPaired(self, device, count):
        """The server's mappings of `device` (PostgreSQL): every one of the
        `count` items mapped once, no mapping left over."""
        counts = CLUSTER.mapping_counts(self.user, device.kind, device.device_id)
        if counts is None:
            return
        print("scale: server-side pairing of device %s: %s" % (device.name, counts), file=sys.stderr)
        self.assertEqual(counts, {"items": count, "mapped": count, "unmapped": 0, "dangling": 0, "luid twice": 0},
                         "the server's mappings of device %s" % device.name)


# -- every mode, three categories ---------------------------------------------


class SixModesBalanced(Balanced, six.SixModes):
    """tests/interop/test_calendar_tasks_modes.py's seven steps, through the cluster."""

    def setUp(self):
        Balanced.setUp(self)


class SixModesContactsXml(SixModesBalanced, unittest.TestCase):
    kind, encoding = "contacts", "xml"


class SixModesCalendarWbxml(SixModesBalanced, unittest.TestCase):
    kind, encoding = "calendar", "wbxml"


class SixModesTasksXml(SixModesBalanced, unittest.TestCase):
    kind, encoding = "tasks", "xml"


# -- two clients of one user --------------------------------------------------


class TwoClients(Balanced, unittest.TestCase):
    kind, encoding = "contacts", "wbxml"

    def file_like(self, device, other, name):
        """The file of `device` holding the item that is `name` on `other`."""
        with open(os.path.join(other.dir, name), encoding="utf-8", newline="") as f:
            wanted = items.identity(self.kind, f.read())
        found = [n for n, t in device.texts().items() if items.identity(self.kind, t) == wanted]
        self.assertEqual(len(found), 1, "device %s's copy of %s" % (device.name, name))
        return found[0]

    def test_two_devices_converge(self):
        a = Device(self, "a")
        a.add(20, first=1)
        self.sync_mode(a, "slow", 201)
        b = Device(self, "b")
        self.sync_mode(b, "refresh-from-server", 205)
        self.assertExact(b.identities(), a.identities(), "device b after its refresh-from-server")

        original = a.identities()
        # Each changes other items: two adds, an edit, a delete (b's files
        # have the client's names: found by the identity of a's).
        a.add(2, first=101)
        a.edit(a.item_name(2))
        a.delete(a.item_name(3))
        b.add(2, first=201)
        b.edit(self.file_like(b, a, a.item_name(4)))
        b.delete(self.file_like(b, a, a.item_name(5)))
        # What every side must hold in the end: both sets of changes.
        expected = a.identities() + b.identities() - original
        self.assertEqual(sum(expected.values()), 22)

        # Both at once: two sessions of one database, on different processes.
        results = {}

        def run(device):
            results[device.name] = self.sync(device, "two-way", rotate=False)

        threads = [threading.Thread(target=run, args=(d,)) for d in (a, b)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(sorted(results), ["a", "b"], "a concurrent sync raised (see above)")

        # Then in turn: each gets what the other sent.
        self.sync_mode(a, "two-way", 200)
        self.sync_mode(b, "two-way", 200)
        self.assertExact(self.server_identities(), expected, "server after both synced")
        self.assertExact(a.identities(), expected, "device a after both synced")
        self.assertExact(b.identities(), expected, "device b after both synced")
        # Nothing left to exchange.
        for d in (a, b):
            result = self.sync_mode(d, "two-way", 200)
            self.assertReceived(result, "a further sync of %s" % d.name)
            self.assertPaired(d, 22)
        self.assertExact(self.server_identities(), expected, "server at the end")


# -- a process killed in the middle of a sync ---------------------------------


def resent_messages(result):
    """How often the client resent a message that got no answer (its session log)."""
    path = os.path.join(result.session_dir, "syncevolution-log.html") if result.session_dir else ""
    if not path or not os.path.exists(path):
        return 0
    with open(path, encoding="utf-8", errors="replace") as f:
        return f.read().count("resend previous message")


def mtime(directory, name):
    try:
        return os.stat(os.path.join(directory, name)).st_mtime_ns
    except FileNotFoundError:
        return 0


class Killer(threading.Thread):
    """Watches the processes' message logs (--log-dir: a request's file is
    written before the engine works on it); when the cluster has received
    the `at`-th message since the start, kills the process that got it with
    SIGKILL."""

    def __init__(self, at):
        super().__init__(daemon=True)
        self.at = at
        self.before = {p.name: set(p.request_files()) for p in CLUSTER.processes}
        self.victim = None
        self.answered = None     # whether the victim had replied to the message already
        self.stopping = threading.Event()
        self.seen = 0

    def run(self):
        deadline = time.monotonic() + 120
        while not self.stopping.is_set() and time.monotonic() < deadline:
            new = {}
            for p in CLUSTER.processes:
                if p.alive:
                    new[p.name] = set(p.request_files()) - self.before[p.name]
            self.seen = sum(len(s) for s in new.values())
            if self.seen >= self.at:
                # The process with the newest request file got the at-th message.
                name, newest = max(((n, f) for n, fs in new.items() for f in fs),
                                   key=lambda nf: mtime(CLUSTER.process(nf[0]).message_dir, nf[1]))
                victim = CLUSTER.process(name)
                victim.kill9()
                self.victim = victim
                reply = newest[:-len("-in.xml")] + "-out.xml"
                self.answered = os.path.exists(os.path.join(victim.message_dir, reply))
                return
            time.sleep(0.003)

    def stop(self):
        self.stopping.set()
        self.join()


class KillMidSync(Balanced, unittest.TestCase):
    kind, encoding = "contacts", "xml"
    COUNT = 300
    # 16 kB messages: the 300 contacts take about eight client messages up
    # and as many server messages down.
    MSG_SIZE = 16384
    # The client resends a message that got no answer after 2 s (HAProxy
    # answers 502 for the killed process), for up to a minute.
    RETRY = ("RetryInterval=2", "RetryDuration=60")

    def setUp(self):
        needs_postgres(self)
        super().setUp()

    def tearDown(self):
        # The killed process comes back for the tests after this one.
        for p in CLUSTER.processes:
            if not p.alive:
                p.launch()
                CLUSTER.wait_marked(p.name, "UP")

    def interrupted(self, device, mode, at):
        """Runs one sync and kills a process at its `at`-th client message;
        the sync itself may fail or succeed (the client resends the message
        that found the killed process, and another process goes on)."""
        killer = Killer(at)
        killer.start()
        try:
            result = self.sync(device, mode, rotate=False, expect_ok=None, max_msg_size=self.MSG_SIZE,
                               extra=self.RETRY)
        finally:
            killer.stop()
        self.assertIsNotNone(killer.victim, "no process was killed: the sync had %d messages" % killer.seen)
        statuses = collections.Counter("%s %d" % (r[0], r[1]) for r in result.requests)
        resends = resent_messages(result)
        print("scale: %s killed at message %d of a %s sync (%s), which %s after %d resend(s); HAProxy logged %s" % (
            killer.victim.name, at, mode, "after its reply" if killer.answered else "while it worked on it",
            "succeeded" if result.ok else "failed (status %d)" % result.status, resends, dict(statuses)),
            file=sys.stderr)
        if result.ok and not killer.answered:
            # The message died with the process: the client got its answer
            # only by sending it again, to another process.
            self.assertGreaterEqual(resends, 1, "the sync succeeded without resending the lost message")
        # HAProxy stops sending to the dead process.
        self.assertTrue(CLUSTER.wait_marked(killer.victim.name, "DOWN"),
                        "HAProxy did not mark %s down" % killer.victim.name)
        return result, killer.victim

    def test_kill_during_upload_and_download(self):
        # Upload: a slow sync of 300 contacts, a process killed at the
        # client's 4th message (in the middle of its items).
        a = Device(self, "a")
        a.add(self.COUNT, first=1)
        expected = a.identities()
        self.interrupted(a, "slow", at=4)
        # The next sync goes to the other two processes only, and is exact.
        result = self.sync(a, "two-way", max_msg_size=self.MSG_SIZE)
        self.assertExact(self.server_identities(), expected, "server after the sync after the kill (upload)")
        self.assertExact(a.identities(), expected, "client a after the sync after the kill (upload)")
        dead = [p.name for p in CLUSTER.processes if not p.alive]
        self.assertFalse(set(r[0] for r in result.requests) & set(dead), "a message went to the dead process")

        # Download: the killed process back, a new device's refresh-from-server
        # of the 300, a process killed at the client's 3rd message.
        for p in CLUSTER.processes:
            if not p.alive:
                p.launch()
                self.assertTrue(CLUSTER.wait_marked(p.name, "UP"), "HAProxy did not mark %s up again" % p.name)
        b = Device(self, "b")
        self.interrupted(b, "refresh-from-server", at=3)
        self.sync(b, "two-way", max_msg_size=self.MSG_SIZE)
        self.assertExact(b.identities(), expected, "client b after the sync after the kill (download)")
        self.assertExact(self.server_identities(), expected, "server after the sync after the kill (download)")

        # Everything back: a further sync of each exchanges nothing, round all three.
        for p in CLUSTER.processes:
            if not p.alive:
                p.launch()
                self.assertTrue(CLUSTER.wait_marked(p.name, "UP"), "HAProxy did not mark %s up again" % p.name)
        for d in (a, b):
            result = self.sync_mode(d, "two-way", 200, max_msg_size=self.MSG_SIZE)
            self.assertReceived(result, "a further sync of %s" % d.name)
            self.assertExact(d.identities(), expected, "client %s at the end" % d.name)
            self.assertPaired(d, self.COUNT)
        self.assertExact(self.server_identities(), expected, "server at the end")


if __name__ == "__main__":
    unittest.main(verbosity=2)
