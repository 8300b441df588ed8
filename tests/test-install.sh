#!/usr/bin/env bash
# tests/test-install.sh BUILD_DIR — `meson install` puts the plug-in's help where the plug-in
# registers it (help/ beside the executable): a page and a gimp-help.xml that maps the
# procedure's help id to it for each language, and the shared style sheet.  TAP on stdout.
set -u
build=$1
dest=$(mktemp -d "${TMPDIR:-/tmp}/ns-install.XXXXXX")
trap 'rm -rf "$dest"' EXIT

echo "1..3"
if meson install -C "$build" --destdir "$dest" --no-rebuild --quiet >"$dest.log" 2>&1; then
  echo "ok 1 - meson install succeeds"
else
  echo "not ok 1 - meson install succeeds"; sed 's/^/# /' "$dest.log"
fi
rm -f "$dest.log"

exe=$(find "$dest" -path '*/plug-ins/neural-style/neural-style' -type f | head -n1)
help=$(dirname "${exe:-/nonexistent/x}")/help
missing=""
for lang in en de zh_CN; do
  for f in index.html gimp-help.xml; do
    [ -s "$help/$lang/$f" ] || missing="$missing $lang/$f"
  done
  grep -q '<help-item id="plug-in-neural-style" ref="index.html"/>' "$help/$lang/gimp-help.xml" \
    2>/dev/null || missing="$missing $lang/(mapping)"
done
if [ -n "$exe" ] && [ -z "$missing" ]; then
  echo "ok 2 - each language's page and mapping are installed in ${help#$dest}"
else
  echo "not ok 2 - each language's page and mapping are installed beside the plug-in"
  echo "# plug-in: ${exe:-not installed}; missing:$missing"
fi

if [ -s "$help/style.css" ] && grep -q 'href="../style.css"' "$help/de/index.html" 2>/dev/null; then
  echo "ok 3 - the pages' shared style sheet is installed where they link it"
else
  echo "not ok 3 - the pages' shared style sheet is installed where they link it"
fi
