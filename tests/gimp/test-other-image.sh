#!/usr/bin/env bash
# tests/gimp/test-other-image.sh PLUGIN_EXE PO_BUILD_DIR — the README's workflow in the real
# GIMP under Xvfb, the painting open as its own image and a rectangle selection on the photo
# (other-image.py drives GIMP):
#   - the 100% preview of the selection shows, pixel for pixel, what OK then gives (no shift,
#     no repeated strip);
#   - Filters ▸ Repeat takes the painting again; Re-Show chooses it again (not the photo's
#     own decoy layer);
#   - a layer added while the dialog is open is offered by every style's layer picker, and a
#     channel saved from the selection by every Channel picker, by its name;
#   - closing the painting while the dialog is open takes it out of the dialog: no layer
#     chosen, OK insensitive, a message saying so; a later Repeat fails saying so.
# TAP on stdout.
set -u
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh" "$1" "$2"
source "$here/gui.sh"

plan 14

small_runs

gui_start "$here/other-image.py"

if ! window=$(python3 "$here/x11.py" wait "Neural Style" 180 2>"$ns_work/x11.log"); then
  not_ok "the dialog opens"
  sed 's/^/# /' "$ns_work/x11.log"; show_log | tail -30
  exit 0
fi
check "the dialog offers the layer of the other image" wait_state style-layer "^painting$" 10

python3 "$here/x11.py" key "Neural Style" alt+p
area="" shows=""
if wait_state progress "^Done" 120 && sleep 1 &&
   screenshot "$window" "$ns_work/preview.png" >/dev/null; then
  area=$(state preview-area); shows=$(state preview-shows)
  ok "the 100% preview of the selection runs (area $area shows $shows)"
else
  not_ok "the 100% preview of the selection runs"; echo "# progress: $(state progress)"
fi

if press_ok; then
  read -r status changed <"$NS_MARKERS/applied"
  check "OK runs the filter with the other image's layer" [ "$status" = 3 -a "$changed" = 1 ]
  # The preview area against the layer after OK, where the preview shows it.
  comparison=$(python3 "$here/compare-preview.py" "$ns_work/preview.png" $area $shows \
                 "$NS_MARKERS/photo-before.rgb" "$NS_MARKERS/photo-after.rgb" 160 2>&1)
  check "the preview shows the selection's result where OK puts it ($comparison)" \
    [ "${comparison%% *}" = same ]
else
  not_ok "OK runs the filter with the other image's layer"; not_ok "skipped: no run"
  show_log | tail -30
fi

if wait_file "$NS_MARKERS/repeat" 240; then
  read -r status same message <"$NS_MARKERS/repeat"
  check "Repeat takes the other image's layer again (the pixels of a run naming it)" \
    [ "$status" = 3 -a "$same" = 1 ]
  [ "$status" = 3 ] || echo "# $message"
else
  not_ok "Repeat takes the other image's layer again"
fi

# Re-Show: the photo now has a decoy layer, which would be the default.
if wait_state style-layer "^painting$" 60 && python3 "$here/x11.py" wait "Neural Style" 10 \
     >/dev/null 2>>"$ns_work/x11.log"; then
  ok "Re-Show chooses the last run's layer of the other image again"
else
  not_ok "Re-Show chooses the last run's layer of the other image again"
  echo "# style-layer: $(state style-layer)"
fi

# A layer added to the painting's image (Layer ▸ New Layer…, default name) while the dialog
# is open, then undone (so that the image is clean again): the first style's picker and,
# under "More styles and regions", style 2's picker list it (their labels as the dialog
# keeps them for the tests).
painting=$(cat "$NS_MARKERS/painting")
added="\\(^\\| | \\)Layer ("
python3 "$here/x11.py" key "[Untitled]-$painting.0" shift+ctrl+n 2>>"$ns_work/x11.log" &&
  python3 "$here/x11.py" wait "New Layer" 20 >/dev/null 2>>"$ns_work/x11.log" &&
  python3 "$here/x11.py" key "New Layer" Return 2>>"$ns_work/x11.log"
if wait_state labels-style-layer "$added" 10 && wait_state labels-style-layer-2 "$added" 5; then
  ok "a layer added while the dialog is open is offered for style 1 and style 2"
  python3 "$here/x11.py" key "[Untitled]-$painting.0" ctrl+z 2>>"$ns_work/x11.log"
  layer_gone () {
    wait_no_state labels-style-layer "$added" 5 && wait_no_state labels-style-layer-2 "$added" 5
  }
  check "the layer is no longer offered once undone" layer_gone
else
  not_ok "a layer added while the dialog is open is offered for style 1 and style 2"
  not_ok "skipped: no layer offered"
  echo "# offered: $(state labels-style-layer) / $(state labels-style-layer-2)"
  sed 's/^/# /' "$ns_work/x11.log" | tail -5
fi

# Select ▸ Save to Channel on the photo (its rectangle selection) while the dialog is open,
# then undone: every style's Channel picker lists the channel by its name, as GIMP's own
# channel lists do.  GIMP shows the images as tabs of one window: Alt+1 shows the photo's.
photo=$(cat "$NS_MARKERS/photo")
channels="^Choose a channel | Selection Mask copy$"
python3 "$here/x11.py" key "[Untitled]-$painting.0" alt+1 2>>"$ns_work/x11.log" &&
  python3 "$here/x11.py" wait "[Untitled]-$photo.0" 10 >/dev/null 2>>"$ns_work/x11.log" &&
  python3 "$here/x11.py" key "[Untitled]-$photo.0" alt+s c 2>>"$ns_work/x11.log"
if wait_state labels-style-channel "$channels" 10 &&
   wait_state labels-style-channel-2 "$channels" 5 &&
   wait_state labels-style-channel-3 "$channels" 5; then
  ok "a channel saved while the dialog is open is offered by its name for every style"
  python3 "$here/x11.py" key "[Untitled]-$photo.0" ctrl+z 2>>"$ns_work/x11.log"
  check "the channel is no longer offered once undone" \
    wait_state labels-style-channel "^Choose a channel$" 5
  python3 "$here/x11.py" key "[Untitled]-$photo.0" alt+2 2>>"$ns_work/x11.log"
else
  not_ok "a channel saved while the dialog is open is offered by its name for every style"
  not_ok "skipped: no channel offered"
  echo "# offered: $(state labels-style-channel) / $(state labels-style-channel-3)"
  sed 's/^/# /' "$ns_work/x11.log" | tail -5
fi

# Close the painting's window (its image is clean: no question asked).
python3 "$here/x11.py" key "[Untitled]-$painting.0" ctrl+w 2>>"$ns_work/x11.log"
if wait_state style-layer "^$" 10 && wait_state ok-sensitive "^0" 5 &&
   wait_state status "painting” is no longer open" 5; then
  ok "closing the painting's image takes it out of the dialog and disables OK"
else
  not_ok "closing the painting's image takes it out of the dialog and disables OK"
  echo "# style-layer: '$(state style-layer)', OK sensitive: $(state ok-sensitive)"
  echo "# status: $(state status)"
fi

# OK does nothing now; Escape cancels.
python3 "$here/x11.py" key "Neural Style" Return
sleep 2
check "OK without a style layer does not run" [ ! -e "$NS_MARKERS/reshown" ]
python3 "$here/x11.py" key "Neural Style" Escape
if wait_file "$NS_MARKERS/gone" 60; then
  gone_status=$(head -n1 "$NS_MARKERS/gone")
  message=$(tail -n +2 "$NS_MARKERS/gone")
  echo "# $message"
  # 0 = GIMP_PDB_EXECUTION_ERROR
  check "Repeat after the painting was closed fails saying so" \
    bash -c '[ "$1" = 0 ] && grep -q "The style layer “painting” of the last run is no longer open" <<<"$2"' \
    _ "$gone_status" "$message"
else
  not_ok "Repeat after the painting was closed fails saying so"; show_log | tail -20
fi

check "the plug-in printed no GLib criticals or warnings" no_warnings
