#!/usr/bin/python3
"""Scale-out benchmark: bench/loadgen against one syncmlkit-httpd on its
SQLite default and against several processes sharing one PostgreSQL behind
HAProxy (round-robin, no stickiness), on 127.0.0.1.

    bench/scale_out.py --httpd build-bench/examples/httpd/syncmlkit-httpd \\
        [--configs sqlite-1,pg-1,pg-3] [-U 100 -D 2 -M 20 -S 2 -K 6 --think 200] \\
        [--quick] [--json] [--host-arg ARG ...] [--synchronous-commit off]

Configurations (each on a fresh data directory and a fresh PostgreSQL database):
  sqlite-1   one process, SQLite files under --data (the default), loadgen
             straight to it
  pg-1       one process, --state URL --store postgresql, loadgen straight to it
  pg-N       N processes on that PostgreSQL, HAProxy in front (mode http,
             balance roundrobin, no stickiness), loadgen to HAProxy
  sqlite-1-lb  one SQLite process behind HAProxy (the balancer's own cost)

loadgen's rows per configuration: sessions/s, messages/s, p50 and p99
latency per message (as the client sees it, HAProxy included), errors
(refused or reset connections, HTTP statuses but 200, SyncML statuses of
300 and above, late replies, devices that do not end with exactly their
user's contacts). Besides, this script measures the CPU per message of the
whole set-up: user plus system CPU of the syncmlkit-httpd processes, of
PostgreSQL (the postmaster and its backends, from /proc, children that
exited included) and of HAProxy, divided by the messages the processes'
access logs count.

PostgreSQL is one server for the run, started like tests/support/pg_cluster.py
does (initdb as `nobody` when root, 127.0.0.1 only, a free port) but with
durability on: fsync=on, full_page_writes=on, and synchronous_commit as
--synchronous-commit says (default off, which loses no consistency on a
crash, only the last commits, as SQLite's WAL with synchronous=NORMAL does;
"on" waits for the WAL flush at every commit).

--quick: small counts (a few seconds a configuration), proof that it runs,
no figures to quote. --json prints only a JSON array of rows (run_all.py);
otherwise a Markdown table. Without --state in the binary (a build before
the PostgreSQL backend), the pg configurations are skipped with a note row.
Exit status 1 when any configuration counted an error.
"""

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "scale"))
sys.path.insert(0, os.path.join(ROOT, "tests", "support"))
import pg_cluster  # noqa: E402
import scale_cluster  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")
PREFIX = "load"  # loadgen's --users-prefix: users load0, load1, ... with password pw-load0, ...


def log(*args):
    print("scale_out:", *args, file=sys.stderr, flush=True)


# -- CPU accounting from /proc --------------------------------------------------


def proc_cpu(pid):
    """(own, exited children) CPU seconds of one process, or (0, 0) when gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0, 0.0
    # After the command: state(0) ppid(1) ... utime(11) stime(12) cutime(13) cstime(14)
    return (int(fields[11]) + int(fields[12])) / TICKS, (int(fields[13]) + int(fields[14])) / TICKS


def children(pid):
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open("/proc/%s/stat" % entry) as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        found.append(int(entry))
            except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
                pass
    return found


def tree_cpu(pid):
    """CPU seconds of a process and of its children, living (own) and exited (counted by their parent)."""
    own, dead = proc_cpu(pid)
    return own + dead + sum(proc_cpu(c)[0] for c in children(pid))


# -- PostgreSQL with durability on ---------------------------------------------


class Postgres:
    def __init__(self, root, synchronous_commit):
        self.root = root
        self.synchronous_commit = synchronous_commit
        self.url = None
        self.pid = None

    def start(self):
        prefix, uid, gid = pg_cluster.as_owner()
        data = os.path.join(self.root, "data")
        os.makedirs(data, mode=0o700)
        d = self.root
        while d != "/":
            mode = os.stat(d).st_mode
            if os.stat(d).st_uid != uid and not mode & 0o001:
                os.chmod(d, mode | 0o001)
            d = os.path.dirname(d)
        os.chown(self.root, uid, gid)
        os.chown(data, uid, gid)
        logfile = os.path.join(self.root, "server.log")
        subprocess.run(prefix + [pg_cluster.pg_bin("initdb"), "-D", data, "-U", pg_cluster.USER, "-A", "trust",
                                 "-E", "UTF8", "--locale=C"], check=True, stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL)
        for _ in range(5):
            port = pg_cluster.free_port()
            options = ("-c listen_addresses=127.0.0.1 -p %d -c unix_socket_directories='' -c fsync=on "
                       "-c full_page_writes=on -c synchronous_commit=%s -c max_connections=300 "
                       "-c shared_buffers=128MB" % (port, self.synchronous_commit))
            r = subprocess.run(prefix + [pg_cluster.pg_bin("pg_ctl"), "-D", data, "-l", logfile, "-o", options,
                                         "-w", "-t", "60", "start"], stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL)
            if r.returncode == 0:
                break
            time.sleep(0.5)
        else:
            raise RuntimeError("PostgreSQL did not start (%s)" % logfile)
        self.url = "postgresql://%s@127.0.0.1:%d/postgres" % (pg_cluster.USER, port)
        with open(os.path.join(data, "postmaster.pid")) as f:
            self.pid = int(f.readline())
        return self.url

    def database(self, name):
        scale_cluster.Postgres.psql(self.url, "CREATE DATABASE %s" % name)
        return scale_cluster.with_database(self.url, name)

    def stop(self):
        pg_cluster.stop(self.root)


# -- hosts -----------------------------------------------------------------------


class Host:
    """One syncmlkit-httpd without --log-dir (its access log on its stdout)."""

    def __init__(self, binary, workdir, users_path, args):
        self.binary, self.workdir, self.users_path, self.args = binary, workdir, users_path, list(args)
        self.log_path = os.path.join(workdir, "httpd.log")
        self.proc = None
        self.port = None

    def start(self):
        os.makedirs(self.workdir, exist_ok=True)
        for _ in range(3):
            self.port = scale_cluster.free_port()
            with open(self.log_path, "ab") as out:
                self.proc = subprocess.Popen(
                    [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--data",
                     os.path.join(self.workdir, "data"), "--users", self.users_path] + self.args,
                    stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
            if scale_cluster.wait_port(self.port, self.proc):
                return
            self.stop()
        raise RuntimeError("syncmlkit-httpd did not start: see %s" % self.log_path)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def posts(self):
        with open(self.log_path, encoding="utf-8", errors="replace") as f:
            return sum(1 for l in f if re.match(r"^\S+ \S+ POST ", l))

    def errors_logged(self):
        """A few lines of its log that report errors (not the access lines,
        not the MD5 challenge of each device's first message)."""
        with open(self.log_path, encoding="utf-8", errors="replace") as f:
            return [l.rstrip() for l in f if re.search(r"\b(error|failed|510)\b", l, re.I)
                    and not re.match(r"^\S+ \S+ (POST|GET|HEAD) ", l)][:5]


def write_users(path, count):
    with open(path, "w") as f:
        for n in range(count):
            f.write("%s%d:pw-%s%d\n" % (PREFIX, n, PREFIX, n))
    os.chmod(path, 0o600)


# -- one configuration -------------------------------------------------------------


def parse_config(name):
    m = re.match(r"^(sqlite|pg)-(\d+)(-lb)?$", name)
    if not m or int(m.group(2)) < 1 or (m.group(1) == "sqlite" and int(m.group(2)) != 1):
        raise ValueError("unknown configuration %r (sqlite-1, sqlite-1-lb, pg-1, pg-N)" % name)
    processes = int(m.group(2))
    return m.group(1), processes, processes > 1 or bool(m.group(3))


def run_config(name, args, work, pg, load_args):
    kind, processes, balanced = parse_config(name)
    cdir = os.path.join(work, name)
    os.makedirs(cdir)
    users = os.path.join(cdir, "users")
    write_users(users, args.users)
    host_args = list(args.host_arg)
    if kind == "pg":
        url = pg.database("smk_bench_%s" % re.sub(r"\W", "_", name))
        host_args += ["--state", url, "--store", "postgresql"]
    hosts = [Host(args.httpd, os.path.join(cdir, "httpd-%d" % (n + 1)), users, host_args) for n in range(processes)]
    proxy = None
    try:
        for h in hosts:
            h.start()
        port = hosts[0].port
        if balanced:
            proxy = scale_cluster.HAProxy(cdir, [("h%d" % (n + 1), h.port) for n, h in enumerate(hosts)])
            proxy.start()
            port = proxy.port
        cpu_before = {"httpd": sum(tree_cpu(h.proc.pid) for h in hosts),
                      "postgres": tree_cpu(pg.pid) if kind == "pg" else 0.0,
                      "haproxy": tree_cpu(proxy.proc.pid) if proxy else 0.0}
        loadavg = os.getloadavg()[0]
        argv = [args.loadgen, "--json", "--port", str(port), "--users-prefix", PREFIX] + load_args
        if processes == 1:
            argv += ["--host-pid", str(hosts[0].proc.pid)]
        log("%s: %s" % (name, " ".join(argv)))
        t0 = time.monotonic()
        proc = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=args.timeout)
        wall = time.monotonic() - t0
        cpu = {"httpd": sum(tree_cpu(h.proc.pid) for h in hosts) - cpu_before["httpd"],
               "postgres": (tree_cpu(pg.pid) - cpu_before["postgres"]) if kind == "pg" else 0.0,
               "haproxy": (tree_cpu(proxy.proc.pid) - cpu_before["haproxy"]) if proxy else 0.0}
        try:
            rows = json.loads(proc.stdout)
        except ValueError:
            raise RuntimeError("%s: loadgen printed no JSON (exit %d): %s" % (name, proc.returncode,
                                                                            proc.stderr[-2000:]))
        messages = sum(h.posts() for h in hosts)
        per_process = [h.posts() for h in hosts]
        problems = [l for h in hosts for l in h.errors_logged()]
        return {"config": name, "rows": rows, "wall": wall, "cpu": cpu, "messages": messages,
                "per_process": per_process, "status": proc.returncode, "problems": problems,
                "loadavg": loadavg}
    finally:
        if proxy:
            proxy.stop()
        for h in hosts:
            h.stop()


def value(rows, metric):
    for r in rows:
        if r.get("metric") == metric:
            return r.get("value")
    return None


def fmt(v, digits=1):
    if v is None:
        return "—"
    if isinstance(v, float):
        return ("{:,.%df}" % digits).format(v)
    return "{:,}".format(v)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="\n".join(__doc__.splitlines()[1:]))
    ap.add_argument("--httpd", required=True, help="syncmlkit-httpd (a Release build for figures)")
    ap.add_argument("--loadgen", help="bench/loadgen (default: beside the httpd's build, BUILD/bench/loadgen)")
    ap.add_argument("--configs", default="sqlite-1,pg-1,pg-3", help="comma-separated (default sqlite-1,pg-1,pg-3)")
    ap.add_argument("-U", "--users", type=int, default=100)
    ap.add_argument("-D", "--devices", type=int, default=2)
    ap.add_argument("-C", "--clients", type=int, default=0, help="clients at once (default U x D)")
    ap.add_argument("-M", "--items", type=int, default=20)
    ap.add_argument("-S", "--syncs", type=int, default=2)
    ap.add_argument("-K", "--changes", type=int, default=6)
    ap.add_argument("--think", type=int, default=200, help="ms between messages (default 200)")
    ap.add_argument("--ramp", type=int, default=5, help="start the clients over S seconds (default 5)")
    ap.add_argument("--xml", action="store_true")
    ap.add_argument("--host-arg", action="append", default=[], help="one more argument for every host (repeat)")
    ap.add_argument("--synchronous-commit", default="off", choices=["off", "on", "local", "remote_write"])
    ap.add_argument("--quick", action="store_true", help="small counts: proof that it runs, no figures")
    ap.add_argument("--json", action="store_true", help="print only a JSON array of rows")
    ap.add_argument("--timeout", type=int, default=1800, help="seconds for one loadgen run")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    args = ap.parse_args(argv)
    if args.quick:
        args.users, args.devices, args.items, args.syncs, args.changes, args.think, args.ramp = 4, 2, 5, 1, 2, 20, 0
    if not args.loadgen:
        build = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(args.httpd))))
        args.loadgen = os.path.join(build, "bench", "loadgen")
    for path in (args.httpd, args.loadgen):
        if not os.access(path, os.X_OK):
            ap.error("not an executable: %s" % path)
    configs = [c for c in args.configs.split(",") if c]
    try:
        for c in configs:
            parse_config(c)
    except ValueError as e:
        ap.error(str(e))
    load_args = ["-U", str(args.users), "-D", str(args.devices), "-M", str(args.items), "-S", str(args.syncs),
                 "-K", str(args.changes), "--think", str(args.think), "--ramp", str(args.ramp)]
    if args.clients:
        load_args += ["-C", str(args.clients)]
    if args.xml:
        load_args.append("--xml")
    has_pg = {"--state", "--store"} <= scale_cluster.httpd_options(args.httpd)

    work = tempfile.mkdtemp(prefix="smk-scale-out-")
    os.chmod(work, 0o755)
    pg = None
    results, skipped = [], []
    try:
        if has_pg and any(c.startswith("pg-") for c in configs):
            pg = Postgres(os.path.join(work, "postgres"), args.synchronous_commit)
            pg.start()
            log("PostgreSQL at %s (fsync on, synchronous_commit %s)" % (pg.url, args.synchronous_commit))
        for c in configs:
            if c.startswith("pg-") and not has_pg:
                skipped.append(c)
                log("%s: skipped, %s has no --state/--store" % (c, args.httpd))
                continue
            r = run_config(c, args, work, pg, load_args)
            log("%s: %d messages (per process %s), %.1f s, exit %d" % (
                c, r["messages"], r["per_process"], r["wall"], r["status"]))
            results.append(r)
    finally:
        if pg:
            pg.stop()
        if args.keep:
            log("work directory kept: %s" % work)
        else:
            shutil.rmtree(work, ignore_errors=True)

    note = "%d users x %d devices, %s, slow sync of %d then %d two-way syncs of %d changes, think %d ms" % (
        args.users, args.devices, "XML" if args.xml else "WBXML", args.items, args.syncs, args.changes, args.think)
    out_rows = []
    failed = False
    for r in results:
        rows, c = r["rows"], r["config"]
        errors = value(rows, "errors")
        if errors or r["status"] != 0:
            failed = True
        cpu_us = {k: (v / r["messages"] * 1e6 if r["messages"] else None) for k, v in r["cpu"].items()}
        r["cpu_us"] = cpu_us
        for metric, unit, better in (("sessions/s", "sessions/s", "higher"), ("messages/s", "messages/s", "higher"),
                                     ("p50 latency per message", "ms", "lower"),
                                     ("p99 latency per message", "ms", "lower")):
            out_rows.append({"bench": "scale_out", "metric": "%s %s" % (c, metric), "value": value(rows, metric),
                             "unit": unit, "target": None, "better": better, "note": note})
        out_rows.append({"bench": "scale_out", "metric": "%s errors" % c, "value": errors if errors is not None else -1,
                         "unit": "count", "target": 0, "better": "lower", "note": note})
        total = sum(v for v in cpu_us.values() if v)
        out_rows.append({"bench": "scale_out", "metric": "%s CPU per message" % c, "value": round(total, 1),
                         "unit": "us", "target": None, "better": "lower",
                         "note": "httpd %s, PostgreSQL %s, HAProxy %s µs; load average %.1f before" % (
                             tuple(fmt(cpu_us[k], 0) for k in ("httpd", "postgres", "haproxy")) + (r["loadavg"],))})
    for c in skipped:
        out_rows.append({"bench": "scale_out", "metric": "%s skipped" % c, "value": "—", "unit": "",
                         "target": None, "better": "lower", "note": "syncmlkit-httpd has no --state option"})

    if args.json:
        print(json.dumps(out_rows, indent=1))
    else:
        print("Load: %s; PostgreSQL fsync on, synchronous_commit %s.\n" % (note, args.synchronous_commit))
        print("| configuration | sessions/s | messages/s | p50 ms/message | p99 ms/message | errors "
              "| CPU µs/message (httpd + PostgreSQL + HAProxy) | messages per process | load average before |")
        print("|---|---:|---:|---:|---:|---:|---|---|---:|")
        for r in results:
            rows, u = r["rows"], r["cpu_us"]
            print("| %s | %s | %s | %s | %s | %s | %s (%s + %s + %s) | %s | %.1f |" % (
                r["config"], fmt(value(rows, "sessions/s")), fmt(value(rows, "messages/s")),
                fmt(value(rows, "p50 latency per message"), 2), fmt(value(rows, "p99 latency per message"), 1),
                fmt(value(rows, "errors")), fmt(sum(v for v in u.values() if v), 0), fmt(u["httpd"], 0),
                fmt(u["postgres"], 0), fmt(u["haproxy"], 0), " / ".join(str(n) for n in r["per_process"]),
                r["loadavg"]))
        for c in skipped:
            print("| %s | skipped: no --state option | | | | | | | |" % c)
        for r in results:
            for p in r["problems"]:
                print("\n%s: %s" % (r["config"], p))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
