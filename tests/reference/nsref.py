"""nsref — the engine's definitions written in PyTorch, for the reference test and the benchmark.

Everything here restates the contracts in engine/neural-style.h and /work/shared/docs/weights.md:
VGG-19 (torchvision configuration "E") up to relu5_1, ImageNet preprocessing of an RGB image in
[0,1], content / Gram-style / total-variation losses with the engine's normalisations, and
torch.optim.LBFGS with the strong-Wolfe line search.  It also writes the inputs the C probe reads:
safetensors weights (a small writer, no safetensors package) and float32 .npy arrays.
"""

import json
import math
import struct

import numpy as np
import torch

# torchvision cfg "E" up to conv5_1: (index in `features`, name, cin, cout); "M" = max-pool.
VGG19_CFG = [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M",
             512, 512, 512, 512, "M"]
MEAN = [0.485, 0.456, 0.406]
STD = [0.229, 0.224, 0.225]
CONTENT_LAYER = "relu4_2"
STYLE_LAYERS = ["relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"]


def vgg19_layers():
    """[(features index, name, kind, cin, cout)] for the whole cfg E, names as in the engine."""
    layers = []
    index, block, conv, cin = 0, 1, 1, 3
    for v in VGG19_CFG:
        if v == "M":
            layers.append((index, "pool%d" % block, "pool", cin, cin))
            index += 1
            block, conv = block + 1, 1
        else:
            layers.append((index, "conv%d_%d" % (block, conv), "conv", cin, v))
            layers.append((index + 1, "relu%d_%d" % (block, conv), "relu", v, v))
            index += 2
            conv += 1
            cin = v
    return layers


def layer_index(name):
    for index, lname, _, _, _ in vgg19_layers():
        if lname == name:
            return index
    raise KeyError(name)


def conv_layers():
    return [(i, n, cin, cout) for i, n, kind, cin, cout in vgg19_layers() if kind == "conv"]


def random_vgg19_weights(seed=0, bias_std=0.05):
    """He-normal weights (std √(2/(9·cin))) for all 16 convolutions, so that activations keep
    an O(1) scale through the ReLUs; small random biases so that they are exercised."""
    gen = torch.Generator().manual_seed(seed)
    tensors = {}
    for index, _, cin, cout in conv_layers():
        w = torch.randn(cout, cin, 3, 3, generator=gen, dtype=torch.float32)
        tensors["features.%d.weight" % index] = w * math.sqrt(2.0 / (9 * cin))
        tensors["features.%d.bias" % index] = torch.randn(cout, generator=gen) * bias_std
    return tensors


def write_safetensors(path, tensors):
    """F32 tensors, sorted by name, header padded with spaces to a multiple of 8 bytes."""
    names = sorted(tensors)
    header, blobs, offset = {}, [], 0
    for name in names:
        data = np.ascontiguousarray(tensors[name].detach().cpu().numpy(), dtype="<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(tensors[name].shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    header["__metadata__"] = {"format": "pt"}
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)


def read_safetensors(path):
    """{name: float32 tensor} of an F32 safetensors file (enough for the files written above)."""
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        data = f.read()
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        if entry["dtype"] != "F32":
            raise ValueError("%s: %s is %s, only F32 is read" % (path, name, entry["dtype"]))
        begin, end = entry["data_offsets"]
        array = np.frombuffer(data[begin:end], dtype="<f4").reshape(entry["shape"])
        tensors[name] = torch.from_numpy(array.copy())
    return tensors


def save_npy(path, array):
    np.save(path, np.ascontiguousarray(array, dtype="<f4"))


def load_npy(path):
    return np.load(path).astype(np.float32)


def smooth_image(rng, h, w, blobs=6):
    """A smooth RGB image in [0,1] (sums of random sinusoids) with a little noise, so that the
    features are neither all-negative nor pure noise.  Returned as H×W×3."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    img = np.zeros((h, w, 3))
    for _ in range(blobs):
        fy, fx = rng.uniform(0.5, 4.0, 2) * 2 * math.pi / np.array([h, w])
        phase = rng.uniform(0, 2 * math.pi, 3)
        img += rng.uniform(0.05, 0.2, 3) * np.sin(fy * yy[..., None] + fx * xx[..., None] + phase)
    img += 0.5 + rng.normal(0, 0.05, (h, w, 3))
    return np.clip(img, 0.0, 1.0).astype(np.float32)


def noise_image(rng, h, w):
    return rng.uniform(0.0, 1.0, (h, w, 3)).astype(np.float32)


# The engine's padding for VGG-19 (ns_network_default_padding): (mode, number of convolutions
# from the first, -1 for all).  "zero" is torch's padding=1.
VGG19_DEFAULT_PADDING = ("zero", -1)


def parse_padding(text):
    """"zero", "replicate", "reflect", optionally ":N" (the first N convolutions), as
    ns_padding_parse."""
    mode, _, n = text.partition(":")
    return mode, int(n) if n else -1


class PaddedConv(torch.nn.Module):
    """A 3×3 convolution that pads by one pixel with F.pad (replicate or reflect), then
    convolves without padding: what the engine does at the image's edge."""

    def __init__(self, conv, mode):
        super().__init__()
        self.conv, self.mode = conv, mode

    def forward(self, x):
        return self.conv(torch.nn.functional.pad(x, (1, 1, 1, 1), mode=self.mode))


class Vgg19(torch.nn.Module):
    """VGG-19 features up to relu5_1 with max-pooling, weights loaded from the dict written to
    the safetensors file; returns the activations of the requested named layers.  padding is
    (mode, n_convs) as parse_padding returns it."""

    def __init__(self, tensors, dtype=torch.float32, last="relu5_1", padding=VGG19_DEFAULT_PADDING):
        super().__init__()
        self.names = []
        modules = []
        mode, n_padded = padding
        n_convs = 0
        for index, name, kind, cin, cout in vgg19_layers():
            if kind == "conv":
                padded = mode != "zero" and (n_padded < 0 or n_convs < n_padded)
                conv = torch.nn.Conv2d(cin, cout, 3, padding=0 if padded else 1)
                conv.weight.data = tensors["features.%d.weight" % index].to(dtype).clone()
                conv.bias.data = tensors["features.%d.bias" % index].to(dtype).clone()
                modules.append(PaddedConv(conv, mode) if padded else conv)
                n_convs += 1
            elif kind == "relu":
                modules.append(torch.nn.ReLU(inplace=False))
            else:
                modules.append(torch.nn.MaxPool2d(2, 2))
            self.names.append(name)
            if name == last:
                break
        self.layers = torch.nn.ModuleList(modules)
        self.to(dtype)
        # Only the image is optimised: no weight gradients, as in the engine.
        for p in self.parameters():
            p.requires_grad_(False)
        mean = torch.tensor(MEAN, dtype=dtype).view(1, 3, 1, 1)
        std = torch.tensor(STD, dtype=dtype).view(1, 3, 1, 1)
        self.register_buffer("mean", mean)
        self.register_buffer("std", std)

    def forward(self, x, wanted):
        """x: 3×H×W in [0,1].  Returns {name: C×H×W activation} for names in `wanted`."""
        h = ((x.unsqueeze(0) - self.mean) / self.std)
        out = {}
        for name, layer in zip(self.names, self.layers):
            h = layer(h)
            if name in wanted:
                out[name] = h[0]
            if len(out) == len(wanted):
                break
        return out


def gram(f):
    c = f.shape[0]
    flat = f.reshape(c, -1)
    return flat @ flat.t() / flat.numel()


def tv_loss(x):
    dy = x[:, 1:, :] - x[:, :-1, :]
    dx = x[:, :, 1:] - x[:, :, :-1]
    return ((dy * dy).sum() + (dx * dx).sum()) / x.numel()


class Objective:
    """total = α·mean((F−P)²) + β·Σ_l mean((G_l−A_l)²) + tv_w·tv, as in neural-style.h."""

    def __init__(self, net, content, style, alpha, beta, tv_weight,
                 content_layer=CONTENT_LAYER, style_layers=STYLE_LAYERS):
        self.net = net
        self.alpha, self.beta, self.tv_weight = alpha, beta, tv_weight
        self.content_layer = content_layer
        self.style_layers = list(style_layers)
        self.wanted = set([content_layer] + self.style_layers)
        with torch.no_grad():
            self.target = net(content, {content_layer})[content_layer].clone()
            feats = net(style, set(self.style_layers))
            self.grams = {n: gram(feats[n]).clone() for n in self.style_layers}

    def parts(self, x):
        feats = self.net(x, self.wanted)
        content = ((feats[self.content_layer] - self.target) ** 2).mean()
        style = sum(((gram(feats[n]) - self.grams[n]) ** 2).mean() for n in self.style_layers)
        return self.alpha * content, self.beta * style, self.tv_weight * tv_loss(x)

    def value_and_grad(self, x):
        """(total, [content, style, tv] weighted, ∂total/∂x) as Python floats / a tensor."""
        x = x.detach().clone().requires_grad_(True)
        c, s, t = self.parts(x)
        total = c + s + t
        total.backward()
        return float(total), [float(c), float(s), float(t)], x.grad.detach()

    def term_grads(self, x):
        """([content, style, tv] weighted, [∂term/∂x for each]) from one forward pass."""
        x = x.detach().clone().requires_grad_(True)
        terms = self.parts(x)
        grads = [torch.autograd.grad(t, x, retain_graph=True)[0].detach() for t in terms]
        return [float(t) for t in terms], grads

    def unweighted(self, x):
        with torch.no_grad():
            feats = self.net(x, self.wanted)
            content = ((feats[self.content_layer] - self.target) ** 2).mean()
            style = sum(((gram(feats[n]) - self.grams[n]) ** 2).mean() for n in self.style_layers)
            return float(content), float(style), float(tv_loss(x))


def hwc_to_chw(img):
    return torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1)))


def run_lbfgs(objective, x0, iterations=20, history=100, max_eval=None):
    """One torch.optim.LBFGS(lr=1, strong Wolfe).step; returns (x, [f per evaluation])."""
    x = x0.detach().clone().requires_grad_(True)
    opt = torch.optim.LBFGS([x], lr=1, max_iter=iterations, max_eval=max_eval,
                            history_size=history, line_search_fn="strong_wolfe")
    evals = []

    def closure():
        opt.zero_grad()
        c, s, t = objective.parts(x)
        total = c + s + t
        total.backward()
        evals.append(float(total))
        return total

    opt.step(closure)
    n_iter = opt.state[opt._params[0]]["n_iter"]
    return x.detach(), evals, n_iter


def conv_flops_per_eval(h, w, last="relu5_1"):
    """Multiply-adds ×2 of the convolutions one objective evaluation computes: every conv up to
    `last` forward, and its input gradient backward (conv1_1's too: ∂L/∂image is the point)."""
    flops = 0
    for _, name, kind, cin, cout in vgg19_layers():
        if kind == "conv":
            flops += 2 * 2 * cout * cin * 9 * h * w
        elif kind == "pool":
            h, w = h // 2, w // 2
        if name == last:
            break
    return flops
