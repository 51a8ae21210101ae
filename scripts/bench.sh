#!/usr/bin/env bash
# The README's benchmark command, in a Release build:
#  1. codec_bench: XML and WBXML encode/decode of a 150 kB message of 300
#     contacts, beside libwbxml2's WBXML->XML conversion of the same input;
#  2. engine_bench: the engine alone (Server::process), CPU per item for a
#     slow-sync upload and a refresh-from-server download of 1000 contacts;
#  3. pim_bench: the PIM converters, read and write per format (vCard 3.0 and
#     2.1 contacts, iCalendar 2.0 and vCalendar 1.0 events) on 1000 generated
#     items, beside libical parsing the same iCalendar input (~10 s);
#  4. sync_bench.py: Debian's SyncEvolution client against syncmlkit-httpd,
#     1000 contacts up, then down into a second client: the server's CPU per
#     item and its peak RSS.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DSMK_BUILD_TESTS=ON >/dev/null
cmake --build build-bench -j"${SMK_JOBS:-2}" --target codec_bench engine_bench pim_bench syncmlkit-httpd smk_curlfix
./build-bench/bench/codec_bench
echo
./build-bench/bench/engine_bench 1000
echo
./build-bench/bench/pim_bench 1000 0.5
echo
/usr/bin/python3 bench/sync_bench.py --httpd build-bench/examples/httpd/syncmlkit-httpd \
  --curlfix build-bench/tools/libsmk_curlfix.so --count 1000
