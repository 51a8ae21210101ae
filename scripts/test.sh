#!/usr/bin/env bash
# The README's test command: install what is needed, build, and run every test
# through ctest twice, once normally and once under AddressSanitizer plus
# UndefinedBehaviorSanitizer; then the concurrency tests under
# ThreadSanitizer and a short fuzzing run of every fuzz target
# (docs/FUZZING.md). Extra arguments go to ctest (e.g. -L unit); with them,
# the ThreadSanitizer and fuzzing stages are skipped unless SMK_ALL_STAGES=1.
# SMK_FUZZ_SECONDS sets the fuzzing time per target (default 20).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh

jobs=${SMK_JOBS:-2}
# Where ccache is installed (it is not required), the four builds reuse what
# an earlier run compiled, wherever the checkout lies.
if command -v ccache >/dev/null 2>&1; then
  export CMAKE_C_COMPILER_LAUNCHER=${CMAKE_C_COMPILER_LAUNCHER:-ccache}
  export CMAKE_CXX_COMPILER_LAUNCHER=${CMAKE_CXX_COMPILER_LAUNCHER:-ccache}
  export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$PWD}
fi
all_stages=1
[ $# -gt 0 ] && [ "${SMK_ALL_STAGES:-0}" != 1 ] && all_stages=0

timings=()
stage_start=0
stage_name=""
begin_stage() {
  stage_name=$1
  stage_start=$(date +%s)
  echo "== $stage_name =="
}
end_stage() {
  local took=$(( $(date +%s) - stage_start ))
  timings+=("$(printf '%-58s %4dm%02ds' "$stage_name" $((took / 60)) $((took % 60)))")
  echo "== $stage_name: ${took}s =="
}
print_timings() {
  echo "== stage timings =="
  printf '%s\n' "${timings[@]}"
}
trap print_timings EXIT

begin_stage "build and test (RelWithDebInfo)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSMK_WERROR=ON >/dev/null
cmake --build build -j"$jobs"
(cd build && ctest --output-on-failure -j"$jobs" "$@")
end_stage

begin_stage "build and test under AddressSanitizer + UndefinedBehaviorSanitizer"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DSMK_SANITIZE=ON -DSMK_WERROR=ON -DSMK_BUILD_BENCH=OFF >/dev/null
cmake --build build-asan -j"$jobs"
(cd build-asan &&
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --output-on-failure -j"$jobs" "$@")
end_stage

if [ "$all_stages" = 0 ]; then
  echo "== ThreadSanitizer and fuzzing stages skipped (ctest arguments given; SMK_ALL_STAGES=1 runs them) =="
  exit 0
fi

# The tests labelled "concurrency", built with gcc's ThreadSanitizer: only the
# programs they run (a test's own executable, or the server httpd_process starts).
begin_stage "build and test the concurrency tests under ThreadSanitizer"
tsan=(-fsanitize=thread -fno-omit-frame-pointer)
cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSMK_WERROR=ON -DSMK_BUILD_BENCH=OFF \
  -DCMAKE_C_FLAGS="${tsan[*]}" -DCMAKE_CXX_FLAGS="${tsan[*]}" \
  -DCMAKE_EXE_LINKER_FLAGS=-fsanitize=thread -DCMAKE_SHARED_LINKER_FLAGS=-fsanitize=thread >/dev/null
known_targets=$(cmake --build build-tsan --target help | sed -n 's/^\.\.\. \([^ ]*\).*/\1/p')
tsan_targets=()
for t in $(cd build-tsan && ctest -N -L concurrency | sed -n 's/^ *Test *#[0-9]*: *//p'); do
  if grep -qx "$t" <<<"$known_targets"; then tsan_targets+=("$t"); fi
  if [ "$t" = httpd_process ]; then tsan_targets+=(syncmlkit-httpd); fi
done
[ ${#tsan_targets[@]} -gt 0 ] || { echo "no test is labelled concurrency" >&2; exit 1; }
cmake --build build-tsan -j"$jobs" --target "${tsan_targets[@]}"
(cd build-tsan &&
  TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 ctest --output-on-failure -j"$jobs" -L concurrency)
end_stage

begin_stage "fuzzing smoke run (libFuzzer, ${SMK_FUZZ_SECONDS:-20}s per target)"
scripts/fuzz.sh "${SMK_FUZZ_SECONDS:-20}"
end_stage
