# tests/gimp/large.sh — sourced by test-dialog.sh for its picture mode NS_DIALOG_LARGE=PHOTO
# (see that script's header): a multi-megapixel photo through the real dialog with the
# product's defaults, OK, and the result viewed at 100% in the image window.
# Everything goes to $NS_DIALOG_LARGE_OUT (default: large-out in the current directory):
#   dialog.png          the dialog, its status line's plan, the preview fitted to the whole layer
#   status.txt          the status line's text (the plan and its expected time)
#   result.png          the stylized layer
#   window-100-*.png    the image window at 100%: centre (where "1" zooms to: detail),
#                       top-left and bottom-right (the edges' frame)
#   numbers.txt         the run's wall time (OK to done) and the plug-in's peak memory
# TAP on stdout, the plan at the end.

large_out=${NS_DIALOG_LARGE_OUT:-$PWD/large-out}
mkdir -p "$large_out"
export NS_LARGE_OUT=$large_out
export NS_CONTENT=$NS_DIALOG_LARGE
export NS_STYLE=${NS_STYLE:-$here/../../data/samples/style-starry-night.jpg}

# The plug-in's memory while it lives, every 2 s: the last VmHWM read is its peak RSS.
watch_memory () {
  local pid="" hwm
  while [ ! -e "$NS_MARKERS/saved" ]; do
    [ -n "$pid" ] && [ -d "/proc/$pid" ] || pid=$(pgrep -n -f -- "$ns_plugin_dir/neural-style")
    hwm=$([ -n "$pid" ] && sed -n 's/^VmHWM:\s*//p' "/proc/$pid/status" 2>/dev/null)
    [ -n "$hwm" ] && echo "$hwm" >"$ns_work/peak"
    sleep 2
  done
}

gui_start "$here/large.py"
if ! window=$(python3 "$here/x11.py" wait "Neural Style" 600 2>>"$ns_work/x11.log"); then
  not_ok "the dialog opens on the ${NS_DIALOG_LARGE##*/} layer"
  tail -30 "$NS_LOG" | sed 's/^/# /'
  echo "1..$ns_tap_n"
  exit 1
fi
ok "the dialog opens on the ${NS_DIALOG_LARGE##*/} layer"
watch_memory &
memory_pid=$!

# The plan's last part, the expected time, comes from an estimate in the background.
check "the status line shows the plan and its expected time" \
  wait_state status "expected time about" 600
state status | sed 's/\\n/\n/g' >"$large_out/status.txt"
sed 's/^/# status: /' "$large_out/status.txt"

# "Whole layer" has no mnemonic: click it where the dialog says it is; then Preview.
geometry=($(state whole-layer-toggle))
[ ${#geometry[@]} = 4 ] &&
  python3 "$here/x11.py" click "Neural Style" $((geometry[0] + 10)) \
    $((geometry[1] + geometry[3] / 2)) 2>>"$ns_work/x11.log"
wait_state whole-layer "^1" 10
python3 "$here/x11.py" key "Neural Style" alt+p
start=$(date +%s)
check "the preview fitted to the whole layer runs" wait_state progress "^Done" 1800
echo "# preview: $(($(date +%s) - start)) s, $(state whole-layer-shown) px: $(state progress)"
sleep 2
echo "# dialog: $large_out/dialog.png ($(screenshot "$window" "$large_out/dialog.png") colours)"
preview_peak=$(cat "$ns_work/peak" 2>/dev/null)

start=$(date +%s)
python3 "$here/x11.py" key "Neural Style" Return
check "OK's run returns within an hour" wait_file "$NS_MARKERS/applied" 3600
wall=$(($(date +%s) - start))
read -r status seconds <"$NS_MARKERS/applied"
check "the run succeeds (status $status)" [ "$status" = 3 ]
wait_file "$NS_MARKERS/saved" 300
wait "$memory_pid"
check "the stylized layer is saved ($large_out/result.png)" [ -s "$large_out/result.png" ]
{
  echo "photo: $NS_DIALOG_LARGE"
  echo "style: $NS_STYLE"
  echo "wall time, OK to done: $wall s (the procedure's call: $seconds s)"
  echo "plug-in peak RSS (VmHWM): ${preview_peak:-?} after the preview, $(cat "$ns_work/peak" 2>/dev/null || echo ?) at the end"
  echo "expected: $(grep -o 'expected time about[^.;]*' "$large_out/status.txt" | head -1)"
} >"$large_out/numbers.txt"
sed 's/^/# /' "$large_out/numbers.txt"

# The image window at 100% ("1" is View → Zoom → 1:1, about the window's centre with the
# pointer off the canvas), then scrolled to the corners: the wheel steps stop at the edges.
# The window is titled "[Untitled]-1.0 (…) 3840x2160 – GIMP" (a file loaded by a script is
# not the image's file): found by the photo's size.
title="$(identify -format '%wx%h' "$NS_DIALOG_LARGE") – GIMP"
python3 "$here/x11.py" pointer 1399 999
python3 "$here/x11.py" key "$title" 1 2>>"$ns_work/x11.log"
sleep 3
image_window=$(python3 "$here/x11.py" wait "$title" 10 2>>"$ns_work/x11.log")
colours=$(screenshot "$image_window" "$large_out/window-100-centre.png")
size=($(identify -format '%w %h' "$large_out/window-100-centre.png"))
cx=$((size[0] / 2)) cy=$((size[1] / 2))
corner () {   # corner NAME VERTICAL-BUTTON HORIZONTAL-BUTTON
  python3 "$here/x11.py" scroll "$title" $cx $cy "$2" 150 2>>"$ns_work/x11.log"
  python3 "$here/x11.py" scroll "$title" $cx $cy "$3" 250 2>>"$ns_work/x11.log"
  sleep 3
  screenshot "$image_window" "$large_out/window-100-$1.png" >/dev/null
}
corner top-left 4 6
corner bottom-right 5 7
check "the image window was photographed at 100% ($colours colours in the centre)" \
  [ "${colours:-0}" -gt 1000 ]
touch "$NS_MARKERS/finished"
grep -E '^\(neural-style:[0-9]+\).*(CRITICAL|WARNING)' "$NS_LOG" | head -5 | sed 's/^/# /'
echo "1..$ns_tap_n"
exit 0
