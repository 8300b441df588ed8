# tests/gimp/dialog.py — run by python-fu-eval inside the GUI gimp-3.0 (see test-dialog.sh).
#
# Opens a two-layer image in a display, calls plug-in-neural-style INTERACTIVELY (the dialog
# stays open until the test presses OK), then reports through marker files in $NS_MARKERS:
#   applied   "<status> <changed>" after the run returned
#   result    "1" if, after the test pressed Ctrl+Z (marker "undone"), the layer is back to
#             its original pixels
#   painting-image  the name of a second image (with a layer "painting") it opened
# $NS_CONTENT / $NS_STYLE may name image files to use instead of the generated patterns.

import os
import sys
import time

from gi.repository import Gegl, Gimp, Gio

sys.path.insert(0, os.environ["NS_GIMP_TESTS"])
from gui_lib import MARKERS, PDB, W, H, fill, marker, raw, scene, swirl, wait_marker  # noqa: E402


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
# A saved selection for the regions: the left half of the image.
left = Gimp.Channel.new(image, "left", image.get_width(), image.get_height(), 100.0,
                        Gegl.Color.new("black"))
image.insert_channel(left, None, 0)
fill(left, lambda x, y: (1.0 if x < image.get_width() // 2 else 0.0,), "Y float")
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
