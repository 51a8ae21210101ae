#!/usr/bin/python3
"""Side-by-side benchmark: the same SyncEvolution client against syncmlkit-httpd
and against SyncEvolution's own SyncML server, both on 127.0.0.1.

    bench/side_by_side.py --httpd build-bench/examples/httpd/syncmlkit-httpd \\
        --curlfix build-bench/tools/libsmk_curlfix.so [--counts 1000,10000] \\
        [--repeat 3] [--encodings wbxml,xml] [--servers syncmlkit,syncevolution] [--json]

For each item count, each repetition and each server (the servers take turns,
so both see the same noise of a shared machine), on a fresh server:
  1. slow sync: a client with N generated contacts uploads them (Alert 201);
  2. two-way, no change: the same client syncs again (Alert 200), per session;
  3. refresh from server: a second client with an empty directory downloads
     the N contacts (Alert 205).
Each phase is checked item by item: the server holds N distinct contacts
after the upload, the second client receives N distinct contacts, nothing is
duplicated or lost; a failed check is an error (exit status 1).

Measured per server and phase (medians over the repetitions):
  server CPU  user plus system CPU seconds of ALL the server's processes: each
              server runs in a cgroup of its own (cpuacct in cgroup v1, cpu.stat
              in v2), which also counts processes that exit during the phase
              (SyncEvolution forks a syncevo-dbus-helper per session). Without
              a writable cgroup, /proc accounting of the process tree is used
              (utime+stime+cutime+cstime, 10 ms ticks; the output says which).
  peak RSS    the sum over the server's processes of each one's peak (VmHWM),
              sampled every 20 ms; a process's peak is its own since it started,
              so a later phase never shows less than an earlier one.
  wall        the client's sync process, start to exit (includes the file
              backend's one-second waits, the same for both servers).
SyncEvolution's server is dbus-daemon (a private session bus) +
syncevo-dbus-server (+ the syncevo-dbus-helper it forks per session) + the
Python/Twisted front end syncevo-http-server; SyncMLKit's is one process.
Ratios are SyncEvolution / SyncMLKit. Loopback only, free ports; everything
started is stopped (SIGTERM, then SIGKILL for what is left in its cgroup).

--json prints to stdout only a JSON array of rows (see docs/PERFORMANCE.md);
progress goes to stderr.
"""

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "interop"))
import items  # noqa: E402
import syncevo  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")
USER, PASSWORD = "bench", "bench"
DEVICE_UP, DEVICE_DOWN = "bench-upload", "bench-download"
PHASES = [  # (key, row name, client mode)
    ("upload", "slow-sync upload", "slow"),
    ("two-way", "two-way, no change", "two-way"),
    ("download", "download (refresh from server)", "refresh-from-server"),
]
SERVER_NAMES = {"syncmlkit": "SyncMLKit", "syncevolution": "SyncEvolution"}
SYNCEVO_DBUS_SERVER = "/usr/libexec/syncevo-dbus-server"
SYNCEVO_HTTP_SERVER = "/usr/bin/syncevo-http-server"
SYNC_TIMEOUT = 1800.0


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(what, check, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise RuntimeError("%s: not ready after %d s" % (what, seconds))


def port_open(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
        return True
    except OSError:
        return False


# --- CPU and memory of a group of processes -------------------------------

class ProcessGroup:
    """The processes of one server: a cgroup when one can be made (every
    process started through preexec() joins it before it execs, so its
    children are in it too), else the process trees of the started PIDs.

    cpu_seconds() is user+system CPU of everything that ever ran in it."""

    def __init__(self, name):
        self.path = None
        self.kind = "proc"
        self.roots = []
        self.exited_ticks = 0
        name = "smk-bench-%d-%s" % (os.getpid(), name)
        candidates = [("cgroup v1 cpuacct", "/sys/fs/cgroup/cpuacct", "cpuacct.usage")]
        if os.path.exists("/sys/fs/cgroup/cgroup.controllers"):
            candidates.append(("cgroup v2", "/sys/fs/cgroup", "cpu.stat"))
        elif os.path.exists("/sys/fs/cgroup/unified/cgroup.controllers"):
            candidates.append(("cgroup v2", "/sys/fs/cgroup/unified", "cpu.stat"))
        for kind, base, counter in candidates:
            path = os.path.join(base, name)
            try:
                os.mkdir(path)
            except OSError:
                continue
            if os.path.exists(os.path.join(path, counter)):
                self.path, self.kind, self.counter = path, kind, counter
                break
            os.rmdir(path)

    def preexec(self):
        """For Popen(preexec_fn=...): the child joins the cgroup, and a
        session of its own (so no terminal signal reaches it)."""
        os.setsid()
        if self.path:
            with open(os.path.join(self.path, "cgroup.procs"), "w") as f:
                f.write(str(os.getpid()))

    def started(self, pid):
        self.roots.append(pid)

    def pids(self):
        if self.path:
            try:
                with open(os.path.join(self.path, "cgroup.procs")) as f:
                    return [int(p) for p in f.read().split()]
            except OSError:
                return []
        return process_tree(self.roots)

    def cpu_seconds(self):
        if self.path:
            with open(os.path.join(self.path, self.counter)) as f:
                text = f.read()
            if self.counter == "cpuacct.usage":
                return int(text) / 1e9
            for line in text.splitlines():
                key, _, value = line.partition(" ")
                if key == "usage_usec":
                    return int(value) / 1e6
            raise RuntimeError("no usage_usec in %s" % self.path)
        total = 0
        for pid in self.pids():
            fields = proc_stat(pid)
            if fields:
                total += sum(int(fields[i]) for i in (11, 12, 13, 14))  # utime stime cutime cstime
        return total / TICKS

    def remove(self):
        if not self.path:
            return
        for _ in range(50):
            try:
                os.rmdir(self.path)
                return
            except OSError:
                time.sleep(0.1)
        log("side_by_side: could not remove %s" % self.path)


def proc_stat(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def process_tree(roots):
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = proc_stat(int(entry))
            if fields:
                children.setdefault(int(fields[1]), []).append(int(entry))
    seen, todo = [], list(roots)
    while todo:
        pid = todo.pop()
        if pid not in seen and os.path.exists("/proc/%d" % pid):
            seen.append(pid)
            todo += children.get(pid, [])
    return seen


def vm_hwm_kb(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class RssSampler(threading.Thread):
    """Samples VmHWM of every process of a group every 20 ms. peak_mb() is
    the sum over the processes seen since the last reset() of each one's
    peak; max_mb() the largest single one."""

    def __init__(self, group):
        super().__init__(daemon=True)
        self.group = group
        self.stop_event = threading.Event()
        self.lock = threading.Lock()
        self.peaks = {}

    def run(self):
        while not self.stop_event.wait(0.02):
            self.sample()

    def sample(self):
        for pid in self.group.pids():
            kb = vm_hwm_kb(pid)
            with self.lock:
                self.peaks[pid] = max(self.peaks.get(pid, 0), kb)

    def reset(self):
        with self.lock:
            self.peaks = {}
        self.sample()

    def peak_mb(self):
        self.sample()
        with self.lock:
            return sum(self.peaks.values()) / 1024.0, max(self.peaks.values(), default=0) / 1024.0, len(self.peaks)

    def stop(self):
        self.stop_event.set()
        self.join(timeout=5)


def stop_processes(group, procs, grace=10.0):
    """SIGTERM to each started process (in the order given), then SIGKILL to
    anything of the group still running."""
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        left = [p for p in group.pids() if p != os.getpid()]
        if not left:
            break
        for pid in left:
            try:
                os.kill(pid, signal.SIGTERM if time.monotonic() < deadline - grace / 2 else signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.2)
    for proc in procs:
        if proc.returncode is None:
            proc.kill()
            proc.wait()


# --- the two servers ------------------------------------------------------

class SyncMLKitServer:
    name = "syncmlkit"

    def __init__(self, work, httpd):
        self.work, self.httpd = work, httpd
        self.procs = []

    def start(self, group):
        self.port = free_port()
        users = os.path.join(self.work, "users")
        with open(users, "w") as f:
            f.write("%s:%s\n" % (USER, PASSWORD))
        self.data = os.path.join(self.work, "data")
        self.log = open(os.path.join(self.work, "httpd.log"), "wb")
        proc = subprocess.Popen([self.httpd, "--port", str(self.port), "--bind", "127.0.0.1",
                                 "--data", self.data, "--users", users],
                                stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT,
                                preexec_fn=group.preexec)
        self.procs.append(proc)
        group.started(proc.pid)
        wait_until("syncmlkit-httpd", lambda: port_open(self.port) or proc.poll() is not None, 20)
        if proc.poll() is not None:
            raise RuntimeError("syncmlkit-httpd exited with %d (log: %s)" % (proc.returncode, self.log.name))
        self.url = "http://127.0.0.1:%d/sync" % self.port

    def stored_items(self):
        return items.server_item_texts(os.path.join(self.data, USER, "contacts.sqlite"))

    def stop(self, group):
        stop_processes(group, self.procs)
        self.log.close()


class SyncEvolutionServer:
    """dbus-daemon on a private socket, syncevo-dbus-server on it, and the
    HTTP front end (Debian's syncevo-http-server, run by /usr/bin/python3 and
    bound to 127.0.0.1; the packaged one listens on every interface). Each
    client device is a peer config of its own (the server accepts only
    devices it knows); the datastore is the file backend, as the client's."""
    name = "syncevolution"

    def __init__(self, work):
        self.work = work
        self.procs = []
        self.home = os.path.join(work, "home")
        self.bus = "unix:path=" + os.path.join(work, "bus")
        self.data = os.path.join(work, "contacts")
        self.env = {k: v for k, v in os.environ.items()
                    if k not in ("DISPLAY", "SESSION_MANAGER", "LD_PRELOAD", "DBUS_SESSION_BUS_ADDRESS")}
        self.env.update(HOME=self.home, XDG_CONFIG_HOME=os.path.join(self.home, ".config"),
                        XDG_CACHE_HOME=os.path.join(self.home, ".cache"),
                        XDG_DATA_HOME=os.path.join(self.home, ".local", "share"),
                        XDG_RUNTIME_DIR=os.path.join(self.home, "run"),
                        DBUS_SESSION_BUS_ADDRESS=self.bus, LC_ALL="C.UTF-8")

    @staticmethod
    def missing():
        """What is not installed (scripts/install-deps.sh installs it)."""
        gone = [p for p in ("/usr/bin/dbus-daemon", "/usr/bin/dbus-send", SYNCEVO_DBUS_SERVER, SYNCEVO_HTTP_SERVER)
                if not os.path.exists(p)]
        if subprocess.run(["/usr/bin/python3", "-c", "import twisted.web, dbus, gi"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode != 0:
            gone.append("python3-twisted/python3-dbus/python3-gi")
        return gone

    def configure(self, *args):
        out = subprocess.run([syncevo.SYNCEVOLUTION, "--daemon=no", "--configure", "--template", "none"] + list(args),
                             env=self.env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, timeout=120)
        if out.returncode != 0:
            raise RuntimeError("syncevolution --configure failed:\n" + out.stdout.decode("utf-8", "replace"))

    def start(self, group):
        os.makedirs(os.path.join(self.home, "run"), mode=0o700, exist_ok=True)
        os.makedirs(self.data, exist_ok=True)
        # The datastore, shared by the peers of the @default context.
        self.configure("keyring=no", "contacts/backend=file", "contacts/databaseFormat=text/vcard",
                       "contacts/database=file://" + self.data, "@default", "contacts")
        for device in (DEVICE_UP, DEVICE_DOWN):
            self.configure("keyring=no", "PeerIsClient=1", "username=" + USER, "password=" + PASSWORD,
                           "remoteDeviceId=" + device, "sync=two-way",
                           "logdir=" + os.path.join(self.work, "logs"), "maxlogdirs=2",
                           "loglevel=1", "printChanges=0", "dumpData=0",
                           "peer-%s@default" % device, "contacts")
        # The front end, bound to loopback.
        with open(SYNCEVO_HTTP_SERVER, encoding="utf-8") as f:
            front = f.read()
        listen = "reactor.listenTCP(url.port, site)"
        if listen not in front:
            raise RuntimeError("%s: no %r to bind to 127.0.0.1" % (SYNCEVO_HTTP_SERVER, listen))
        front = front.replace(listen, "reactor.listenTCP(url.port, site, interface='127.0.0.1')")
        self.front_end = os.path.join(self.work, "syncevo-http-server.py")
        with open(self.front_end, "w", encoding="utf-8") as f:
            f.write(front)

        def spawn(argv, logname):
            logf = open(os.path.join(self.work, logname), "wb")
            proc = subprocess.Popen(argv, env=self.env, stdin=subprocess.DEVNULL, stdout=logf,
                                    stderr=subprocess.STDOUT, preexec_fn=group.preexec)
            logf.close()
            self.procs.append(proc)
            group.started(proc.pid)
            return proc

        bus_path = self.bus.split("=", 1)[1]
        dbus = spawn(["/usr/bin/dbus-daemon", "--session", "--nofork", "--nopidfile", "--address=" + self.bus],
                     "dbus-daemon.log")
        wait_until("dbus-daemon", lambda: os.path.exists(bus_path) or dbus.poll() is not None, 20)
        engine = spawn([SYNCEVO_DBUS_SERVER, "--duration=unlimited", "--verbosity=1", "--stdout", "--no-syslog"],
                       "syncevo-dbus-server.log")

        def registered():
            if engine.poll() is not None:
                raise RuntimeError("syncevo-dbus-server exited with %d" % engine.returncode)
            out = subprocess.run(["/usr/bin/dbus-send", "--session", "--print-reply", "--dest=org.freedesktop.DBus",
                                  "/org/freedesktop/DBus", "org.freedesktop.DBus.NameHasOwner",
                                  "string:org.syncevolution"], env=self.env, stdout=subprocess.PIPE,
                                 stderr=subprocess.DEVNULL, timeout=10)
            return b"boolean true" in out.stdout
        wait_until("syncevo-dbus-server", registered, 30)
        self.port = free_port()
        self.url = "http://127.0.0.1:%d/sync" % self.port
        front = spawn(["/usr/bin/python3", "-B", self.front_end, self.url], "syncevo-http-server.log")
        wait_until("syncevo-http-server", lambda: port_open(self.port) or front.poll() is not None, 30)
        if front.poll() is not None:
            raise RuntimeError("syncevo-http-server exited with %d (log in %s)" % (front.returncode, self.work))

    def stored_items(self):
        return list(items.read_dir(self.data).values())

    def stop(self, group):
        # The front end first, then the engine (its helper with it), the bus last.
        stop_processes(group, list(reversed(self.procs)))


# --- one run: a fresh server, three phases ---------------------------------

def identities_ok(texts, count, what):
    """Problems with `texts` (item texts) that should be `count` distinct contacts."""
    ids = [items.identity("contacts", t) for t in texts]
    problems = []
    if len(texts) != count:
        problems.append("%s: %d items, expected %d" % (what, len(texts), count))
    dups = len(ids) - len(set(ids))
    if dups:
        problems.append("%s: %d duplicates" % (what, dups))
    return problems


def run_server(server, args, count, encoding, work):
    """The three phases against one fresh server. Returns ({phase: measures}, problems)."""
    group = ProcessGroup(server.name)
    sampler = RssSampler(group)
    results, problems = {}, []
    try:
        server.start(group)
        sampler.start()
        up_dir, down_dir = os.path.join(work, "client-up"), os.path.join(work, "client-down")
        expected = items.generate("contacts", count, seed=42)
        items.write_items(up_dir, expected)
        os.makedirs(down_dir, exist_ok=True)
        common = dict(url=server.url, user=USER, password=PASSWORD, remote_db="contacts", kind="contacts",
                      curlfix=args.curlfix, encoding=encoding, loglevel=1, timeout=SYNC_TIMEOUT)
        for key, _, mode in PHASES:
            downloading = key == "download"
            run = syncevo.SyncRun(local_dir=down_dir if downloading else up_dir,
                                  state_dir=os.path.join(work, "state-down" if downloading else "state-up"),
                                  device_id=DEVICE_DOWN if downloading else DEVICE_UP, mode=mode, **common)
            started = {}
            sampler.reset()
            cpu0 = group.cpu_seconds()
            result = syncevo.run_sync(run, on_start=lambda p: started.setdefault("t", time.monotonic()))
            end = time.monotonic()
            time.sleep(0.1)  # a helper's last exit, and the accounting of it
            cpu = group.cpu_seconds() - cpu0
            rss_sum, rss_max, nprocs = sampler.peak_mb()
            if not result.ok:
                problems.append("%s %s: the client's sync failed:\n%s" % (server.name, key, result.log_tail(30)))
                break
            results[key] = dict(cpu=cpu, rss=rss_sum, rss_max=rss_max, procs=nprocs,
                                wall=end - started.get("t", end))
            if key == "upload":
                problems += identities_ok(server.stored_items(), count, "%s store after the upload" % server.name)
            elif key == "two-way":
                problems += identities_ok(server.stored_items(), count, "%s store after two-way" % server.name)
                problems += identities_ok(list(items.read_dir(up_dir).values()), count,
                                          "uploading client after two-way")
            else:
                problems += identities_ok(list(items.read_dir(down_dir).values()), count,
                                          "downloading client (%s)" % server.name)
                got = {items.identity("contacts", t) for t in items.read_dir(down_dir).values()}
                lost = len({items.identity("contacts", t) for t in expected.values()} - got)
                if lost:
                    problems.append("downloading client (%s): %d contacts lost" % (server.name, lost))
    except (RuntimeError, OSError, subprocess.SubprocessError) as e:
        problems.append("%s: %s" % (server.name, e))
    finally:
        sampler.stop()
        try:
            server.stop(group)
        finally:
            group.remove()
    return results, problems, group.kind


# --- figures and rows -----------------------------------------------------

def row(metric, value, unit, better, target=None, note=""):
    return {"bench": "side_by_side", "metric": metric, "value": round(value, 3), "unit": unit,
            "target": target, "better": better, "note": note}


def median(values):
    return statistics.median(values) if values else None


def summarize(runs, counts, encodings, servers, repeat):
    """runs[(server, count, encoding)] = [ {phase: measures}, ... ] -> (rows, text lines)."""
    rows, lines = [], []
    for count in counts:
        for encoding in encodings:
            enc = encoding.upper()
            present = [s for s in servers if runs.get((s, count, encoding))]
            if not present:
                continue
            lines.append("")
            lines.append("%d contacts, %s, medians of %d run(s)" % (count, enc, repeat))
            lines.append("%-32s %-14s %10s %12s %10s %8s" % ("phase", "server", "CPU s", "CPU/item us", "RSS MB", "wall s"))
            for key, label, _ in PHASES:
                med = {}
                for s in present:
                    per = [r[key] for r in runs[(s, count, encoding)] if key in r]
                    if not per:
                        continue
                    m = {k: median([p[k] for p in per]) for k in ("cpu", "rss", "wall")}
                    med[s] = m
                    name = SERVER_NAMES[s]
                    per_item = m["cpu"] / count * 1e6
                    lines.append("%-32s %-14s %10.3f %12s %10.1f %8.2f" % (
                        label, name, m["cpu"], "-" if key == "two-way" else "%.1f" % per_item, m["rss"], m["wall"]))
                    note = "%d contacts, SyncEvolution client, loopback, median of %d" % (count, len(per))
                    what = "%s, %s, %d items" % (label, enc, count)
                    rows.append(row("%s server CPU, %s" % (name, what), m["cpu"], "s", "lower", note=note))
                    rows.append(row("%s peak RSS, %s" % (name, what), m["rss"], "MB", "lower",
                                    note="sum of VmHWM over the server's processes; " + note))
                    rows.append(row("%s wall, %s" % (name, what), m["wall"], "s", "lower", note=note))
                    if s == "syncmlkit" and key != "two-way":
                        rows.append(row("SyncMLKit server CPU per item, %s, %s, %d items" % (label, enc, count),
                                        per_item, "µs", "lower", target=10, note=note))
                if "syncmlkit" in med and "syncevolution" in med:
                    a, b = med["syncmlkit"], med["syncevolution"]
                    ratios = {k: (b[k] / a[k] if a[k] else float("inf")) for k in ("cpu", "rss", "wall")}
                    lines.append("%-32s %-14s %9.1fx %12s %9.1fx %7.1fx" % (
                        "", "ratio SE/SMK", ratios["cpu"], "", ratios["rss"], ratios["wall"]))
                    for k, title in (("cpu", "server CPU"), ("rss", "peak RSS"), ("wall", "wall")):
                        rows.append(row("SyncEvolution/SyncMLKit ratio of %s, %s, %s, %d items" % (title, label, enc, count),
                                        ratios[k], "x", "higher",
                                        note="SyncEvolution's figure divided by SyncMLKit's"))
    return rows, lines


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="\n".join(__doc__.splitlines()[1:]))
    ap.add_argument("--httpd", required=True, help="syncmlkit-httpd (a Release build for figures)")
    ap.add_argument("--curlfix", required=True, help="libsmk_curlfix.so, the client's LD_PRELOAD shim")
    ap.add_argument("--counts", default="1000,10000", help="item counts, comma-separated (default 1000,10000)")
    ap.add_argument("--repeat", type=int, default=3, help="runs per server and count; medians reported (default 3)")
    ap.add_argument("--encodings", default="wbxml",
                    help="wbxml, xml or both, comma-separated (default wbxml); see --reference-xml")
    ap.add_argument("--xml", action="store_true", help="also run SyncMLKit over XML (same as --encodings wbxml,xml)")
    ap.add_argument("--reference-xml", action="store_true",
                    help="run SyncEvolution's server over XML too (by default only SyncMLKit's XML rows are made)")
    ap.add_argument("--servers", default="syncmlkit,syncevolution",
                    help="which servers, comma-separated (default both)")
    ap.add_argument("--json", action="store_true", help="print only a JSON array of rows to stdout")
    ap.add_argument("--keep", action="store_true", help="keep the work directory (logs, data)")
    args = ap.parse_args(argv)

    counts = [int(c) for c in args.counts.split(",") if c]
    encodings = [e for e in args.encodings.split(",") if e]
    if args.xml and "xml" not in encodings:
        encodings.append("xml")
    servers = [s for s in args.servers.split(",") if s]
    for s in servers:
        if s not in SERVER_NAMES:
            ap.error("unknown server %r (syncmlkit, syncevolution)" % s)
    for e in encodings:
        if e not in ("wbxml", "xml"):
            ap.error("unknown encoding %r (wbxml, xml)" % e)
    if args.repeat < 1 or not counts or min(counts) < 1:
        ap.error("--repeat and --counts must be positive")
    for path in (args.httpd, args.curlfix):
        if not os.path.exists(path):
            ap.error("%s not found: build it first (scripts/bench.sh does)" % path)
    problems = []
    if "syncevolution" in servers:
        gone = SyncEvolutionServer.missing()
        if gone:
            problems.append("SyncEvolution's server is not installed (%s): run scripts/install-deps.sh" % ", ".join(gone))
            servers.remove("syncevolution")

    work = tempfile.mkdtemp(prefix="smk-side-by-side-")
    runs, accounting = {}, set()
    try:
        for count in counts:
            for rep in range(args.repeat):
                for encoding in encodings:
                    # The servers take turns; the first one alternates too.
                    order = servers if rep % 2 == 0 else list(reversed(servers))
                    for s in order:
                        if s == "syncevolution" and encoding == "xml" and not args.reference_xml:
                            continue
                        run_dir = os.path.join(work, "%s-%d-%s-%d" % (s, count, encoding, rep))
                        os.makedirs(run_dir)
                        server = SyncMLKitServer(run_dir, args.httpd) if s == "syncmlkit" else SyncEvolutionServer(run_dir)
                        log("side_by_side: %s, %d contacts, %s, run %d of %d" % (
                            SERVER_NAMES[s], count, encoding.upper(), rep + 1, args.repeat))
                        t0 = time.monotonic()
                        results, errs, kind = run_server(server, args, count, encoding, run_dir)
                        accounting.add(kind)
                        problems += errs
                        if results:
                            runs.setdefault((s, count, encoding), []).append(results)
                        log("  %s in %.1f s" % (", ".join("%s %.3f s CPU" % (k, v["cpu"]) for k, v in results.items())
                                                or "nothing measured", time.monotonic() - t0))
                        if not args.keep and not errs:
                            shutil.rmtree(run_dir, ignore_errors=True)
    finally:
        if not args.keep and not problems:
            shutil.rmtree(work, ignore_errors=True)

    rows, lines = summarize(runs, counts, encodings, [s for s in SERVER_NAMES if s in servers], args.repeat)
    for p in problems:
        log("side_by_side: ERROR: " + p)
    if os.path.isdir(work):
        log("side_by_side: logs and data kept in %s" % work)
    rows.append(row("errors", len(problems), "count", "lower", target=0,
                    note="failed syncs and item checks (duplicates, losses) over all runs"))
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=1))
    else:
        print("Side by side: Debian's SyncEvolution client against each server on 127.0.0.1")
        print("server CPU = user+system of all the server's processes (%s); RSS = sum of their VmHWM"
              % ", ".join(sorted(accounting)))
        for line in lines:
            print(line)
        print("\nerrors: %d" % len(problems))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
