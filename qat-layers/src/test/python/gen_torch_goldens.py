#!/usr/bin/env python3
"""Generates PyTorch golden values for qat-layers' bit-exactness tests.

Run (needs PyTorch; Debian: apt-get install python3-torch):
    /usr/bin/python3 qat-layers/src/test/python/gen_torch_goldens.py
Writes qat-layers/src/test/resources/goldens/torch_fake_quant.json. Every float32 is stored as its
bit pattern (an unsigned 32-bit integer) so the Java test can compare with Float.floatToIntBits.
"""
import json
import os
import struct

import numpy as np
import torch
from torch.ao.quantization.observer import (MinMaxObserver, MovingAverageMinMaxObserver,
                                            PerChannelMinMaxObserver)

OUT = os.path.join(os.path.dirname(__file__), "..", "resources", "goldens", "torch_fake_quant.json")


def bits(t):
    a = np.ascontiguousarray(t.detach().numpy().astype(np.float32)).ravel()
    return [int(v) for v in a.view(np.uint32)]


def fbits(f):
    return struct.unpack("<I", struct.pack("<f", float(f)))[0]


RANGES = {  # name: (qmin, qmax, signed, torch dtype)
    "int8": (-128, 127, True, torch.qint8),
    "uint8": (0, 255, False, torch.quint8),
    "int4": (-8, 7, True, torch.qint8),
    "uint4": (0, 15, False, torch.quint8),
}


def qrange(qmin, qmax):
    # Full 8-bit ranges use PyTorch's defaults (quint8 symmetric zero point 128); 4-bit ranges are
    # "customized" ranges (zero point floor((qmin + qmax) / 2)).
    return {} if qmax - qmin == 255 else {"quant_min": qmin, "quant_max": qmax}


def sample(gen, shape, scale):
    x = torch.randn(shape, generator=gen) * 3.0
    n = x.numel()
    flat = x.view(-1)
    # Exact ties: (k + 0.5) * scale for a few k, and values far outside the range.
    for i, k in enumerate([-3, -1, 0, 1, 2, 5]):
        if i < n // 4:
            flat[i] = (k + 0.5) * scale
    if n > 8:
        flat[-1] = 1000.0
        flat[-2] = -1000.0
    return x.float()


def main():
    gen = torch.Generator().manual_seed(1234)
    per_tensor = []
    for name, (qmin, qmax, signed, _) in RANGES.items():
        for scale, zp in [(0.05, 0), (0.1234567, 3 if signed else 7), (1.0 / 3.0, -2 if signed else 1)]:
            s32 = float(np.float32(scale))
            x = sample(gen, (64,), s32)
            y = torch.fake_quantize_per_tensor_affine(x, s32, zp, qmin, qmax)
            per_tensor.append({"range": name, "qmin": qmin, "qmax": qmax, "scale": fbits(s32), "zero_point": zp,
                               "shape": list(x.shape), "x": bits(x), "y": bits(y)})
    per_channel = []
    for name, (qmin, qmax, signed, _) in RANGES.items():
        for shape, axis in [((3, 8), 0), ((4, 5), 1), ((2, 3, 2, 2), 1)]:
            c = shape[axis]
            scales = (torch.rand(c, generator=gen) * 0.2 + 0.01).float()
            zps = torch.randint(-2 if signed else 0, 3 if signed else 5, (c,), generator=gen).int()
            x = sample(gen, shape, float(scales[0]))
            y = torch.fake_quantize_per_channel_affine(x, scales, zps, axis, qmin, qmax)
            per_channel.append({"range": name, "qmin": qmin, "qmax": qmax, "axis": axis, "shape": list(shape),
                                "scales": bits(scales), "zero_points": [int(z) for z in zps],
                                "x": bits(x), "y": bits(y)})
    # Observer qparams and the whole derive-range-then-fake-quant pipeline.
    pipeline = []
    for name, (qmin, qmax, signed, dtype) in RANGES.items():
        for symmetric in (False, True):
            for case in range(3):
                if case == 0:
                    x = torch.randn(40, generator=gen).float() * 2.0
                elif case == 1:
                    x = (torch.rand(40, generator=gen).float() * 5.0 + 0.5)  # all positive
                else:
                    x = torch.zeros(10)
                qs = torch.per_tensor_symmetric if symmetric else torch.per_tensor_affine
                obs = MinMaxObserver(dtype=dtype, qscheme=qs, **qrange(qmin, qmax))
                obs(x)
                scale, zp = obs.calculate_qparams()
                y = torch.fake_quantize_per_tensor_affine(x, float(scale), int(zp), qmin, qmax)
                pipeline.append({"range": name, "qmin": qmin, "qmax": qmax, "symmetric": symmetric,
                                 "signed": signed, "min": fbits(obs.min_val), "max": fbits(obs.max_val),
                                 "scale": fbits(scale), "zero_point": int(zp), "shape": list(x.shape),
                                 "x": bits(x), "y": bits(y)})
    per_channel_pipeline = []
    for name, (qmin, qmax, signed, dtype) in RANGES.items():
        for symmetric in (False, True):
            x = torch.randn(4, 6, generator=gen).float() * 1.5
            qs = torch.per_channel_symmetric if symmetric else torch.per_channel_affine
            obs = PerChannelMinMaxObserver(ch_axis=1, dtype=dtype, qscheme=qs, **qrange(qmin, qmax))
            obs(x)
            scales, zps = obs.calculate_qparams()
            y = torch.fake_quantize_per_channel_affine(x, scales.float(), zps.int(), 1, qmin, qmax)
            per_channel_pipeline.append({"range": name, "qmin": qmin, "qmax": qmax, "symmetric": symmetric,
                                         "signed": signed, "axis": 1, "shape": list(x.shape),
                                         "scales": bits(scales), "zero_points": [int(z) for z in zps],
                                         "x": bits(x), "y": bits(y)})
    ema = []
    for c in (0.01, 0.25):
        obs = MovingAverageMinMaxObserver(averaging_constant=c)
        batches, mins, maxs = [], [], []
        for b in range(4):
            x = (torch.randn(30, generator=gen) * (b + 1)).float()
            obs(x)
            batches.append(bits(x))
            mins.append(fbits(obs.min_val))
            maxs.append(fbits(obs.max_val))
        ema.append({"c": c, "batches": batches, "min": mins, "max": maxs})
    out = {"torch_version": torch.__version__, "per_tensor": per_tensor, "per_channel": per_channel,
           "pipeline": pipeline, "per_channel_pipeline": per_channel_pipeline, "ema": ema}
    with open(OUT, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print("wrote", os.path.normpath(OUT))


if __name__ == "__main__":
    main()
