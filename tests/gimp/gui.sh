# tests/gimp/gui.sh — sourced after lib.sh by the tests that drive the GIMP GUI under Xvfb.
#
#   small_runs            last values that make the dialog's runs take seconds: 5
#                         iterations at 64 px, built-in network
#   gui_start SCRIPT      start Xvfb (once) and gimp-3.0 running the python-fu-eval SCRIPT
#                         (output to $NS_LOG); everything started is killed on exit
#   gui_stop_gimp         end that gimp-3.0 and its plug-ins, so that another can start on
#                         the same display (in another language, say)
#   wait_file FILE SECS   wait until FILE exists and is not empty
#   state KEY             the dialog's value for KEY (escaped: \n for a line break), from
#                         the state file the plug-in keeps ($NS_PLUGIN_DIALOG_STATE)
#   wait_state KEY PATTERN SECS     until KEY's value matches PATTERN
#   wait_no_state KEY PATTERN SECS  until it no longer does
#   screenshot WINDOW FILE  saves the window (the pointer moved off it); prints its number of
#                         colours
#   press_ok              press OK in the dialog; true when the run returned (marker
#                         "applied") within 4 minutes
#   no_warnings           true when the plug-in printed no GLib criticals or warnings, nor
#                         GIMP's complaints about the dialog's mnemonics

export NS_MARKERS=$ns_work/markers
export NS_GIMP_TESTS=$here
export NS_PLUGIN_DIALOG_STATE=$ns_work/dialog-state
# No accessibility bus in the test session.
export NO_AT_BRIDGE=1
mkdir -p "$NS_MARKERS"

# Ends the process group led by $1: TERM, then KILL what is left after 5 s.  GIMP, asked to
# quit while a plug-in's dialog is open, can wait for that plug-in for ever.
ns_kill_group () {
  local i
  kill -- "-$1" 2>/dev/null || { kill "$1" 2>/dev/null; return 0; }
  for i in $(seq 50); do kill -0 -- "-$1" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL -- "-$1" 2>/dev/null
}

ns_gui_pids=()
ns_gui_cleanup () {
  local p
  for p in "${ns_gui_pids[@]}"; do ns_kill_group "$p"; done
  rm -rf "$ns_work"
}
trap ns_gui_cleanup EXIT

small_runs () {
  mkdir -p "$GIMP3_DIRECTORY/plug-in-settings"
  printf '(iterations 5)\n(size 64)\n(network "embedded")\n' \
    >"$GIMP3_DIRECTORY/plug-in-settings/GimpProcedureConfigRun-plug-in-neural-style.last"
}

ns_gimp_pid=""
ns_xvfb_display=""
gui_start () {
  # A display number of its own: X's lock files are in /tmp, which tools/run makes private
  # to each run, so -displayfd would pick :0 in every run on the machine, and clients would
  # reach another run's server through its abstract socket (shared between mount namespaces).
  local display=$((200 + $$ % 700)) i
  if [ -z "$ns_xvfb_display" ]; then
    setsid Xvfb ":$display" -screen 0 1400x1000x24 -nolisten tcp >"$ns_work/xvfb.log" 2>&1 &
    ns_gui_pids+=($!)
    for i in $(seq 100); do [ -S "/tmp/.X11-unix/X$display" ] && break; sleep 0.1; done
    export DISPLAY=:$display
    ns_xvfb_display=$DISPLAY
  fi

  setsid dbus-run-session -- gimp-3.0 --no-splash -d -f --batch-interpreter=python-fu-eval \
    -b - <"$1" >"$NS_LOG" 2>&1 &
  ns_gimp_pid=$!
  ns_gui_pids+=($!)
}

gui_stop_gimp () {
  [ -n "$ns_gimp_pid" ] || return 0
  ns_kill_group "$ns_gimp_pid"
  wait "$ns_gimp_pid" 2>/dev/null
  ns_gimp_pid=""
}

press_ok () {
  python3 "$NS_GIMP_TESTS/x11.py" key "Neural Style" Return
  wait_file "$NS_MARKERS/applied" 240
}

wait_file () { local i; for i in $(seq $(($2 * 5))); do [ -s "$1" ] && return 0; sleep 0.2; done; return 1; }

state () { sed -n "s/^$1 //p" "$NS_PLUGIN_DIALOG_STATE" 2>/dev/null; }
wait_state () {
  local i
  for i in $(seq $(($3 * 5))); do state "$1" | grep -q -- "$2" && return 0; sleep 0.2; done
  return 1
}
wait_no_state () {
  local i
  for i in $(seq $(($3 * 5))); do state "$1" | grep -q -- "$2" || return 0; sleep 0.2; done
  return 1
}

screenshot () {
  # The pointer off the dialogs, so that no hover or tooltip is in the picture.
  python3 "$NS_GIMP_TESTS/x11.py" pointer 1399 999 2>>"$ns_work/x11.log"
  sleep 0.5
  import -window "$1" "$2" 2>>"$ns_work/x11.log"
  # A rendered dialog has many colours; a blank or black window has one or two.
  identify -format '%k' "$2" 2>/dev/null || echo 0
}

# libgimp itself warns that it cannot store layer and channel arguments as last values
# ("couldn't serialize property …::style-layer of type GimpLayer"; the regions' ones are
# ns_item_args); that is GIMP 3.0's known limitation.  A procedure that returns a calling error
# has its pipe closed by GIMP before libgimp's last flush ("gimp_flush(): error: Broken pipe"),
# sooner or later depending on the machine: GIMP's doing, not the plug-in's.
# GIMP's procedure dialog also checks that every label it makes has a mnemonic of its own and
# prints what it finds ("Procedure '…': no mnemonic for property …", "duplicate mnemonic …"),
# not as a GLib warning: those lines count too.
# The lines found go to the TAP output as comments, so that a failure says what was printed.
ns_item_args='style-(layer|channel|mask-layer)(-[0-9])?'
no_warnings () {
  local found mnemonics
  found=$(grep -E -A3 '^\(neural-style:[0-9]+\).*(CRITICAL|WARNING)' "$NS_LOG" |
            grep -Ev -e "couldn't serialize property .*::$ns_item_args of type Gimp(Layer|Channel)" \
                     -e "gimp_flush\(\): error: Broken pipe" -e "Procedure '[^']*': .*mnemonic")
  grep -qE '^\(neural-style:[0-9]+\).*(CRITICAL|WARNING)' <<<"$found" || found=""
  mnemonics=$(grep -E "Procedure '[^']*': .*mnemonic" "$NS_LOG")
  [ -z "$found$mnemonics" ] && return 0
  sed 's/^/# /' <<<"$found${found:+${mnemonics:+$'\n'}}$mnemonics"
  return 1
}
