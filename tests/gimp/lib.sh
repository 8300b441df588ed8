# tests/gimp/lib.sh — sourced by the GIMP plug-in tests.
#
# Usage: source lib.sh PLUGIN_EXE PO_BUILD_DIR
# Makes a private GIMP profile (GIMP3_DIRECTORY, HOME, XDG_* and GIMP's cache and temp dirs
# in a temporary directory that is removed on exit), installs the freshly built plug-in into
# its plug-ins/neural-style/ with the compiled catalogs in locale/ and the help pages in
# help/, and defines:
#   gimp_batch INTERPRETER FILE   run a batch script with gimp-console-3.0 (stdout+stderr to
#                                 $NS_LOG, status returned)
#   ok / not_ok / check / plan     TAP output

ns_plugin_exe=$1
ns_po_build=$2

ns_work=$(mktemp -d "${TMPDIR:-/tmp}/ns-gimp-test.XXXXXX")
trap 'rm -rf "$ns_work"' EXIT

export GIMP3_DIRECTORY=$ns_work/profile
export HOME=$ns_work/home
export XDG_CACHE_HOME=$ns_work/cache
export XDG_CONFIG_HOME=$ns_work/config
export XDG_DATA_HOME=$ns_work/data
export GIMP3_CACHEDIR=$ns_work/cache/gimp
export GIMP3_TEMPDIR=$ns_work/tmp
export TMPDIR=$ns_work/tmp
# English unless a test asks for another language.
unset LANGUAGE LC_ALL
export LANG=C.UTF-8
# No VGG-19 weights are visible, so "auto" means the built-in network.
unset NEURAL_STYLE_WEIGHTS
export NS_LOG=$ns_work/gimp.log
mkdir -p "$GIMP3_DIRECTORY" "$HOME" "$XDG_CACHE_HOME" "$XDG_CONFIG_HOME" "$XDG_DATA_HOME" \
         "$GIMP3_CACHEDIR" "$GIMP3_TEMPDIR"

ns_plugin_dir=$GIMP3_DIRECTORY/plug-ins/neural-style
mkdir -p "$ns_plugin_dir"
cp "$ns_plugin_exe" "$ns_plugin_dir/neural-style"
for mo in "$ns_po_build"/*/LC_MESSAGES/neural-style.mo; do
  [ -f "$mo" ] || continue
  lang=$(basename "$(dirname "$(dirname "$mo")")")
  mkdir -p "$ns_plugin_dir/locale/$lang/LC_MESSAGES"
  cp "$mo" "$ns_plugin_dir/locale/$lang/LC_MESSAGES/"
done

# The help pages as meson installs them (data/help/meson.build): help/<language>/ with the
# page and gimp-help.xml, the style sheet in help/.
ns_help_src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../data/help" && pwd)
for page in "$ns_help_src"/*/index.html; do
  lang=$(basename "$(dirname "$page")")
  mkdir -p "$ns_plugin_dir/help/$lang"
  cp "$page" "$ns_help_src/gimp-help.xml" "$ns_plugin_dir/help/$lang/"
done
cp "$ns_help_src/style.css" "$ns_plugin_dir/help/"

ns_tap_n=0
ns_tap_planned=0
plan () { ns_tap_planned=$1; echo "1..$1"; }
ok () { ns_tap_n=$((ns_tap_n + 1)); echo "ok $ns_tap_n - $*"; }
not_ok () { ns_tap_n=$((ns_tap_n + 1)); echo "not ok $ns_tap_n - $*"; }
# check DESCRIPTION COMMAND...: ok when COMMAND succeeds.
check () { local d=$1; shift; if "$@"; then ok "$d"; else not_ok "$d"; fi; }

# gimp_batch INTERPRETER FILE [gimp-console args…]; within the tests' 600 s (meson.build), with
# room for a machine that other work slows down.
gimp_batch () {
  local interp=$1 file=$2; shift 2
  timeout 540 gimp-console-3.0 -i -d -f --batch-interpreter="$interp" -b - --quit "$@" \
    <"$file" >"$NS_LOG" 2>&1
}

# Prints the log indented as TAP diagnostics.
show_log () { sed 's/^/# /' "$NS_LOG"; }
