# tests/gimp/large.py — run by python-fu-eval inside the GUI gimp-3.0 for test-dialog.sh's
# picture mode NS_DIALOG_LARGE: opens the photo $NS_CONTENT in a display with the painting
# $NS_STYLE as a hidden layer above it, calls plug-in-neural-style INTERACTIVELY (the dialog
# keeps the product's defaults; the test presses OK), then reports through marker files in
# $NS_MARKERS:
#   started   the image is open in its display
#   applied   "<status> <seconds>" when the run returned (seconds: the procedure's whole call,
#             the dialog's time included)
#   saved     the stylized layer's PNG path ($NS_LARGE_OUT/result.png), once written
# and keeps GIMP open until the test has its screenshots (marker "finished").

import os
import sys
import time

from gi.repository import Gimp, Gio

sys.path.insert(0, os.environ["NS_GIMP_TESTS"])
from gui_lib import PDB, marker, wait_marker  # noqa: E402

image = Gimp.file_load(Gimp.RunMode.NONINTERACTIVE, Gio.File.new_for_path(os.environ["NS_CONTENT"]))
content = image.get_layers()[0]
style_file = os.environ["NS_STYLE"]
style = Gimp.file_load_layer(Gimp.RunMode.NONINTERACTIVE, image, Gio.File.new_for_path(style_file))
style.set_name(os.path.splitext(os.path.basename(style_file))[0])
image.insert_layer(style, None, 0)
style.set_visible(False)
image.set_selected_layers([content])
Gimp.Display.new(image)
Gimp.displays_flush()
marker("started")

proc = PDB.lookup_procedure("plug-in-neural-style")
config = proc.create_config()
config.set_property("run-mode", Gimp.RunMode.INTERACTIVE)
config.set_property("image", image)
config.set_core_object_array("drawables", [content])
start = time.time()
result = proc.run(config)
seconds = time.time() - start
# Before the PNG (an 8 MP one takes seconds): the test times the run up to this marker.
marker("applied", "%d %.1f" % (int(result.index(0)), seconds))
Gimp.displays_flush()

# The layer alone as a PNG: a new image of it, so that the hidden style layer plays no part.
out = os.path.join(os.environ["NS_LARGE_OUT"], "result.png")
copy = Gimp.Image.new(content.get_width(), content.get_height(), Gimp.ImageBaseType.RGB)
layer = Gimp.Layer.new_from_drawable(content, copy)
copy.insert_layer(layer, None, 0)
Gimp.file_save(Gimp.RunMode.NONINTERACTIVE, copy, Gio.File.new_for_path(out), None)
copy.delete()
marker("saved", out)

wait_marker("finished", 600)
