#!/usr/bin/env python3
"""tests/gimp/x11.py — just enough X11 (libX11 + XTest through ctypes) to drive GIMP under
Xvfb without a window manager:

  x11.py wait TITLE [SECONDS]     wait until a mapped top-level window whose title contains
                                  TITLE exists; print its id (hex)
  x11.py key TITLE KEY...         focus that window and type keys such as alt+p, Return, ctrl+z
  x11.py press KEY...             type keys to whatever has the keyboard (an open menu)
  x11.py click TITLE X Y          click at X, Y (pixels from that window's top-left corner)
  x11.py pointer X Y              move the pointer to X, Y on the screen (away from a widget
                                  whose tooltip would cover a screenshot)
  x11.py scroll TITLE X Y BUTTON N  at X, Y in that window, press BUTTON N times (4 up,
                                  5 down, 6 left, 7 right: wheel steps, which scroll GIMP's canvas)
"""
import ctypes
import sys
import time

X = ctypes.cdll.LoadLibrary("libX11.so.6")
XT = ctypes.cdll.LoadLibrary("libXtst.so.6")

Window = ctypes.c_ulong
Display = ctypes.c_void_p


class XWindowAttributes(ctypes.Structure):
    _fields_ = [("x", ctypes.c_int), ("y", ctypes.c_int),
                ("width", ctypes.c_int), ("height", ctypes.c_int),
                ("border_width", ctypes.c_int), ("depth", ctypes.c_int),
                ("visual", ctypes.c_void_p), ("root", Window),
                ("c_class", ctypes.c_int), ("bit_gravity", ctypes.c_int),
                ("win_gravity", ctypes.c_int), ("backing_store", ctypes.c_int),
                ("backing_planes", ctypes.c_ulong), ("backing_pixel", ctypes.c_ulong),
                ("save_under", ctypes.c_int), ("colormap", ctypes.c_ulong),
                ("map_installed", ctypes.c_int), ("map_state", ctypes.c_int),
                ("all_event_masks", ctypes.c_long), ("your_event_mask", ctypes.c_long),
                ("do_not_propagate_mask", ctypes.c_long),
                ("override_redirect", ctypes.c_int), ("screen", ctypes.c_void_p)]


X.XOpenDisplay.restype = Display
X.XOpenDisplay.argtypes = [ctypes.c_char_p]
X.XDefaultRootWindow.restype = Window
X.XDefaultRootWindow.argtypes = [Display]
X.XQueryTree.argtypes = [Display, Window, ctypes.POINTER(Window), ctypes.POINTER(Window),
                         ctypes.POINTER(ctypes.POINTER(Window)), ctypes.POINTER(ctypes.c_uint)]
X.XGetWindowAttributes.argtypes = [Display, Window, ctypes.POINTER(XWindowAttributes)]
X.XInternAtom.restype = ctypes.c_ulong
X.XInternAtom.argtypes = [Display, ctypes.c_char_p, ctypes.c_int]
X.XGetWindowProperty.argtypes = [Display, Window, ctypes.c_ulong, ctypes.c_long, ctypes.c_long,
                                 ctypes.c_int, ctypes.c_ulong, ctypes.POINTER(ctypes.c_ulong),
                                 ctypes.POINTER(ctypes.c_int), ctypes.POINTER(ctypes.c_ulong),
                                 ctypes.POINTER(ctypes.c_ulong),
                                 ctypes.POINTER(ctypes.c_void_p)]
X.XFree.argtypes = [ctypes.c_void_p]
X.XSetInputFocus.argtypes = [Display, Window, ctypes.c_int, ctypes.c_ulong]
X.XRaiseWindow.argtypes = [Display, Window]
X.XStringToKeysym.restype = ctypes.c_ulong
X.XStringToKeysym.argtypes = [ctypes.c_char_p]
X.XKeysymToKeycode.restype = ctypes.c_ubyte
X.XKeysymToKeycode.argtypes = [Display, ctypes.c_ulong]
X.XFlush.argtypes = [Display]
X.XSync.argtypes = [Display, ctypes.c_int]
XT.XTestFakeKeyEvent.argtypes = [Display, ctypes.c_uint, ctypes.c_int, ctypes.c_ulong]
XT.XTestFakeButtonEvent.argtypes = [Display, ctypes.c_uint, ctypes.c_int, ctypes.c_ulong]
XT.XTestFakeMotionEvent.argtypes = [Display, ctypes.c_int, ctypes.c_int, ctypes.c_int,
                                    ctypes.c_ulong]
X.XTranslateCoordinates.argtypes = [Display, Window, Window, ctypes.c_int, ctypes.c_int,
                                    ctypes.POINTER(ctypes.c_int), ctypes.POINTER(ctypes.c_int),
                                    ctypes.POINTER(Window)]

# Windows come and go while the tree is walked (GIMP's splash, tooltips, menus): a request on
# one that has just gone fails with BadWindow, which Xlib's default handler makes fatal.
# Such a window is simply not a match, so errors are ignored (the failed call reports 0).
XErrorHandler = ctypes.CFUNCTYPE(ctypes.c_int, Display, ctypes.c_void_p)
_ignore_errors = XErrorHandler(lambda display, event: 0)
X.XSetErrorHandler.argtypes = [XErrorHandler]
X.XSetErrorHandler.restype = ctypes.c_void_p
X.XSetErrorHandler(_ignore_errors)

dpy = X.XOpenDisplay(None)
if not dpy:
    sys.exit("x11.py: cannot open the display")


def title(window):
    """_NET_WM_NAME (UTF-8), which GTK sets."""
    prop = X.XInternAtom(dpy, b"_NET_WM_NAME", 0)
    utf8 = X.XInternAtom(dpy, b"UTF8_STRING", 0)
    actual, fmt = ctypes.c_ulong(), ctypes.c_int()
    n, after, data = ctypes.c_ulong(), ctypes.c_ulong(), ctypes.c_void_p()
    if X.XGetWindowProperty(dpy, window, prop, 0, 1024, 0, utf8, ctypes.byref(actual),
                            ctypes.byref(fmt), ctypes.byref(n), ctypes.byref(after),
                            ctypes.byref(data)) != 0 or not data.value:
        return ""
    text = ctypes.string_at(data.value, n.value).decode("utf-8", "replace")
    X.XFree(data)
    return text


def windows():
    root = X.XDefaultRootWindow(dpy)
    r, p, children, n = Window(), Window(), ctypes.POINTER(Window)(), ctypes.c_uint()
    X.XQueryTree(dpy, root, ctypes.byref(r), ctypes.byref(p), ctypes.byref(children),
                 ctypes.byref(n))
    result = []
    for i in range(n.value):
        attributes = XWindowAttributes()
        X.XGetWindowAttributes(dpy, children[i], ctypes.byref(attributes))
        if attributes.map_state == 2:          # IsViewable
            result.append((children[i], title(children[i])))
    if n.value:
        X.XFree(children)
    return result


def find(name, seconds):
    deadline = time.time() + seconds
    while True:
        for window, text in windows():
            if name in text:
                return window
        if time.time() > deadline:
            sys.exit("x11.py: no window titled like %r; windows: %r" %
                     (name, [t for _, t in windows()]))
        time.sleep(0.5)


def press(spec):
    keys = [X.XKeysymToKeycode(dpy, X.XStringToKeysym(
        {"alt": b"Alt_L", "ctrl": b"Control_L", "shift": b"Shift_L"}.get(k, k.encode())))
        for k in spec.split("+")]
    for code in keys:
        XT.XTestFakeKeyEvent(dpy, code, 1, 0)
    for code in reversed(keys):
        XT.XTestFakeKeyEvent(dpy, code, 0, 0)
    X.XFlush(dpy)


if sys.argv[1] == "wait":
    print(hex(find(sys.argv[2], float(sys.argv[3]) if len(sys.argv) > 3 else 60)))
elif sys.argv[1] == "key":
    window = find(sys.argv[2], 10)
    X.XRaiseWindow(dpy, window)
    X.XSetInputFocus(dpy, window, 2, 0)        # RevertToParent, CurrentTime
    X.XSync(dpy, 0)
    time.sleep(0.5)
    for spec in sys.argv[3:]:
        press(spec)
        time.sleep(0.3)
    X.XSync(dpy, 0)
elif sys.argv[1] == "press":
    # To whatever has the keyboard (e.g. an open combo box's menu), no window focused.
    for spec in sys.argv[2:]:
        press(spec)
        time.sleep(0.3)
    X.XSync(dpy, 0)
elif sys.argv[1] in ("click", "scroll"):
    window = find(sys.argv[2], 10)
    X.XRaiseWindow(dpy, window)
    X.XSync(dpy, 0)
    rx, ry, child = ctypes.c_int(), ctypes.c_int(), Window()
    X.XTranslateCoordinates(dpy, window, X.XDefaultRootWindow(dpy), int(sys.argv[3]),
                            int(sys.argv[4]), ctypes.byref(rx), ctypes.byref(ry),
                            ctypes.byref(child))
    XT.XTestFakeMotionEvent(dpy, -1, rx.value, ry.value, 0)
    X.XSync(dpy, 0)
    time.sleep(0.3)
    button, times = (1, 1) if sys.argv[1] == "click" else (int(sys.argv[5]), int(sys.argv[6]))
    for _ in range(times):
        XT.XTestFakeButtonEvent(dpy, button, 1, 0)
        XT.XTestFakeButtonEvent(dpy, button, 0, 0)
        X.XSync(dpy, 0)
        time.sleep(0.02)
elif sys.argv[1] == "pointer":
    XT.XTestFakeMotionEvent(dpy, -1, int(sys.argv[2]), int(sys.argv[3]), 0)
    X.XSync(dpy, 0)
else:
    sys.exit(__doc__)
