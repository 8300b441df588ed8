# tests/gimp/gui_lib.py — shared by the scripts that python-fu-eval runs inside the GUI
# gimp-3.0 (dialog.py, other-image.py): markers for the test, filling and reading layers,
# and the generated pictures.

import math
import os
import struct
import time

from gi.repository import Gimp, Gegl

PDB = Gimp.get_pdb()
MARKERS = os.environ["NS_MARKERS"]


def marker(name, text=""):
    with open(os.path.join(MARKERS, name + ".tmp"), "w") as f:
        f.write(text)
    os.rename(os.path.join(MARKERS, name + ".tmp"), os.path.join(MARKERS, name))


def wait_marker(name, seconds):
    deadline = time.time() + seconds
    while not os.path.exists(os.path.join(MARKERS, name)) and time.time() < deadline:
        time.sleep(0.2)


def fill(layer, pixel, fmt="R'G'B' float"):
    """pixel(x, y) gives the values of one pixel in fmt's channels."""
    w, h = layer.get_width(), layer.get_height()
    values = []
    for y in range(h):
        for x in range(w):
            values.extend(pixel(x, y))
    buf = layer.get_buffer()
    buf.set(Gegl.Rectangle.new(0, 0, w, h), fmt,
            struct.pack("<%df" % len(values), *values))
    buf.flush()
    layer.update(0, 0, w, h)


def raw(drawable):
    w, h = drawable.get_width(), drawable.get_height()
    return bytes(drawable.get_buffer().get(Gegl.Rectangle.new(0, 0, w, h), 1.0, None,
                                           Gegl.AbyssPolicy.NONE))


W, H = 160, 120


def scene(x, y):
    """A small landscape: sky gradient, sun, hills."""
    sky = (0.45 + 0.4 * y / H, 0.65 + 0.2 * y / H, 0.95)
    if (x - 0.75 * W) ** 2 + (y - 0.25 * H) ** 2 < (0.1 * W) ** 2:
        return (1.0, 0.85, 0.3)
    if y > 0.68 * H + 0.13 * H * math.sin(x * 6.0 / W):
        shade = 0.35 + 0.15 * math.sin(x / 7.0) * math.sin(y / 5.0)
        return (0.2, shade + 0.2, 0.15)
    return sky


def swirl(x, y):
    """A bold "painting": coloured concentric strokes."""
    r = math.hypot(x - 48, y - 48)
    a = math.atan2(y - 48, x - 48)
    t = 0.5 + 0.5 * math.sin(r / 3.0 + 4 * a)
    return (0.1 + 0.8 * t, 0.2 + 0.3 * (1 - t), 0.9 - 0.6 * t)
