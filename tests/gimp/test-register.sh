#!/usr/bin/env bash
# tests/gimp/test-register.sh PLUGIN_EXE PO_BUILD_DIR — GIMP registers plug-in-neural-style
# with its menu path, label, image types, help text and exactly the documented arguments, and
# plug-in-neural-style-frames (Filters ▸ Animation) with the same arguments but "output",
# plus "temporal-weight", "later-iterations" and "later-all-sizes"; with LANGUAGE=zh_CN (and de) the menu labels are translated; its
# help domain is the help/ folder beside it, where each language's gimp-help.xml maps the
# procedures to their own page.
# TAP on stdout.
set -u
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh" "$1" "$2"

rc=$GIMP3_DIRECTORY/pluginrc
field () { python3 "$here/pluginrc.py" "$rc" "$1"; }
echo 'print("started")' >"$ns_work/start.py"

plan 22

gimp_batch python-fu-eval "$ns_work/start.py"
status=$?
check "gimp-console-3.0 starts with the plug-in installed" [ $status -eq 0 ]
[ $status -eq 0 ] || show_log

check "plug-in-neural-style is in pluginrc" grep -q '(proc-def "plug-in-neural-style"' "$rc"

check "the menu path is <Image>/Filters/Artistic" [ "$(field menu-path)" = "<Image>/Filters/Artistic" ]
check "the menu label is \"Neural _Style…\"" [ "$(field menu-label)" = "Neural _Style…" ]
check "the image types are RGB*, GRAY*" [ "$(field image-types)" = "RGB*, GRAY*" ]

common="run-mode image drawables style-layer content-weight style-weight tv-weight iterations
size preserve-colors style-scale optimizer init seed network output max-memory scales upscale
refine-iterations"
# Styles and their regions (plugin/regions.h), only on the single procedure.
regions="style-weight-1 style-region style-channel style-mask-layer
style-layer-2 style-weight-2 style-region-2 style-channel-2 style-mask-layer-2
style-layer-3 style-weight-3 style-region-3 style-channel-3 style-mask-layer-3 region-rest"
regions_re='^(style-weight-[0-9]|style-region|style-channel|style-mask-layer|style-layer-[0-9]|region-rest)'
# "padding" (the edge padding) was appended last, to both procedures.
expected="$common $regions padding"
actual=$(field args | tr '\n' ' ' | sed 's/ $//')
if [ "$actual" = "$(echo $expected)" ]; then
  ok "the arguments are exactly: $(echo $expected)"
else
  not_ok "the arguments are exactly the documented ones"
  echo "# got: $actual"
fi

defaults=$(field defaults)
default () { sed -n "s/^$1=//p" <<<"$defaults"; }
# The weights are on one scale for every network: the same defaults whichever network GIMP
# found when it registered the plug-in (α 1, β 1e6, TV 1).
if [ "$(default network)" = '"auto"' ] && [ "$(default output)" = '"replace"' ] &&
   [ "$(default optimizer)" = '"lbfgs"' ] && [ "$(default init)" = '"content"' ] &&
   [ "$(default max-memory)" = 0 ] && [ "$(default scales)" = 0 ] &&
   [ "$(default upscale)" = '"refine"' ] && [ "$(default refine-iterations)" = 8 ] &&
   awk -v a="$(default content-weight)" -v b="$(default style-weight)" \
       -v t="$(default tv-weight)" 'BEGIN { exit !(a == 1 && b == 1e6 && t == 1) }'; then
  ok "defaults: auto network, replace, lbfgs, content start, weights 1/1e6/1, automatic memory and sizes, refine with 8 iterations"
else
  not_ok "defaults: auto network, replace, lbfgs, content start, weights 1/1e6/1, automatic memory and sizes, refine with 8 iterations"
  sed 's/^/# /' <<<"$defaults"
fi
if [ "$(default style-region)" = '"everywhere"' ] && [ "$(default style-region-3)" = '"everywhere"' ] &&
   [ "$(default region-rest)" = '"content"' ] && [ "$(default style-weight-2)" = 1 ]; then
  ok "regions' defaults: everywhere, the rest content only, blend weights 1"
else
  not_ok "regions' defaults: everywhere, the rest content only, blend weights 1"
  grep -E "$regions_re" <<<"$defaults" | sed 's/^/# /'
fi

# The frames procedure: the same arguments but "output" (frames are replaced), then γ and
# what the later frames run, then the padding.
frames_field () { NS_PROC=plug-in-neural-style-frames python3 "$here/pluginrc.py" "$rc" "$1"; }
check "plug-in-neural-style-frames is in pluginrc" \
  grep -q '(proc-def "plug-in-neural-style-frames"' "$rc"
check "its menu path is <Image>/Filters/Animation" \
  [ "$(frames_field menu-path)" = "<Image>/Filters/Animation" ]
check "its menu label is \"_Neural Style (frames)…\"" \
  [ "$(frames_field menu-label)" = "_Neural Style (frames)…" ]
frames_expected=$(echo $common | sed 's/ output / /')" temporal-weight later-iterations later-all-sizes padding"
actual=$(frames_field args | tr '\n' ' ' | sed 's/ $//')
if [ "$actual" = "$frames_expected" ]; then
  ok "its arguments are exactly: $frames_expected"
else
  not_ok "its arguments are exactly the documented ones"
  echo "# got: $actual"
fi
# Every default it shares is the single procedure's; γ's and the later frames' are the
# engine's.
frames_defaults=$(frames_field defaults)
later=$(sed -n 's/^#define NS_LATER_ITERATIONS_DEFAULT *\([0-9.e+]*\).*/\1/p' \
          "$here/../../engine/neural-style.h")
all_sizes=$(sed -n 's/^#define NS_LATER_COARSE_SIZES_DEFAULT *\(TRUE\|FALSE\).*/\1/p' \
              "$here/../../engine/neural-style.h" | sed 's/TRUE/1/; s/FALSE/0/')
check "its later frames' defaults are the engine's: iterations $later, every size $all_sizes" \
  awk -v a="$(sed -n 's/^later-iterations=//p' <<<"$frames_defaults")" -v b="$later" \
      -v c="$(sed -n 's/^later-all-sizes=//p' <<<"$frames_defaults")" -v d="$all_sizes" \
      'BEGIN { exit !(b != "" && a == b && d != "" && c == d) }'
frames_defaults=$(grep -v -E '^later-(iterations|all-sizes)=' <<<"$frames_defaults")
shared=$(grep -v -E '^output=|'"$regions_re" <<<"$defaults")
gamma=$(sed -n 's/^#define NS_TEMPORAL_WEIGHT_DEFAULT *\([0-9.e+]*\).*/\1/p' \
          "$here/../../engine/neural-style.h")
if [ "$(grep -v '^temporal-weight=' <<<"$frames_defaults")" = "$shared" ] &&
   awk -v a="$(sed -n 's/^temporal-weight=//p' <<<"$frames_defaults")" -v b="$gamma" \
     'BEGIN { exit !(b != "" && a == b) }'; then
  ok "its defaults are the single procedure's, and temporal-weight the engine's $gamma"
else
  not_ok "its defaults are the single procedure's, and temporal-weight the engine's ($gamma)"
  diff <(echo "$shared") <(echo "$frames_defaults") | sed 's/^/# /'
fi
check "its image types are RGB*, GRAY*" [ "$(frames_field image-types)" = "RGB*, GRAY*" ]

check "the help text tells how to get the weights (neural-style --download-weights)" \
  bash -c "python3 '$here/pluginrc.py' '$rc' help | grep -q 'neural-style --download-weights'"

check "the gettext catalogs are installed beside the plug-in" \
  test -f "$ns_plugin_dir/locale/zh_CN/LC_MESSAGES/neural-style.mo" -a \
       -f "$ns_plugin_dir/locale/de/LC_MESSAGES/neural-style.mo"

check "the help domain \"neural-style\" is the plug-in's help/ folder" \
  [ "$(field help-domain)" = "neural-style file://$ns_plugin_dir/help" ]

# The page each language gets, and that it is in that language.
pages=""
for lang in en de zh_CN; do
  page=$(python3 "$here/pluginrc.py" "$rc" help-page $lang)
  grep -q "<html lang=\"${lang/_/-}\">" "$page" 2>/dev/null && pages="$pages $lang"
done
check "the help id resolves to an installed page in English, German and Chinese:$pages" \
  [ "$pages" = " en de zh_CN" ]
pages=""
for lang in en de zh_CN; do
  page=$(NS_PROC=plug-in-neural-style-frames python3 "$here/pluginrc.py" "$rc" help-page $lang)
  grep -q 'id="frames"' "$page" 2>/dev/null && pages="$pages $lang"
done
check "the frames procedure's help id resolves to its section in English, German and Chinese:$pages" \
  [ "$pages" = " en de zh_CN" ]

# GIMP asks the plug-in again when its file changes; the labels are translated at that time.
expected_label () {
  python3 -c 'import gettext, sys
t = gettext.translation("neural-style", sys.argv[1], [sys.argv[2]])
print(t.gettext(sys.argv[3]))' "$ns_plugin_dir/locale" "$1" "$2"
}
for lang in zh_CN:zh_CN.UTF-8 de:de_DE.UTF-8; do
  language=${lang%%:*} locale=${lang#*:}
  touch "$ns_plugin_dir/neural-style"
  LANGUAGE=$language LANG=$locale LC_ALL=$locale gimp_batch python-fu-eval "$ns_work/start.py"
  label=$(field menu-label) frames_label=$(frames_field menu-label)
  want=$(expected_label "$language" "Neural _Style…")
  frames_want=$(expected_label "$language" "_Neural Style (frames)…")
  if [ -n "$want" ] && [ "$want" != "Neural _Style…" ] && [ "$label" = "$want" ] &&
     [ "$frames_want" != "_Neural Style (frames)…" ] && [ "$frames_label" = "$frames_want" ]; then
    ok "with LANGUAGE=$language the menu labels are translated: $label, $frames_label"
  else
    not_ok "with LANGUAGE=$language the menu labels are translated"
    echo "# got '$label' and '$frames_label', catalog says '$want' and '$frames_want'"
    show_log | tail -20
  fi
done
