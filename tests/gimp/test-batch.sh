#!/usr/bin/env bash
# tests/gimp/test-batch.sh PLUGIN_EXE PO_BUILD_DIR — pixel-level checks of
# plug-in-neural-style in gimp-console-3.0 (python-fu-eval drives, Script-Fu calls the
# procedure with named arguments).  TAP on stdout.
set -u
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh" "$1" "$2"

# A repeat run uses the last values, which GIMP only stores after an interactive run: give
# it small ones.  No style layer was remembered (that too needs an interactive run), so the
# plug-in picks one of the image.
mkdir -p "$GIMP3_DIRECTORY/plug-in-settings"
cat >"$GIMP3_DIRECTORY/plug-in-settings/GimpProcedureConfigRun-plug-in-neural-style.last" <<'EOF'
(iterations 3)
(size 0)
(network "embedded")
EOF

export NS_TAP_OUT=$ns_work/tap.txt
gimp_batch python-fu-eval "$here/batch.py"
status=$?

if [ -s "$NS_TAP_OUT" ]; then
  # The plan line comes last in the file; TAP allows it at the end.
  cat "$NS_TAP_OUT"
  if [ $status -ne 0 ]; then
    echo "not ok - gimp-console-3.0 exited with $status"
    show_log
  fi
else
  echo "1..1"
  echo "not ok 1 - the batch script produced no results (gimp exited with $status)"
  show_log
fi
