# tests/gimp/frames.py — run by python-fu-eval inside the GUI gimp-3.0 (see test-frames.sh):
# plug-in-neural-style-frames on a 4-frame animation made here, called through Script-Fu with
# named arguments as scripts would, the pixels checked with GEGL.  TAP lines (unnumbered) go
# to $NS_TAP_OUT; the steps that need the test's hands (Ctrl+Z in the image window, killing
# the plug-in, the dialog's OK) go through marker files in $NS_MARKERS:
#   ran        the animation was stylized; the test presses Ctrl+Z, then writes "undone"
#   kill-me    a long run is about to start; the test kills the plug-in
#   dialog     an interactive run is about to start; the test checks the dialog, presses OK
#   done       every check has been written

import os
import sys
import time
import traceback

from gi.repository import Gimp

sys.path.insert(0, os.environ["NS_GIMP_TESTS"])
from gui_lib import MARKERS, PDB, fill, marker, raw, wait_marker  # noqa: E402

TAP = open(os.environ["NS_TAP_OUT"], "w")


def tap(passed, description, diagnostic=None):
    TAP.write("%s - %s\n" % ("ok" if passed else "not ok", description))
    if diagnostic and not passed:
        for line in str(diagnostic).splitlines():
            TAP.write("# %s\n" % line)
    TAP.flush()


def check(description, function):
    """function() -> (passed, diagnostic); an exception is a failure."""
    try:
        passed, diagnostic = function()
    except Exception:
        passed, diagnostic = False, traceback.format_exc()
    tap(passed, description, diagnostic)
    return passed


# ---- the animation ----------------------------------------------------------------------------

W, H = 48, 40
RGBA = "R'G'B'A float"


def scene(shift):
    """A bright disc on a gradient, moved `shift` pixels to the right."""
    def pixel(x, y):
        if (x - 18 - shift) ** 2 + (y - 20) ** 2 < 64:
            return (1.0, 0.85, 0.2)
        return (0.2 + 0.5 * y / H, 0.4 + 0.3 * x / W, 0.8 - 0.4 * y / H)
    return pixel


def patch(x, y):
    """The (combine) frame: a 16×12 red square in a 2-px transparent ring."""
    inside = 2 <= x < 18 and 2 <= y < 14
    return (0.9, 0.15 + 0.04 * (x % 5), 0.1, 1.0 if inside else 0.0)


PATCH_AT = (14, 12)
NAMES = ["Frame 1 (100ms)", "Frame 2 (200ms) (replace)", "Frame 3 (combine) (150ms)",
         "Frame 4 (replace)"]


def new_layer(image, name, w, h, alpha):
    layer = Gimp.Layer.new(image, name, w, h,
                           Gimp.ImageType.RGBA_IMAGE if alpha else Gimp.ImageType.RGB_IMAGE,
                           100.0, Gimp.LayerMode.NORMAL)
    image.insert_layer(layer, None, 0)   # on top: frames go in bottom first
    return layer


def animation():
    """Bottom first: two whole frames, a (combine) patch, a smaller offset frame with alpha."""
    image = Gimp.Image.new(W, H, Gimp.ImageBaseType.RGB)
    fill(new_layer(image, NAMES[0], W, H, False), scene(0))
    fill(new_layer(image, NAMES[1], W, H, False), scene(2))
    third = new_layer(image, NAMES[2], 20, 16, True)
    third.set_offsets(*PATCH_AT)
    fill(third, patch, RGBA)
    fourth = new_layer(image, NAMES[3], 40, 32, True)
    fourth.set_offsets(4, 4)
    fill(fourth, lambda x, y: scene(6)(x + 4, y + 4) + (0.4 + 0.6 * ((x + y) % 7) / 6.0,), RGBA)
    return image


def frames_of(image):
    """Bottom first."""
    return list(reversed(image.get_layers()))


def snapshot(image):
    return [(layer.get_id(), layer.get_name(), layer.get_width(), layer.get_height(),
             tuple(layer.get_offsets()[1:]), raw(layer)) for layer in frames_of(image)]


def alpha_bytes(data):
    return data[3::4]


# ---- calling the procedure ----------------------------------------------------------------------

def script_fu(code):
    proc = PDB.lookup_procedure("plug-in-script-fu-eval")
    config = proc.create_config()
    config.set_property("run-mode", Gimp.RunMode.NONINTERACTIVE)
    config.set_property("script", code)
    result = proc.run(config)
    status = result.index(0)
    message = result.index(1) if result.length() > 1 else ""
    if status != Gimp.PDBStatusType.SUCCESS and not message:
        message = PDB.get_last_error()
    return status == Gimp.PDBStatusType.SUCCESS, message or ""


def frames(image, style=None, **named):
    """plug-in-neural-style-frames through Script-Fu with named arguments."""
    args = {"iterations": 3, "network": '"embedded"', "size": 0}
    args.update(named)
    code = "(plug-in-neural-style-frames #:run-mode RUN-NONINTERACTIVE #:image %d" % image.get_id()
    if style is not None:
        code += " #:style-layer %d" % style.get_id()
    for key, value in args.items():
        code += " #:%s %s" % (key, value)
    return script_fu(code + ")")


def stripes(x, y):
    return (1.0, 0.1, 0.1) if (x // 3) % 2 else (0.1, 0.1, 0.9)


painting = Gimp.Image.new(32, 32, Gimp.ImageBaseType.RGB)
style = new_layer(painting, "painting", 32, 32, False)
fill(style, stripes)


# ---- bad inputs -----------------------------------------------------------------------------------

def refused(description, image, needle, **named):
    before = snapshot(image)
    succeeded, message = frames(image, named.pop("style", style), **named)
    TAP.write("# error: %s\n" % message.replace("\n", " "))
    check(description, lambda: (not succeeded and needle in message and snapshot(image) == before,
                                "succeeded" if succeeded else message))


def test_bad_inputs():
    one = Gimp.Image.new(W, H, Gimp.ImageBaseType.RGB)
    fill(new_layer(one, "only", W, H, False), scene(0))
    refused("an image with one layer is refused: it needs at least 2 layers as frames", one,
            "needs at least 2 layers as frames")
    # The style layer is not a frame: with it, a two-layer image has one frame.
    own = new_layer(one, "painting here", 32, 32, False)
    fill(own, stripes)
    refused("the style layer in the image itself is not counted as a frame", one,
            "needs at least 2 layers as frames", style=own)
    one.delete()

    indexed = Gimp.Image.new(W, H, Gimp.ImageBaseType.INDEXED)
    for name in NAMES[:2]:
        indexed.insert_layer(Gimp.Layer.new(indexed, name, W, H, Gimp.ImageType.INDEXED_IMAGE,
                                            100.0, Gimp.LayerMode.NORMAL), None, 0)
    refused("an indexed image is refused as the single filter refuses it", indexed,
            "does not work on indexed images")
    indexed.delete()

    grouped = animation()
    group = Gimp.GroupLayer.new(grouped, "Frame 5 (group)")
    grouped.insert_layer(group, None, 0)
    inner = Gimp.Layer.new(grouped, "inside", W, H, Gimp.ImageType.RGB_IMAGE, 100.0,
                           Gimp.LayerMode.NORMAL)
    grouped.insert_layer(inner, group, 0)
    refused("a layer group among the frames is refused, naming it", grouped,
            "“Frame 5 (group)” is a layer group")
    grouped.delete()

    image = animation()
    refused("no style layer: a readable error", image, "style layer", style=None)
    # A run that fails in the engine, after the frames were read: nothing is written.
    refused("a run that fails (a 1 MiB memory budget) leaves every frame untouched", image,
            "memory", **{"max-memory": 1})
    image.delete()


# ---- the run ------------------------------------------------------------------------------------

def selection(image):
    return tuple(Gimp.Selection.bounds(image)[1:]), len(image.get_channels())


def test_run(image):
    before = snapshot(image)
    # A selection does not limit the frames, and it is kept.
    image.select_rectangle(Gimp.ChannelOps.REPLACE, 5, 5, 10, 10)
    selected = selection(image)
    succeeded, message = frames(image, style)
    check("a Script-Fu call with named arguments stylizes the 4-frame animation",
          lambda: (succeeded, message))
    after = snapshot(image)
    check("the frames keep their order (the same layers, bottom first)",
          lambda: ([f[0] for f in after] == [f[0] for f in before],
                   [(f[0], f[1]) for f in after]))
    expected = [NAMES[0], NAMES[1], "Frame 3 (replace) (150ms)", NAMES[3]]
    check("names, tags and delays are kept; the (combine) frame is tagged (replace)",
          lambda: ([f[1] for f in after] == expected, [f[1] for f in after]))
    check("every frame changed",
          lambda: (all(a[5] != b[5] for a, b in zip(after, before)),
                   [a[5] != b[5] for a, b in zip(after, before)]))
    check("the (combine) frame is now a whole frame (the canvas, at 0,0), opaque",
          lambda: (after[2][2:5] == (W, H, (0, 0)) and set(alpha_bytes(after[2][5])) == {255},
                   after[2][2:5]))
    # Frame 1 below the selection (rows 20 and down), stylized all the same.
    check("a selection does not limit the frames, and is kept (no channel left over)",
          lambda: (after[0][5][20 * W * 3:] != before[0][5][20 * W * 3:] and
                   selection(image) == selected, (selected, selection(image))))
    check("the offset frame keeps its size, offsets and alpha",
          lambda: (after[3][2:5] == (40, 32, (4, 4)) and
                   alpha_bytes(after[3][5]) == alpha_bytes(before[3][5]), after[3][2:5]))
    return before


def test_combine():
    """A (combine) frame gives the very pixels of the frame it shows, given whole."""
    results = []
    for combined in (True, False):
        image = Gimp.Image.new(W, H, Gimp.ImageBaseType.RGB)
        fill(new_layer(image, "below (replace)", W, H, False), scene(2))
        if combined:
            top = new_layer(image, "over (combine)", 20, 16, True)
            top.set_offsets(*PATCH_AT)
            fill(top, patch, RGBA)
        else:
            top = new_layer(image, "whole (replace)", W, H, True)

            def shown(x, y):
                px, py = x - PATCH_AT[0], y - PATCH_AT[1]
                if 0 <= px < 20 and 0 <= py < 16 and patch(px, py)[3] == 1.0:
                    return patch(px, py)
                return scene(2)(x, y) + (1.0,)
            fill(top, shown, RGBA)
        succeeded, message = frames(image, style, **{"temporal-weight": 50.0})
        results.append((succeeded, message, raw(image.get_layers()[0]),
                        raw(image.get_layers()[1])))
        image.delete()
    check("a (combine) frame is stylized as the composited frame: the same pixels as that "
          "frame given whole",
          lambda: (results[0][0] and results[1][0] and results[0][2] == results[1][2] and
                   results[0][3] == results[1][3],
                   results[0][1] or results[1][1] or "the results differ"))


def test_temporal_weight(held):
    """γ reaches the engine: against the run with the default (`held`, its frames' pixels),
    frame 1 is the same with γ = 0, the frames held to it are not."""
    image = animation()
    succeeded, message = frames(image, style, **{"temporal-weight": 0.0})
    independent = [raw(layer) for layer in frames_of(image)]
    image.delete()
    check("temporal-weight 0 (independent frames) gives the default's first frame and other "
          "later ones",
          lambda: (succeeded and independent[0] == held[0] and
                   all(a != b for a, b in zip(independent[1:], held[1:])),
                   message or [a == b for a, b in zip(independent, held)]))


def restored(image, before, seconds):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if snapshot(image) == before:
            return True
        time.sleep(0.3)
    return False


def main():
    test_bad_inputs()
    test_combine()

    image = animation()
    image.clean_all()
    Gimp.Display.new(image)
    Gimp.displays_flush()
    before = test_run(image)
    test_temporal_weight([raw(layer) for layer in frames_of(image)])

    # One Ctrl+Z in the image window restores every frame: pixels, names, sizes, offsets.
    marker("ran", str(image.get_id()))
    wait_marker("undone", 60)
    check("one undo step (Ctrl+Z once) restores all 4 frames: pixels, names, sizes",
          lambda: (restored(image, before, 10),
                   [(f[1], f[2:5]) for f in snapshot(image)]))

    # Cancelling in GIMP kills the plug-in: the test kills it in the middle of a long run.
    marker("kill-me", "1")
    succeeded, message = frames(image, style, iterations=5000)
    TAP.write("# killed run: %s\n" % message.replace("\n", " "))
    check("a run killed in the middle (as GIMP's Cancel does) leaves the image untouched",
          lambda: (not succeeded and snapshot(image) == before,
                   "succeeded" if succeeded else "the image changed"))

    # The dialog: the test checks what it says, then presses OK.
    marker("dialog", "1")
    proc = PDB.lookup_procedure("plug-in-neural-style-frames")
    config = proc.create_config()
    config.set_property("run-mode", Gimp.RunMode.INTERACTIVE)
    config.set_property("image", image)
    config.set_core_object_array("drawables", [frames_of(image)[1]])
    result = proc.run(config)
    after = snapshot(image)
    check("an interactive run (the dialog's OK, the other image's layer as the style) "
          "stylizes every frame",
          lambda: (result.index(0) == Gimp.PDBStatusType.SUCCESS and
                   all(a[5] != b[5] for a, b in zip(after, before)),
                   PDB.get_last_error()))


try:
    main()
except Exception:
    tap(False, "frames.py raised", traceback.format_exc())
TAP.close()
marker("done", "1")
