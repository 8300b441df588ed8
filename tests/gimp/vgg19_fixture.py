#!/usr/bin/env python3
"""tests/gimp/vgg19_fixture.py PATH — writes a stand-in for the VGG-19 checkpoint (the 16
convolutions at their real shapes, He-initialised from a fixed seed, F32 safetensors, 80 MB),
for the dialog's "Get VGG-19…" to download from a file:// URL."""
import json
import struct
import sys

import numpy as np

CONVS = [(0, 3, 64), (2, 64, 64), (5, 64, 128), (7, 128, 128), (10, 128, 256), (12, 256, 256),
         (14, 256, 256), (16, 256, 256), (19, 256, 512), (21, 512, 512), (23, 512, 512),
         (25, 512, 512), (28, 512, 512), (30, 512, 512), (32, 512, 512), (34, 512, 512)]

rng = np.random.default_rng(15)
tensors = []
for index, cin, cout in CONVS:
    std = (2.0 / (9 * cin)) ** 0.5
    tensors.append(("features.%d.weight" % index,
                    (rng.standard_normal((cout, cin, 3, 3)) * std).astype("<f4")))
    tensors.append(("features.%d.bias" % index, np.zeros(cout, dtype="<f4")))

header, offset = {}, 0
for name, array in tensors:
    header[name] = {"dtype": "F32", "shape": list(array.shape),
                    "data_offsets": [offset, offset + array.nbytes]}
    offset += array.nbytes
text = json.dumps(header).encode()
with open(sys.argv[1], "wb") as f:
    f.write(struct.pack("<Q", len(text)) + text)
    for _, array in tensors:
        f.write(array.tobytes())
