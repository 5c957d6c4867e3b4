#!/usr/bin/env python3
"""Write the benchmark models: ONNX graphs with seeded synthetic weights.

For every model NAME this writes ``<out>/NAME/network.onnx`` and
``<out>/NAME/input.json`` (ezkl-style ``{"input_data": [[...flattened floats...]]}``).
Batch size is fixed to 1. Output is deterministic: the same command writes
byte-identical files.

Weights are Kaiming-normal for layers followed by ReLU and Xavier-like for the
classifier, so activations stay O(1) through the network. BatchNorm
statistics are synthetic but close to identity; the last BatchNorm of each
residual branch is damped so the residual stream does not blow up.

Usage:
    python gen_models.py --out bench/models                 # all models
    python gen_models.py --out bench/models mlp_784_128_10  # some
    python gen_models.py --list
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import zlib

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 13
IR_VERSION = 8  # matches opset 13; readable by older onnx runtimes and tract


class Builder:
    """Small helper that accumulates nodes and initializers of one graph."""

    def __init__(self, name: str, seed: int):
        self.name = name
        self.rng = np.random.default_rng(seed)
        self.nodes: list = []
        self.inits: list = []
        self.params = 0
        self._n = 0

    def fresh(self, prefix: str) -> str:
        self._n += 1
        return f"{prefix}_{self._n}"

    def const(self, prefix: str, arr: np.ndarray, count: bool = True) -> str:
        name = self.fresh(prefix)
        self.inits.append(numpy_helper.from_array(np.ascontiguousarray(arr), name))
        if count:
            self.params += int(arr.size)
        return name

    def node(self, op: str, inputs: list[str], prefix: str | None = None, **attrs) -> str:
        out = self.fresh(prefix or op.lower())
        self.nodes.append(helper.make_node(op, inputs, [out], name=out + "_node", **attrs))
        return out

    # --- layers -----------------------------------------------------------
    def gemm(self, x: str, fan_in: int, fan_out: int, relu_after: bool) -> str:
        gain = 2.0 if relu_after else 1.0
        w = self.rng.normal(0.0, np.sqrt(gain / fan_in), size=(fan_out, fan_in)).astype(np.float32)
        b = self.rng.normal(0.0, 0.01, size=(fan_out,)).astype(np.float32)
        y = self.node("Gemm", [x, self.const("W", w), self.const("b", b)], "gemm", transB=1)
        return self.node("Relu", [y]) if relu_after else y

    def conv(self, x: str, cin: int, cout: int, k: int, stride: int = 1, pad: int | None = None,
             bias: bool = True) -> str:
        if pad is None:
            pad = k // 2
        fan_in = cin * k * k
        w = self.rng.normal(0.0, np.sqrt(2.0 / fan_in), size=(cout, cin, k, k)).astype(np.float32)
        ins = [x, self.const("convW", w)]
        if bias:
            ins.append(self.const("convb", self.rng.normal(0.0, 0.01, size=(cout,)).astype(np.float32)))
        return self.node("Conv", ins, "conv", kernel_shape=[k, k], strides=[stride, stride],
                         pads=[pad, pad, pad, pad])

    def batchnorm(self, x: str, c: int, gamma_scale: float = 1.0) -> str:
        r = self.rng
        scale = (gamma_scale * r.uniform(0.8, 1.2, size=c)).astype(np.float32)
        shift = r.normal(0.0, 0.05, size=c).astype(np.float32)
        mean = r.normal(0.0, 0.05, size=c).astype(np.float32)
        var = r.uniform(0.8, 1.2, size=c).astype(np.float32)
        ins = [x] + [self.const("bn", a) for a in (scale, shift, mean, var)]
        return self.node("BatchNormalization", ins, "bn", epsilon=1e-5)

    def relu(self, x: str) -> str:
        return self.node("Relu", [x])

    def maxpool(self, x: str, k: int = 2) -> str:
        return self.node("MaxPool", [x], "maxpool", kernel_shape=[k, k], strides=[k, k])

    def flatten(self, x: str) -> str:
        return self.node("Flatten", [x], "flatten", axis=1)

    def finish(self, x: str, in_shape: list[int], out_dim: int) -> onnx.ModelProto:
        inp = helper.make_tensor_value_info("input", TensorProto.FLOAT, in_shape)
        out = helper.make_tensor_value_info("output", TensorProto.FLOAT, [in_shape[0], out_dim])
        self.nodes.append(helper.make_node("Identity", [x], ["output"], name="output_node"))
        graph = helper.make_graph(self.nodes, self.name, [inp], [out], initializer=self.inits)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                                  producer_name="zkinfer-bench-gen_models", producer_version="1")
        model.ir_version = IR_VERSION
        onnx.checker.check_model(model)
        return model


# --- model definitions ---------------------------------------------------------

def mlp(name: str, dims: list[int]):
    def build(b: Builder):
        x = "input"
        for i in range(len(dims) - 1):
            x = b.gemm(x, dims[i], dims[i + 1], relu_after=(i + 2 < len(dims)))
        return b.finish(x, [1, dims[0]], dims[-1])
    return name, build, [1, dims[0]]


def lenet5(b: Builder):
    x = b.relu(b.conv("input", 1, 6, 5, pad=2))       # 6x28x28
    x = b.maxpool(x)                                  # 6x14x14
    x = b.relu(b.conv(x, 6, 16, 5, pad=0))            # 16x10x10
    x = b.maxpool(x)                                  # 16x5x5
    x = b.flatten(x)                                  # 400
    x = b.gemm(x, 400, 120, relu_after=True)
    x = b.gemm(x, 120, 84, relu_after=True)
    x = b.gemm(x, 84, 10, relu_after=False)
    return b.finish(x, [1, 1, 28, 28], 10)


def resnet20(b: Builder):
    x = b.relu(b.batchnorm(b.conv("input", 3, 16, 3, bias=False), 16))
    cin = 16
    for stage, cout in enumerate([16, 32, 64]):
        for block in range(3):
            stride = 2 if (stage > 0 and block == 0) else 1
            y = b.relu(b.batchnorm(b.conv(x, cin, cout, 3, stride=stride, bias=False), cout))
            y = b.batchnorm(b.conv(y, cout, cout, 3, bias=False), cout, gamma_scale=0.3)
            if stride != 1 or cin != cout:
                # projection shortcut (1x1 conv + BN)
                sc = b.batchnorm(b.conv(x, cin, cout, 1, stride=stride, pad=0, bias=False), cout)
            else:
                sc = x
            x = b.relu(b.node("Add", [y, sc], "add"))
            cin = cout
    x = b.flatten(b.node("GlobalAveragePool", [x], "gap"))
    x = b.gemm(x, 64, 10, relu_after=False)
    return b.finish(x, [1, 3, 32, 32], 10)


def vgg16(b: Builder):
    cfg = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]
    x, cin = "input", 3
    for v in cfg:
        if v == "M":
            x = b.maxpool(x)
        else:
            x = b.relu(b.conv(x, cin, v, 3))
            cin = v
    x = b.flatten(x)                                  # 512 (1x1 spatial after 5 pools)
    x = b.gemm(x, 512, 512, relu_after=True)
    x = b.gemm(x, 512, 10, relu_after=False)
    return b.finish(x, [1, 3, 32, 32], 10)


MODELS = dict(
    (n, (f, s)) for n, f, s in [
        mlp("mlp_784_128_10", [784, 128, 10]),
        mlp("mlp_784_512x2_10", [784, 512, 512, 10]),
        mlp("mlp_1024x4_10", [1024, 1024, 1024, 1024, 10]),
        mlp("mlp_784_2048x5_10", [784] + [2048] * 5 + [10]),
        ("lenet5", lenet5, [1, 1, 28, 28]),
        ("resnet20", resnet20, [1, 3, 32, 32]),
        ("vgg16_cifar", vgg16, [1, 3, 32, 32]),
    ]
)


def generator_hash() -> str:
    """Hash of this file: lets compare_ezkl.py notice models written by an older generator."""
    with open(os.path.abspath(__file__), "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()[:16]


def seed_of(name: str) -> int:
    return zlib.crc32(name.encode()) & 0x7FFFFFFF


def generate(name: str, out_dir: str) -> dict:
    build, in_shape = MODELS[name]
    b = Builder(name, seed_of(name))
    model = build(b)
    d = os.path.join(out_dir, name)
    os.makedirs(d, exist_ok=True)
    onnx.save_model(model, os.path.join(d, "network.onnx"))
    # Synthetic input: "pixels" in [0, 1), rounded to 1/256 so every tool reads
    # exactly the same value no matter how it parses floats.
    rng = np.random.default_rng(seed_of(name + "/input"))
    x = np.floor(rng.uniform(0.0, 1.0, size=int(np.prod(in_shape))) * 256.0) / 256.0
    with open(os.path.join(d, "input.json"), "w") as f:
        json.dump({"input_data": [[float(v) for v in x]]}, f)
        f.write("\n")
    info = {"name": name, "params": b.params, "input_shape": in_shape, "dir": d}
    with open(os.path.join(d, "meta.json"), "w") as f:
        meta = {k: v for k, v in info.items() if k != "dir"}
        json.dump(meta | {"seed": seed_of(name), "opset": OPSET, "generator_sha256": generator_hash()}, f, indent=1)
        f.write("\n")
    return info


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("names", nargs="*", help="models to write (default: all)")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "models"),
                    help="output folder (default: bench/models)")
    ap.add_argument("--list", action="store_true", help="list model names and exit")
    a = ap.parse_args(argv)
    if a.list:
        for n in MODELS:
            print(n)
        return 0
    names = a.names or list(MODELS)
    bad = [n for n in names if n not in MODELS]
    if bad:
        print(f"gen_models: unknown model(s) {', '.join(bad)}; known: {', '.join(MODELS)}", file=sys.stderr)
        return 2
    for n in names:
        info = generate(n, a.out)
        print(f"{n}: {info['params']:,} params, input {info['input_shape']} -> {info['dir']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
