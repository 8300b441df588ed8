# tests/gimp/frames-picture.py — run by python-fu-eval inside the GUI gimp-3.0 for the README's
# picture of the frames dialog (test-frames.sh with NS_FRAMES_SCREENSHOT): the image files in
# $NS_FRAMES (a folder, read in name order) become an animation's layers, bottom first, and
# $NS_STYLE an image of its own; then plug-in-neural-style-frames opens its dialog, which the
# test photographs and closes.

import os
import sys

from gi.repository import Gimp, Gio

sys.path.insert(0, os.environ["NS_GIMP_TESTS"])
from gui_lib import PDB  # noqa: E402


def load_layer(image, path, name):
    layer = Gimp.file_load_layer(Gimp.RunMode.NONINTERACTIVE, image, Gio.File.new_for_path(path))
    layer.set_name(name)
    image.insert_layer(layer, None, 0)   # on top: frames go in bottom first
    return layer


folder = os.environ["NS_FRAMES"]
files = sorted(os.path.join(folder, f) for f in os.listdir(folder))
first = Gimp.file_load(Gimp.RunMode.NONINTERACTIVE, Gio.File.new_for_path(files[0]))
first.get_layers()[0].set_name("Frame 1 (100ms)")
for i, path in enumerate(files[1:], 2):
    load_layer(first, path, "Frame %d (100ms)" % i)
first.set_selected_layers([first.get_layers()[-1]])
Gimp.Display.new(first)

style_file = os.environ["NS_STYLE"]
painting = Gimp.file_load(Gimp.RunMode.NONINTERACTIVE, Gio.File.new_for_path(style_file))
name = os.path.splitext(os.path.basename(style_file))[0]
painting.get_layers()[0].set_name(name)
# A file of its own names the image in the style list, as an opened painting would be.
painting.set_file(Gio.File.new_for_path(os.path.join(os.environ["NS_MARKERS"], name + ".xcf")))

proc = PDB.lookup_procedure("plug-in-neural-style-frames")
config = proc.create_config()
config.set_property("run-mode", Gimp.RunMode.INTERACTIVE)
config.set_property("image", first)
config.set_core_object_array("drawables", [first.get_layers()[-1]])
proc.run(config)
