#!/usr/bin/env bash
# Line coverage of the PIM layer (lib/pim/) by its own tests, for people (not
# part of CI):
#  1. a separate gcc --coverage build in build-coverage/ (Debug, -O0, so that
#     lines map to code);
#  2. the unit tests whose names start with test_pim, and the pim_* ctest
#     tests, which run syncmlkit-convert, so the tool's calls into lib/pim
#     count as well; counters are reset first so that the figures are of
#     this run only;
#  3. gcovr's summary of lib/pim/ per file, and the total.
# Exits non-zero when the total line coverage of lib/pim/ is below 90 %
# (SMK_PIM_COVERAGE_MIN overrides). A failing test is reported but does not
# decide the exit status: the figures are still those of the code it ran.
set -euo pipefail
cd "$(dirname "$0")/.."

build=build-coverage
jobs=${SMK_JOBS:-2}
minimum=${SMK_PIM_COVERAGE_MIN:-90}
tests='^(test_pim|pim_)'

command -v gcovr >/dev/null || { echo "coverage.sh: gcovr is missing (scripts/install-deps.sh installs it)" >&2; exit 2; }

cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Debug -DSMK_BUILD_TESTS=ON -DSMK_BUILD_BENCH=OFF -DSMK_SANITIZE=OFF \
  -DCMAKE_C_COMPILER=gcc -DCMAKE_CXX_COMPILER=g++ \
  -DCMAKE_C_FLAGS="--coverage -O0" -DCMAKE_CXX_FLAGS="--coverage -O0" \
  -DCMAKE_EXE_LINKER_FLAGS=--coverage -DCMAKE_SHARED_LINKER_FLAGS=--coverage >/dev/null

# Only what the selected tests run: their executables and the converter.
targets=(syncmlkit-convert)
for source in tests/unit/test_pim*.cpp; do
  [ -e "$source" ] && targets+=("$(basename "$source" .cpp)")
done
cmake --build "$build" -j"$jobs" --target "${targets[@]}"

find "$build" -name '*.gcda' -delete
test_status=0
(cd "$build" && ctest -R "$tests" --output-on-failure -j"$jobs") || test_status=$?
if [ "$test_status" -ne 0 ]; then
  echo "coverage.sh: some tests failed (ctest exit status $test_status); coverage is of what they ran" >&2
fi

echo
echo "== line coverage of lib/pim/ (tests matching $tests) =="
gcovr_status=0
# (CMake's compiler probes leave .gcno files without sources: not ours.)
gcovr --root . --object-directory "$build" --filter 'lib/pim/' --exclude-directories "$build/CMakeFiles/[0-9]" \
  --sort-percentage --print-summary --fail-under-line "$minimum" "$build" || gcovr_status=$?
if [ "$gcovr_status" -ne 0 ]; then
  echo "coverage.sh: lib/pim/ line coverage is below ${minimum} % (or gcovr failed: status $gcovr_status)" >&2
  exit 1
fi
