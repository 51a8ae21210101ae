#!/usr/bin/python3
"""End-to-end benchmark: Debian's SyncEvolution client uploads N contacts to
syncmlkit-httpd by slow sync, then a second client downloads them by refresh
from server. Prints the server's CPU time per item (user plus system, from
its own /proc accounting) and its peak RSS (VmHWM). Loopback only.

    bench/sync_bench.py --httpd build-bench/examples/httpd/syncmlkit-httpd \
        --curlfix build-bench/tools/libsmk_curlfix.so [--count 1000] [--xml]
"""

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "interop"))
import items  # noqa: E402
import syncevo  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    """User plus system CPU of the whole process. Summed from each thread's
    schedstat (nanoseconds) when the kernel has it, since /proc/PID/stat
    counts in clock ticks of 10 ms, too coarse for one sync; the server's
    worker threads live as long as it does, so no thread's time is lost."""
    total_ns, found = 0, False
    try:
        for tid in os.listdir("/proc/%d/task" % pid):
            with open("/proc/%d/task/%s/schedstat" % (pid, tid)) as f:
                total_ns += int(f.read().split()[0])
                found = True
    except OSError:
        found = False
    if found:
        return total_ns / 1e9
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


def peak_rss_mb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return 0.0


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port, deadline):
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("syncmlkit-httpd did not start listening")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--httpd", required=True)
    ap.add_argument("--curlfix", required=True)
    ap.add_argument("--count", type=int, default=1000)
    ap.add_argument("--xml", action="store_true", help="XML instead of WBXML")
    args = ap.parse_args()

    work = tempfile.mkdtemp(prefix="smk-bench-")
    port = free_port()
    users = os.path.join(work, "users")
    with open(users, "w") as f:
        f.write("bench:bench\n")
    server = subprocess.Popen([args.httpd, "--port", str(port), "--bind", "127.0.0.1",
                               "--data", os.path.join(work, "data"), "--users", users],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port, time.time() + 10)
        up = os.path.join(work, "upload")
        down = os.path.join(work, "download")
        os.makedirs(down)
        items.write_items(up, items.generate("contacts", args.count, seed=42))
        common = dict(url="http://127.0.0.1:%d/sync" % port, user="bench", password="bench",
                      remote_db="contacts", kind="contacts", curlfix=args.curlfix,
                      encoding="xml" if args.xml else "wbxml", loglevel=1, timeout=600)
        rows = []
        for phase, run in (
                ("slow sync, client uploads", syncevo.SyncRun(local_dir=up, state_dir=os.path.join(work, "a"),
                                                              mode="slow", device_id="bench-a", **common)),
                ("refresh from server, client downloads",
                 syncevo.SyncRun(local_dir=down, state_dir=os.path.join(work, "b"),
                                 mode="refresh-from-server", device_id="bench-b", **common))):
            cpu0, t0 = cpu_seconds(server.pid), time.time()
            result = syncevo.run_sync(run)
            wall, cpu = time.time() - t0, cpu_seconds(server.pid) - cpu0
            if not result.ok:
                print(result.log_tail(), file=sys.stderr)
                return 1
            rows.append((phase, wall, cpu))
        received = len(os.listdir(down))
        mode = "XML" if args.xml else "WBXML"
        print("SyncMLKit sync benchmark: %d contacts, SyncEvolution client, %s, loopback" % (args.count, mode))
        print()
        print("%-40s %8s %14s %16s" % ("phase", "wall s", "server CPU s", "server CPU/item"))
        for phase, wall, cpu in rows:
            print("%-40s %8.2f %14.3f %13.1f us" % (phase, wall, cpu, cpu / args.count * 1e6))
        print()
        print("items the second client received: %d of %d" % (received, args.count))
        print("server peak RSS (VmHWM): %.1f MB" % peak_rss_mb(server.pid))
        return 0 if received == args.count else 1
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
