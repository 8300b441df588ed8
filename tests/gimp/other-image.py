# tests/gimp/other-image.py — run by python-fu-eval inside the GUI gimp-3.0 (see
# test-other-image.sh): the README's workflow, with the painting open as its own image.
#
# 1. A photo with a rectangle selection and a painting in another image, each in a display;
#    an interactive run (the test previews, then presses OK).  Writes markers in $NS_MARKERS:
#      painting   the painting image's ID (the test closes its window later)
#      applied    "<status> <changed>"; photo-before.rgb, photo-after.rgb: the layer's pixels
# 2. Filters ▸ Repeat (WITH_LAST_VALS) on a copy of the photo, and the same run called with
#    the painting named:  repeat  "<status> <same pixels>"
# 3. A decoy layer is added to the photo, then Re-Show (INTERACTIVE again): the test checks
#    which layer the dialog chose, closes the painting's window, then cancels:
#      reshown    "<status>"
# 4. Repeat again, the painting closed:  gone  "<status>\n<error message>"

import os
import sys
import time

from gi.repository import Gimp

sys.path.insert(0, os.environ["NS_GIMP_TESTS"])
from gui_lib import MARKERS, PDB, W, H, fill, marker, raw, scene, swirl  # noqa: E402

SELECTION = (40, 30, 64, 48)


def photo_image():
    image = Gimp.Image.new(W, H, Gimp.ImageBaseType.RGB)
    layer = Gimp.Layer.new(image, "photo", W, H, Gimp.ImageType.RGB_IMAGE, 100.0,
                           Gimp.LayerMode.NORMAL)
    image.insert_layer(layer, None, 0)
    fill(layer, scene)
    return image, layer


def run(mode, image, layer, **values):
    proc = PDB.lookup_procedure("plug-in-neural-style")
    config = proc.create_config()
    config.set_property("run-mode", mode)
    config.set_property("image", image)
    config.set_core_object_array("drawables", [layer])
    for key, value in values.items():
        config.set_property(key, value)
    result = proc.run(config)
    message = result.index(1) if result.length() > 1 else ""
    if result.index(0) != Gimp.PDBStatusType.SUCCESS and not message:
        message = PDB.get_last_error()
    return int(result.index(0)), message or ""


photo, layer = photo_image()
photo.select_rectangle(Gimp.ChannelOps.REPLACE, *SELECTION)
painting = Gimp.Image.new(96, 96, Gimp.ImageBaseType.RGB)
style = Gimp.Layer.new(painting, "painting", 96, 96, Gimp.ImageType.RGB_IMAGE, 100.0,
                       Gimp.LayerMode.NORMAL)
painting.insert_layer(style, None, 0)
fill(style, swirl)
painting.clean_all()
Gimp.Display.new(photo)
Gimp.Display.new(painting)
Gimp.displays_flush()
marker("painting", str(painting.get_id()))
marker("photo", str(photo.get_id()))

# 1. The photo has no other layer: the dialog offers the painting.
before = raw(layer)
status, message = run(Gimp.RunMode.INTERACTIVE, photo, layer)
after = raw(layer)
with open(os.path.join(MARKERS, "photo-before.rgb"), "wb") as f:
    f.write(before)
with open(os.path.join(MARKERS, "photo-after.rgb"), "wb") as f:
    f.write(after)
marker("applied", "%d %d" % (status, int(after != before)))

# 2. Repeat on a copy, against the same values with the painting named.
copy, copy_layer = photo_image()
status, message = run(Gimp.RunMode.WITH_LAST_VALS, copy, copy_layer)
named, named_layer = photo_image()
run(Gimp.RunMode.NONINTERACTIVE, named, named_layer, **{
    "style-layer": style, "iterations": 5, "size": 64, "network": "embedded"})
marker("repeat", "%d %d %s" % (status, int(raw(copy_layer) == raw(named_layer)
                                          and raw(copy_layer) != raw(photo_image()[1])),
                               message.replace("\n", " ")))

# 3. Re-Show: a decoy is now the photo's first other layer.
decoy = Gimp.Layer.new(photo, "decoy", 32, 32, Gimp.ImageType.RGB_IMAGE, 100.0,
                       Gimp.LayerMode.NORMAL)
photo.insert_layer(decoy, None, 0)
decoy.set_visible(False)
photo.set_selected_layers([layer])
status, message = run(Gimp.RunMode.INTERACTIVE, photo, layer)
marker("reshown", "%d" % status)

# 4. Repeat with the painting closed.
time.sleep(0.5)
status, message = run(Gimp.RunMode.WITH_LAST_VALS, copy, copy_layer)
marker("gone", "%d\n%s" % (status, message))
