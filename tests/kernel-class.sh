#!/usr/bin/env bash
# tests/kernel-class.sh CLASS TEST [ARGS…] — runs a numerical C test on another CPU path:
#   avx2      OpenBLAS's Haswell kernels (what most users' CPUs run) and the engine's AVX2 paths
#   pre-avx2  OpenBLAS's Sandybridge kernels and the engine's portable paths
# The CPU must be able to execute the class; where it cannot, the test is reported skipped,
# with the reason.
set -u
class=$1; shift
flags=$(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null)
has () { [[ " $flags " == *" $1 "* ]]; }
case "$class" in
  avx2)     need="avx2 fma";  export OPENBLAS_CORETYPE=Haswell NEURAL_STYLE_SIMD=avx2;;
  pre-avx2) need="avx";       export OPENBLAS_CORETYPE=Sandybridge NEURAL_STYLE_SIMD=portable;;
  *)        echo "Bail out! unknown kernel class '$class'"; exit 2;;
esac
for f in $need; do
  if ! has "$f"; then
    echo "1..0 # SKIP this CPU has no $f, so it cannot run the $class class"
    exit 0
  fi
done
exec "$@"
