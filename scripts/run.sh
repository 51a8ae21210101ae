#!/usr/bin/env bash
# The README's run command: install what is needed, build in Release mode
# into ./build-release/bin everything the README uses (syncmlkit-httpd, the
# tools syncmlkit-admin, syncmlkit-dump and syncmlkit-convert, and the
# SyncEvolution shim libsmk_curlfix.so), and start syncmlkit-httpd on
# http://127.0.0.1:7887/ with its embedded SQLite store in ./syncmlkit-data.
# Without --users it makes a demo user whose password it keeps in
# ./syncmlkit-data/demo-password and prints, with the client settings, at
# every start. Arguments go to syncmlkit-httpd (--help lists them; --bind
# 0.0.0.0 serves the network, --port N another port, --data DIR another
# data folder).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
checkout=$PWD
build=$checkout/build-release
# Where ccache is installed (not required), rebuilds reuse what was compiled.
if command -v ccache >/dev/null 2>&1; then
  export CMAKE_C_COMPILER_LAUNCHER=${CMAKE_C_COMPILER_LAUNCHER:-ccache}
  export CMAKE_CXX_COMPILER_LAUNCHER=${CMAKE_CXX_COMPILER_LAUNCHER:-ccache}
  export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$checkout}
fi
# One folder for every program and the shim, so the README can name them.
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DSMK_BUILD_TESTS=OFF -DSMK_BUILD_BENCH=OFF \
  -DCMAKE_RUNTIME_OUTPUT_DIRECTORY="$build/bin" -DCMAKE_LIBRARY_OUTPUT_DIRECTORY="$build/bin" >/dev/null
cmake --build "$build" -j"${SMK_JOBS:-2}" \
  --target syncmlkit-httpd syncmlkit-admin syncmlkit-dump syncmlkit-convert smk_curlfix
echo "run.sh: checkout $checkout"
echo "run.sh: programs in $build/bin: syncmlkit-httpd, syncmlkit-admin, syncmlkit-dump, syncmlkit-convert,"
echo "run.sh:   and libsmk_curlfix.so (LD_PRELOAD it into Debian 12's SyncEvolution; README, \"Connect your client\")"
exec "$build/bin/syncmlkit-httpd" --data "$checkout/syncmlkit-data" "$@"
