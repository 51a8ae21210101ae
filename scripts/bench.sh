#!/usr/bin/env bash
# The README's benchmark command: a Release build of the benchmarks, then the
# codec table. Arguments go to codec_bench: [contacts per message] [seconds per row].
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DSMK_BUILD_TESTS=OFF >/dev/null
cmake --build build-bench -j"${SMK_JOBS:-2}" --target codec_bench
./build-bench/bench/codec_bench "$@"
