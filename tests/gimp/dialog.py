# tests/gimp/dialog.py — run by python-fu-eval inside the GUI gimp-3.0 (see test-dialog.sh).
#
# Opens a two-layer image in a display, calls plug-in-neural-style INTERACTIVELY (the dialog
# stays open until the test presses OK), then reports through marker files in $NS_MARKERS:
#   applied   "<status> <changed>" after the run returned
#   result    "1" if, after the test pressed Ctrl+Z (marker "undone"), the layer is back to
#             its original pixels
#   painting-image  the name of a second image (with a layer "painting") it opened
# $NS_CONTENT / $NS_STYLE may name image files to use instead of the generated patterns.

import math
import os
import struct
import time

from gi.repository import Gimp, Gegl, Gio

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


def fill(layer, pixel):
    w, h = layer.get_width(), layer.get_height()
    values = []
    for y in range(h):
        for x in range(w):
            values.extend(pixel(x, y))
    buf = layer.get_buffer()
    buf.set(Gegl.Rectangle.new(0, 0, w, h), "R'G'B' float",
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


def load_or_make():
    content_file, style_file = os.environ.get("NS_CONTENT"), os.environ.get("NS_STYLE")
    if content_file and style_file:
        image = Gimp.file_load(Gimp.RunMode.NONINTERACTIVE, Gio.File.new_for_path(content_file))
        style = Gimp.file_load_layer(Gimp.RunMode.NONINTERACTIVE, image,
                                     Gio.File.new_for_path(style_file))
        style.set_name(os.path.splitext(os.path.basename(style_file))[0])
        content = image.get_layers()[0]
        image.insert_layer(style, None, 0)
        style.set_visible(False)
        image.set_selected_layers([content])
        return image, content
    image = Gimp.Image.new(W, H, Gimp.ImageBaseType.RGB)
    content = Gimp.Layer.new(image, "landscape", W, H, Gimp.ImageType.RGB_IMAGE, 100.0,
                             Gimp.LayerMode.NORMAL)
    style = Gimp.Layer.new(image, "style", 96, 96, Gimp.ImageType.RGB_IMAGE, 100.0,
                           Gimp.LayerMode.NORMAL)
    image.insert_layer(content, None, 0)
    image.insert_layer(style, None, 0)
    fill(content, scene)
    fill(style, swirl)
    style.set_visible(False)
    image.set_selected_layers([content])
    return image, content


image, content = load_or_make()
# A painting open as an image of its own: the style list names its image, and only its.
painting = Gimp.Image.new(64, 64, Gimp.ImageBaseType.RGB)
painting_layer = Gimp.Layer.new(painting, "painting", 64, 64, Gimp.ImageType.RGB_IMAGE, 100.0,
                                Gimp.LayerMode.NORMAL)
painting.insert_layer(painting_layer, None, 0)
painting.set_file(Gio.File.new_for_path(os.path.join(MARKERS, "painting.xcf")))
marker("painting-image", painting.get_name())
Gimp.Display.new(image)
Gimp.displays_flush()
before = raw(content)

proc = PDB.lookup_procedure("plug-in-neural-style")
config = proc.create_config()
config.set_property("run-mode", Gimp.RunMode.INTERACTIVE)
config.set_property("image", image)
config.set_core_object_array("drawables", [content])
result = proc.run(config)

after = raw(content)
marker("applied", "%d %d" % (int(result.index(0)), int(after != before)))

wait_marker("undone", 120)
time.sleep(1.0)
marker("result", "1" if raw(content) == before else "0")
