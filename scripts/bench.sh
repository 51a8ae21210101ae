#!/usr/bin/env bash
# The README's benchmark command: installs the Debian packages, builds the
# benchmarks in Release mode (build-bench/), runs every one of them with
# --json through bench/run_all.py and prints one Markdown table (benchmark,
# metric, measured, target, met) with the machine and the date.
#
#   ./scripts/bench.sh                 everything (about 45 minutes on 2 cores: the
#                                      side-by-side runs at 10,000 contacts dominate)
#   ./scripts/bench.sh --quick         small counts, about a minute: proof that
#                                      each benchmark runs, no figures to quote
#   ./scripts/bench.sh --only codec,pim   a subset (codec, pim, engine, store,
#                                      load, load-idle, side_by_side)
#   ./scripts/bench.sh --json-out rows.json   also keep the rows
# Every option is passed to bench/run_all.py (--help lists them).
# docs/PERFORMANCE.md says what each benchmark measures and how to profile.
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-}" in -h|--help) exec /usr/bin/python3 -B bench/run_all.py --help ;; esac
scripts/install-deps.sh
cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DSMK_BUILD_TESTS=ON >/dev/null
# Every benchmark program the tree has (store_bench and loadgen where present).
targets=(syncmlkit-httpd smk_curlfix)
for t in codec_bench pim_bench engine_bench store_bench loadgen; do
  grep -q "add_executable($t\b" bench/CMakeLists.txt && targets+=("$t")
done
cmake --build build-bench -j"${SMK_JOBS:-2}" --target "${targets[@]}" >/dev/null
exec /usr/bin/python3 -B bench/run_all.py --build-dir build-bench "$@"
