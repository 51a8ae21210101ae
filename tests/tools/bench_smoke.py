"""The README's benchmark command works (ctest: bench_smoke, label bench).

    bench_smoke.py SOURCE_DIR BUILD_DIR

Runs bench/run_all.py --quick on BUILD_DIR's programs (what scripts/bench.sh
runs on its Release build, with small counts) and checks its Markdown table:
 - the machine lines and the table header are there;
 - every benchmark of run_all.py has a row; one whose program this tree
   builds (bench/CMakeLists.txt) is built, and one whose source knows
   --json printed JSON rows (not "no JSON rows");
 - side_by_side measured both servers in all three phases, made the
   SyncMLKit per-item rows with their 10 µs target, and counted 0 errors
   (no failed sync, no duplicate, no loss);
 - run_all.py exited 0.
Standard library only.
"""

import os
import re
import subprocess
import sys
import time


def main(argv):
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    source, build = os.path.abspath(argv[1]), os.path.abspath(argv[2])
    sys.path.insert(0, os.path.join(source, "bench"))
    import run_all  # noqa: E402  (its list of benchmarks)

    t0 = time.monotonic()
    proc = subprocess.run(["/usr/bin/python3", "-B", os.path.join(source, "bench", "run_all.py"),
                           "--quick", "--build-dir", build], stdout=subprocess.PIPE, text=True)
    elapsed = time.monotonic() - t0
    out = proc.stdout
    print(out)
    problems = []
    if proc.returncode != 0:
        problems.append("run_all.py --quick exited with %d" % proc.returncode)
    for needed in ("- CPU: ", "- RAM: ", "- kernel: ", "- Debian: ", "- SQLite: ", "- date: ",
                   "| benchmark | metric | measured | target | met |"):
        if needed not in out:
            problems.append("no %r in the output" % needed)
    table = {}
    for line in out.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")] if line.startswith("| ") else []
        if len(cells) == 5 and cells[0] not in ("benchmark", "---"):
            table.setdefault(cells[0], []).append(cells)
    with open(os.path.join(source, "bench", "CMakeLists.txt"), encoding="utf-8") as f:
        cmake = f.read()
    for name, program, _, _, _ in run_all.BENCHES:
        rows = table.get(name)
        if not rows:
            problems.append("%s: no row in the table" % name)
            continue
        metrics = [r[1] for r in rows]
        if program.endswith(".py"):
            src = os.path.join(source, "bench", program)
            in_tree = True
        else:
            target = os.path.basename(program)
            src = os.path.join(source, "bench", target + ".cpp")
            in_tree = re.search(r"add_executable\(%s\b" % re.escape(target), cmake) is not None
        if any(m.startswith("not built") for m in metrics):
            if in_tree:
                problems.append("%s: %s is not built in %s (build the benchmark targets)" % (name, program, build))
            continue
        knows_json = os.path.exists(src) and "--json" in open(src, encoding="utf-8").read()
        if knows_json and any(m.startswith("no JSON rows") for m in metrics):
            problems.append("%s: printed no JSON rows although %s handles --json" % (name, os.path.basename(src)))
    sbs = {r[1]: r for r in table.get("side_by_side", [])}
    for server in ("SyncMLKit", "SyncEvolution"):
        for phase in ("slow-sync upload", "two-way, no change", "download (refresh from server)"):
            if not any(m.startswith("%s server CPU, %s, WBXML" % (server, phase)) for m in sbs):
                problems.append("side_by_side: no %s server CPU row for %s" % (server, phase))
    for phase in ("slow-sync upload", "download (refresh from server)"):
        hits = [r for m, r in sbs.items() if m.startswith("SyncMLKit server CPU per item, %s, WBXML" % phase)]
        if not hits or not hits[0][3].startswith("≤ 10"):
            problems.append("side_by_side: no SyncMLKit per-item row with the 10 µs target for %s" % phase)
    errors = sbs.get("errors")
    if not errors or not errors[2].startswith("0") or errors[4] != "yes":
        problems.append("side_by_side: errors row missing or not 0: %r" % (errors,))
    for p in problems:
        print("bench_smoke: " + p)
    print("bench_smoke: %d benchmarks, %d rows, %.0f s; %d problem(s)" % (
        len(table), sum(len(v) for v in table.values()), elapsed, len(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
