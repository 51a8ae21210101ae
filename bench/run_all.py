#!/usr/bin/python3
"""Runs every benchmark of the project with --json and prints one Markdown table.

    bench/run_all.py [--build-dir build-bench] [--quick] [--only codec,pim,...] [--skip ...]

scripts/bench.sh builds the Release binaries into build-bench and runs this.
Each benchmark prints its rows as a JSON array (bench, metric, value, unit,
target, better, note); this script prints the machine, the date and

    | benchmark | metric | measured | target | met |

where "met" compares the measured value with the target ("higher" is better:
at least the target; "lower": at most). A benchmark that prints no JSON (or
is not built) gets one line saying so instead of failing the run.

--quick runs every benchmark with small counts (about a minute in all: the
bench_smoke test runs it); the figures are then no measurement, only proof
that each benchmark runs. Exit status 1 when a benchmark that printed rows
exited with an error or an "errors" row missed its target.
"""

import argparse
import datetime
import json
import os
import platform
import re
import sqlite3
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

# name: (program relative to the build dir, or a script of bench/; full arguments; --quick arguments; timeout s)
# "{httpd}" and "{curlfix}" are replaced by the build's syncmlkit-httpd and curl shim.
BENCHES = [
    ("codec", "bench/codec_bench", [], ["--contacts", "300", "--seconds", "0.1"], 600),
    ("pim", "bench/pim_bench", [], ["200", "0.05"], 600),
    ("engine", "bench/engine_bench", ["1000", "10000"], ["200"], 1200),
    ("store", "bench/store_bench", [], ["--items", "200,1000"], 1800),
    ("load", "bench/loadgen", ["--httpd", "{httpd}"],
     ["--httpd", "{httpd}", "-U", "4", "-D", "2", "-M", "5", "-S", "1", "-K", "2", "--think", "20"], 1800),
    ("load-idle", "bench/loadgen", ["--httpd", "{httpd}", "--idle", "0,500,1000"],
     ["--httpd", "{httpd}", "--idle", "0,20"], 600),
    ("scale_out", "scale_out.py", ["--httpd", "{httpd}"], ["--httpd", "{httpd}", "--quick"], 1800),
    ("side_by_side", "side_by_side.py",
     ["--httpd", "{httpd}", "--curlfix", "{curlfix}", "--counts", "1000,10000", "--repeat", "3", "--xml"],
     ["--httpd", "{httpd}", "--curlfix", "{curlfix}", "--counts", "20", "--repeat", "1"], 7200),
]


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def read_first(path, pattern):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                m = re.match(pattern, line)
                if m:
                    return m.group(1).strip()
    except OSError:
        pass
    return "unknown"


def machine():
    """Lines describing this machine and the run."""
    cpu = read_first("/proc/cpuinfo", r"model name\s*:\s*(.*)")
    mem = read_first("/proc/meminfo", r"MemTotal:\s*(\d+)")
    ram = "%.1f GiB" % (int(mem) / 1048576) if mem.isdigit() else "unknown"
    debian = read_first("/etc/debian_version", r"(.*)")
    return [
        "- date: %s" % datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "- CPU: %s, %d cores (os.cpu_count)" % (cpu, os.cpu_count() or 0),
        "- RAM: %s" % ram,
        "- kernel: %s %s" % (platform.system(), platform.release()),
        "- Debian: %s" % debian,
        "- SQLite: %s (the library Debian's Python links; the project links the same libsqlite3)" % sqlite3.sqlite_version,
    ]


def number(value):
    if not isinstance(value, (int, float)):
        return str(value)
    a = abs(value)
    if a >= 1000:
        return "{:,.0f}".format(value)
    if a >= 100:
        return "%.0f" % value
    if a >= 10:
        return "%.1f" % value
    if a >= 1 or a == 0:
        return "%.2f" % value
    return "%.3g" % value


def met(row):
    target = row.get("target")
    value = row.get("value")
    if target is None or not isinstance(target, (int, float)) or not isinstance(value, (int, float)):
        return None
    return value >= target if row.get("better") == "higher" else value <= target


def target_text(row):
    target = row.get("target")
    if target is None or not isinstance(target, (int, float)):
        return "—"
    return "%s %s %s" % ("≥" if row.get("better") == "higher" else "≤", number(target), row.get("unit", ""))


def cell(text):
    return str(text).replace("|", "\\|").replace("\n", " ")


def parse_rows(stdout):
    """The JSON array a benchmark printed, or None."""
    text = stdout.strip()
    if not text.startswith("["):
        return None
    try:
        rows = json.loads(text)
    except ValueError:
        return None
    if not isinstance(rows, list) or not all(isinstance(r, dict) and "metric" in r and "value" in r for r in rows):
        return None
    return rows


def run_bench(name, argv, timeout):
    """(rows or None, exit status, seconds, why) of one benchmark."""
    t0 = time.monotonic()
    try:
        proc = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=None, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, None, time.monotonic() - t0, "timed out after %d s" % timeout
    except OSError as e:
        return None, None, time.monotonic() - t0, str(e)
    seconds = time.monotonic() - t0
    rows = parse_rows(proc.stdout.decode("utf-8", "replace"))
    why = "" if rows is not None else "no JSON rows (exit status %d)" % proc.returncode
    return rows, proc.returncode, seconds, why


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="\n".join(__doc__.splitlines()[1:]))
    ap.add_argument("--build-dir", default=os.path.join(ROOT, "build-bench"),
                    help="the build holding the benchmarks (default build-bench, a Release build)")
    ap.add_argument("--quick", action="store_true", help="small counts: proof that each benchmark runs, no figures")
    names = [b[0] for b in BENCHES]
    ap.add_argument("--only", default="", help="run only these, comma-separated: " + ", ".join(names))
    ap.add_argument("--skip", default="", help="run all but these, comma-separated")
    ap.add_argument("--json-out", help="also write all rows as one JSON array to this file")
    args = ap.parse_args(argv)

    only = [n for n in args.only.split(",") if n]
    skip = [n for n in args.skip.split(",") if n]
    for n in only + skip:
        if n not in names:
            ap.error("unknown benchmark %r (%s)" % (n, ", ".join(names)))
    build = os.path.abspath(args.build_dir)
    subst = {"{httpd}": os.path.join(build, "examples", "httpd", "syncmlkit-httpd"),
             "{curlfix}": os.path.join(build, "tools", "libsmk_curlfix.so")}

    results = []  # (name, rows or None, why, seconds)
    failed = False
    for name, program, full, quick, timeout in BENCHES:
        if (only and name not in only) or name in skip:
            continue
        if program.endswith(".py"):
            command = ["/usr/bin/python3", "-B", os.path.join(HERE, program)]
        else:
            command = [os.path.join(build, program)]
            if not os.access(command[0], os.X_OK):
                results.append((name, None, "not built (%s)" % command[0], 0.0))
                log("run_all: %s: not built, skipped" % name)
                continue
        command += ["--json"] + [subst.get(a, a) for a in (quick if args.quick else full)]
        log("run_all: %s: %s" % (name, " ".join(command)))
        rows, status, seconds, why = run_bench(name, command, timeout)
        log("run_all: %s: %s in %.1f s" % (name, "%d rows" % len(rows) if rows is not None else why, seconds))
        if rows is not None and status != 0:
            failed = True
            why = "exit status %d" % status
        results.append((name, rows, why, seconds))

    all_rows = []
    out = ["# SyncMLKit benchmarks%s" % (" (--quick: small counts, no figures to quote)" if args.quick else ""), ""]
    out += machine()
    out += ["- build: %s" % build, ""]
    out += ["| benchmark | metric | measured | target | met |", "|---|---|---:|---|---|"]
    for name, rows, why, seconds in results:
        if rows is None:
            out.append("| %s | %s | — | — | — |" % (cell(name), cell(why)))
            continue
        if not rows:
            out.append("| %s | (no rows) | — | — | — |" % cell(name))
        for r in rows:
            all_rows.append(r)
            m = met(r)
            if r.get("metric") == "errors" and m is False:
                failed = True
            out.append("| %s | %s | %s %s | %s | %s |" % (
                cell(name), cell(r["metric"]), number(r["value"]), cell(r.get("unit", "")),
                cell(target_text(r)), "—" if m is None else ("yes" if m else "**no**")))
        if why:
            out.append("| %s | %s | — | — | — |" % (cell(name), cell(why)))
    targets = [met(r) for r in all_rows if met(r) is not None]
    out += ["", "%d rows; %d with a target, %d met, %d missed. Times: %s." % (
        len(all_rows), len(targets), sum(1 for t in targets if t), sum(1 for t in targets if not t),
        ", ".join("%s %.0f s" % (n, s) for n, _, _, s in results))]
    print("\n".join(out))
    if args.json_out:
        with open(args.json_out, "w", encoding="utf-8") as f:
            json.dump(all_rows, f, ensure_ascii=False, indent=1)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
