#!/usr/bin/env bash
# The README's run command: install what is needed, build, and start
# syncmlkit-httpd on port 7887 with its embedded SQLite store in
# ./syncmlkit-data. Without --users it makes a demo user and prints its
# password. Arguments go to syncmlkit-httpd (try --help, or --bind 0.0.0.0
# to serve the LAN).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release -DSMK_BUILD_TESTS=OFF -DSMK_BUILD_BENCH=OFF >/dev/null
cmake --build build-release -j"${SMK_JOBS:-2}" --target syncmlkit-httpd
exec ./build-release/examples/httpd/syncmlkit-httpd --data ./syncmlkit-data "$@"
