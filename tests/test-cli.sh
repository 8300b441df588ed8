#!/usr/bin/env bash
# test-cli.sh — end-to-end tests of the neural-style command (TAP).
#
#   bash tests/test-cli.sh BUILT/neural-style BUILT/make-image
#
# make-image writes the inputs and inspects the outputs with plain libpng/libjpeg, so the
# reader and writer under test are never used to check themselves.  Runs use the embedded
# network at 64 px with a handful of iterations to stay fast.
set -u

NS=$(realpath "$1")
MK=$(realpath "$2")
T=$(mktemp -d "${TMPDIR:-/tmp}/test-cli.XXXXXX")
trap 'rm -rf "$T"' EXIT
# Never pick up a user's real weights or data directory.
unset NEURAL_STYLE_WEIGHTS
export XDG_DATA_HOME=$T/xdg XDG_DATA_DIRS=$T/nowhere LC_ALL=C.UTF-8

n=0
failed=0
ok () { n=$((n + 1)); echo "ok $n - $1"; }
not_ok () { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; shift; for l in "$@"; do echo "# $l"; done; }
check () { # check DESCRIPTION 'SHELL CONDITION'
  if eval "$2"; then ok "$1"; else not_ok "$1" "failed: $2" "stderr: $(head -c 600 "$T/err" 2>/dev/null)"; fi
}

# Width, height, bit depth and colour type straight from the PNG signature and IHDR bytes.
png_header () {
  local sig
  sig=$(od -An -tx1 -N8 "$1" | tr -d ' \n')
  [ "$sig" = 89504e470d0a1a0a ] || { echo "not-png"; return; }
  od -An -tu1 -j16 -N10 "$1" | awk '{ printf "%d %d %d %d\n", $1*16777216+$2*65536+$3*256+$4,
                                              $5*16777216+$6*65536+$7*256+$8, $9, $10 }'
}

# run ARGS… : runs neural-style with stderr to $T/err, stdout to $T/out; sets $rc.
run () { "$NS" "$@" >"$T/out" 2>"$T/err"; rc=$?; }
fast=(--network embedded --size 64 --iterations 4 --threads 1)

# Approximate comparison: |a − b| ≤ tol.
near () { awk -v a="$1" -v b="$2" -v t="$3" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= t) }'; }

# ---- inputs ---------------------------------------------------------------------------------
"$MK" png  "$T/content.png"    80 60 rgb 8
"$MK" png  "$T/content16.png"  64 48 rgb 16
"$MK" png  "$T/content-a.png"  80 60 rgba 8
"$MK" png  "$T/grey-a16.png"   48 64 graya 16
"$MK" jpeg "$T/content.jpg"    96 72 rgb
"$MK" jpeg "$T/rotated.jpg"    96 72 rgb 6     # EXIF: shown turned 90° clockwise, 72×96
"$MK" png  "$T/style.png"      64 64 rgb 8
"$MK" png  "$T/style-pal.png"  48 48 palette 8
"$MK" jpeg "$T/style-grey.jpg" 48 48 gray
"$MK" jpeg "$T/cmyk.jpg"       48 48 cmyk
head -c 100 "$T/content.png" >"$T/truncated.png"
head -c 400 "$T/content.jpg" >"$T/truncated.jpg"
echo "this is not an image" >"$T/text.png"
head -c 4096 /dev/urandom >"$T/bad.safetensors"

# ---- information ----------------------------------------------------------------------------
run --version
check "--version prints the version" \
  '[ "$rc" = 0 ] && grep -Eq "^neural-style [0-9]+\.[0-9]+\.[0-9]+$" "$T/out"'

run --help
check "--help exits 0 and lists the options" \
  '[ "$rc" = 0 ] && grep -q -- "--preserve-colors" "$T/out" && grep -q -- "--download-weights" "$T/out" &&
   grep -q -- "--overwrite-input" "$T/out" && grep -q "143 terminated" "$T/out"'

run --print-weights-path
check "--print-weights-path names the download destination under XDG_DATA_HOME" \
  '[ "$rc" = 0 ] && [ "$(cat "$T/out")" = "$T/xdg/neural-style/vgg19.safetensors" ]'

# ---- real runs ------------------------------------------------------------------------------
run "$T/content.png" "$T/style.png" "${fast[@]}" -o "$T/out.png"
check "RGB run exits 0" '[ "$rc" = 0 ]'
run "$T/content.png" "$T/style.png" "${fast[@]}" --padding zero -o "$T/pad-zero.png"
run2_rc=$rc
run "$T/content.png" "$T/style.png" "${fast[@]}" --padding replicate -o "$T/pad-replicate.png"
check "--padding zero and replicate both run, with different results" \
  '[ "$run2_rc" = 0 ] && [ "$rc" = 0 ] && ! near "$("$MK" diff "$T/pad-zero.png" "$T/pad-replicate.png")" 0 1e-4'
check "RGB run writes a 64×48 8-bit RGB PNG (content 80×60, --size 64)" \
  '[ "$(png_header "$T/out.png")" = "64 48 8 2" ]'
check "the result is an image, not a constant" \
  'read -r _ _ _ _ sd < <("$MK" info "$T/out.png") && near "$sd" 0.25 0.23'
# Temporaries are OUT.png.XXXXXX.tmp (unique, created exclusively).
no_temporaries () { # DIR : no *.tmp or *.part in DIR
  ! compgen -G "$1/*.tmp" >/dev/null && ! compgen -G "$1/*.part" >/dev/null
}
check "no temporary file is left next to the output" 'no_temporaries "$T"'
check "the run names the network it uses" 'grep -q "^neural-style: using .*built-in" "$T/err"'

# With the style and TV weights at 0 the content loss is 0 at the content-initialised start,
# so the result is the content itself: this checks the pixels of the whole file path.
same_pixel () { # FILE-A FILE-B X Y TOLERANCE
  local a b
  a=$("$MK" pixel "$1" "$3" "$4") && b=$("$MK" pixel "$2" "$3" "$4") &&
  paste <(tr ' ' '\n' <<<"$a") <(tr ' ' '\n' <<<"$b") |
    awk -v t="$5" '{ d = $1 - $2; if (d < 0) d = -d; if (d > t) bad = 1 } END { exit bad || NR == 0 }'
}
identity=(--network embedded --iterations 2 --threads 1 --style-weight 0 --tv-weight 0)

run "$T/content.png" "$T/style.png" "${identity[@]}" --size 64 -o "$T/ref.png"
check "the style changed the picture (mean |stylized − content| > 0.005; style weight 0 gives the content)" \
  '[ "$rc" = 0 ] && d=$("$MK" diff "$T/out.png" "$T/ref.png") && near "$d" 0.5 0.495'

run "$T/content16.png" "$T/style.png" "${identity[@]}" --size 64 -o "$T/out16.png"
check "16-bit content gives a 16-bit PNG" \
  '[ "$rc" = 0 ] && [ "$(png_header "$T/out16.png")" = "64 48 16 2" ]'
check "16-bit values survive to 1/65535 (beyond 8-bit precision)" \
  'same_pixel "$T/content16.png" "$T/out16.png" 0 0 2e-5 && same_pixel "$T/content16.png" "$T/out16.png" 13 7 2e-5 &&
   same_pixel "$T/content16.png" "$T/out16.png" 63 47 2e-5'

run "$T/content-a.png" "$T/style.png" "${fast[@]}" -o "$T/out-a.png"
check "RGBA content gives an RGBA PNG of the requested size" \
  '[ "$rc" = 0 ] && [ "$(png_header "$T/out-a.png")" = "64 48 8 6" ]'
# The content's alpha is 1 on the left half and 0.25 on the right half.
alpha_left=$("$MK" pixel "$T/out-a.png" 2 24 | awk '{ print $4 }')
alpha_right=$("$MK" pixel "$T/out-a.png" 61 24 | awk '{ print $4 }')
check "alpha is kept: opaque left (${alpha_left:-?}), quarter-opaque right (${alpha_right:-?})" \
  'near "${alpha_left:-x}" 1.0 0.002 && near "${alpha_right:-x}" 0.25 0.01'

run "$T/grey-a16.png" "$T/style.png" "${identity[@]}" --size 64 -o "$T/out-ga.png"
check "16-bit grey+alpha content gives 16-bit RGBA (portrait 48×64)" \
  '[ "$rc" = 0 ] && [ "$(png_header "$T/out-ga.png")" = "48 64 16 6" ]'
# Grey g with alpha a must come back as (g, g, g, a), exactly at 16 bits.
grey_as_rgba () { # X Y
  local g a
  read -r g a < <("$MK" pixel "$T/grey-a16.png" "$1" "$2") || return 1
  read -r r gr b al < <("$MK" pixel "$T/out-ga.png" "$1" "$2") || return 1
  near "$r" "$g" 2e-5 && near "$gr" "$g" 2e-5 && near "$b" "$g" 2e-5 && near "$al" "$a" 2e-5
}
check "grey becomes equal R, G, B and the alpha is unchanged" 'grey_as_rgba 3 5 && grey_as_rgba 40 60'

# make-image's pattern at (9,41) of 48×48 is (0.15 + 0.6·9/48, 0.15 + 0.6·41/48, 0.15 + 0.6·50/96).
run "$T/cmyk.jpg" "$T/style.png" "${identity[@]}" --size 48 -o "$T/out-cmyk.png"
check "an Adobe CMYK JPEG is read as its RGB colours" \
  '[ "$rc" = 0 ] && read -r r g b < <("$MK" pixel "$T/out-cmyk.png" 9 41) &&
   near "$r" 0.2625 0.03 && near "$g" 0.6625 0.03 && near "$b" 0.4625 0.03'

# make-image's palette: index i = 4·(4x/w) … is coloured ((i&3)·80, (i>>2&3)·80, (i>>4&3)·80);
# at (13,30) of 48×48 that is index 41 → (80, 160, 160).
run "$T/style-pal.png" "$T/style.png" "${identity[@]}" --size 48 -o "$T/out-pal.png"
check "palette content becomes its RGB colours" \
  '[ "$rc" = 0 ] && [ "$(png_header "$T/out-pal.png")" = "48 48 8 2" ] &&
   read -r r g b < <("$MK" pixel "$T/out-pal.png" 13 30) &&
   near "$r" 0.313725 0.001 && near "$g" 0.627451 0.001 && near "$b" 0.627451 0.001'

# Stored 96×72 with red rising left to right and green top to bottom; EXIF orientation 6
# shows it turned clockwise, so the result's top left is the stored bottom left.
run "$T/rotated.jpg" "$T/style-grey.jpg" "${identity[@]}" --size 48 -o "$T/out-jpg.png"
check "JPEG content (EXIF-rotated 96×72 → 36×48) and a grey JPEG style work" \
  '[ "$rc" = 0 ] && [ "$(png_header "$T/out-jpg.png")" = "36 48 8 2" ]'
check "EXIF orientation 6 is applied clockwise" \
  'read -r _ g_tl _ < <("$MK" pixel "$T/out-jpg.png" 0 0) && read -r _ g_tr _ < <("$MK" pixel "$T/out-jpg.png" 35 0) &&
   read -r r_top _ < <("$MK" pixel "$T/out-jpg.png" 17 0) && read -r r_bottom _ < <("$MK" pixel "$T/out-jpg.png" 17 47) &&
   awk -v a="$g_tl" -v b="$g_tr" -v c="$r_top" -v d="$r_bottom" "BEGIN { exit !(a > b + 0.3 && d > c + 0.3) }"'

run "$T/content.png" "$T/style.png" "$T/style-pal.png" "${fast[@]}" --style-blend 0.3,0.7 \
    -o "$T/out-two.png"
check "two styles (one a palette PNG) with --style-blend" \
  '[ "$rc" = 0 ] && [ "$(png_header "$T/out-two.png")" = "64 48 8 2" ]'

# Adam runs exactly --iterations steps (L-BFGS may stop early on its evaluation budget).
run "$T/content.png" "$T/style.png" --network embedded --size 48 --iterations 4 --threads 1 \
    --optimizer adam --save-every 2 -q -o "$T/snap.png"
check "--save-every 2 writes snap-iter0002.png and snap-iter0004.png beside snap.png" \
  '[ "$rc" = 0 ] && [ -s "$T/snap.png" ] && [ "$(png_header "$T/snap-iter0002.png")" = "48 36 8 2" ] &&
   [ -s "$T/snap-iter0004.png" ]'
check "--quiet prints nothing on success" '[ ! -s "$T/err" ]'

run "$T/content.png" "$T/style.png" --network embedded --size 48 --iterations 3 --threads 1 \
    --preserve-colors=histogram --optimizer adam --learning-rate 0.02 --init noise --seed 7 \
    --content-weight 1 --style-weight 100 --tv-weight 0.001 --style-scale 0.75 -o "$T/opts.png"
check "histogram colours, Adam, noise init, seed and explicit weights run" \
  '[ "$rc" = 0 ] && [ "$(png_header "$T/opts.png")" = "48 36 8 2" ]'

# The same seed gives the same bytes, run after run and at any thread count (the engine cuts
# its work by shape alone); 160 px so that the convolutions and Gram sums are split, and a
# 16-bit result so that more than 8 bits are compared.
rep=("$T/content16.png" "$T/style.png" --network embedded --size 160 --iterations 4 --init noise
     --seed 11 -q)
run "${rep[@]}" --threads 2 -o "$T/rep-a.png"; rc_a=$rc
run "${rep[@]}" --threads 2 -o "$T/rep-b.png"; rc_b=$rc
run "${rep[@]}" --threads 1 -o "$T/rep-1.png"; rc_1=$rc
check "two runs with the same seed at --threads 2 write byte-identical PNGs" \
  '[ "$rc_a" = 0 ] && [ "$rc_b" = 0 ] && cmp -s "$T/rep-a.png" "$T/rep-b.png"'
check "--threads 1 writes the same bytes as --threads 2" \
  '[ "$rc_1" = 0 ] && cmp -s "$T/rep-a.png" "$T/rep-1.png"'

# A bare --preserve-colors must not swallow the image name after it.
run --preserve-colors "$T/content.png" "$T/style.png" --network embedded --size 48 --iterations 3 \
    --threads 1 --style-layers relu1_1,relu2_1:0.5 -o "$T/lum.png"
check "a bare --preserve-colors before the images (luminance) with --style-layers runs" \
  '[ "$rc" = 0 ] && [ "$(png_header "$T/lum.png")" = "48 36 8 2" ]'
# ---- usage errors: exit 2, a message that starts with "neural-style: " ---------------------
usage_case () { # DESCRIPTION GREP-PATTERN ARGS…
  local d=$1 pat=$2; shift 2
  run "$@"
  if [ "$rc" = 2 ] && head -n1 "$T/err" | grep -q "^neural-style: " && grep -qi -- "$pat" "$T/err"; then
    ok "usage error: $d"
  else
    not_ok "usage error: $d" "exit $rc, expected 2; wanted /$pat/" "stderr: $(head -c 400 "$T/err")"
  fi
}
C=$T/content.png S=$T/style.png O=$T/never.png
usage_case "unknown option"              "frobnicate"        "$C" "$S" -o "$O" --frobnicate
usage_case "--size 0"                    "--size"            "$C" "$S" -o "$O" --size 0
usage_case "--size not a number"         "--size"            "$C" "$S" -o "$O" --size big
usage_case "--iterations negative"       "--iterations"      "$C" "$S" -o "$O" --iterations -3
usage_case "--style-weight not finite"   "--style-weight"    "$C" "$S" -o "$O" --style-weight inf
usage_case "--optimizer foo"             "lbfgs"             "$C" "$S" -o "$O" --optimizer foo
usage_case "--init foo"                  "noise"             "$C" "$S" -o "$O" --init foo
usage_case "--max-memory with a bad unit"  "--max-memory"      "$C" "$S" -o "$O" --max-memory 2Q
usage_case "--max-memory below 64M"      "at least 64M"      "$C" "$S" -o "$O" --max-memory 10M
usage_case "--scales out of range"       "--scales"          "$C" "$S" -o "$O" --scales 40
usage_case "--scale-iterations not numbers" "--scale-iterations" "$C" "$S" -o "$O" --scale-iterations 3,x
usage_case "--network foo"               "embedded"          "$C" "$S" -o "$O" --network foo
usage_case "--padding foo"               "replicate"         "$C" "$S" -o "$O" --padding foo
usage_case "--padding replicate:0"       "--padding"         "$C" "$S" -o "$O" --padding replicate:0
usage_case "--preserve-colors=sepia"     "histogram"         "$C" "$S" -o "$O" --preserve-colors=sepia
usage_case "missing -o"                  "-o"                "$C" "$S"
usage_case "output not .png"             ".png"              "$C" "$S" -o "$T/out.jpg"
usage_case "no images"                   "usage"             -o "$O"
usage_case "missing style"               "style"             "$C" -o "$O"
usage_case "--style-blend count mismatch" "one weight per style" "$C" "$S" -o "$O" --style-blend 0.5,0.5
usage_case "--style-blend all zero"      "zero"              "$C" "$S" "$S" -o "$O" --style-blend 0,0
usage_case "--style-layers syntax"       "style"             "$C" "$S" -o "$O" --style-layers "relu1_1:abc"
usage_case "--content-layer unknown to the network" "nosuch_layer" \
  "$C" "$S" -o "$O" --network embedded --content-layer nosuch_layer
usage_case "--weights-sha256 not hex"    "64 hexadecimal"    --download-weights --weights-sha256 xyz
usage_case "--weights-url without --download-weights" "--download-weights" \
  "$C" "$S" -o "$O" --weights-url file:///x
check "no output was written by any usage error" '[ ! -e "$O" ]'

# ---- runtime errors: exit 1, the message names the file --------------------------------------
runtime_case () { # DESCRIPTION GREP-PATTERN ARGS…
  local d=$1 pat=$2; shift 2
  run "$@"
  if [ "$rc" = 1 ] && head -n1 "$T/err" | grep -q "^neural-style: " && grep -qF -- "$pat" "$T/err"; then
    ok "runtime error: $d"
  else
    not_ok "runtime error: $d" "exit $rc, expected 1; wanted '$pat'" "stderr: $(head -c 400 "$T/err")"
  fi
}
runtime_case "missing content file"     "$T/missing.png"   "$T/missing.png" "$S" -o "$O" "${fast[@]}"
runtime_case "truncated PNG content"    "$T/truncated.png" "$T/truncated.png" "$S" -o "$O" "${fast[@]}"
runtime_case "truncated JPEG content"   "$T/truncated.jpg" "$T/truncated.jpg" "$S" -o "$O" "${fast[@]}"
runtime_case "text file as a style"     "$T/text.png"      "$C" "$T/text.png" -o "$O" "${fast[@]}"
runtime_case "unwritable output folder" "$T/no/such/dir"   "$C" "$S" -o "$T/no/such/dir/o.png" "${fast[@]}"
runtime_case "--weights is a corrupt file" "weights"       "$C" "$S" -o "$O" --weights "$T/bad.safetensors" --size 64
runtime_case "--download-weights with a wrong SHA-256" "SHA-256" --download-weights -q \
  --weights-url "file://$T/bad.safetensors" --weights-sha256 "$(printf '0%.0s' {1..64})" \
  --weights "$T/dl/vgg19.safetensors"
check "a failed download leaves no weights file" '[ ! -e "$T/dl/vgg19.safetensors" ]'
check "no output was written by any runtime error" '[ ! -e "$O" ] && no_temporaries "$T"'

# ---- sizes and memory -----------------------------------------------------------------------
# (The built-in network's six octaves need 32 px on the shorter side.)
run "$T/content.png" "$T/style.png" --network embedded --size 128 --threads 1 --scales 2 \
  --scale-iterations 3,2 -o "$T/scales.png"
check "--scales 2 --scale-iterations 3,2: 64 px then 128 px, 5 iterations, a 128×96 result" \
  '[ "$rc" = 0 ] && grep -q "size 1/2: 64×48" "$T/err" && grep -q "size 2/2: 128×96" "$T/err" &&
   grep -q "after 5 iterations" "$T/err" && [ "$(png_header "$T/scales.png")" = "128 96 8 2" ]'
check "the plan and the progress count the iterations per size (3 + 2; 3/3 at 64×48, 2/2 at 128×96)" \
  'grep -q "plan: 2 sizes (64×48, 128×96), 3 + 2 iterations;" "$T/err" &&
   grep -q "iteration 3/3 at 64×48" "$T/err" && grep -q "iteration 2/2 at 128×96" "$T/err"'
check "the run says how it will run and its memory estimate" \
  'grep -q "^neural-style: plan: .*estimated peak memory [0-9]* MiB of an automatic" "$T/err"'

# A budget below what the whole image needs: tiles (or a clear refusal naming the need).
# With its two lowest layers the built-in network needs about 650 MiB at once at 640×480 and
# 130 MiB in tiles; its small halo keeps the tiled run short (the whole network's halo makes
# one iteration in tiles take minutes on a slow machine).
# The peak is resident memory (VmHWM), so meson's MALLOC_PERTURB_, which writes into every
# allocated byte, would count buffers the run allocates whole but never fills.
shallow=(--style-layers relu1_1,relu2_1 --content-layer relu2_1)
MALLOC_PERTURB_=0 run "$T/content.png" "$T/style.png" --network embedded --size 640 --optimize-size 0 --threads 1 --scales 1 \
  --iterations 1 "${shallow[@]}" --max-memory 150M -o "$T/small-budget.png"
check "--max-memory 150M at 640×480: runs in tiles within the budget, and says so" \
  '[ "$rc" = 0 ] && grep -q "plan: .*tiles of" "$T/err" && grep -q "of a 150 MiB budget" "$T/err" &&
   [ "$(png_header "$T/small-budget.png")" = "640 480 8 2" ] &&
   peak=$(sed -n "s/.*, peak memory \([0-9]*\) MiB$/\1/p" "$T/err") && [ -n "$peak" ] &&
   [ "$peak" -le 150 ]'
run "$T/content.png" "$T/style.png" --network embedded --size 320 --threads 1 --scales 1 \
  --iterations 2 --max-memory 64M -o "$T/tiny-budget.png"
check "--max-memory 64M at 320×240: refuses, naming what it needs, and writes nothing" \
  '[ "$rc" = 1 ] && grep -q "needs about [0-9]* MiB .* than the 64 MiB budget" "$T/err" &&
   [ ! -e "$T/tiny-budget.png" ]'

# ---- Ctrl-C --------------------------------------------------------------------------------
# Background jobs of a non-interactive shell start with SIGINT ignored; the program installs
# its own handler, so the signal still reaches it.
"$NS" "$C" "$S" --network embedded --size 64 --iterations 500 --threads 1 -o "$T/int.png" \
  >/dev/null 2>"$T/err" &
pid=$!
for _ in $(seq 200); do grep -q "iteration" "$T/err" && break; sleep 0.1; done
kill -INT "$pid"
# Should the signal have come before the handler was installed (a very slow start), it was
# ignored: do not hang, end the run and let the check fail.
for _ in $(seq 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
kill -TERM "$pid" 2>/dev/null
wait "$pid"; rc=$?
check "the first Ctrl-C stops the run: exit 130, says nothing was written, no file" \
  '[ "$rc" = 130 ] && grep -q "nothing was written" "$T/err" && [ ! -e "$T/int.png" ] &&
   no_temporaries "$T"'

# ---- the user's files are safe (issue 13, section 3) -----------------------------------------
# in_tmpfs OPTIONS DIR FILL CMD… : runs CMD with a new tmpfs (mount OPTIONS) on DIR, filled up
# first when FILL is 1, in a private mount namespace; DIR's listing afterwards goes to
# DIR.list.  Returns 77 where mounting is not allowed (it needs root).
in_tmpfs () {
  unshare -m --propagation unchanged true 2>/dev/null || return 77
  unshare -m --propagation unchanged bash -c '
    # The mount must not reach the rest of the system: make the mount DIR is on private here.
    mount --make-rprivate "$(findmnt -no TARGET -T "$2")" && mount -t tmpfs -o "$1" tmpfs "$2" ||
      exit 77
    if [ "$3" = 1 ]; then head -c 100M /dev/zero >"$2/filler" 2>/dev/null; fi
    d=$2; shift 3
    "$@"; rc=$?
    ls -A "$d" >"$d.list"
    exit "$rc"' _ "$@"
}
skip () { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }

# 1. Temporaries are created exclusively: files or links under the old fixed names are not
#    touched, whether the run fails (after the point where the output used to be probed)
#    or succeeds.
D=$T/decoy
mkdir -p "$D"
echo precious >"$D/victim"
echo keep >"$D/fails.png.tmp"
ln -s "$D/victim" "$D/works.png.tmp"
run "$C" "$S" --size 64 --iterations 4 --threads 1 --weights "$T/bad.safetensors" -o "$D/fails.png"
check "a failed run leaves a file named OUT.png.tmp alone" \
  '[ "$rc" = 1 ] && [ "$(cat "$D/fails.png.tmp")" = keep ] && [ ! -e "$D/fails.png" ]'
run "$C" "$S" "${fast[@]}" -o "$D/works.png"
check "a run writes neither through nor over a link named OUT.png.tmp" \
  '[ "$rc" = 0 ] && [ "$(cat "$D/victim")" = precious ] && [ -L "$D/works.png.tmp" ] &&
   [ "$(png_header "$D/works.png")" = "64 48 8 2" ] && [ "$(ls "$D" | wc -l)" = 4 ]'
mkdir -p "$D/dl"
ln -s "$D/victim" "$D/dl/vgg19.safetensors.part"
run --download-weights -q --weights-url "file://$T/bad.safetensors" \
  --weights-sha256 "$(printf '0%.0s' {1..64})" --weights "$D/dl/vgg19.safetensors"
check "the download writes neither through nor over a link named vgg19.safetensors.part" \
  '[ "$rc" = 1 ] && [ "$(cat "$D/victim")" = precious ] && [ -L "$D/dl/vgg19.safetensors.part" ] &&
   [ "$(ls "$D/dl")" = vgg19.safetensors.part ]'

# 2. -o naming an input, however spelt, is refused unless asked for.
I=$T/inputs
mkdir -p "$I"
cp "$C" "$I/content.png"; cp "$S" "$I/style.png"; cp "$C" "$I/keep.png"
ln "$I/style.png" "$I/hard.png"
usage_case "-o is the content image" "--overwrite-input" "$I/content.png" "$I/style.png" -o "$I/content.png" "${fast[@]}"
check "the content image is unchanged" 'cmp -s "$C" "$I/content.png"'
(cd "$I" && "$NS" content.png style.png -o ./style.png "${fast[@]}" >"$T/out" 2>"$T/err"); rc=$?
check "-o ./style.png for style.png is refused (exit 2) and names the style image" \
  '[ "$rc" = 2 ] && grep -q "style image" "$T/err" && cmp -s "$S" "$I/style.png"'
usage_case "-o is a hard link to a style image" "style image" "$I/content.png" "$I/style.png" -o "$I/hard.png" "${fast[@]}"
check "the style image is unchanged" 'cmp -s "$S" "$I/style.png"'
run "$I/keep.png" "$I/style.png" -o "$I/keep.png" --overwrite-input "${fast[@]}"
check "--overwrite-input replaces the content image with the result" \
  '[ "$rc" = 0 ] && [ "$(png_header "$I/keep.png")" = "64 48 8 2" ] && ! cmp -s "$C" "$I/keep.png"'

# 3. Decompression bombs: the decoded size is checked against the memory budget from the
#    header, and an allocation that fails is an error, not an abort (GLib-ERROR, exit 133).
B=$T/bombs
mkdir -p "$B"
"$MK" blank "$B/bomb1.png"  16000 16000 gray 1     # 31 KB, 1221 MiB to decode
"$MK" blank "$B/bomb16.png"  4000  4000 rgba 16    # 122 KB, 367 MiB
"$MK" jpeg  "$B/bomb.jpg"    6000  6000 gray       # 172 MiB
bomb_case () { # DESCRIPTION PATTERN ARGS…  (ARGS may start with a "ulimit -v N;")
  local d=$1 pat=$2 limit=""; shift 2
  [ "$1" = ulimit ] && { limit="ulimit -v $3"; shift 3; }
  (eval "$limit"; exec "$NS" "$@" "${fast[@]}" -o "$B/never.png") >"$T/out" 2>"$T/err"; rc=$?
  if [ "$rc" = 1 ] && grep -q -- "$pat" "$T/err" && ! grep -q "GLib\|plan:" "$T/err" && [ ! -e "$B/never.png" ]; then
    ok "$d"
  else
    not_ok "$d" "exit $rc, expected 1; wanted /$pat/" "stderr: $(head -c 400 "$T/err")"
  fi
}
bomb_case "a 31 KB 16000×16000 1-bit PNG over --max-memory 1G is refused before decoding" \
  "content image .*bomb1.png.*16000×16000 pixels; decoding it needs about 1221 MiB, more than the memory budget of 1024 MiB" \
  "$B/bomb1.png" "$S" --max-memory 1G
bomb_case "a 16-bit RGBA style PNG over --max-memory 256M is refused" \
  "style image .*4000×4000 pixels; decoding it needs about 367 MiB.* budget of 256 MiB" \
  "$C" "$B/bomb16.png" --max-memory 256M
bomb_case "a JPEG over --max-memory 128M is refused" "6000×6000 pixels; decoding it needs" \
  "$B/bomb.jpg" "$S" --max-memory 128M
# Under a 800 MB address-space limit, with the automatic budget (which knows only the free
# memory), the decoder's own allocations fail; the check above catches it where memory is short.
bomb_case "under ulimit -v 800000 the 1-bit PNG fails cleanly" \
  "bomb1.png.*\(not enough memory to decode it\|more than the memory budget\)" \
  ulimit -v 800000 "$B/bomb1.png" "$S"
rm -f "$B"/bomb*

# 4. SIGTERM is handled as Ctrl-C is (exit 143), and no signal, nor a second one during the
#    clean-up, leaves a temporary behind: kill runs that save every iteration while a
#    snapshot is being written, or at random moments.
K=$T/kill
mkdir -p "$K"
"$NS" "$C" "$S" --network embedded --size 64 --iterations 500 --threads 1 -o "$K/term.png" \
  >/dev/null 2>"$T/err" &
pid=$!
for _ in $(seq 200); do grep -q "iteration" "$T/err" && break; sleep 0.1; done
kill -TERM "$pid"
for _ in $(seq 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
kill -KILL "$pid" 2>/dev/null
wait "$pid"; rc=$?
check "SIGTERM stops the run cleanly: exit 143, says nothing was written" \
  '[ "$rc" = 143 ] && grep -q "nothing was written" "$T/err" && [ ! -e "$K/term.png" ] && no_temporaries "$K"'

codes=""
for i in $(seq 20); do
  "$NS" "$C" "$S" --network embedded --size 96 --iterations 40 --threads 1 --optimizer adam \
    --save-every 1 -q -o "$K/k$i.png" >/dev/null 2>&1 &
  pid=$! start=$SECONDS
  if [ $((i % 2)) = 1 ]; then
    # While a snapshot is being written (a builtin-only loop sees its temporary, which
    # lives for about a millisecond), at most 10 s.
    until compgen -G "$K/k$i-iter*.tmp" >/dev/null || [ $((SECONDS - start)) -ge 10 ]; do :; done
  else
    sleep "$(awk -v s="$i" 'BEGIN { srand(s); printf "%.2f", rand() * 1.0 }')"
  fi
  if [ $((i % 4)) = 0 ]; then sig=INT; else sig=TERM; fi
  kill -"$sig" "$pid" 2>/dev/null
  # Every third run gets a second signal soon after: the quit-at-once path.
  [ $((i % 3)) = 0 ] && { sleep 0.05; kill -"$sig" "$pid" 2>/dev/null; }
  for _ in $(seq 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null
  wait "$pid"; codes="$codes $?"
done
check "20 SIGTERM/SIGINT while a snapshot is written or at random (some twice) leave no temporary (exits:$codes)" \
  'no_temporaries "$K" && ! echo "$codes" | grep -Eq " (1|2|133|137)( |$)"'

# Ctrl-C during --download-weights: curl reads a FIFO that never ends, so the download is
# surely in progress when the signal comes.
W=$T/dl-int
mkdir -p "$W"
mkfifo "$T/slow.fifo"
( head -c 1048576 /dev/zero; exec sleep 60 ) >"$T/slow.fifo" 2>/dev/null &
feeder=$!
"$NS" --download-weights --weights-url "file://$T/slow.fifo" --weights "$W/vgg19.safetensors" \
  >/dev/null 2>"$T/err" &
pid=$!
for _ in $(seq 100); do [ -n "$(find "$W" -name '*.part' -size +0 2>/dev/null)" ] && break; sleep 0.1; done
started=$(find "$W" -name '*.part' | wc -l)
kill -INT "$pid"
for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
kill -KILL "$pid" 2>/dev/null
wait "$pid"; rc=$?
kill "$feeder" 2>/dev/null; wait "$feeder" 2>/dev/null
check "Ctrl-C during --download-weights: exit 130 within 10 s, the partial file is deleted" \
  '[ "$started" = 1 ] && [ "$rc" = 130 ] && grep -q "interrupted" "$T/err" && [ -z "$(ls "$W")" ]'

# Then at random moments of whole downloads (fetch, checksum, clean-up), each checked at
# once: a curl left running, or a partial file left behind, shows.
W=$T/dl-kill
mkdir -p "$W"
head -c 50000000 /dev/zero >"$T/big.bin"
codes="" left=""
for i in $(seq 10); do
  "$NS" --download-weights -q --weights-url "file://$T/big.bin" --weights-sha256 \
    "$(printf '0%.0s' {1..64})" --weights "$W/vgg19.safetensors" >/dev/null 2>&1 &
  pid=$!
  sleep "$(awk -v s="$i" 'BEGIN { srand(s); printf "%.2f", rand() * 0.4 }')"
  if [ $((i % 2)) = 0 ]; then sig=INT; else sig=TERM; fi
  kill -"$sig" "$pid" 2>/dev/null
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null
  wait "$pid"; codes="$codes $?"
  left="$left$(ls "$W")"
  rm -f "$W"/*
done
rm -f "$T/big.bin"
check "10 signals at random moments of a download leave nothing behind (exits:$codes)" \
  '[ -z "$left" ] && ! echo "$codes" | grep -Eq " 137( |$)"'

# 5. An output that cannot be written is refused before the run.
mkdir -p "$T/dir.png"
run "$C" "$S" "${fast[@]}" -o "$T/dir.png"
check "-o naming a folder is refused before the run (exit 2)" \
  '[ "$rc" = 2 ] && grep -q "is a folder" "$T/err" && ! grep -q "plan:" "$T/err"'
run "$C" "$S" "${fast[@]}" -o "$T/no/such/dir/o.png"
check "-o in a missing folder fails before anything is loaded" \
  '[ "$rc" = 1 ] && grep -q "cannot write to the folder" "$T/err" && ! grep -q "using\|plan:" "$T/err"'
mkdir -p "$T/ro"
in_tmpfs ro,size=64k "$T/ro" 0 "$NS" "$C" "$S" "${fast[@]}" -o "$T/ro/o.png" >"$T/out" 2>"$T/err"; rc=$?
if [ "$rc" = 77 ]; then skip "-o in a read-only folder" "cannot mount a tmpfs here (not root)"
else check "-o in a read-only folder fails before the run, saying why" \
  '[ "$rc" = 1 ] && grep -q "Read-only file system" "$T/err" && ! grep -q "plan:" "$T/err"'; fi

# 6. A full disk says so, for the result and for the download, and leaves nothing behind.
mkdir -p "$T/full"
in_tmpfs size=64k "$T/full" 1 "$NS" "$C" "$S" "${fast[@]}" -o "$T/full/o.png" >"$T/out" 2>"$T/err"; rc=$?
if [ "$rc" = 77 ]; then skip "a full disk" "cannot mount a tmpfs here (not root)"
else check "a full disk: “No space left on device while writing …/o.png”, no temporary left" \
  '[ "$rc" = 1 ] && grep -q "No space left on device while writing “$T/full/o.png”" "$T/err" &&
   [ "$(cat "$T/full.list")" = filler ]'; fi
head -c 1048576 /dev/zero >"$T/mib.bin"
in_tmpfs size=256k "$T/full" 0 "$NS" --download-weights -q --weights-url "file://$T/mib.bin" \
  --weights-sha256 "$(printf '0%.0s' {1..64})" --weights "$T/full/vgg19.safetensors" >"$T/out" 2>"$T/err"; rc=$?
if [ "$rc" = 77 ]; then skip "a full disk while downloading" "cannot mount a tmpfs here (not root)"
else check "a full disk while downloading says so (not “check your network”), nothing left" \
  '[ "$rc" = 1 ] && grep -q "No space left on device while writing into the folder “$T/full”" "$T/err" &&
   ! grep -q "network" "$T/err" && [ -z "$(cat "$T/full.list")" ]'; fi

# 7. --optimize-size: the run at a smaller size, the result enlarged to --size, guided by the
# full-size content (its edges kept) or bilinear.  make-image's 4-px checkerboard is finer
# than a pixel at 64×48, so only the guided enlargement can bring it back.
small=(--network embedded --iterations 4 --threads 1)
"$MK" png "$T/content160.png" 160 120 rgb 8
run "$T/content160.png" "$T/style.png" "${small[@]}" --size 160 --optimize-size 64 --upscale guided \
  -o "$T/guided.png"
check "--size 160 --optimize-size 64 --upscale guided: optimised at 64×48, written at 160×120" \
  '[ "$rc" = 0 ] && [ "$(png_header "$T/guided.png")" = "160 120 8 2" ] &&
   grep -q "stylizing 160×120 .* at 64 px, then enlarging it (--upscale guided)" "$T/err" &&
   grep -q "plan: 64×48, 4 iterations; .*then enlarged to 160×120 (guided" "$T/err" &&
   ! grep -q "refin" "$T/err"'
run "$T/content160.png" "$T/style.png" "${small[@]}" --size 160 --optimize-size 64 \
  --refine-iterations 3 -o "$T/refined.png"
check "refined by default: the plan and the log name the refinement at 160×120, 4 + 3 iterations" \
  '[ "$rc" = 0 ] && [ "$(png_header "$T/refined.png")" = "160 120 8 2" ] &&
   grep -q "then enlarged to 160×120 (guided by the full-size image) and refined there .*3 iterations" "$T/err" &&
   grep -q "enlarging to 160×120" "$T/err" && grep -q "size 2/2: 160×120 (refining" "$T/err" &&
   grep -q "after 7 iterations" "$T/err"'
run "$T/content160.png" "$T/style.png" "${small[@]}" --size 160 --optimize-size 64 --upscale bilinear \
  -o "$T/bilinear.png"
check "--upscale bilinear: the same size" \
  '[ "$rc" = 0 ] && [ "$(png_header "$T/bilinear.png")" = "160 120 8 2" ]'
sharp_g=$("$MK" sharpness "$T/guided.png") sharp_b=$("$MK" sharpness "$T/bilinear.png")
sharp_c=$("$MK" sharpness "$T/content160.png") sharp_r=$("$MK" sharpness "$T/refined.png")
check "the guided enlargement is sharp, the bilinear one is not (σ 1.5 high-pass energy: guided $sharp_g, bilinear $sharp_b, content $sharp_c)" \
  'awk -v g="$sharp_g" -v b="$sharp_b" -v c="$sharp_c" "BEGIN { exit !(g > 4 * b && g > 0.5 * c) }"'
check "the refined result keeps more detail than the bilinear one (refined $sharp_r, bilinear $sharp_b)" \
  'awk -v r="$sharp_r" -v b="$sharp_b" "BEGIN { exit !(r > 2 * b) }"'
run "$T/content.png" "$T/style.png" "${fast[@]}" -o "$T/plain.png"
run "$T/content.png" "$T/style.png" "${fast[@]}" --optimize-size 400 -o "$T/opt-large.png"
check "--optimize-size at or above --size is the plain run, to the byte" \
  '[ "$rc" = 0 ] && ! grep -q "enlarg" "$T/err" && cmp -s "$T/opt-large.png" "$T/plain.png"'
run "$T/content-a.png" "$T/style.png" "${small[@]}" --size 128 --optimize-size 64 --save-every 4 \
  -o "$T/opt-a.png"
alpha_left=$("$MK" pixel "$T/opt-a.png" 2 48 | awk '{ print $4 }')
alpha_right=$("$MK" pixel "$T/opt-a.png" 125 48 | awk '{ print $4 }')
check "RGBA with --optimize-size: 128×96 with its alpha (${alpha_left:-?}, ${alpha_right:-?}); the snapshot is 64×48 RGBA" \
  '[ "$rc" = 0 ] && [ "$(png_header "$T/opt-a.png")" = "128 96 8 6" ] &&
   near "${alpha_left:-x}" 1.0 0.002 && near "${alpha_right:-x}" 0.25 0.01 &&
   [ "$(png_header "$T/opt-a-iter0004.png")" = "64 48 8 6" ]'
usage_case "--optimize-size below 16"  "--optimize-size" "$T/content.png" "$T/style.png" -o "$T/never.png" --optimize-size 8
usage_case "--upscale foo"             "refine"        "$T/content.png" "$T/style.png" -o "$T/never.png" --upscale foo

# 8. --frames: an animation's frames in order, one output per frame (issue 16).
F=$T/frames
mkdir -p "$F/in" "$F/out" "$F/never" "$F/mixed" "$F/none" "$F/empty" "$F/gap" "$F/late"
for i in 1 2 3; do "$MK" png "$F/in/000$i.png" 48 32 rgb 8 $((2 * i)); done   # moving right
ff=(--network embedded --size 48 --iterations 4 --threads 1)
frames_case () { # DESCRIPTION EXIT PATTERN ARGS… : the error, before any work, and no output
  local d=$1 want=$2 pat=$3; shift 3
  run --frames "$@"
  if [ "$rc" = "$want" ] && head -n1 "$T/err" | grep -q "^neural-style: " && grep -qF -- "$pat" "$T/err" &&
     ! grep -q "using\|plan" "$T/err" && [ -z "$(ls -A "$F/never")" ] && no_temporaries "$F/in"; then
    ok "--frames: $d"
  else
    not_ok "--frames: $d" "exit $rc, expected $want; wanted '$pat'; never/: $(ls "$F/never")" \
      "stderr: $(head -c 600 "$T/err")"
  fi
}

run --help
check "--help describes --frames, --temporal-weight, --long-term and --resume" \
  '[ "$rc" = 0 ] && grep -q -- "--frames FRAME… STYLE" "$T/out" && grep -q -- "--temporal-weight=G" "$T/out" &&
   grep -q -- "--long-term" "$T/out" && grep -q -- "--resume" "$T/out" && grep -q "in/%04d.png" "$T/out"'

run --frames "$F/in/%04d.png" "$S" "${ff[@]}" -o "$F/out/%04d.png"
if grep -q "without optical flow" "$T/err"; then
  check "without optical flow --frames says to install libopencv-video-dev, writes nothing" \
    '[ "$rc" = 1 ] && grep -q "libopencv-video-dev" "$T/err" && [ -z "$(ls -A "$F/out")" ]'
  flow=0
  skip "--frames runs, --resume and Ctrl-C" "this build has no optical flow"
else
  flow=1
  check "--frames 'in/%04d.png' STYLE -o 'out/%04d.png': 3 frames in, 3 PNGs of 48×32 out" \
    '[ "$rc" = 0 ] && [ "$(png_header "$F/out/0001.png")" = "48 32 8 2" ] &&
     [ "$(png_header "$F/out/0002.png")" = "48 32 8 2" ] && [ "$(png_header "$F/out/0003.png")" = "48 32 8 2" ] &&
     [ "$(ls "$F/out" | wc -l)" = 3 ] && grep -q "wrote 3 frames" "$T/err"'
  # Frame 2 runs half of the 4 iterations (NS_LATER_ITERATIONS_DEFAULT).
  check "the progress names the frame, the iteration (frame 2: half of them) and the time left for the sequence" \
    'grep -q "frame 2/3, iteration [1-2]/2 at 48×32 (.*), loss .*, .* left for the sequence$" "$T/err"'
  check "each frame is stylized (mean |out − in| of frame 3: $("$MK" diff "$F/out/0003.png" "$F/in/0003.png"))" \
    'd=$("$MK" diff "$F/out/0003.png" "$F/in/0003.png") && near "$d" 0.5 0.495'
  # Two sizes (48×32 with 4 iterations, 96×64 with 2): the later frames run half of the
  # last size's, 1 iteration, and the expected time says so.
  mkdir -p "$F/later"
  run --frames "$F/in/%04d.png" "$S" "${ff[@]}" --size 96 --scales 2 --later-iterations 0.5 \
    --later-sizes last -o "$F/later/%04d.png"
  check "--later-iterations 0.5 --later-sizes last: frame 1 runs both sizes (4 + 2 iterations), frames 2–3 one iteration at 96×64" \
    '[ "$rc" = 0 ] && grep -q "frame 1/3, iteration 4/4 at 48×32" "$T/err" &&
     grep -q "frame 1/3, iteration 2/2 at 96×64" "$T/err" &&
     grep -q "frame 2/3, iteration 1/1 at 96×64" "$T/err" && grep -q "frame 3/3, iteration 1/1 at 96×64" "$T/err" &&
     ! grep -q "frame [23]/3, iteration [0-9]*/[0-9]* at 48×32" "$T/err" &&
     ! grep -q "frame [23]/3, iteration 2/" "$T/err" &&
     grep -q "expected: about .* in all (the first frame .*, each after it .*: 50% of the iterations, the last size only)" "$T/err"'
fi
if [ "$flow" = 1 ]; then
  # --resume after losing the last output: frames 1 and 2 are read back, not redone (same
  # inode, mtime and bytes); only frame 3 is written again.
  cp "$F/out/0001.png" "$F/one.png"; cp "$F/out/0002.png" "$F/two.png"
  before=$(stat -c '%i %y' "$F/out/0001.png" "$F/out/0002.png")
  rm "$F/out/0003.png"
  run --frames "$F/in/%04d.png" "$S" "${ff[@]}" -o "$F/out/%04d.png" --resume
  check "--resume keeps frames 1–2 untouched and writes only frame 3 again" \
    '[ "$rc" = 0 ] && [ "$(png_header "$F/out/0003.png")" = "48 32 8 2" ] &&
     [ "$(stat -c "%i %y" "$F/out/0001.png" "$F/out/0002.png")" = "$before" ] &&
     cmp -s "$F/one.png" "$F/out/0001.png" && cmp -s "$F/two.png" "$F/out/0002.png" &&
     grep -q "frame 1/3: kept .*0001.png (--resume)" "$T/err" && grep -q "wrote .*0003.png (frame 3/3" "$T/err" &&
     ! grep -q "wrote .*000[12].png" "$T/err" && ! grep -q "frame [12]/3, iteration" "$T/err"'
  # Without --resume the outputs are replaced, as a single run replaces its output.
  run --frames "$F/in/%04d.png" "$S" "${ff[@]}" -o "$F/out/%04d.png"
  check "without --resume existing outputs are replaced (and it says so)" \
    '[ "$rc" = 0 ] && grep -q "3 of the outputs exist already and will be replaced" "$T/err" &&
     [ "$(stat -c "%i %y" "$F/out/0001.png" "$F/out/0002.png")" != "$before" ]'

  # The frames get a single run's options: with --temporal-weight 0 each frame is the single
  # run of it, to the byte; with the default weight frame 2 is held to frame 1's result.
  mkdir -p "$F/t0" "$F/td"
  opts=(--network embedded --size 48 --iterations 3 --threads 1 --optimizer adam
        --preserve-colors=histogram --style-weight 3e5 --tv-weight 2 -q)
  run --frames "$F/in/%04d.png" "$S" "${opts[@]}" --temporal-weight 0 -o "$F/t0/%04d.png"; rc_0=$rc
  run --frames "$F/in/%04d.png" "$S" "${opts[@]}" -o "$F/td/%04d.png"; rc_d=$rc
  run "$F/in/0002.png" "$S" "${opts[@]}" -o "$F/single2.png"
  check "--temporal-weight 0: frame 2 is the single run of it with the same options, to the byte" \
    '[ "$rc_0" = 0 ] && [ "$rc" = 0 ] && cmp -s "$F/t0/0002.png" "$F/single2.png"'
  check "the default temporal weight leaves frame 1 as it is and changes frame 2" \
    '[ "$rc_d" = 0 ] && cmp -s "$F/t0/0001.png" "$F/td/0001.png" && ! cmp -s "$F/t0/0002.png" "$F/td/0002.png"'

  # A folder in (sorted by name: f2 before f10), a pattern out: the frames keep their numbers.
  mkdir -p "$F/folder" "$F/num"
  "$MK" png "$F/folder/f2.png" 48 32 rgb 8 0; "$MK" png "$F/folder/f10.png" 48 32 rgb 8 2
  echo "not a frame" >"$F/folder/notes.txt"
  run --frames "$F/folder" "$S" "${ff[@]}" -o "$F/num/%03d.png"
  check "a folder of frames in number order (f2, f10) → 002.png, 010.png" \
    '[ "$rc" = 0 ] && [ "$(ls "$F/num" | tr "\n" " ")" = "002.png 010.png " ] &&
     grep -q "wrote .*num/002.png (frame 1/2" "$T/err" && grep -q "wrote .*num/010.png (frame 2/2" "$T/err"'
  # A list in, a folder out: the frames keep their names.
  mkdir -p "$F/named"
  "$MK" jpeg "$F/a.jpg" 48 32 rgb
  run --frames "$F/a.jpg" "$F/in/0002.png" "$S" "${ff[@]}" -o "$F/named"
  check "a list of frames (a JPEG among them) into a folder: a.png and 0002.png" \
    '[ "$rc" = 0 ] && [ "$(ls "$F/named" | tr "\n" " ")" = "0002.png a.png " ] &&
     [ "$(png_header "$F/named/a.png")" = "48 32 8 2" ]'

  # Ctrl-C between frames' iterations: the frames written stay, the next is not written;
  # --resume then goes on from there.  (Adam runs exactly its 300 iterations: seconds.)
  K=$F/int
  mkdir -p "$K"
  "$NS" --frames "$F/in/%04d.png" "$S" --network embedded --size 48 --iterations 300 --optimizer adam \
    --threads 1 -o "$K/%04d.png" >/dev/null 2>"$T/err" &
  pid=$!
  for _ in $(seq 600); do grep -q "wrote .*0001.png" "$T/err" && break; sleep 0.1; done
  kill -INT "$pid"
  for _ in $(seq 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -TERM "$pid" 2>/dev/null
  wait "$pid"; rc=$?
  check "Ctrl-C during frame 2: exit 130, frame 1 stays, nothing else written, says --resume" \
    '[ "$rc" = 130 ] && [ "$(ls "$K")" = 0001.png ] && [ "$(png_header "$K/0001.png")" = "48 32 8 2" ] &&
     grep -q "interrupted; 1 frame written in this run is kept.*--resume" "$T/err"'
  cp "$K/0001.png" "$F/kept.png"
  run --frames "$F/in/%04d.png" "$S" "${ff[@]}" -o "$K/%04d.png" --resume
  check "--resume after Ctrl-C stylizes frames 2 and 3 only" \
    '[ "$rc" = 0 ] && cmp -s "$F/kept.png" "$K/0001.png" && [ "$(ls "$K" | wc -l)" = 3 ] &&
     grep -q "resuming: 1 of the 3 frames is written already" "$T/err" && no_temporaries "$K"'
fi

# Bad input: a clear error before any work, and nothing written.
"$MK" png "$F/mixed/0001.png" 48 32 rgb 8; "$MK" png "$F/mixed/0002.png" 50 32 rgb 8
"$MK" png "$F/gap/0001.png" 48 32 rgb 8; "$MK" png "$F/gap/0002.png" 48 32 rgb 8
"$MK" png "$F/gap/0004.png" 48 32 rgb 8; "$MK" png "$F/late/0005.png" 48 32 rgb 8
ln "$F/in/0001.png" "$F/linked.png"
mkdir -p "$F/frames-style"; cp "$S" "$F/frames-style/1.png"
N=$F/never/%04d.png
frames_case "frames of different sizes name both files and sizes" 1 \
  "“$F/mixed/0001.png” is 48×32, but “$F/mixed/0002.png” is 50×32" "$F/mixed/%04d.png" "$S" "${ff[@]}" -o "$N"
frames_case "a pattern that matches nothing" 1 "no frames match “$F/none/%04d.png”" \
  "$F/none/%04d.png" "$S" "${ff[@]}" -o "$N"
frames_case "an empty folder" 1 "the folder “$F/empty” has no frames" "$F/empty" "$S" "${ff[@]}" -o "$N"
frames_case "a pattern with a gap names the missing frame" 1 \
  "frame 3 of “$F/gap/%04d.png” is missing: there is no “$F/gap/0003.png”" "$F/gap/%04d.png" "$S" "${ff[@]}" -o "$N"
frames_case "a pattern that starts at 5" 1 "numbered from 0 or 1" "$F/late/%04d.png" "$S" "${ff[@]}" -o "$N"
frames_case "frames given out of order" 2 "out of order: “$F/in/0001.png” (frame 1) comes after" \
  "$F/in/0002.png" "$F/in/0001.png" "$S" "${ff[@]}" -o "$N"
frames_case "a frame given twice" 2 "are both frame 1" "$F/in/0001.png" "$F/in/0001.png" "$S" "${ff[@]}" -o "$N"
frames_case "one file under two names" 2 "“$F/in/0001.png” and “$F/linked.png” are the same file" \
  "$F/in/0001.png" "$F/linked.png" "$S" "${ff[@]}" -o "$N"
cp -p "$F/in/0001.png" "$F/orig1.png"
frames_case "an output pattern that would overwrite the input frames" 2 \
  "the output “$F/in/0001.png” is the input frame “$F/in/0001.png”" "$F/in/%04d.png" "$S" "${ff[@]}" -o "$F/in/%04d.png"
frames_case "the input folder as the output folder" 2 "is the input frame" "$F/in" "$S" "${ff[@]}" -o "$F/in/"
frames_case "an output pattern that would overwrite the style" 2 "is the style image" \
  "$F/in/0001.png" "$F/frames-style/1.png" "${ff[@]}" -o "$F/frames-style/%d.png"
check "the input frames are unchanged" 'cmp -s "$F/orig1.png" "$F/in/0001.png" && [ "$(ls "$F/in" | wc -l)" = 3 ]'
frames_case "an output pattern with two numbers" 2 "has 2 frame numbers" "$F/in/%04d.png" "$S" -o "$F/never/%d-%04d.png"
frames_case "an output pattern with %s" 2 "“%s” in the output pattern" "$F/in/%04d.png" "$S" -o "$F/never/%s.png"
frames_case "an output pattern with a space-padded %4d" 2 "“%4d” in the output pattern" "$F/in/%04d.png" "$S" -o "$F/never/%4d.png"
frames_case "an output that is neither a pattern nor a folder" 2 "is neither" "$F/in/%04d.png" "$S" -o "$F/never/out.png"
frames_case "an output pattern not ending in .png" 2 "must end in .png" "$F/in/%04d.png" "$S" -o "$F/never/%04d.jpg"
frames_case "no frames, only a style" 2 "no frames given" "$S" -o "$N"
frames_case "no output" 2 "no output given" "$F/in/%04d.png" "$S"
frames_case "--temporal-weight below 0" 2 "--temporal-weight" "$F/in/%04d.png" "$S" -o "$N" --temporal-weight -1
frames_case "--overwrite-input" 2 "--overwrite-input does not apply" "$F/in/%04d.png" "$S" -o "$N" --overwrite-input
usage_case "--resume without --frames" "only apply to --frames" "$C" "$S" -o "$F/never/x.png" --resume
usage_case "--temporal-weight without --frames" "only apply to --frames" "$C" "$S" -o "$F/never/x.png" --temporal-weight 5
usage_case "--later-iterations without --frames" "only apply to --frames" "$C" "$S" -o "$F/never/x.png" --later-iterations 0.5
frames_case "--later-iterations 0" 2 "--later-iterations must be a number greater than 0" "$F/in/%04d.png" "$S" -o "$N" --later-iterations 0
frames_case "--later-iterations above 1" 2 "--later-iterations" "$F/in/%04d.png" "$S" -o "$N" --later-iterations 1.5
frames_case "--later-sizes some" 2 "--later-sizes must be one of “last”, “all”" "$F/in/%04d.png" "$S" -o "$N" --later-sizes some
check "no bad input wrote anything" '[ -z "$(ls -A "$F/never")" ]'

# ---- regions: --style-mask, --rest and --region-carry -----------------------------------------
R=$T/regions; mkdir -p "$R"
"$MK" png   "$R/mask.png"   80 60 gray 8
"$MK" png   "$R/mask-rgb.png" 80 60 rgb 8
"$MK" png   "$R/small.png"  40 30 gray 8
"$MK" png   "$R/square.png" 40 40 gray 8
"$MK" blank "$R/black.png"  80 60 gray 8
run "$C" "$S" "$S" "${fast[@]}" --style-mask "$R/mask.png,$R/mask-rgb.png" --rest styles -o "$R/out.png"
check "two styles with masks: exit 0 and a result of the content's size" \
  '[ "$rc" = 0 ] && [ "$(png_header "$R/out.png")" = "64 48 8 2" ]'
run "$C" "$S" "$S" "${fast[@]}" --style-mask ",$R/mask.png" -o "$R/everywhere.png"
check "an empty entry means everywhere" '[ "$rc" = 0 ] && [ -f "$R/everywhere.png" ]'
run "$C" "$S" "${fast[@]}" -o "$R/plain.png"
run "$C" "$S" "${fast[@]}" --style-mask "$R/mask.png" -o "$R/masked.png"
check "a mask changes the result" \
  '[ "$rc" = 0 ] && ! near "$("$MK" diff "$R/plain.png" "$R/masked.png")" 0 1e-4'
run "$C" "$S" "${fast[@]}" --style-mask "$R/small.png" -o "$R/small-masked.png"
check "a mask of the content's shape at half its size is taken (the engine resizes it)" \
  '[ "$rc" = 0 ] && [ "$(png_header "$R/small-masked.png")" = "64 48 8 2" ] && ! near "$("$MK" diff "$R/plain.png" "$R/small-masked.png")" 0 1e-4'
run "$C" "$S" "${fast[@]}" --style-mask "$R/mask.png" --region-carry inside -o "$R/inside.png"
check "--region-carry inside: exit 0, a result other than the feathered one" \
  '[ "$rc" = 0 ] && ! near "$("$MK" diff "$R/masked.png" "$R/inside.png")" 0 1e-4'
run "$C" "$S" "${fast[@]}" --style-mask "$R/mask.png" --region-carry feathered -o "$R/feathered.png"
check "--region-carry feathered is the default" \
  '[ "$rc" = 0 ] && near "$("$MK" diff "$R/masked.png" "$R/feathered.png")" 0 1e-6'
usage_case "--style-mask count mismatch" "one mask per style" "$C" "$S" "$S" -o "$R/never.png" \
  --style-mask "$R/mask.png"
usage_case "--style-mask with no file"  "names no file" "$C" "$S" "$S" -o "$R/never.png" --style-mask ","
usage_case "--rest foo"                 "--rest"        "$C" "$S" -o "$R/never.png" --style-mask "$R/mask.png" --rest foo
usage_case "--rest without --style-mask" "--rest only applies" "$C" "$S" -o "$R/never.png" --rest styles
usage_case "--region-carry foo"         "--region-carry must be" "$C" "$S" -o "$R/never.png" --style-mask "$R/mask.png" --region-carry foo
usage_case "--region-carry without --style-mask" "--region-carry only applies" "$C" "$S" -o "$R/never.png" --region-carry inside
runtime_case "a mask of another shape" "is 40×40 pixels but the content is 80×60" \
  "$C" "$S" -o "$R/never.png" --style-mask "$R/square.png"
runtime_case "an all-black mask" "all black" "$C" "$S" -o "$R/never.png" --style-mask "$R/black.png"
runtime_case "an unreadable mask" "cannot read the mask image" "$C" "$S" -o "$R/never.png" \
  --style-mask "$R/nosuch.png"
check "bad masks fail before the network is loaded" '! grep -q "using" "$T/err"'
check "no bad mask wrote anything" '[ ! -e "$R/never.png" ]'

echo "1..$n"
[ "$failed" = 0 ]
