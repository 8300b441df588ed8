#!/usr/bin/env bash
# fuzz/campaign.sh BUILD [SECONDS [LIBFUZZER-ARGS…]] — tools/run fuzz: runs every fuzz target
# for its share of SECONDS (default 600) at the lowest priority, from its committed seeds
# (fuzz/corpus/NAME, only read) and the inputs earlier campaigns found (BUILD/fuzz/corpus/NAME),
# then prints the executions and any crash, leak or timeout file.  Exits 1 on a finding.
#
# fuzz/campaign.sh BUILD --coverage — runs the corpus through the targets built with source
# coverage and prints line and branch coverage of the files each target is for.
set -uo pipefail
build=$1; shift
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=$build/fuzz
names=()
for d in "$here"/fuzz/corpus/*/; do names+=("$(basename "$d")"); done

# The files each target exists to test (the coverage report).
sources_of () {
  case $1 in
    safetensors) echo engine/safetensors.c engine/vgg19.c engine/weights.c;;
    image) echo cli/imageio.c;;
  esac
}

if [ "${1:-}" = --coverage ]; then
  ninja -C "$build" fuzz-coverage >"$out/compile-coverage.log" 2>&1 || {
    cat "$out/compile-coverage.log" >&2; exit 1; }
  for n in "${names[@]}"; do
    cov=$out/coverage/$n
    rm -rf "$cov"; mkdir -p "$cov" "$out/corpus/$n"
    # -runs=0: each input of the corpus once, no mutation.
    LLVM_PROFILE_FILE="$cov/%p.profraw" "$out/fuzz-$n-cov" -runs=0 \
      "$out/corpus/$n" "$here/fuzz/corpus/$n" >"$cov/run.log" 2>&1 || {
      tail -20 "$cov/run.log" >&2; exit 1; }
    llvm-profdata merge -sparse "$cov"/*.profraw -o "$cov/merged.profdata"
    inputs=$(find "$out/corpus/$n" "$here/fuzz/corpus/$n" -type f | wc -l)
    echo "== fuzz-$n: coverage over $inputs inputs"
    (cd "$here" && llvm-cov report "$out/fuzz-$n-cov" -instr-profile="$cov/merged.profdata" \
       -show-region-summary=false -show-instantiation-summary=false $(sources_of "$n"))
  done
  exit 0
fi

seconds=${1:-600}
[ $# -gt 0 ] && shift
case $seconds in ''|*[!0-9]*) echo "fuzz: SECONDS must be a number, not '$seconds'" >&2; exit 2;; esac
share=$(( seconds / ${#names[@]} ))
[ "$share" -ge 1 ] || share=1
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}

failed=0
total=0
for n in "${names[@]}"; do
  mkdir -p "$out/corpus/$n" "$out/artifacts" "$out/logs"
  log=$out/logs/$n.log
  echo "== fuzz-$n: $share s"
  # -timeout counts wall-clock time: at nice 19 on a busy machine an input can wait far
  # longer than it runs (no input here takes a second).
  nice -n 19 "$out/fuzz-$n" -max_total_time="$share" -timeout=60 -print_final_stats=1 \
    -artifact_prefix="$out/artifacts/$n-" "$@" "$out/corpus/$n" "$here/fuzz/corpus/$n" >"$log" 2>&1
  status=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  # -fork mode prints no final stats: take the last progress line.
  [ -n "$execs" ] || execs=$(grep -oE '^#[0-9]+' "$log" | tail -1 | tr -d '#')
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  echo "   ${execs:-0} executions${rate:+, $rate/s}; corpus $(ls "$out/corpus/$n" | wc -l) inputs; log $log"
  total=$(( total + ${execs:-0} ))
  if [ $status -ne 0 ]; then
    failed=1
    grep -E '^==[0-9]+==ERROR|^SUMMARY|invariant broken|runtime error' "$log" | head -5 | sed 's/^/   /'
    sed -n 's/.*Test unit written to /   finding: /p' "$log"
  fi
done
echo "fuzz: $total executions in all; $([ $failed = 0 ] && echo "no findings" || echo "FINDINGS above")"
exit $failed
