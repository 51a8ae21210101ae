#!/usr/bin/env bash
# Fuzzing with libFuzzer (docs/FUZZING.md).
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
#
# Builds the fuzz targets in build-fuzz (clang, SMK_FUZZ=ON: libFuzzer plus
# ASan and UBSan), seeds each target's corpus from tests/fixtures, and runs
# each target (all of them by default) for SECONDS_PER_TARGET (default 600).
# The corpora grow in build-fuzz/fuzz/corpus/<target> from run to run; crash,
# leak, timeout and out-of-memory inputs land in build-fuzz/fuzz/artifacts/.
# Exits 1 if any target found one, after printing each reproducer's path.
# Installs nothing: scripts/install-deps.sh provides clang and libFuzzer.
#
# Environment: SMK_FUZZ_BUILD (build dir, default build-fuzz), SMK_JOBS
# (build jobs, default 2), SMK_FUZZ_RSS_MB (memory limit per target, 2560).
set -euo pipefail
cd "$(dirname "$0")/.."
src=$PWD

all_targets=(xml_decode wbxml_decode pim_vcard pim_vcalendar pim_icalendar pim_sif pim_note session)
seconds=${1:-600}
[ $# -gt 0 ] && shift
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all_targets[@]}")
case $seconds in '' | *[!0-9]*) echo "fuzz.sh: SECONDS_PER_TARGET must be a number, not '$seconds'" >&2; exit 2 ;; esac
for t in "${targets[@]}"; do
  [[ " ${all_targets[*]} " == *" $t "* ]] || { echo "fuzz.sh: no target '$t' (targets: ${all_targets[*]})" >&2; exit 2; }
done

build=${SMK_FUZZ_BUILD:-build-fuzz}
jobs=${SMK_JOBS:-2}
rss_mb=${SMK_FUZZ_RSS_MB:-2560}

# What the build needs, checked, not installed.
missing=()
command -v clang >/dev/null && command -v clang++ >/dev/null || missing+=(clang)
dpkg-query -W -f='${Status}' libclang-rt-14-dev 2>/dev/null | grep -q "install ok installed" || missing+=(libclang-rt-14-dev)
if [ ${#missing[@]} -gt 0 ]; then
  echo "fuzz.sh: missing ${missing[*]}: run scripts/install-deps.sh (as root)" >&2
  exit 2
fi

launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
echo "== fuzz: build ($build) =="
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSMK_FUZZ=ON \
  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DSMK_BUILD_BENCH=OFF "${launcher[@]}" >/dev/null
cmake --build "$build" -j"$jobs" --target fuzz_all

bin=$build/tests/fuzz
work=$build/fuzz
mkdir -p "$work"
seeds=$(mktemp -d "$work/seeds.XXXXXX")
trap 'rm -rf "$seeds"' EXIT
"$bin/fuzz_seeds" "$src/tests/fixtures" "$seeds" >/dev/null

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
failed=()
for t in "${targets[@]}"; do
  corpus=$work/corpus/$t artifacts=$work/artifacts/$t log=$work/logs/$t.log
  mkdir -p "$corpus" "$artifacts" "$work/logs"
  regressions=$src/tests/fuzz/regressions/$t
  extra=("$seeds/$t")
  [ -d "$regressions" ] && extra+=("$regressions")
  before=$(ls "$artifacts" | wc -l)
  start=$(date +%s)
  rc=0
  # -max_len: sessions of several messages are long; messages and items stay shorter.
  max_len=65536
  [ "$t" = session ] && max_len=200000
  "$bin/fuzz_$t" -max_total_time="$seconds" -rss_limit_mb="$rss_mb" -timeout=10 -max_len=$max_len \
    -print_final_stats=1 -artifact_prefix="$artifacts/" "$corpus" "${extra[@]}" >"$log" 2>&1 || rc=$?
  took=$(( $(date +%s) - start ))
  # The last status line: "#N DONE cov: C ft: F corp: ..." (or the last pulse before a crash).
  status=$(grep -a -E '^#[0-9]+[[:space:]]+(DONE|NEW|REDUCE|pulse|INITED)' "$log" | tail -1 || true)
  execs=$(grep -a -o 'stat::number_of_executed_units: [0-9]*' "$log" | grep -o '[0-9]*$' || true)
  cov=$(echo "$status" | grep -o 'cov: [0-9]*' | grep -o '[0-9]*' || true)
  ft=$(echo "$status" | grep -o 'ft: [0-9]*' | grep -o '[0-9]*' || true)
  printf '%-14s %5ss  execs %-9s cov %-6s ft %-6s corpus %s files\n' "$t" "$took" "${execs:-?}" "${cov:-?}" "${ft:-?}" \
    "$(ls "$corpus" | wc -l)"
  after=$(ls "$artifacts" | wc -l)
  if [ "$rc" -ne 0 ] || [ "$after" -gt "$before" ]; then
    failed+=("$t")
    echo "  FAILED (exit $rc): $(grep -a -m1 -E 'ERROR: |SUMMARY: |fuzz invariant broken' "$log" || echo 'see the log')"
    for f in $(ls -t "$artifacts" | head -n $(( after - before > 0 ? after - before : 1 ))); do
      echo "  reproducer: $artifacts/$f"
      echo "  reproduce:  $bin/fuzz_$t $artifacts/$f"
    done
    echo "  log: $log"
  fi
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz.sh: findings in ${failed[*]} (docs/FUZZING.md: fix, then add the input to tests/fuzz/regressions/<target>/)"
  exit 1
fi
echo "fuzz.sh: no findings (${#targets[@]} targets, ${seconds}s each)"
