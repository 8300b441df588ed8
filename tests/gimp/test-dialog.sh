#!/usr/bin/env bash
# tests/gimp/test-dialog.sh PLUGIN_EXE PO_BUILD_DIR [SCREENSHOT] — the dialog in the real GIMP
# under Xvfb: it opens for an interactive run with the enlargement controls (GIMP finding a
# mnemonic for every control its procedure dialog makes), its status line shows the final
# run's whole plan, its preview runs on request at 100% and (after a click on "Whole layer")
# fitted, OK applies the filter, and one Ctrl+Z in the image window restores the layer, and
# its Help button opens the plug-in's own page (through GIMP's help system and web-browser
# plug-in, here to a stand-in browser that records what it was asked to open).
# The style list names layers shortly, and so does the Channel picker its channels; "Number
# of sizes" and "Memory budget" read "Automatic" at 0, "Get VGG-19…" downloads a stand-in
# checkpoint from a file:// URL and switches the network to VGG-19, and Stop right after
# Preview stops it.  Then the dialog opens again in German and in Chinese, where the status
# line (the plan included) is in that language.
# Saves a screenshot of the dialog showing the whole layer (to SCREENSHOT,
# default: dialog.png in the current directory; the 100% view beside it as *-100.png, the
# German and Chinese dialogs as *-de.png and *-zh_CN.png, the open "More styles and regions"
# with the first style on a channel, previewed, as *-regions.png).
# What the dialog shows is read from the state file it keeps for tests
# ($NS_PLUGIN_DIALOG_STATE).  TAP on stdout.
#
# Picture mode NS_DIALOG_LARGE=PHOTO (e.g. a 3840×2160 photo from _build/large-photos/,
# data/large/photos.tsv; NS_STYLE: the painting, default data/samples/style-starry-night.jpg;
# NS_DIALOG_LARGE_OUT: a folder, default large-out in the current directory) runs instead:
# the photo with the product's defaults (no last values), the dialog's screenshot with its
# plan and the preview fitted to the whole layer, OK, a wait of up to an hour for the run,
# then the stylized layer as result.png, the image window at 100% where View ▸ Zoom ▸ 1:1
# puts it and on the top-left and bottom-right corners (window-100-*.png), the plan's text
# (status.txt) and the wall time and the plug-in's peak RSS (numbers.txt).  See large.sh.
set -u
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh" "$1" "$2"
source "$here/gui.sh"
shot=${3:-$PWD/dialog.png}

if [ -n "${NS_DIALOG_LARGE:-}" ]; then
  source "$here/large.sh"
fi

plan 22

# Small values for the run started by OK (GIMP shows the last used values in the dialog);
# the 160×120 layer is optimised at 64 px, then enlarged and refined.
# NS_DIALOG_SCREENSHOT=1 (for the README's picture) keeps the defaults, waits
# NS_DIALOG_PREVIEW_WAIT seconds into the 100% preview, takes the screenshot and stops there.
if [ "${NS_DIALOG_SCREENSHOT:-0}" != 1 ]; then
  small_runs
fi

# The dialog in another language, with the small runs' settings: its status line (the
# network, what the run does, its plan) must have all of WORDS and none of the English
# plan's words.  Its screenshot goes beside SCREENSHOT.  In screenshot mode: the defaults,
# no check, the preview run for NS_DIALOG_PREVIEW_WAIT seconds, the screenshot to SCREENSHOT.
english='iteration|enlarged|refined|estimated|memory|budget|expected time|whole image|tiles'
# The catalog's LANGUAGE word for MSGID.
translated () {
  python3 -c 'import gettext, sys
t = gettext.translation("neural-style", sys.argv[1], [sys.argv[2]], fallback=True)
print(t.gettext(sys.argv[3]))' "$ns_plugin_dir/locale" "$1" "$2"
}
dialog_in () {
  local language=$1 locale=$2 words=${3:-} window status missing="" word title key
  local screenshot_mode=${NS_DIALOG_SCREENSHOT:-0}
  title=$(translated "$language" "Neural Style")
  gui_stop_gimp
  [ "$screenshot_mode" = 1 ] || small_runs
  rm -f "$NS_PLUGIN_DIALOG_STATE"
  export NS_MARKERS=$ns_work/markers-$language
  mkdir -p "$NS_MARKERS"
  LANGUAGE=$language LANG=$locale LC_ALL=$locale NS_LOG=$ns_work/gimp-$language.log \
    gui_start "$here/dialog.py"
  if ! window=$(python3 "$here/x11.py" wait "$title" 180 2>>"$ns_work/x11.log"); then
    not_ok "in $language the dialog's status line is in $language: no dialog"
    tail -20 "$ns_work/gimp-$language.log" | sed 's/^/# /'
    return
  fi
  if [ "$screenshot_mode" = 1 ]; then
    # Preview's mnemonic in this language: "_Vorschau", "预览(_P)".
    key=$(translated "$language" "_Preview" | sed 's/.*_\(.\).*/\1/' | tr '[:upper:]' '[:lower:]')
    wait_state status "MiB" 90
    python3 "$here/x11.py" key "$title" "alt+$key"
    sleep "${NS_DIALOG_PREVIEW_WAIT:-8}"
    echo "# screenshot: $shot ($(screenshot "$window" "$shot") colours)"
    return
  fi
  # The plan's last part, the expected time, comes from an estimate in the background.
  wait_state status "${words##* }" 90
  status=$(state status)
  for word in $words; do
    grep -q -- "$word" <<<"$status" || missing="$missing $word"
  done
  if [ -z "$missing" ] && ! grep -Eq -- "$english" <<<"$status"; then
    ok "in $language the dialog's status line is in $language"
  else
    not_ok "in $language the dialog's status line is in $language (missing:$missing)"
    echo "# status: $status"
  fi
  screenshot "$window" "${shot%.png}-$language.png" >/dev/null
}

# NS_DIALOG_LOCALE (de_DE.UTF-8, zh_CN.UTF-8) with NS_DIALOG_SCREENSHOT=1 makes the picture
# in that language instead.
if [ "${NS_DIALOG_SCREENSHOT:-0}" = 1 ] && [ -n "${NS_DIALOG_LOCALE:-}" ]; then
  dialog_in "${NS_DIALOG_LOCALE%%.*}" "$NS_DIALOG_LOCALE"
  exit 0
fi

# The stand-in browser: the default application for HTML in this profile.
mkdir -p "$XDG_DATA_HOME/applications"
printf '#!/bin/sh\necho "$1" >"%s/help-uri"\n' "$NS_MARKERS" >"$ns_work/browser"
chmod +x "$ns_work/browser"
printf '[Desktop Entry]\nType=Application\nName=Test browser\nExec=%s %%u\nMimeType=text/html;\n' \
  "$ns_work/browser" >"$XDG_DATA_HOME/applications/ns-test-browser.desktop"
printf '[Default Applications]\ntext/html=ns-test-browser.desktop\n' >"$XDG_CONFIG_HOME/mimeapps.list"

# What "Get VGG-19…" downloads: a checkpoint of VGG-19's shapes, from a file:// URL.
python3 "$here/vgg19_fixture.py" "$ns_work/vgg19-source.safetensors"
export NS_PLUGIN_WEIGHTS_URL=file://$ns_work/vgg19-source.safetensors
export NS_PLUGIN_WEIGHTS_SHA256=$(sha256sum "$ns_work/vgg19-source.safetensors" | cut -d' ' -f1)

gui_start "$here/dialog.py"

if window=$(python3 "$here/x11.py" wait "Neural Style" 180 2>"$ns_work/x11.log"); then
  ok "the dialog opens in an interactive run (window $window)"
else
  not_ok "the dialog opens in an interactive run"
  sed 's/^/# /' "$ns_work/x11.log"; show_log | tail -30
  for i in $(seq 2 20); do not_ok "skipped: no dialog"; done
  exit 0
fi

if [ "$(state control-upscale)" = "Enlargement _quality" ] &&
   [ "$(state control-refine-iterations)" = "E_xtra iterations at full size" ]; then
  ok "the dialog has the Enlargement quality and Extra iterations controls"
else
  not_ok "the dialog has the Enlargement quality and Extra iterations controls"
  sed 's/^/# /' "$NS_PLUGIN_DIALOG_STATE"
fi

# "padding" (the procedure's last argument) is among the advanced controls, with the one
# mnemonic letter left.
if [ "$(state control-padding)" = "Ad_just the edges" ]; then
  ok "the dialog has the edge padding control (Ad_just the edges)"
else
  not_ok "the dialog has the edge padding control"; echo "# label: $(state control-padding)"
fi

# libgimp's procedure dialog wants a mnemonic of its own for every control it makes, and says
# so on stderr ("Procedure '…': no mnemonic for property …", "duplicate mnemonic …").
mnemonics=$(grep -E "^Procedure 'plug-in-neural-style': .*mnemonic" "$NS_LOG")
check "every control the procedure dialog makes has a mnemonic of its own" [ -z "$mnemonics" ]
[ -z "$mnemonics" ] || sed 's/^/# /' <<<"$mnemonics"

# The layer beside the one painted, and the painting in an image of its own, in any order.
labels=$(state labels-style-layer | sed 's/ | /\n/g' | sort | tr '\n' '|')
want=$(printf '%s\n' "painting ($(cat "$NS_MARKERS/painting-image" 2>/dev/null))" style | sort | tr '\n' '|')
check "the style list shows layer names, and the image's only for another image ($labels)" \
  [ "$labels" = "$want" ]
# dialog.py saved a selection as the channel "left".
channels=$(state labels-style-channel)
check "the Channel picker names the image's channels as GIMP does ($channels)" \
  [ "$channels" = "Choose a channel | left" ]
if [ "$(state control-scales-text)" = Automatic ] && [ "$(state control-max-memory-text)" = Automatic ]; then
  ok "\"Number of sizes\" and \"Memory budget\" say Automatic at 0"
else
  not_ok "\"Number of sizes\" and \"Memory budget\" say Automatic at 0"
  echo "# $(state control-scales-text) / $(state control-max-memory-text)"
fi

# Alt+H is the dialog's Help button.
[ "${NS_DIALOG_SCREENSHOT:-0}" = 1 ] || python3 "$here/x11.py" key "Neural Style" alt+h
if [ "${NS_DIALOG_SCREENSHOT:-0}" = 1 ]; then
  : "no browser in the picture"
elif wait_file "$NS_MARKERS/help-uri" 30 &&
   [ "$(sed 's|^file://||' "$NS_MARKERS/help-uri")" = "$ns_plugin_dir/help/en/index.html" ]; then
  ok "Help opens the plug-in's own page ($(cat "$NS_MARKERS/help-uri"))"
else
  not_ok "Help opens the plug-in's own page"
  echo "# opened: $(cat "$NS_MARKERS/help-uri" 2>/dev/null)"
fi

# The plan comes from an estimate in the background.
refined="then enlarged to 160×120, guided by the full-size image; refined there in 8 iterations"
if wait_state status "expected time about" 60 &&
   state status | grep -q "Optimized at 64 px, then enlarged to 160×120 and refined: about" &&
   state status | grep -q "Optimizing at full size instead would take about" &&
   state status | grep -q "$refined"; then
  ok "the status line shows what the run will do, the full-size time and the whole plan"
else
  not_ok "the status line shows what the run will do, the full-size time and the whole plan"
  echo "# status: $(state status)"
fi

# "Get VGG-19…" has no mnemonic (every letter is taken): click it where the dialog says it is.
# (Not for the README's picture, which shows the dialog as a new user first sees it.)
geometry=($(state weights-button))
if [ "${NS_DIALOG_SCREENSHOT:-0}" = 1 ]; then
  : "the picture comes next"
elif [ "$(state weights)" = missing ] && [ ${#geometry[@]} = 4 ] &&
   python3 "$here/x11.py" click "Neural Style" $((geometry[0] + geometry[2] / 2)) \
     $((geometry[1] + geometry[3] / 2)) 2>>"$ns_work/x11.log" &&
   wait_state weights "VGG-19 is installed" 60 && wait_state status "Network: VGG-19" 30 &&
   [ -s "$XDG_DATA_HOME/neural-style/vgg19.safetensors" ]; then
  ok "\"Get VGG-19…\" downloads and checks the weights and switches the network to VGG-19"
else
  not_ok "\"Get VGG-19…\" downloads and checks the weights and switches the network to VGG-19"
  echo "# button at: ${geometry[*]}; weights: $(state weights); status: $(state status)"
fi

# Stop right after Preview (Alt+T: "S_top"), while the run starts.
[ "${NS_DIALOG_SCREENSHOT:-0}" = 1 ] || python3 "$here/x11.py" key "Neural Style" alt+p alt+t
start=$(date +%s)
if [ "${NS_DIALOG_SCREENSHOT:-0}" = 1 ]; then
  : "the picture comes next"
elif wait_state progress "^Stopped" 30; then
  ok "Stop during the start stops the preview ($(($(date +%s) - start)) s)"
else
  not_ok "Stop during the start stops the preview"; echo "# progress: $(state progress)"
fi

sleep 1
# The preview runs only when asked: Alt+P is the dialog's "Preview" button.
python3 "$here/x11.py" key "Neural Style" alt+p
if [ "${NS_DIALOG_SCREENSHOT:-0}" = 1 ]; then
  sleep "${NS_DIALOG_PREVIEW_WAIT:-8}"
  echo "# screenshot: $shot ($(screenshot "$window" "$shot") colours)"
  exit 0
fi
if wait_state progress "^Done" 120; then
  ok "the 100% preview runs (last progress: $(state progress))"
else
  not_ok "the 100% preview runs"; echo "# progress: $(state progress)"
fi
sleep "${NS_DIALOG_PREVIEW_WAIT:-1}"
screenshot "$window" "${shot%.png}-100.png" >/dev/null

# "More styles and regions" (no mnemonic: every letter is taken) opens on a click and shows
# the styles' rows.
geometry=($(state regions-expander))
if [ ${#geometry[@]} = 4 ] &&
   python3 "$here/x11.py" click "Neural Style" $((geometry[0] + 20)) $((geometry[1] + 10)) \
     2>>"$ns_work/x11.log" &&
   wait_state regions-expanded "^1" 10; then
  sleep 1
  ok "\"More styles and regions\" opens"
else
  not_ok "\"More styles and regions\" opens"
  echo "# expander at: ${geometry[*]}, expanded: $(state regions-expanded)"
fi

# The first style's Region set to Channel and the channel "left" (dialog.py) chosen, both
# with the mouse and the open combo's menu; then Preview runs with a region.
click_at () {
  local g=($(state "$1"))
  [ ${#g[@]} = 4 ] &&
    python3 "$here/x11.py" click "Neural Style" $((g[0] + g[2] * 3 / 4)) $((g[1] + g[3] / 2)) \
      2>>"$ns_work/x11.log" && sleep 1
}
if click_at style-1-region && python3 "$here/x11.py" press End Up Return &&
   wait_state style-1-region-kind "^channel" 10 && sleep 1 &&
   click_at style-1-channel && python3 "$here/x11.py" press End Return && sleep 1 &&
   python3 "$here/x11.py" key "Neural Style" alt+p &&
   wait_state preview-styles "^1 styles, regions yes" 30 && wait_state progress "^Done" 120; then
  sleep "${NS_DIALOG_PREVIEW_WAIT:-1}"
  colours=$(screenshot "$window" "${shot%.png}-regions.png")
  ok "Region: Channel with a channel chosen in the dialog previews with a region ($colours colours)"
else
  not_ok "Region: Channel with a channel chosen in the dialog previews with a region"
  echo "# region: $(state style-1-region-kind); preview: $(state preview-styles); progress: $(state progress); status: $(state status)"
fi

# "Whole layer" has no mnemonic (every letter is taken): click it where the dialog says it is.
geometry=($(state whole-layer-toggle))
if [ ${#geometry[@]} = 4 ] &&
   python3 "$here/x11.py" click "Neural Style" $((geometry[0] + 10)) \
     $((geometry[1] + geometry[3] / 2)) 2>>"$ns_work/x11.log" &&
   wait_state whole-layer "^1" 10; then
  python3 "$here/x11.py" key "Neural Style" alt+p
  if wait_state progress "^Done" 120 && wait_state whole-layer-shown "[0-9]" 5; then
    ok "\"Whole layer\" shows the whole layer stylized ($(state whole-layer-shown) px)"
  else
    not_ok "\"Whole layer\" shows the whole layer stylized"; echo "# progress: $(state progress)"
  fi
else
  not_ok "\"Whole layer\" shows the whole layer stylized"
  echo "# toggle at: ${geometry[*]}, whole-layer: $(state whole-layer)"
fi

sleep "${NS_DIALOG_PREVIEW_WAIT:-1}"
colours=$(screenshot "$window" "$shot")
import -window root "$ns_work/root.png" 2>>"$ns_work/x11.log"
if [ "${colours:-0}" -gt 50 ]; then
  ok "a screenshot of the dialog was taken ($shot, $colours colours)"
else
  not_ok "a screenshot of the dialog was taken"; echo "# colours: $colours"
fi

if press_ok; then
  read -r status changed <"$NS_MARKERS/applied"
  # 0 = GIMP_PDB_EXECUTION_ERROR … 3 = GIMP_PDB_SUCCESS
  check "OK runs the filter: the interactive run succeeds" [ "$status" = 3 ]
  check "the interactive run changed the layer" [ "$changed" = 1 ]
else
  not_ok "OK runs the filter: the interactive run succeeds"; not_ok "the interactive run changed the layer"
  show_log | tail -30
fi

# The image window is titled after the image, "[Untitled]-1.0 (…) – GIMP".
python3 "$here/x11.py" key "[Untitled]" ctrl+z 2>>"$ns_work/x11.log"
touch "$NS_MARKERS/undone"
if wait_file "$NS_MARKERS/result" 60; then
  check "one Ctrl+Z (undo) restores the original pixels" [ "$(cat "$NS_MARKERS/result")" = 1 ]
else
  not_ok "one Ctrl+Z (undo) restores the original pixels"
fi

check "the plug-in printed no GLib criticals or warnings" no_warnings
grep -i "neural\|DEBUG" "$NS_LOG" | grep -iv "catalog\|localization\|set_i18n" | head -20 | sed 's/^/# /'

dialog_in de de_DE.UTF-8 \
  "Netz: Optimiert Iterationen Schritten vergrößert verfeinert Spitzen-Speicherbedarf Dauer"
dialog_in zh_CN zh_CN.UTF-8 "网络： 计划： 次迭代 放大到 细化 内存峰值 预计耗时"
