#!/usr/bin/env bash
# Installs what SyncMLKit needs to build and test, from Debian 12's packages.
# Idempotent: a no-op when everything is present. Needs root (or sudo).
set -euo pipefail

packages=(
  g++ cmake make pkg-config
  libpugixml-dev          # XML codec
  libwbxml2-dev           # libwbxml2: the oracle the WBXML tests compare with
  libwbxml2-utils         # wbxml2xml / xml2wbxml, for looking at messages by hand
  libsqlitecpp-dev libsqlite3-dev   # per-client sync state and the default store
  libfmt-dev
  libicu-dev              # charsets and time zones of the PIM converters
  libical-dev gir1.2-ical-3.0 python3-gi  # libical: an independent iCalendar reader the converter tests compare with
  python3-icalendar       # python-icalendar: a second iCalendar oracle
  catch2                  # Catch2 v2, /usr/lib/cmake/Catch2
  python3                 # the Python binding's tests
  python3-pytest          # ... run by pytest (bindings/python/tests)
  python3-vobject         # an independent vCard reader the conversion tests compare with
  gcc libc6-dev           # the interop tests' LD_PRELOAD shim (C, tools/curlfix)
  syncevolution           # the real SyncML client the interop tests drive (2.0.0, file backend)
  syncevolution-http python3-twisted dbus-daemon dbus-bin  # bench/side_by_side.py: SyncEvolution's own server (syncevo-http-server needs twisted, undeclared), on a private bus
  zlib1g-dev              # syncmlkit-httpd: deflate/gzip request and reply bodies
  openssl                 # syncmlkit-httpd's process test makes a throwaway TLS certificate
  gcovr                   # scripts/coverage.sh: line coverage of lib/pim/ (for people, not CI)
  libmicrohttpd-dev       # syncmlkit-httpd's HTTP(S) server (pkg-config libmicrohttpd, TLS through GnuTLS)
  haproxy                 # tests/scale: the round-robin load balancer in front of three syncmlkit-httpd
  libxml2-utils           # xmllint: an independent parser of the XML the server writes (test_text_safety)
  clang libclang-rt-14-dev  # scripts/fuzz.sh: libFuzzer with ASan/UBSan (SMK_FUZZ=ON needs clang)
  libpq-dev               # lib/pg: sync state, sessions and items in PostgreSQL (--state postgresql://...)
  postgresql              # the tests labelled postgres start a throwaway server (tests/support/pg_cluster.py)
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "installing: ${missing[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
