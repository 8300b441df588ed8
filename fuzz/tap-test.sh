#!/usr/bin/env bash
# fuzz/tap-test.sh TARGET CORPUS RUNS ARTIFACTS — one fuzz target as a TAP test (meson suite
# 'fuzz'):
#   1  every seed in CORPUS runs clean, and is accepted unless its name says "-bad";
#   2  RUNS mutations from CORPUS with a fixed seed run clean (no crash, leak, UB report,
#      broken invariant or timeout).  A crashing input is kept in ARTIFACTS.
# The committed corpus is only read: new inputs go to a temporary folder.
set -uo pipefail
target=$1 corpus=$2 runs=$3 artifacts=$4
name=$(basename "$target")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$artifacts"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}

echo "1..2"

# 1: each seed once, saying what became of it ("fuzz-result: …" after "Running: FILE"; an
# input that allocates more than it frees runs twice, for the leak check).
seeds=("$corpus"/*)
NS_FUZZ_VERBOSE=1 "$target" -timeout=60 "${seeds[@]}" >"$tmp/seeds.log" 2>&1
status=$?
bad=$(awk '
  /^Running: / { file = $2; next }
  /^fuzz-result: / { verdict = $2; sub(/:$/, "", verdict); seen[file] = verdict }
  END {
    n = 0
    for (file in seen) {
      n++
      if ((file ~ /-bad[^\/]*$/) != (seen[file] == "rejected")) print file " was " seen[file]
    }
    if (n != '"${#seeds[@]}"') print "only " n " of '"${#seeds[@]}"' seeds reported"
  }
' "$tmp/seeds.log")
if [ $status -eq 0 ] && [ -z "$bad" ]; then
  echo "ok 1 - $name: ${#seeds[@]} seeds run clean, the valid ones accepted"
else
  echo "not ok 1 - $name: seeds (exit status $status)"
  printf '%s\n' "$bad" | sed 's/^/# /'
  tail -40 "$tmp/seeds.log" | sed 's/^/# /'
fi

# 2: a fixed number of mutations, deterministic apart from timing.
mkdir "$tmp/new"
"$target" -runs="$runs" -seed=1 -timeout=60 -print_final_stats=1 \
  -artifact_prefix="$artifacts/$name-" "$tmp/new" "$corpus" >"$tmp/fuzz.log" 2>&1
status=$?
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$tmp/fuzz.log")
rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$tmp/fuzz.log")
if [ $status -eq 0 ]; then
  echo "ok 2 - $name: ${execs:-?} executions (${rate:-?}/s) without a finding"
else
  echo "not ok 2 - $name: exit status $status after ${execs:-?} executions"
  grep -E 'ERROR|SUMMARY|invariant broken|Test unit written to|^    #[0-9]' "$tmp/fuzz.log" | head -40 | sed 's/^/# /'
fi
