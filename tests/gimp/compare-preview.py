#!/usr/bin/env python3
"""tests/gimp/compare-preview.py SHOT AX AY AW AH SX SY SW SH BEFORE AFTER WIDTH

Compares the preview area in the dialog's screenshot SHOT (AX AY AW AH: the area in the
window; it shows the layer's SX SY SW SH, centred in the area if smaller) with the layer's
pixels AFTER the run (raw 8-bit RGB, WIDTH pixels a row).  Prints "same (…)" when all but
0.5% of the pixels are within 3 levels of them, else "different (…)"; either way with the
mean difference to AFTER and to BEFORE (the layer's own pixels, which a preview that shows
nothing stylized would match)."""
import subprocess
import sys

import numpy as np


def screenshot(path):
    size = subprocess.run(["identify", "-format", "%w %h", path], capture_output=True,
                          text=True, check=True).stdout.split()
    w, h = int(size[0]), int(size[1])
    data = subprocess.run(["convert", path, "-depth", "8", "rgb:-"], capture_output=True,
                          check=True).stdout
    return np.frombuffer(data, np.uint8).reshape(h, w, 3).astype(int)


def layer(path, width):
    data = np.fromfile(path, np.uint8)
    return data.reshape(-1, width, 3).astype(int)


def main():
    shot = sys.argv[1]
    ax, ay, aw, ah, sx, sy, sw, sh = (int(v) for v in sys.argv[2:10])
    before, after = layer(sys.argv[10], int(sys.argv[12])), layer(sys.argv[11], int(sys.argv[12]))
    area = screenshot(shot)[ay:ay + ah, ax:ax + aw]
    want = after[sy:sy + sh, sx:sx + sw]
    orig = before[sy:sy + sh, sx:sx + sw]
    # GimpPreviewArea centres a smaller picture: the one offset that matches best.
    best = None
    for dy in range(0, ah - sh + 1):
        for dx in range(0, aw - sw + 1):
            drawn = area[dy:dy + sh, dx:dx + sw]
            off = np.abs(drawn - want).max(axis=2) > 3
            score = (off.mean(), np.abs(drawn - want).mean(), np.abs(drawn - orig).mean(), dx, dy)
            if best is None or score < best:
                best = score
    off, mean_after, mean_before, dx, dy = best
    verdict = "same" if off < 0.005 else "different"
    print("%s (%.1f%% of the pixels off by more than 3 levels; mean difference %.2f, to the "
          "layer's own pixels %.2f; at %+d,%+d)" % (verdict, 100 * off, mean_after, mean_before,
                                                    dx, dy))


main()
