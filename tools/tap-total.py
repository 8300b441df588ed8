#!/usr/bin/env python3
"""Adds up meson's testlog.json: every TAP 'ok'/'not ok' line counts as one test; a test
program that produced no TAP lines counts once by its result.  A program that failed
without a 'not ok' line (a crash, a timeout) counts one more failure.  Prints
'N passed, N failed' (', N skipped' when any were skipped) and exits 1 on any failure; a
known failure ('not ok … # TODO') is neither, and is listed on a line of its own above.
Several testlog.json files (one per build folder) are added up together."""
import fileinput, json, re, sys

passed = failed = skipped = 0
# Known failures (TAP "not ok … # TODO"): neither passed nor failed, but listed above the total.
todo = []
with fileinput.input(sys.argv[1:]) as f:
    for line in f:
        line = line.strip()
        if not line:
            continue
        t = json.loads(line)
        out = t.get("stdout") or ""
        ok = bad = skip = 0
        for l in out.splitlines():
            if re.match(r"^ok\b", l):
                if re.search(r"#\s*SKIP", l, re.I):
                    skip += 1
                else:
                    ok += 1
            elif re.match(r"^not ok\b", l):
                if re.search(r"#\s*TODO", l, re.I):
                    todo.append(f"{t.get('name')}: {l}")
                    continue
                bad += 1
        result = t.get("result", "")
        good = result in ("OK", "EXPECTEDFAIL")
        if ok + bad + skip == 0:
            if result == "SKIP":
                skip = 1
            elif good:
                ok = 1
            else:
                bad = 1
        elif not good and bad == 0:
            bad = 1
            print(f"{t.get('name')}: {result} after {ok} passing checks", file=sys.stderr)
        passed += ok
        failed += bad
        skipped += skip

for t in todo:
    print(f"known failure (TODO): {t}")
line = f"{passed} passed, {failed} failed"
if skipped:
    line += f", {skipped} skipped"
print(line)
sys.exit(1 if failed or passed == 0 else 0)
