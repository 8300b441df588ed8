#!/usr/bin/env bash
# tests/gimp/test-frames.sh PLUGIN_EXE PO_BUILD_DIR — plug-in-neural-style-frames in the real
# GIMP under Xvfb (frames.py drives it, on a 4-frame animation it makes):
#   - bad inputs are refused with clear errors and leave the image untouched (one layer, the
#     style layer as the only other layer, indexed, a layer group, no style layer), as does a
#     run that fails in the engine;
#   - a Script-Fu call with named arguments keeps the frames' order, names, tags and delays,
#     turns the (combine) frame into the composited frame stylized, tagged (replace), and
#     keeps the size, offsets and alpha of a smaller, offset frame;
#   - one Ctrl+Z restores all 4 frames; a run killed in the middle (GIMP's Cancel kills the
#     plug-in) leaves the image untouched;
#   - the dialog says what all the frames take, and OK stylizes them.
# TAP on stdout.
set -u
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh" "$1" "$2"
source "$here/gui.sh"

# NS_FRAMES_SCREENSHOT=OUT.png (with NS_FRAMES, a folder of frames, and NS_STYLE, a painting)
# makes the README's picture instead: the dialog with its defaults, NS_DIALOG_PREVIEW_WAIT
# seconds into the preview of the first frame.
if [ -n "${NS_FRAMES_SCREENSHOT:-}" ]; then
  gui_start "$here/frames-picture.py"
  window=$(python3 "$here/x11.py" wait "Neural Style (frames)" 180 2>>"$ns_work/x11.log") ||
    { echo "not ok 1 - no dialog"; tail -20 "$NS_LOG" | sed 's/^/# /'; exit 1; }
  wait_state status "frames: about" 120
  python3 "$here/x11.py" key "Neural Style (frames)" alt+p
  sleep "${NS_DIALOG_PREVIEW_WAIT:-8}"
  echo "# screenshot: $NS_FRAMES_SCREENSHOT ($(screenshot "$window" "$NS_FRAMES_SCREENSHOT") colours)"
  exit 0
fi

# The dialog's OK runs with the last values: small ones.
mkdir -p "$GIMP3_DIRECTORY/plug-in-settings"
printf '(iterations 3)\n(size 0)\n(network "embedded")\n' \
  >"$GIMP3_DIRECTORY/plug-in-settings/GimpProcedureConfigRun-plug-in-neural-style-frames.last"

export NS_TAP_OUT=$ns_work/tap.txt
results=$ns_work/results.txt
: >"$results"
result () { if "${@:2}"; then echo "ok - $1"; else echo "not ok - $1"; fi >>"$results"; }

gui_start "$here/frames.py"

# 1. Ctrl+Z once in the image window, after the run.
if wait_file "$NS_MARKERS/ran" 120; then
  python3 "$here/x11.py" key "[Untitled]" ctrl+z 2>>"$ns_work/x11.log"
fi
touch "$NS_MARKERS/undone"

# 2. Kill the plug-in in the middle of a long run, as GIMP's Cancel does (SIGKILL).
killed=""
if wait_file "$NS_MARKERS/kill-me" 90; then
  for i in $(seq 100); do
    pid=$(pgrep -n -f -- "$ns_plugin_dir/neural-style") && break
    sleep 0.1
  done
  if [ -n "${pid:-}" ]; then
    sleep 1
    kill -KILL "$pid" 2>/dev/null && killed=$pid
  fi
fi
result "the plug-in was killed in the middle of the long run (pid ${killed:-none})" [ -n "$killed" ]

# 3. The dialog: the estimate for all the frames, then OK.
if wait_file "$NS_MARKERS/dialog" 60; then
  if python3 "$here/x11.py" wait "Neural Style (frames)" 60 >/dev/null 2>>"$ns_work/x11.log"; then
    result "the dialog opens, titled \"Neural Style (frames)\"" true
    result "the dialog chooses the other image's layer as the style" \
      wait_state style-layer "^painting$" 10
    result "the dialog's status says what the 4 frames take, the later ones apart" \
      wait_state status "4 frames: about .* in all (the first .*, each after it .*)" 30
    echo "# status: $(state status)" >>"$results"
    python3 "$here/x11.py" key "Neural Style (frames)" Return 2>>"$ns_work/x11.log"
  else
    result "the dialog opens, titled \"Neural Style (frames)\"" false
  fi
fi

if ! wait_file "$NS_MARKERS/done" 120; then
  echo "not ok - frames.py did not finish" >>"$results"
  show_log | tail -30 | sed 's/^/# /' >>"$results"
fi
warnings=$(no_warnings) && quiet=true || quiet=false
result "the plug-in printed no GLib criticals or warnings" $quiet
[ -n "$warnings" ] && echo "$warnings" >>"$results"

# Both sides' lines, numbered.
cat "$NS_TAP_OUT" "$results" 2>/dev/null |
  awk '/^(ok|not ok) - / { n++; sub(/ - /, " " n " - ") } { print } END { print "1.." n }'
