#!/usr/bin/env python3
"""tests/gimp/pluginrc.py PLUGINRC FIELD — prints one field of plug-in-neural-style's entry in
GIMP's pluginrc (of another procedure's with NS_PROC=plug-in-neural-style-frames): "args" (argument names, one a line), "menu-label", "menu-path",
"image-types", "help", "defaults" (name=default, one a line), "help-domain" (the plug-in's
help domain and its folder), or "help-page LANGUAGE": the page GIMP's help plug-in opens for
the procedure's help id in that language (as plug-ins/help/gimphelpdomain.c maps it: the
first of LANGUAGE, en whose gimp-help.xml has a help-item of that id)."""
import os
import re
import sys
import xml.etree.ElementTree as ET
from urllib.parse import unquote, urlparse

PROC = os.environ.get("NS_PROC") or "plug-in-neural-style"
text = open(sys.argv[1], encoding="utf-8", errors="replace").read()
start = text.find('(proc-def "%s"' % PROC)
if start < 0:
    sys.exit(PROC + " is not registered in " + sys.argv[1])
# The plug-in's entry; the procedure's runs up to the next procedure.
plug_in = text[start:text.find("(plug-in-def", start) if "(plug-in-def" in text[start:] else None]
entry = plug_in[:plug_in.find("(proc-def", 1) if "(proc-def" in plug_in[1:] else None]

STRING = r'"((?:[^"\\]|\\.)*)"'
strings = re.findall(STRING, entry[:entry.find("(menu-path")])
# proc-def name, blurb, help, authors, copyright, date, menu label
field = sys.argv[2]
help_def = re.search(r'\(help-def ' + STRING + ' ' + STRING + r'\)', plug_in)


def help_page(language):
    folder = unquote(urlparse(help_def.group(2)).path)
    for locale in (language, "en"):
        index = os.path.join(folder, locale, "gimp-help.xml")
        if not os.path.exists(index):
            continue
        for item in ET.parse(index).getroot().iter("help-item"):
            if item.get("id") == PROC:
                # The page, without the anchor of its section.
                return os.path.join(folder, locale, item.get("ref").split("#")[0])
    return ""


if field == "help-domain":
    print("%s %s" % (help_def.group(1), help_def.group(2)) if help_def else "")
elif field == "help-page":
    print(help_page(sys.argv[3]) if help_def else "")
elif field == "help":
    print(strings[2])
elif field == "menu-label":
    print(strings[6])
elif field == "menu-path":
    print("\n".join(re.findall(r'\(menu-path ' + STRING, entry)))
elif field == "image-types":
    print(re.search(r'\(icon [^)]*\)\s*' + STRING, entry).group(1))
elif field in ("args", "defaults"):
    arg = re.compile(r'\(proc-arg \d+ "(\w+)" "\w+" "([\w-]+)" ' + STRING + ' ' + STRING +
                     r' \d+ ?((?:' + STRING + r'|[^()"\s]+|\s+)*)\)')
    for m in arg.finditer(entry):
        kind, name, rest = m.group(1), m.group(2), m.group(5)
        if field == "args":
            print(name)
            continue
        values = [t for t in re.findall(r'"(?:[^"\\]|\\.)*"|[^\s"]+', rest)]
        if kind == "GimpParamChoice":
            default = values[0]
        elif kind in ("GParamDouble", "GParamInt"):
            default = values[2]
        elif kind == "GParamBoolean":
            default = values[0]
        else:
            default = ""
        print("%s=%s" % (name, default))
else:
    sys.exit("unknown field " + field)
