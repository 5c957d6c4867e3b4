#!/usr/bin/env python3
"""Exports zkinfer's operator-coverage corpus: small ONNX models of the kinds ML engineers
export from PyTorch and scikit-learn (issue 14), each with an input and onnxruntime's outputs.

Usage:
    pip install -r scripts/requirements.txt -r scripts/requirements-corpus.txt
    python3 scripts/make_op_corpus.py [OUTDIR]              # full corpus, default target/op-corpus
    python3 scripts/make_op_corpus.py --subset [OUTDIR]     # the CI subset, default fixtures/coverage
    python3 scripts/make_op_corpus.py --only SUBSTR --list  # just the names
    zkinfer coverage OUTDIR                                  # prove and verify them all

One subdirectory per model:
  model.onnx      the exported model (PyTorch via torch.onnx.export with the TorchScript exporter,
                  opset 13-17; scikit-learn via skl2onnx, ai.onnx.ml opset 3; a few operators that
                  neither framework emits are built with onnx.helper)
  input.json      {"input_data": [[...], ...]}: ONE entry per graph input (in graph order), each the
                  input tensor flattened in C order, batch axis included. A single-input model thus has
                  exactly the file `zkinfer prove --input` reads. Integer inputs are written as JSON
                  integers, booleans as 0/1.
  reference.json  {"outputs": [{"name", "shape", "dtype", "data"}]}: onnxruntime's outputs on that
                  input, in graph order, `data` flattened in C order.
  meta.json       the ONNX op types the graph holds (`ops`, domain-qualified outside the default
                  domain), the ops it was made to exercise (`exercises`), position tags (`alone`,
                  `mid`, `composition`, `batch`, ...), source framework, opset, input and output
                  shapes and dtypes, parameter count.

Models are small (<= ~50k parameters, inputs <= a few thousand values) and every weight and input
comes from a generator seeded by the model's name, so the corpus is reproducible with the pinned
package versions. Nothing is calibrated here: the prover calibrates on the input.
"""
import argparse
import io
import json
import os
import shutil
import sys
import warnings
import zlib

import numpy as np
import onnx
import onnx.utils
import onnxruntime as ort
import torch
import torch.nn.functional as F
from onnx import TensorProto, helper, numpy_helper
from torch import nn

warnings.filterwarnings("ignore")

OPSET = 17
GENERATOR = "scripts/make_op_corpus.py"

# Every operator issue 14 asks for; `--check` (and every full run) reports any not in the corpus.
ISSUE14_OPS = """
Add Sub Mul Div Pow Max Min Where Less Greater Equal Not And Or
Exp Log Sqrt Reciprocal Erf Gelu Elu Selu Celu Softplus Softsign Mish HardSigmoid HardSwish PRelu
LeakyRelu Abs Neg Sign Floor Ceil Round Sin Cos
ReduceSum ReduceMean ReduceMax ReduceMin ReduceL1 ReduceL2 ReduceLogSumExp ArgMax ArgMin TopK
Softmax LogSoftmax Hardmax
LayerNormalization InstanceNormalization BatchNormalization LpNormalization
Pad Concat Split Slice Gather GatherElements GatherND ScatterElements ScatterND Expand Tile Transpose
Reshape Flatten Squeeze Unsqueeze Identity Resize DepthToSpace SpaceToDepth Trilu
Shape Range ConstantOfShape Cast EyeLike
MatMul Gemm Conv ConvTranspose LpPool MaxPool AveragePool
LSTM GRU RNN
ai.onnx.ml:LinearRegressor ai.onnx.ml:LinearClassifier ai.onnx.ml:TreeEnsembleClassifier
ai.onnx.ml:TreeEnsembleRegressor
""".split()


# ---------------------------------------------------------------------------------------------
# Registry


class Spec:
    """One model: a torch module, or an ONNX ModelProto, plus its inputs (name, array)."""

    def __init__(self, inputs, module=None, proto=None, opset=OPSET, dynamic_batch=False, source=None,
                 output_names=None):
        self.inputs = inputs
        self.module = module
        self.proto = proto
        self.opset = opset
        self.dynamic_batch = dynamic_batch
        self.source = source or ("pytorch" if module is not None else "onnx.helper")
        self.output_names = output_names


REGISTRY = []  # (name, builder, exercises, tags)

# The CI subset (`--subset`, committed under fixtures/coverage, run by crates/zkinfer-cli/tests/
# coverage_cli.rs): models that prove today, a few seconds of proving in all, one of each kind.
SUBSET = {
    "relu_alone", "exp_alone", "sigmoid_mid", "elu_mid", "mul_mid", "maxpool_alone", "avgpool_mid",
    "conv_alone", "conv_bn_relu_maxpool", "mlp_small", "mlp_softmax_classifier", "mlp_dynbatch",
}


def add(name, builder, exercises, tags):
    assert all(name != r[0] for r in REGISTRY), name
    REGISTRY.append((name, builder, list(exercises), list(tags)))


def seed_of(name):
    return zlib.crc32(name.encode()) & 0x7FFFFFFF


def rng_for(name):
    torch.manual_seed(seed_of(name))
    return np.random.default_rng(seed_of(name))


def values(rng, shape, kind="normal"):
    """A float32 input rounded to 4 decimals, so the JSON text is exactly what onnxruntime ran."""
    if kind == "positive":
        x = rng.uniform(0.2, 3.0, shape)
    elif kind == "wide":
        x = 2.5 * rng.standard_normal(shape)
    elif kind == "unit":
        x = rng.random(shape)
    else:
        x = rng.standard_normal(shape)
    return np.round(x, 4).astype(np.float32)


class Net(nn.Module):
    """A module from named layers and a forward function `fwd(self, *inputs)`."""

    def __init__(self, fwd, **layers):
        super().__init__()
        for k, v in layers.items():
            setattr(self, k, v)
        self._fwd = fwd

    def forward(self, *xs):
        return self._fwd(self, *xs)


def lin(i, o, scale=1.0, bias=None):
    """nn.Linear, weights scaled; `bias` sets every bias to that constant."""
    layer = nn.Linear(i, o)
    with torch.no_grad():
        layer.weight.mul_(scale)
        if bias is not None:
            layer.bias.fill_(bias)
    return layer


def randomize_bn(bn):
    """BatchNorm with non-trivial running statistics and affine parameters (eval mode)."""
    with torch.no_grad():
        c = bn.num_features
        bn.running_mean.copy_(0.1 * torch.randn(c))
        bn.running_var.copy_(0.5 + torch.rand(c))
        if bn.affine:
            bn.weight.copy_(1.0 + 0.2 * torch.randn(c))
            bn.bias.copy_(0.1 * torch.randn(c))
    return bn


def t_spec(module, inputs, **kw):
    return Spec(inputs, module=module, **kw)


def h_spec(nodes, inits, inputs, outputs, opset=OPSET, ir_version=8):
    """A helper-built graph; `inputs` are (name, array) and the declared input shapes are the
    arrays' (batch axis symbolic: "batch"); output shapes are filled in from onnxruntime."""
    def vi(name, arr):
        et = {np.dtype(np.float32): TensorProto.FLOAT, np.dtype(np.int64): TensorProto.INT64,
              np.dtype(np.bool_): TensorProto.BOOL}[arr.dtype]
        return helper.make_tensor_value_info(name, et, ["batch"] + list(arr.shape[1:]))
    graph = helper.make_graph(
        nodes, "g", [vi(n, a) for n, a in inputs],
        [helper.make_tensor_value_info(n, et, None) for n, et in outputs],
        initializer=[numpy_helper.from_array(np.asarray(a), n) for n, a in inits])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)],
                              producer_name="zkinfer-op-corpus")
    model.ir_version = ir_version
    return Spec(inputs, proto=model, opset=opset)


def f32(a):
    return np.asarray(a, dtype=np.float32)


def i64(a):
    return np.asarray(a, dtype=np.int64)


# ---------------------------------------------------------------------------------------------
# Unary functions: alone ([1, 16] input) and in the middle (Linear 8->16 -> op -> Linear 16->4)

UNARY = [
    # name, torch function, input kind, ONNX ops it should become, opset
    ("relu", F.relu, "normal", ["Relu"], OPSET),
    ("sigmoid", torch.sigmoid, "normal", ["Sigmoid"], OPSET),
    ("tanh", torch.tanh, "normal", ["Tanh"], OPSET),
    ("leaky_relu", lambda x: F.leaky_relu(x, 0.1), "normal", ["LeakyRelu"], OPSET),
    ("clip", lambda x: torch.clamp(x, -0.5, 1.0), "normal", ["Clip"], OPSET),
    ("relu6", F.relu6, "wide", ["Clip"], 13),
    ("elu", lambda x: F.elu(x, 0.7), "normal", ["Elu"], OPSET),
    ("selu", F.selu, "normal", ["Selu"], OPSET),
    ("celu", lambda x: F.celu(x, 1.0), "normal", ["Celu"], OPSET),
    ("softplus", F.softplus, "normal", ["Softplus"], OPSET),
    ("softsign", F.softsign, "normal", ["Softsign"], OPSET),
    ("mish", F.mish, "normal", ["Mish"], OPSET),
    ("hardsigmoid", F.hardsigmoid, "wide", ["HardSigmoid"], OPSET),
    ("hardswish", F.hardswish, "wide", ["HardSwish"], OPSET),
    ("gelu_erf", F.gelu, "normal", ["Gelu", "Erf"], OPSET),
    ("gelu_tanh", lambda x: F.gelu(x, approximate="tanh"), "normal", ["Gelu", "Tanh", "Pow"], OPSET),
    ("silu", F.silu, "normal", ["Sigmoid", "Mul"], OPSET),
    ("exp", torch.exp, "normal", ["Exp"], OPSET),
    ("log", torch.log, "positive", ["Log"], OPSET),
    ("sqrt", torch.sqrt, "positive", ["Sqrt"], OPSET),
    ("reciprocal", torch.reciprocal, "positive", ["Reciprocal"], OPSET),
    ("rsqrt", torch.rsqrt, "positive", ["Sqrt", "Reciprocal"], OPSET),
    ("erf", torch.erf, "normal", ["Erf"], OPSET),
    ("abs", torch.abs, "normal", ["Abs"], OPSET),
    ("neg", torch.neg, "normal", ["Neg"], OPSET),
    ("sign", torch.sign, "normal", ["Sign"], OPSET),
    ("floor", torch.floor, "wide", ["Floor"], OPSET),
    ("ceil", torch.ceil, "wide", ["Ceil"], OPSET),
    ("round", torch.round, "wide", ["Round"], OPSET),
    ("sin", torch.sin, "wide", ["Sin"], OPSET),
    ("cos", torch.cos, "wide", ["Cos"], OPSET),
]


def unary_models():
    for name, fn, kind, ops, opset in UNARY:
        def alone(name=name, fn=fn, kind=kind, opset=opset):
            rng = rng_for(name + "_alone")
            return t_spec(Net(lambda s, x: fn(x)), [("input", values(rng, (1, 16), kind))], opset=opset)

        def mid(name=name, fn=fn, kind=kind, opset=opset):
            rng = rng_for(name + "_mid")
            first = {"normal": lin(8, 16), "positive": lin(8, 16, 0.3, 3.0), "wide": lin(8, 16, 2.5)}[kind]
            net = Net(lambda s, x: s.fc2(fn(s.fc1(x))), fc1=first, fc2=lin(16, 4))
            return t_spec(net, [("input", values(rng, (1, 8)))], opset=opset)

        add(name + "_alone", alone, ops, ["alone"])
        add(name + "_mid", mid, ops, ["mid"])

    # The ONNX ops themselves where PyTorch's exporter emits a subgraph (opset <= 17, or always).
    for op, attrs, opset in [("Gelu", {}, 20), ("Gelu", {"approximate": "tanh"}, 20), ("Mish", {}, 18),
                             ("Softsign", {}, OPSET)]:
        tag = op.lower() + ("_tanh" if attrs else "")

        def alone(op=op, attrs=attrs, opset=opset, tag=tag):
            rng = rng_for(tag + "_op_alone")
            return h_spec([helper.make_node(op, ["input"], ["output"], name=tag, **attrs)], [],
                          [("input", values(rng, (1, 16)))], [("output", TensorProto.FLOAT)],
                          opset=opset, ir_version=9 if opset > 18 else 8)

        def mid(op=op, attrs=attrs, opset=opset, tag=tag):
            rng = rng_for(tag + "_op_mid")
            n = helper.make_node
            return h_spec([n("Gemm", ["input", "w1", "b1"], ["h"], transB=1), n(op, ["h"], ["u"], **attrs),
                           n("Gemm", ["u", "w2", "b2"], ["output"], transB=1)],
                          [("w1", values(rng, (16, 8)) * 0.5), ("b1", values(rng, (16,)) * 0.1),
                           ("w2", values(rng, (4, 16)) * 0.3), ("b2", values(rng, (4,)) * 0.1)],
                          [("input", values(rng, (1, 8)))], [("output", TensorProto.FLOAT)],
                          opset=opset, ir_version=9 if opset > 18 else 8)

        add(tag + "_op_alone", alone, [op], ["alone"])
        add(tag + "_op_mid", mid, [op], ["mid"])

    def prelu_alone():
        rng = rng_for("prelu_alone")
        p = nn.PReLU(4)
        with torch.no_grad():
            p.weight.copy_(torch.tensor([0.1, 0.25, -0.2, 0.5]))
        return t_spec(Net(lambda s, x: s.p(x), p=p), [("input", values(rng, (1, 4, 5, 5)))])

    def prelu_mid():
        rng = rng_for("prelu_mid")
        net = Net(lambda s, x: s.fc2(s.p(s.fc1(x))), fc1=lin(8, 12), p=nn.PReLU(12), fc2=lin(12, 4))
        with torch.no_grad():
            net.p.weight.copy_(torch.linspace(-0.3, 0.6, 12))
        return t_spec(net, [("input", values(rng, (1, 8)))])

    add("prelu_alone", prelu_alone, ["PRelu"], ["alone"])
    add("prelu_mid", prelu_mid, ["PRelu"], ["mid"])


# ---------------------------------------------------------------------------------------------
# Elementwise between activations: alone (two graph inputs) and in the middle (two Linear branches
# of one input -> op -> Linear)

BINARY = [
    # name, fn(a, b), second branch positive?, exercises
    ("add", lambda a, b: a + b, False, ["Add"]),
    ("sub", lambda a, b: a - b, False, ["Sub"]),
    ("mul", lambda a, b: a * b, False, ["Mul"]),
    ("div", lambda a, b: a / b, True, ["Div"]),
    ("max", torch.maximum, False, ["Max"]),
    ("min", torch.minimum, False, ["Min"]),
    ("where_greater", lambda a, b: torch.where(a > b, a, 0.5 * b), False, ["Where", "Greater"]),
    ("less_mask", lambda a, b: (a < b).float() * a, False, ["Less", "Cast"]),
    ("equal_mask", lambda a, b: (torch.round(a) == torch.round(b)).float() + a, False, ["Equal", "Round"]),
    ("and_mask", lambda a, b: ((a > 0) & (b > 0)).float() * b, False, ["And"]),
    ("or_mask", lambda a, b: ((a > 0) | (b > 0)).float() * a, False, ["Or"]),
    ("not_mask", lambda a, b: (~(a > b)).float() * b, False, ["Not"]),
]


def binary_models():
    for name, fn, positive, ops in BINARY:
        def alone(name=name, fn=fn, positive=positive):
            rng = rng_for(name + "_alone")
            b = values(rng, (1, 12), "positive" if positive else "normal")
            return t_spec(Net(lambda s, a, b: fn(a, b)), [("input_a", values(rng, (1, 12))), ("input_b", b)])

        def mid(name=name, fn=fn, positive=positive):
            rng = rng_for(name + "_mid")
            fb = lin(8, 12, 0.3, 2.0) if positive else lin(8, 12)
            net = Net(lambda s, x: s.fc3(fn(s.fa(x), s.fb(x))), fa=lin(8, 12), fb=fb, fc3=lin(12, 4))
            return t_spec(net, [("input", values(rng, (1, 8)))])

        add(name + "_alone", alone, ops, ["alone", "multi-input"])
        add(name + "_mid", mid, ops, ["mid"])

    def add_const():
        rng = rng_for("add_const_alone")
        return t_spec(Net(lambda s, x: (x + s.c) * 2.0, c=nn.Parameter(torch.randn(1, 12))),
                      [("input", values(rng, (1, 12)))])

    def div_const():
        rng = rng_for("div_const_alone")
        return t_spec(Net(lambda s, x: x / 3.0), [("input", values(rng, (1, 12)))])

    def pow_alone():
        rng = rng_for("pow_alone")
        return t_spec(Net(lambda s, x: torch.pow(x, 3.0)), [("input", values(rng, (1, 12)))])

    def pow_mid():
        rng = rng_for("pow_mid")
        net = Net(lambda s, x: s.fc2(torch.pow(s.fc1(x), 2.0)), fc1=lin(8, 12), fc2=lin(12, 4))
        return t_spec(net, [("input", values(rng, (1, 8)))])

    def pow_sqrt_mid():
        rng = rng_for("pow_half_mid")
        net = Net(lambda s, x: s.fc2(torch.pow(s.fc1(x), 0.5)), fc1=lin(8, 12, 0.3, 2.0), fc2=lin(12, 4))
        return t_spec(net, [("input", values(rng, (1, 8)))])

    def not_bool():
        rng = rng_for("not_bool_alone")
        return t_spec(Net(lambda s, m: torch.logical_not(m)), [("mask", rng.random((1, 10)) < 0.5)])

    def and_bool():
        rng = rng_for("and_bool_alone")
        return t_spec(Net(lambda s, a, b: torch.logical_and(a, b)),
                      [("mask_a", rng.random((1, 10)) < 0.5), ("mask_b", rng.random((1, 10)) < 0.5)])

    def or_bool():
        rng = rng_for("or_bool_alone")
        return t_spec(Net(lambda s, a, b: torch.logical_or(a, b)),
                      [("mask_a", rng.random((1, 10)) < 0.5), ("mask_b", rng.random((1, 10)) < 0.5)])

    def where_mask():
        rng = rng_for("where_mask_input")
        net = Net(lambda s, x, m: s.fc2(torch.where(m, s.fc1(x), torch.zeros(1))), fc1=lin(8, 8), fc2=lin(8, 3))
        return t_spec(net, [("input", values(rng, (1, 8))), ("mask", rng.random((1, 8)) < 0.5)])

    def greater_alone():
        rng = rng_for("greater_alone")
        return t_spec(Net(lambda s, x: (x > 0.25).float()), [("input", values(rng, (1, 12)))])

    add("add_const_alone", add_const, ["Add", "Mul"], ["alone"])
    add("div_const_alone", div_const, ["Div"], ["alone"])
    add("pow_alone", pow_alone, ["Pow"], ["alone"])
    add("pow_mid", pow_mid, ["Pow"], ["mid"])
    add("pow_half_mid", pow_sqrt_mid, ["Pow"], ["mid"])
    add("greater_const_alone", greater_alone, ["Greater", "Cast"], ["alone"])
    add("not_bool_alone", not_bool, ["Not"], ["alone", "bool-input"])
    add("and_bool_alone", and_bool, ["And"], ["alone", "bool-input", "multi-input"])
    add("or_bool_alone", or_bool, ["Or"], ["alone", "bool-input", "multi-input"])
    add("where_mask_input", where_mask, ["Where"], ["mid", "bool-input", "multi-input"])


# ---------------------------------------------------------------------------------------------
# Reductions: alone over the last axis of a [1, 4, 8] input; in the middle: Linear over the last
# axis -> reduce over the middle axis -> Linear

REDUCE = [
    ("reduce_sum", lambda x, d: torch.sum(x, dim=d), ["ReduceSum"]),
    ("reduce_mean", lambda x, d: torch.mean(x, dim=d), ["ReduceMean"]),
    ("reduce_max", lambda x, d: torch.amax(x, dim=d), ["ReduceMax"]),
    ("reduce_min", lambda x, d: torch.amin(x, dim=d), ["ReduceMin"]),
    ("reduce_l1", lambda x, d: torch.norm(x, p=1, dim=d), ["ReduceL1"]),
    ("reduce_l2", lambda x, d: torch.norm(x, p=2, dim=d), ["ReduceL2"]),
    ("reduce_logsumexp", lambda x, d: torch.logsumexp(x, dim=d), ["ReduceLogSumExp"]),
    ("softmax", lambda x, d: torch.softmax(x, dim=d), ["Softmax"]),
    ("log_softmax", lambda x, d: torch.log_softmax(x, dim=d), ["LogSoftmax"]),
]


def reduction_models():
    for name, fn, ops in REDUCE:
        def alone(name=name, fn=fn):
            rng = rng_for(name + "_alone")
            return t_spec(Net(lambda s, x: fn(x, -1)), [("input", values(rng, (1, 4, 8)))])

        def mid(name=name, fn=fn):
            rng = rng_for(name + "_mid")
            net = Net(lambda s, x: s.fc2(fn(torch.relu(s.fc1(x)), 1)), fc1=lin(8, 8), fc2=lin(8, 3))
            return t_spec(net, [("input", values(rng, (1, 4, 8)))])

        add(name + "_alone", alone, ops, ["alone"])
        add(name + "_mid", mid, ops, ["mid"])

    def keepdims_mean():
        rng = rng_for("reduce_mean_keepdims_opset13")
        return t_spec(Net(lambda s, x: x - torch.mean(x, dim=(2, 3), keepdim=True)),
                      [("input", values(rng, (1, 3, 4, 4)))], opset=13)

    def sum_all():
        rng = rng_for("reduce_sum_all_axes")
        net = Net(lambda s, x: s.fc(x).sum(dim=(1, 2)).unsqueeze(1) * torch.ones(1, 2), fc=lin(6, 5))
        return t_spec(net, [("input", values(rng, (1, 3, 6)))])

    add("reduce_mean_keepdims_opset13", keepdims_mean, ["ReduceMean", "Sub"], ["alone"])
    add("reduce_sum_all_axes", sum_all, ["ReduceSum"], ["mid"])

    for name, fn, ops in [("argmax", torch.argmax, ["ArgMax"]), ("argmin", torch.argmin, ["ArgMin"])]:
        def alone(name=name, fn=fn):
            rng = rng_for(name + "_alone")
            return t_spec(Net(lambda s, x: fn(x, dim=-1)), [("input", values(rng, (1, 10)))])

        def mid(name=name, fn=fn):
            # Gathers the arg-extreme hidden row: ArgMax -> GatherElements (data-dependent indices).
            rng = rng_for(name + "_mid")
            net = Net(lambda s, x: s.fc2(torch.gather(s.fc1(x), 1, fn(s.fc1(x), dim=1, keepdim=True)
                                                      .expand(-1, 1, 8)).squeeze(1)),
                      fc1=lin(6, 8), fc2=lin(8, 3))
            return t_spec(net, [("input", values(rng, (1, 5, 6)))])

        add(name + "_alone", alone, ops, ["alone", "int-output"])
        add(name + "_mid", mid, ops + ["GatherElements"], ["mid"])

    def topk_alone():
        rng = rng_for("topk_alone")
        return t_spec(Net(lambda s, x: torch.topk(x, 3, dim=-1)[0]), [("input", values(rng, (1, 10)))])

    def topk_mid():
        rng = rng_for("topk_mid")
        net = Net(lambda s, x: s.fc2(torch.topk(s.fc1(x), 4, dim=-1)[0]), fc1=lin(8, 12), fc2=lin(4, 3))
        return t_spec(net, [("input", values(rng, (1, 8)))])

    def hardmax(mid):
        def build():
            rng = rng_for("hardmax_" + ("mid" if mid else "alone"))
            n = helper.make_node
            if not mid:
                return h_spec([n("Hardmax", ["input"], ["output"], axis=-1)], [],
                              [("input", values(rng, (1, 10)))], [("output", TensorProto.FLOAT)], opset=13)
            return h_spec([n("Gemm", ["input", "w1", "b1"], ["h"], transB=1), n("Hardmax", ["h"], ["m"], axis=-1),
                           n("Gemm", ["m", "w2", "b2"], ["output"], transB=1)],
                          [("w1", values(rng, (6, 8))), ("b1", values(rng, (6,))),
                           ("w2", values(rng, (3, 6))), ("b2", values(rng, (3,)))],
                          [("input", values(rng, (1, 8)))], [("output", TensorProto.FLOAT)], opset=13)
        return build

    def softmax_axis1():
        rng = rng_for("softmax_axis1_mid")
        net = Net(lambda s, x: s.fc2(torch.softmax(s.fc1(x), dim=1)), fc1=lin(8, 8), fc2=lin(8, 3))
        return t_spec(net, [("input", values(rng, (1, 4, 8)))])

    add("topk_alone", topk_alone, ["TopK"], ["alone"])
    add("topk_mid", topk_mid, ["TopK"], ["mid"])
    add("hardmax_alone", hardmax(False), ["Hardmax"], ["alone"])
    add("hardmax_mid", hardmax(True), ["Hardmax"], ["mid"])
    add("softmax_axis1_mid", softmax_axis1, ["Softmax"], ["mid"])


# ---------------------------------------------------------------------------------------------
# Normalisation


def norm_models():
    def layernorm_alone():
        rng = rng_for("layernorm_alone")
        ln = nn.LayerNorm(16)
        with torch.no_grad():
            ln.weight.copy_(1 + 0.2 * torch.randn(16))
            ln.bias.copy_(0.1 * torch.randn(16))
        return t_spec(Net(lambda s, x: s.ln(x), ln=ln), [("input", values(rng, (1, 4, 16)))])

    def layernorm_mid():
        rng = rng_for("layernorm_mid")
        net = Net(lambda s, x: s.fc2(s.ln(s.fc1(x))), fc1=lin(8, 16), ln=nn.LayerNorm(16), fc2=lin(16, 4))
        return t_spec(net, [("input", values(rng, (1, 8)))])

    def layernorm_opset13():
        rng = rng_for("layernorm_opset13_mid")
        net = Net(lambda s, x: s.fc2(s.ln(s.fc1(x))), fc1=lin(8, 16), ln=nn.LayerNorm(16), fc2=lin(16, 4))
        return t_spec(net, [("input", values(rng, (1, 8)))], opset=13)

    def instnorm_alone():
        rng = rng_for("instancenorm_alone")
        inn = nn.InstanceNorm2d(3, affine=True)
        with torch.no_grad():
            inn.weight.copy_(torch.tensor([1.2, 0.8, 1.0]))
            inn.bias.copy_(torch.tensor([0.1, -0.1, 0.0]))
        return t_spec(Net(lambda s, x: s.n(x), n=inn), [("input", values(rng, (1, 3, 6, 6)))])

    def instnorm_mid():
        rng = rng_for("instancenorm_mid")
        net = Net(lambda s, x: s.fc(torch.flatten(F.relu(s.n(s.conv(x))), 1)),
                  conv=nn.Conv2d(1, 3, 3), n=nn.InstanceNorm2d(3, affine=True), fc=lin(3 * 4 * 4, 4))
        return t_spec(net, [("input", values(rng, (1, 1, 6, 6)))])

    def bn_after_relu():
        rng = rng_for("batchnorm_after_relu")
        net = Net(lambda s, x: s.fc(torch.flatten(s.bn(F.relu(s.conv(x))), 1)),
                  conv=nn.Conv2d(1, 3, 3), bn=randomize_bn(nn.BatchNorm2d(3)), fc=lin(3 * 4 * 4, 4))
        return t_spec(net.eval(), [("input", values(rng, (1, 1, 6, 6)))])

    def bn1d_mid():
        rng = rng_for("batchnorm1d_mid")
        net = Net(lambda s, x: s.fc2(F.relu(s.bn(s.fc1(x)))), fc1=lin(8, 12), bn=randomize_bn(nn.BatchNorm1d(12)),
                  fc2=lin(12, 4))
        return t_spec(net.eval(), [("input", values(rng, (1, 8)))])

    def bn_alone():
        rng = rng_for("batchnorm_alone")
        return t_spec(Net(lambda s, x: s.bn(x), bn=randomize_bn(nn.BatchNorm2d(3))).eval(),
                      [("input", values(rng, (1, 3, 4, 4)))])

    def lpnorm(mid):
        def build():
            rng = rng_for("lpnormalization_" + ("mid" if mid else "alone"))
            n = helper.make_node
            if not mid:
                return h_spec([n("LpNormalization", ["input"], ["output"], axis=-1, p=2)], [],
                              [("input", values(rng, (1, 12)))], [("output", TensorProto.FLOAT)])
            return h_spec([n("Gemm", ["input", "w1", "b1"], ["h"], transB=1),
                           n("LpNormalization", ["h"], ["m"], axis=1, p=1),
                           n("Gemm", ["m", "w2", "b2"], ["output"], transB=1)],
                          [("w1", values(rng, (10, 8))), ("b1", values(rng, (10,))),
                           ("w2", values(rng, (3, 10))), ("b2", values(rng, (3,)))],
                          [("input", values(rng, (1, 8)))], [("output", TensorProto.FLOAT)])
        return build

    def l2_normalize():
        rng = rng_for("normalize_l2_torch")
        net = Net(lambda s, x: s.fc2(F.normalize(s.fc1(x), dim=1)), fc1=lin(8, 12), fc2=lin(12, 4))
        return t_spec(net, [("input", values(rng, (1, 8)))])

    add("layernorm_alone", layernorm_alone, ["LayerNormalization"], ["alone"])
    add("layernorm_mid", layernorm_mid, ["LayerNormalization"], ["mid"])
    add("layernorm_opset13_mid", layernorm_opset13, ["ReduceMean", "Pow", "Sqrt", "Div"], ["mid"])
    add("instancenorm_alone", instnorm_alone, ["InstanceNormalization"], ["alone"])
    add("instancenorm_mid", instnorm_mid, ["InstanceNormalization"], ["mid"])
    add("batchnorm_alone", bn_alone, ["BatchNormalization"], ["alone"])
    add("batchnorm_after_relu", bn_after_relu, ["BatchNormalization"], ["mid"])
    add("batchnorm1d_mid", bn1d_mid, ["BatchNormalization"], ["mid"])
    add("lpnormalization_alone", lpnorm(False), ["LpNormalization"], ["alone"])
    add("lpnormalization_mid", lpnorm(True), ["LpNormalization"], ["mid"])
    add("normalize_l2_torch", l2_normalize, ["ReduceL2", "Div"], ["mid"])


# ---------------------------------------------------------------------------------------------
# Data movement


def movement_models():
    def simple(name, fn, shape, ops, tags=("alone",), opset=OPSET, kind="normal", layers=None):
        def build():
            rng = rng_for(name)
            return t_spec(Net(fn, **(layers() if layers else {})), [("input", values(rng, shape, kind))],
                          opset=opset)
        add(name, build, ops, tags)

    c2 = lambda: dict(conv=nn.Conv2d(2, 4, 3, padding=1))
    fc_img = lambda c, h, w, o=4: lin(c * h * w, o)  # noqa: E731

    simple("pad_constant_alone", lambda s, x: F.pad(x, (1, 2, 0, 1), value=0.5), (1, 2, 4, 4), ["Pad"])
    simple("pad_reflect_mid", lambda s, x: s.fc(torch.flatten(F.pad(s.conv(x), (1, 1, 1, 1), mode="reflect"), 1)),
           (1, 2, 4, 4), ["Pad"], ["mid"], layers=lambda: dict(conv=nn.Conv2d(2, 2, 3, padding=1), fc=fc_img(2, 6, 6)))
    simple("pad_constant_mid", lambda s, x: s.fc2(F.pad(F.relu(s.fc1(x)), (2, 2))), (1, 8), ["Pad"], ["mid"],
           layers=lambda: dict(fc1=lin(8, 8), fc2=lin(12, 3)))
    simple("maxpool_alone", lambda s, x: F.max_pool2d(x, 2), (1, 2, 6, 6), ["MaxPool"])
    simple("maxpool_padded_mid", lambda s, x: s.fc(torch.flatten(F.max_pool2d(s.conv(x), 3, 2, padding=1), 1)),
           (1, 2, 6, 6), ["MaxPool", "Pad"], ["mid"], layers=lambda: dict(c2(), fc=fc_img(4, 3, 3)))
    simple("avgpool_mid", lambda s, x: s.fc(torch.flatten(F.avg_pool2d(F.relu(s.conv(x)), 2), 1)),
           (1, 2, 6, 6), ["AveragePool"], ["mid"], layers=lambda: dict(c2(), fc=fc_img(4, 3, 3)))
    simple("avgpool_padded_exclude_mid",
           lambda s, x: s.fc(torch.flatten(F.avg_pool2d(s.conv(x), 3, 2, padding=1, count_include_pad=False), 1)),
           (1, 2, 6, 6), ["AveragePool", "Pad"], ["mid"], layers=lambda: dict(c2(), fc=fc_img(4, 3, 3)))
    # Opset 19: onnxruntime's AveragePool before opset 19 divides a ceil_mode partial window by the
    # whole kernel, against the ONNX reference evaluator and PyTorch (the window clipped to the
    # padded input); from opset 19 it agrees with both.
    simple("avgpool_ceil_alone", lambda s, x: F.avg_pool2d(x, 2, 2, ceil_mode=True), (1, 2, 5, 5), ["AveragePool"],
           opset=19)
    simple("global_avgpool_mid", lambda s, x: s.fc(torch.flatten(F.adaptive_avg_pool2d(F.relu(s.conv(x)), 1), 1)),
           (1, 2, 6, 6), ["GlobalAveragePool"], ["mid"], layers=lambda: dict(c2(), fc=lin(4, 3)))
    simple("global_maxpool_mid", lambda s, x: s.fc(torch.flatten(F.adaptive_max_pool2d(s.conv(x), 1), 1)),
           (1, 2, 6, 6), ["GlobalMaxPool"], ["mid"], layers=lambda: dict(c2(), fc=lin(4, 3)))
    simple("concat_self_alone", lambda s, x: torch.cat([x, 2 * x], dim=1), (1, 6), ["Concat"])
    simple("concat_mid", lambda s, x: s.fc3(torch.cat([F.relu(s.fa(x)), torch.tanh(s.fb(x))], dim=1)), (1, 8),
           ["Concat"], ["mid"], layers=lambda: dict(fa=lin(8, 6), fb=lin(8, 5), fc3=lin(11, 3)))
    simple("concat_channels_mid", lambda s, x: s.fc(torch.flatten(torch.cat([s.ca(x), s.cb(x)], dim=1), 1)),
           (1, 1, 5, 5), ["Concat"], ["mid"],
           layers=lambda: dict(ca=nn.Conv2d(1, 2, 3, padding=1), cb=nn.Conv2d(1, 3, 3, padding=1), fc=fc_img(5, 5, 5)))
    simple("split_mid", lambda s, x: s.fc2(torch.split(s.fc1(x), [5, 7], dim=1)[0] * 2
                                           + torch.split(s.fc1(x), [5, 7], dim=1)[1][:, :5]),
           (1, 8), ["Split", "Slice"], ["mid"], layers=lambda: dict(fc1=lin(8, 12), fc2=lin(5, 3)))
    simple("split_alone", lambda s, x: torch.split(x, 4, dim=1)[1], (1, 12), ["Split", "Slice"])
    simple("slice_steps_alone", lambda s, x: x[:, 1::2], (1, 12), ["Slice"])
    simple("slice_steps_mid", lambda s, x: s.fc2(s.fc1(x)[:, ::3]), (1, 8), ["Slice"], ["mid"],
           layers=lambda: dict(fc1=lin(8, 12), fc2=lin(4, 3)))
    simple("slice_spatial_mid", lambda s, x: s.fc(torch.flatten(s.conv(x)[:, :, 1:5, 0:6:2], 1)), (1, 2, 6, 6),
           ["Slice"], ["mid"], layers=lambda: dict(c2(), fc=fc_img(4, 4, 3)))
    simple("gather_const_alone", lambda s, x: x[:, [0, 3, 5, 2]], (1, 8), ["Gather"])
    simple("gather_const_mid", lambda s, x: s.fc2(torch.index_select(s.fc1(x), 1, torch.tensor([1, 4, 7, 9]))),
           (1, 8), ["Gather"], ["mid"], layers=lambda: dict(fc1=lin(8, 12), fc2=lin(4, 3)))
    simple("gather_scalar_mid", lambda s, x: s.fc2(s.fc1(x)[:, 2]), (1, 4, 8), ["Gather"], ["mid"],
           layers=lambda: dict(fc1=lin(8, 6), fc2=lin(6, 3)))
    simple("gather_elements_alone", lambda s, x: torch.gather(x, 1, torch.tensor([[3, 0, 2, 2, 7]])), (1, 8),
           ["GatherElements"])
    simple("gather_elements_mid",
           lambda s, x: s.fc2(torch.gather(s.fc1(x), 1, torch.tensor([[5, 1, 0, 3, 3, 9]]))), (1, 8),
           ["GatherElements"], ["mid"], layers=lambda: dict(fc1=lin(8, 10), fc2=lin(6, 3)))
    simple("scatter_elements_mid",
           lambda s, x: s.fc3(s.fa(x).scatter(1, torch.tensor([[0, 4, 6]]), s.fb(x))), (1, 8),
           ["ScatterElements"], ["mid"], layers=lambda: dict(fa=lin(8, 10), fb=lin(8, 3), fc3=lin(10, 3)))
    simple("expand_mid", lambda s, x: s.fc2(s.fc1(x).unsqueeze(1).expand(1, 3, 6)), (1, 8),
           ["Expand", "Unsqueeze"], ["mid"], layers=lambda: dict(fc1=lin(8, 6), fc2=lin(6, 2)))
    simple("expand_alone", lambda s, x: x.expand(1, 4, 6), (1, 1, 6), ["Expand"])
    simple("tile_alone", lambda s, x: x.repeat(1, 3), (1, 5), ["Tile"])
    simple("tile_mid", lambda s, x: s.fc2(F.relu(s.fc1(x)).repeat(1, 2)), (1, 8), ["Tile"], ["mid"],
           layers=lambda: dict(fc1=lin(8, 5), fc2=lin(10, 3)))
    simple("transpose_3d_alone", lambda s, x: x.permute(0, 2, 1), (1, 3, 5), ["Transpose"])
    simple("transpose_4d_mid", lambda s, x: s.fc(torch.flatten(s.conv(x).permute(0, 2, 3, 1), 1)), (1, 2, 4, 4),
           ["Transpose"], ["mid"], layers=lambda: dict(conv=nn.Conv2d(2, 3, 3, padding=1), fc=fc_img(3, 4, 4)))
    simple("transpose_5d_alone", lambda s, x: x.permute(0, 3, 1, 4, 2), (1, 2, 3, 2, 2), ["Transpose"])
    simple("reshape_mid", lambda s, x: s.fc2(F.relu(s.fc1(x)).reshape(1, 3, 4)).reshape(1, -1), (1, 8),
           ["Reshape"], ["mid"], layers=lambda: dict(fc1=lin(8, 12), fc2=lin(4, 2)))
    simple("flatten_alone", lambda s, x: torch.flatten(x, 1), (1, 2, 3, 4), ["Flatten", "Reshape"])
    simple("squeeze_unsqueeze_mid", lambda s, x: s.fc2(s.fc1(x.unsqueeze(2)).squeeze(2)), (1, 4, 8),
           ["Squeeze", "Unsqueeze"], ["mid"], layers=lambda: dict(fc1=nn.Conv2d(4, 4, 1), fc2=lin(8, 3)))
    simple("resize_nearest_alone", lambda s, x: F.interpolate(x, scale_factor=2, mode="nearest"), (1, 2, 3, 3),
           ["Resize"])
    simple("resize_nearest_mid",
           lambda s, x: s.fc(torch.flatten(F.interpolate(F.relu(s.conv(x)), scale_factor=2, mode="nearest"), 1)),
           (1, 2, 3, 3), ["Resize"], ["mid"], layers=lambda: dict(c2(), fc=fc_img(4, 6, 6)))
    simple("resize_bilinear_mid",
           lambda s, x: s.fc(torch.flatten(F.interpolate(s.conv(x), scale_factor=2, mode="bilinear",
                                                         align_corners=False), 1)),
           (1, 2, 3, 3), ["Resize"], ["mid"], layers=lambda: dict(c2(), fc=fc_img(4, 6, 6)))
    simple("upsample_bilinear_align_alone",
           lambda s, x: F.interpolate(x, size=(5, 5), mode="bilinear", align_corners=True), (1, 1, 3, 3),
           ["Resize"])
    simple("resize_linear_1d_alone", lambda s, x: F.interpolate(x, scale_factor=2.5, mode="linear"), (1, 2, 5),
           ["Resize"])
    simple("depth_to_space_alone", lambda s, x: F.pixel_shuffle(x, 2), (1, 4, 3, 3), ["DepthToSpace"])
    simple("depth_to_space_mid", lambda s, x: s.fc(torch.flatten(F.pixel_shuffle(s.conv(x), 2), 1)), (1, 2, 3, 3),
           ["DepthToSpace"], ["mid"], layers=lambda: dict(c2(), fc=fc_img(1, 6, 6)))
    simple("trilu_alone", lambda s, x: torch.triu(x), (1, 5, 5), ["Trilu"], opset=14)
    simple("trilu_mid", lambda s, x: s.fc2(torch.tril(s.fc1(x), diagonal=-1)), (1, 4, 6), ["Trilu"], ["mid"],
           opset=14, layers=lambda: dict(fc1=lin(6, 4), fc2=lin(4, 3)))
    simple("cast_int_roundtrip_mid", lambda s, x: s.fc2(s.fc1(x).to(torch.int32).to(torch.float32)), (1, 8),
           ["Cast"], ["mid"], kind="wide", layers=lambda: dict(fc1=lin(8, 8, 2.0), fc2=lin(8, 3)))

    n = helper.make_node

    def helper_model(name, build_nodes, inits, shape, ops, tags, opset=OPSET, kind="normal"):
        def build():
            rng = rng_for(name)
            nodes, init_list = build_nodes(rng), inits(rng)
            return h_spec(nodes, init_list, [("input", values(rng, shape, kind))], [("output", TensorProto.FLOAT)],
                          opset=opset)
        add(name, build, ops, tags)

    fc_out = lambda rng, k, o=3: [("w2", values(rng, (o, k))), ("b2", values(rng, (o,)))]  # noqa: E731
    fc_in = lambda rng, k, i=8: [("w1", values(rng, (k, i))), ("b1", values(rng, (k,)))]  # noqa: E731

    helper_model("identity_mid", lambda r: [n("Gemm", ["input", "w1", "b1"], ["h"], transB=1),
                                            n("Identity", ["h"], ["i"]), n("Relu", ["i"], ["r"]),
                                            n("Gemm", ["r", "w2", "b2"], ["output"], transB=1)],
                 lambda r: fc_in(r, 6) + fc_out(r, 6), (1, 8), ["Identity"], ["mid"])
    helper_model("identity_alone", lambda r: [n("Identity", ["input"], ["output"])], lambda r: [], (1, 8),
                 ["Identity"], ["alone"])
    helper_model("gather_nd_alone", lambda r: [n("GatherND", ["input", "idx"], ["output"], batch_dims=1)],
                 lambda r: [("idx", i64([[[1], [3]]]))], (1, 4, 6), ["GatherND"], ["alone"])
    helper_model("gather_nd_mid", lambda r: [n("MatMul", ["input", "w1"], ["h"]),
                                             n("GatherND", ["h", "idx"], ["g"], batch_dims=1),
                                             n("Flatten", ["g"], ["f"]),
                                             n("Gemm", ["f", "w2", "b2"], ["output"], transB=1)],
                 lambda r: [("w1", values(r, (6, 5))), ("idx", i64([[[0, 1], [2, 4], [3, 0]]]))] + fc_out(r, 3),
                 (1, 4, 6), ["GatherND"], ["mid"])
    helper_model("scatter_nd_mid", lambda r: [n("Gemm", ["input", "w1", "b1"], ["h"], transB=1),
                                              n("Gemm", ["input", "wu", "bu"], ["u2"], transB=1),
                                              n("Reshape", ["u2", "ushape"], ["u"]),
                                              n("ScatterND", ["h", "idx", "u"], ["s"]),
                                              n("Gemm", ["s", "w2", "b2"], ["output"], transB=1)],
                 lambda r: fc_in(r, 8) + [("wu", values(r, (2, 8))), ("bu", values(r, (2,))),
                                          ("ushape", i64([2])), ("idx", i64([[0, 1], [0, 6]]))] + fc_out(r, 8),
                 (1, 8), ["ScatterND"], ["mid"])
    helper_model("scatter_nd_alone", lambda r: [n("ScatterND", ["input", "idx", "upd"], ["output"])],
                 lambda r: [("idx", i64([[0, 2], [0, 5]])), ("upd", f32([1.5, -2.0]))], (1, 8),
                 ["ScatterND"], ["alone"])
    helper_model("space_to_depth_alone", lambda r: [n("SpaceToDepth", ["input"], ["output"], blocksize=2)],
                 lambda r: [], (1, 2, 4, 4), ["SpaceToDepth"], ["alone"])
    helper_model("space_to_depth_mid", lambda r: [n("Conv", ["input", "cw", "cb"], ["c"], pads=[1, 1, 1, 1]),
                                                  n("SpaceToDepth", ["c"], ["s"], blocksize=2),
                                                  n("Flatten", ["s"], ["f"]),
                                                  n("Gemm", ["f", "w2", "b2"], ["output"], transB=1)],
                 lambda r: [("cw", values(r, (2, 1, 3, 3)) * 0.3), ("cb", values(r, (2,)) * 0.1)] + fc_out(r, 32),
                 (1, 1, 4, 4), ["SpaceToDepth"], ["mid"])
    helper_model("shape_constant_of_shape_mid",
                 lambda r: [n("Gemm", ["input", "w1", "b1"], ["h"], transB=1), n("Shape", ["h"], ["sh"]),
                            n("ConstantOfShape", ["sh"], ["c"],
                              value=numpy_helper.from_array(f32([0.25]))),
                            n("Add", ["h", "c"], ["a"]), n("Gemm", ["a", "w2", "b2"], ["output"], transB=1)],
                 lambda r: fc_in(r, 6) + fc_out(r, 6), (1, 8), ["Shape", "ConstantOfShape"], ["mid"])
    helper_model("range_cast_add_alone",
                 lambda r: [n("Shape", ["input"], ["sh"]), n("Gather", ["sh", "one"], ["len"], axis=0),
                            n("Range", ["zero", "len", "one"], ["rg"]), n("Cast", ["rg"], ["rf"], to=1),
                            n("Mul", ["rf", "tenth"], ["rs"]), n("Add", ["input", "rs"], ["output"])],
                 lambda r: [("zero", i64(0)), ("one", i64(1)), ("tenth", f32(0.1))], (1, 8),
                 ["Shape", "Range", "Cast"], ["alone"])
    helper_model("eyelike_matmul_mid",
                 lambda r: [n("EyeLike", ["w1"], ["eye"]), n("Add", ["w1", "eye"], ["w1e"]),
                            n("MatMul", ["input", "w1e"], ["h"]), n("Relu", ["h"], ["a"]),
                            n("Gemm", ["a", "w2", "b2"], ["output"], transB=1)],
                 lambda r: [("w1", values(r, (8, 8)) * 0.3)] + fc_out(r, 8), (1, 8), ["EyeLike"], ["mid"])

    def embedding(name, mean):
        def build():
            rng = rng_for(name)
            net = Net(lambda s, ids: s.fc(s.emb(ids).mean(dim=1) if mean else torch.flatten(s.emb(ids), 1)),
                      emb=nn.Embedding(20, 8), fc=lin(8 if mean else 48, 3))
            return t_spec(net, [("token_ids", rng.integers(0, 20, (1, 6)).astype(np.int64))])
        return build

    add("gather_embedding", embedding("gather_embedding", False), ["Gather"], ["mid", "int-input"])
    add("gather_embedding_mean", embedding("gather_embedding_mean", True), ["Gather", "ReduceMean"],
        ["composition", "int-input"])


# ---------------------------------------------------------------------------------------------
# Linear layers


def linear_models():
    def one(name, fn, shape, ops, tags, layers, opset=OPSET, inputs=None):
        def build():
            rng = rng_for(name)
            ins = [("input", values(rng, shape))] if inputs is None else inputs(rng)
            return t_spec(Net(fn, **layers()), ins, opset=opset)
        add(name, build, ops, tags)

    one("linear_alone", lambda s, x: s.fc(x), (1, 8), ["Gemm"], ["alone"], lambda: dict(fc=lin(8, 5)))
    one("linear_nobias_alone", lambda s, x: s.fc(x), (1, 8), ["MatMul"], ["alone"],
        lambda: dict(fc=nn.Linear(8, 5, bias=False)))
    one("linear_3d_input_mid", lambda s, x: s.fc2(F.relu(s.fc1(x))), (1, 4, 8), ["MatMul", "Add"], ["mid"],
        lambda: dict(fc1=lin(8, 6), fc2=lin(6, 3)))
    one("matmul_activations_mid", lambda s, x: s.fc3(torch.matmul(s.fa(x), s.fb(x).transpose(1, 2))), (1, 4, 8),
        ["MatMul", "Transpose"], ["mid"], lambda: dict(fa=lin(8, 6), fb=lin(8, 6), fc3=lin(4, 3)))
    one("matmul_activations_alone", lambda s, a, b: torch.matmul(a, b), None, ["MatMul"], ["alone", "multi-input"],
        dict, inputs=lambda r: [("input_a", values(r, (1, 3, 4))), ("input_b", values(r, (1, 4, 5)))])
    one("conv_alone", lambda s, x: s.conv(x), (1, 2, 6, 6), ["Conv"], ["alone"],
        lambda: dict(conv=nn.Conv2d(2, 3, 3)))
    one("conv_strided_padded_mid", lambda s, x: s.fc(torch.flatten(F.relu(s.conv(x)), 1)), (1, 2, 7, 7),
        ["Conv"], ["mid"], lambda: dict(conv=nn.Conv2d(2, 4, 3, stride=2, padding=1), fc=lin(4 * 4 * 4, 3)))
    one("conv1d_alone", lambda s, x: s.conv(x), (1, 3, 16), ["Conv"], ["alone"], lambda: dict(conv=nn.Conv1d(3, 4, 3)))
    one("conv1d_mid", lambda s, x: s.fc(torch.flatten(F.relu(s.conv(x)), 1)), (1, 3, 16), ["Conv"], ["mid"],
        lambda: dict(conv=nn.Conv1d(3, 4, 5, stride=2, padding=2), fc=lin(4 * 8, 3)))
    one("conv_depthwise_mid", lambda s, x: s.fc(torch.flatten(F.relu(s.conv(x)), 1)), (1, 4, 6, 6), ["Conv"],
        ["mid"], lambda: dict(conv=nn.Conv2d(4, 4, 3, padding=1, groups=4), fc=lin(4 * 36, 3)))
    one("conv_grouped_alone", lambda s, x: s.conv(x), (1, 4, 5, 5), ["Conv"], ["alone"],
        lambda: dict(conv=nn.Conv2d(4, 6, 3, groups=2)))
    one("conv_dilated_mid", lambda s, x: s.fc(torch.flatten(torch.tanh(s.conv(x)), 1)), (1, 2, 7, 7), ["Conv"],
        ["mid"], lambda: dict(conv=nn.Conv2d(2, 3, 3, dilation=2), fc=lin(3 * 9, 3)))
    one("conv_nonsquare_mid", lambda s, x: s.fc(torch.flatten(F.relu(s.conv(x)), 1)), (1, 2, 5, 8), ["Conv"],
        ["mid"], lambda: dict(conv=nn.Conv2d(2, 3, (3, 2), stride=(1, 2), padding=(1, 0)), fc=lin(3 * 5 * 4, 3)))
    one("conv_transpose_alone", lambda s, x: s.deconv(x), (1, 2, 4, 4), ["ConvTranspose"], ["alone"],
        lambda: dict(deconv=nn.ConvTranspose2d(2, 3, 3, stride=2)))
    one("conv_transpose_mid", lambda s, x: s.fc(torch.flatten(F.relu(s.deconv(F.relu(s.conv(x)))), 1)),
        (1, 2, 4, 4), ["ConvTranspose"], ["mid"],
        lambda: dict(conv=nn.Conv2d(2, 3, 3, padding=1), deconv=nn.ConvTranspose2d(3, 2, 2, stride=2),
                     fc=lin(2 * 64, 3)))
    one("conv_transpose1d_alone", lambda s, x: s.deconv(x), (1, 3, 6), ["ConvTranspose"], ["alone"],
        lambda: dict(deconv=nn.ConvTranspose1d(3, 2, 3, stride=2, padding=1)))
    one("conv_transpose_grouped_mid", lambda s, x: s.fc(torch.flatten(F.relu(s.deconv(F.relu(s.conv(x)))), 1)),
        (1, 2, 3, 3), ["ConvTranspose"], ["mid"],
        lambda: dict(conv=nn.Conv2d(2, 4, 3, padding=1),
                     deconv=nn.ConvTranspose2d(4, 4, 3, stride=2, padding=1, output_padding=1, groups=2),
                     fc=lin(4 * 36, 3)))
    one("conv_transpose_dilated_alone", lambda s, x: s.deconv(x), (1, 2, 3, 4), ["ConvTranspose"], ["alone"],
        lambda: dict(deconv=nn.ConvTranspose2d(2, 2, 3, stride=(2, 1), padding=2, dilation=2)))

    n = helper.make_node

    def gemm(name, trans_a, trans_b, in_shape, alpha=1.0, beta=1.0):
        def build():
            rng = rng_for(name)
            k = in_shape[0] if trans_a else in_shape[1]
            w = values(rng, (4, k) if trans_b else (k, 4))
            return h_spec([n("Gemm", ["input", "w", "b"], ["output"], transA=trans_a, transB=trans_b,
                             alpha=alpha, beta=beta)],
                          [("w", w), ("b", values(rng, (4,)))], [("input", values(rng, in_shape))],
                          [("output", TensorProto.FLOAT)])
        return build

    add("gemm_transa_alone", gemm("gemm_transa_alone", 1, 0, (8, 1)), ["Gemm"], ["alone"])
    add("gemm_notrans_alpha_beta_alone", gemm("gemm_notrans_alpha_beta_alone", 0, 0, (1, 8), 0.5, 2.0),
        ["Gemm"], ["alone"])

    def lppool(mid):
        def build():
            rng = rng_for("lppool_" + ("mid" if mid else "alone"))
            pool = nn.LPPool2d(2, 2)
            if not mid:
                return t_spec(Net(lambda s, x: s.p(x), p=pool), [("input", values(rng, (1, 2, 6, 6)))])
            net = Net(lambda s, x: s.fc(torch.flatten(s.p(s.conv(x)), 1)), conv=nn.Conv2d(2, 3, 3, padding=1),
                      p=pool, fc=lin(3 * 9, 3))
            return t_spec(net, [("input", values(rng, (1, 2, 6, 6)))])
        return build

    def lppool_op():
        rng = rng_for("lppool_op_alone")
        return h_spec([n("LpPool", ["input"], ["output"], kernel_shape=[2, 2], strides=[2, 2], p=2)], [],
                      [("input", values(rng, (1, 2, 6, 6)))], [("output", TensorProto.FLOAT)])

    add("lppool_alone", lppool(False), ["LpPool"], ["alone"])
    add("lppool_mid", lppool(True), ["LpPool"], ["mid"])
    add("lppool_op_alone", lppool_op, ["LpPool"], ["alone"])


# ---------------------------------------------------------------------------------------------
# Recurrent


def recurrent_models():
    def rnn(name, layer, last_step, ops, tags, bidirectional=False):
        def build():
            rng = rng_for(name)
            hidden = 10 * (2 if bidirectional else 1)
            rec = layer()
            if last_step:
                net = Net(lambda s, x: s.fc(s.rnn(x)[0][:, -1]), rnn=rec, fc=lin(hidden, 3))
            else:
                net = Net(lambda s, x: s.rnn(x)[0], rnn=rec)
            return t_spec(net, [("input", values(rng, (1, 5, 6)))])
        add(name, build, ops, tags)

    rnn("lstm_alone", lambda: nn.LSTM(6, 10, batch_first=True), False, ["LSTM"], ["alone"])
    rnn("lstm_mid", lambda: nn.LSTM(6, 10, batch_first=True), True, ["LSTM"], ["mid"])
    rnn("lstm_bidirectional", lambda: nn.LSTM(6, 10, batch_first=True, bidirectional=True), True, ["LSTM"], ["mid"],
        bidirectional=True)
    rnn("gru_alone", lambda: nn.GRU(6, 10, batch_first=True), False, ["GRU"], ["alone"])
    rnn("gru_mid", lambda: nn.GRU(6, 10, batch_first=True), True, ["GRU"], ["mid"])
    rnn("gru_bidirectional", lambda: nn.GRU(6, 10, batch_first=True, bidirectional=True), True, ["GRU"], ["mid"],
        bidirectional=True)
    rnn("rnn_tanh_alone", lambda: nn.RNN(6, 10, batch_first=True), False, ["RNN"], ["alone"])
    rnn("rnn_relu_mid", lambda: nn.RNN(6, 10, batch_first=True, nonlinearity="relu"), True, ["RNN"], ["mid"])

    def cell(name, layer, ops):
        def build():
            rng = rng_for(name)
            c = layer()
            if isinstance(c, nn.LSTMCell):
                net = Net(lambda s, x: s.fc(s.cell(x)[0]), cell=c, fc=lin(10, 3))
            else:
                net = Net(lambda s, x: s.fc(s.cell(x)), cell=c, fc=lin(10, 3))
            return t_spec(net, [("input", values(rng, (1, 6)))])
        add(name, build, ops, ["composition"])

    cell("lstm_cell", lambda: nn.LSTMCell(6, 10), ["Gemm", "Sigmoid", "Tanh", "Mul", "Split"])
    cell("gru_cell", lambda: nn.GRUCell(6, 10), ["Gemm", "Sigmoid", "Tanh", "Mul"])


# ---------------------------------------------------------------------------------------------
# Index ops: TopK with k > 1, Gather/GatherElements by computed indices, Scatter* with reductions


def index_models():
    n = helper.make_node

    def graph(name, nodes, inits, inputs, outputs, ops, tags, opset=OPSET):
        def build():
            rng = rng_for(name)
            return h_spec(nodes(rng), inits(rng), inputs(rng), outputs, opset=opset)
        add(name, build, ops, tags)

    fc = lambda rng, o, i, p="": [("w" + p, values(rng, (o, i))), ("b" + p, values(rng, (o,)))]  # noqa: E731
    x = lambda shape: lambda rng: [("input", values(rng, shape))]  # noqa: E731
    out = [("output", TensorProto.FLOAT)]

    graph("topk_both_outputs_alone", lambda r: [n("TopK", ["input", "k"], ["output", "indices"])],
          lambda r: [("k", i64([4]))], x((1, 9)),
          [("output", TensorProto.FLOAT), ("indices", TensorProto.INT64)], ["TopK"], ["alone"])
    graph("topk_smallest_axis1_mid",
          lambda r: [n("Gemm", ["input", "w", "b"], ["h"], transB=1), n("Reshape", ["h", "s"], ["h3"]),
                     n("TopK", ["h3", "k"], ["v", "i"], axis=1, largest=0), n("Flatten", ["v"], ["f"]),
                     n("Gemm", ["f", "w2", "b2"], ["output"], transB=1)],
          lambda r: fc(r, 12, 8) + fc(r, 3, 6, "2") + [("s", i64([1, 4, 3])), ("k", i64([2]))],
          x((1, 8)), out, ["TopK"], ["mid"])
    graph("topk_ties_alone", lambda r: [n("Relu", ["input"], ["r"]), n("TopK", ["r", "k"], ["v", "output"])],
          lambda r: [("k", i64([3]))], x((1, 7)), [("output", TensorProto.INT64)], ["TopK"], ["alone"])
    graph("gather_table_by_argmax_mid",
          lambda r: [n("Gemm", ["input", "w", "b"], ["h"], transB=1),
                     n("ArgMax", ["h"], ["i"], axis=1, keepdims=0),
                     n("Gather", ["table", "i"], ["g"], axis=0),
                     n("Gemm", ["g", "w2", "b2"], ["output"], transB=1)],
          lambda r: fc(r, 6, 8) + fc(r, 3, 4, "2") + [("table", values(r, (6, 4)))],
          x((1, 8)), out, ["Gather", "ArgMax"], ["mid"])
    graph("gather_elements_by_argmin_mid",
          lambda r: [n("Gemm", ["input", "w", "b"], ["h"], transB=1), n("Reshape", ["h", "s"], ["h3"]),
                     n("ArgMin", ["h3"], ["i"], axis=2, keepdims=1),
                     n("GatherElements", ["h3", "i"], ["g"], axis=2), n("Flatten", ["g"], ["f"]),
                     n("Gemm", ["f", "w2", "b2"], ["output"], transB=1)],
          lambda r: fc(r, 12, 8) + fc(r, 3, 3, "2") + [("s", i64([1, 3, 4]))],
          x((1, 8)), out, ["GatherElements", "ArgMin"], ["mid"])
    graph("gather_by_int_input_alone",
          lambda r: [n("Gather", ["input", "ids"], ["output"], axis=1)], lambda r: [],
          lambda r: [("input", values(r, (1, 6))), ("ids", i64([[4, -1, 0]]))], out,
          ["Gather"], ["alone", "int-input", "multi-input"])
    for red in ["add", "mul", "max", "min"]:
        graph(f"scatter_elements_{red}_mid",
              lambda r, red=red: [n("Gemm", ["input", "w", "b"], ["h"], transB=1),
                         n("Gemm", ["input", "wu", "bu"], ["u"], transB=1),
                         n("ScatterElements", ["h", "idx", "u"], ["sc"], axis=1, reduction=red),
                         n("Gemm", ["sc", "w2", "b2"], ["output"], transB=1)],
              lambda r: fc(r, 6, 8) + fc(r, 4, 8, "u") + fc(r, 3, 6, "2") + [("idx", i64([[1, 4, 1, -1]]))],
              x((1, 8)), out, ["ScatterElements"], ["mid"], opset=18)
    graph("scatter_elements_const_updates_alone",
          lambda r: [n("ScatterElements", ["input", "idx", "upd"], ["output"], axis=1)],
          lambda r: [("idx", i64([[2, 0]])), ("upd", f32([[0.5, -1.5]]))], x((1, 5)), out,
          ["ScatterElements"], ["alone"])
    graph("scatter_nd_into_constant_alone",
          lambda r: [n("ScatterND", ["base", "idx", "input"], ["output"])],
          lambda r: [("base", f32(np.zeros((1, 3, 4)))), ("idx", i64([[0, 2]]))], x((1, 4)), out,
          ["ScatterND"], ["alone"])


# ---------------------------------------------------------------------------------------------
# Compositions


class Attention(nn.Module):
    """Multi-head self-attention written out: Q/K/V projections, batched MatMul of two
    activations, scaled Softmax, output projection, residual."""

    def __init__(self, dim, heads):
        super().__init__()
        self.h, self.d = heads, dim // heads
        self.q, self.k, self.v, self.o = (lin(dim, dim) for _ in range(4))

    def forward(self, x, mask=None):
        b, t, c = x.shape
        split = lambda y: y.reshape(b, t, self.h, self.d).transpose(1, 2)  # noqa: E731
        q, k, v = split(self.q(x)), split(self.k(x)), split(self.v(x))
        scores = torch.matmul(q, k.transpose(-1, -2)) / float(np.sqrt(self.d))
        if mask is not None:
            scores = scores.masked_fill(~mask[:, None, None, :], -1e4)
        y = torch.matmul(torch.softmax(scores, dim=-1), v).transpose(1, 2).reshape(b, t, c)
        return x + self.o(y)


def composition_models():
    def one(name, module_fn, shape, ops, tags=("composition",), kind="normal", opset=OPSET,
            inputs=None):
        def build():
            rng = rng_for(name)
            ins = [("input", values(rng, shape, kind))] if inputs is None else inputs(rng)
            return t_spec(module_fn(), ins, opset=opset)
        add(name, build, ops, tags)

    def conv_bn_prelu():
        return Net(lambda s, x: s.fc(torch.flatten(s.act(s.bn(s.conv(x))), 1)), conv=nn.Conv2d(2, 4, 3, padding=1),
                   bn=randomize_bn(nn.BatchNorm2d(4)), act=nn.PReLU(4), fc=lin(4 * 25, 3)).eval()

    def conv_bn_relu_pool():
        return Net(lambda s, x: s.fc(torch.flatten(F.max_pool2d(F.relu(s.bn(s.conv(x))), 2), 1)),
                   conv=nn.Conv2d(1, 4, 3, padding=1), bn=randomize_bn(nn.BatchNorm2d(4)), fc=lin(4 * 16, 3)).eval()

    def residual_block():
        def fwd(s, x):
            y = F.relu(s.bn1(s.c1(x)))
            y = s.bn2(s.c2(y))
            return s.fc(torch.flatten(F.adaptive_avg_pool2d(F.relu(x + y), 1), 1))
        return Net(fwd, c1=nn.Conv2d(3, 3, 3, padding=1), bn1=randomize_bn(nn.BatchNorm2d(3)),
                   c2=nn.Conv2d(3, 3, 3, padding=1), bn2=randomize_bn(nn.BatchNorm2d(3)), fc=lin(3, 3)).eval()

    def depthwise_separable():
        return Net(lambda s, x: s.fc(torch.flatten(F.relu6(s.bn2(s.pw(F.relu6(s.bn1(s.dw(x)))))), 1)),
                   dw=nn.Conv2d(4, 4, 3, padding=1, groups=4, bias=False), bn1=randomize_bn(nn.BatchNorm2d(4)),
                   pw=nn.Conv2d(4, 6, 1, bias=False), bn2=randomize_bn(nn.BatchNorm2d(6)), fc=lin(6 * 25, 3)).eval()

    def inverted_residual():
        def fwd(s, x):
            y = F.relu6(s.bn1(s.expand(x)))
            y = F.relu6(s.bn2(s.dw(y)))
            y = s.bn3(s.project(y))
            return x + y
        return Net(fwd, expand=nn.Conv2d(3, 9, 1, bias=False), bn1=randomize_bn(nn.BatchNorm2d(9)),
                   dw=nn.Conv2d(9, 9, 3, padding=1, groups=9, bias=False), bn2=randomize_bn(nn.BatchNorm2d(9)),
                   project=nn.Conv2d(9, 3, 1, bias=False), bn3=randomize_bn(nn.BatchNorm2d(3))).eval()

    def squeeze_excite():
        def fwd(s, x):
            y = F.relu(s.conv(x))
            w = torch.sigmoid(s.fc2(F.relu(s.fc1(torch.flatten(F.adaptive_avg_pool2d(y, 1), 1)))))
            return y * w[:, :, None, None]
        return Net(fwd, conv=nn.Conv2d(2, 6, 3, padding=1), fc1=lin(6, 3), fc2=lin(3, 6))

    def lenet_tiny():
        return Net(lambda s, x: s.f3(F.relu(s.f2(F.relu(s.f1(torch.flatten(
            F.max_pool2d(F.relu(s.c2(F.max_pool2d(F.relu(s.c1(x)), 2))), 2), 1)))))),
            c1=nn.Conv2d(1, 4, 3, padding=1), c2=nn.Conv2d(4, 8, 3, padding=1), f1=lin(8 * 9, 24),
            f2=lin(24, 16), f3=lin(16, 10))

    def tiny_unet():
        def fwd(s, x):
            e = F.relu(s.enc(x))
            m = F.relu(s.mid(F.max_pool2d(e, 2)))
            u = F.interpolate(m, scale_factor=2, mode="nearest")
            return s.out(torch.cat([e, u], dim=1))
        return Net(fwd, enc=nn.Conv2d(1, 3, 3, padding=1), mid=nn.Conv2d(3, 3, 3, padding=1),
                   out=nn.Conv2d(6, 1, 1))

    def attention_block():
        return Attention(16, 1)

    def attention_multihead():
        return Net(lambda s, x: s.fc(s.att(x).mean(dim=1)), att=Attention(16, 4), fc=lin(16, 3))

    def transformer_block():
        def fwd(s, x):
            x = s.att(s.ln1(x))
            return x + s.fc2(F.gelu(s.fc1(s.ln2(x))))
        return Net(fwd, ln1=nn.LayerNorm(16), att=Attention(16, 2), ln2=nn.LayerNorm(16), fc1=lin(16, 32),
                   fc2=lin(32, 16))

    def torch_mha():
        return Net(lambda s, x: s.mha(x, x, x, need_weights=False)[0], mha=nn.MultiheadAttention(16, 2,
                                                                                                 batch_first=True))

    def attention_masked():
        return Net(lambda s, x, m: s.att(x, m), att=Attention(8, 2))

    def mlp_small():
        return Net(lambda s, x: s.f3(F.relu(s.f2(F.relu(s.f1(x))))), f1=lin(16, 24), f2=lin(24, 12), f3=lin(12, 4))

    def mlp_deep_tanh():
        layers = [lin(10, 16)] + [lin(16, 16) for _ in range(3)] + [lin(16, 3)]
        def fwd(s, x):
            for i in range(4):
                x = torch.tanh(getattr(s, f"l{i}")(x))
            return s.l4(x)
        return Net(fwd, **{f"l{i}": m for i, m in enumerate(layers)})

    def mlp_softmax_classifier():
        return Net(lambda s, x: torch.softmax(s.f2(F.relu(s.f1(x))), dim=1), f1=lin(12, 20), f2=lin(20, 5))

    def autoencoder():
        return Net(lambda s, x: torch.sigmoid(s.d2(F.relu(s.d1(F.relu(s.e2(F.relu(s.e1(x)))))))),
                   e1=lin(24, 12), e2=lin(12, 4), d1=lin(4, 12), d2=lin(12, 24))

    def gated_mlp():
        return Net(lambda s, x: s.out(F.silu(s.gate(x)) * s.up(x)), gate=lin(8, 16), up=lin(8, 16), out=lin(16, 4))

    def lstm_classifier():
        return Net(lambda s, x: torch.softmax(s.fc(s.lstm(x)[0][:, -1]), dim=1), lstm=nn.LSTM(4, 8, batch_first=True),
                   fc=lin(8, 3))

    def text_cnn():
        return Net(lambda s, ids: s.fc(torch.amax(F.relu(s.conv(s.emb(ids).transpose(1, 2))), dim=2)),
                   emb=nn.Embedding(30, 8), conv=nn.Conv1d(8, 6, 3), fc=lin(6, 2))

    def cnn_gap_classifier():
        return Net(lambda s, x: s.fc(torch.flatten(F.adaptive_avg_pool2d(F.relu(s.c2(F.relu(s.c1(x)))), 1), 1)),
                   c1=nn.Conv2d(3, 6, 3, stride=2, padding=1), c2=nn.Conv2d(6, 8, 3, padding=1), fc=lin(8, 4))

    one("conv_bn_prelu", conv_bn_prelu, (1, 2, 5, 5), ["Conv", "BatchNormalization", "PRelu"])
    one("conv_bn_relu_maxpool", conv_bn_relu_pool, (1, 1, 8, 8), ["Conv", "Relu", "MaxPool"])
    one("residual_block", residual_block, (1, 3, 6, 6), ["Conv", "Add", "GlobalAveragePool"])
    one("depthwise_separable_conv", depthwise_separable, (1, 4, 5, 5), ["Conv", "Clip"])
    one("inverted_residual_block", inverted_residual, (1, 3, 6, 6), ["Conv", "Clip", "Add"])
    one("squeeze_excite_block", squeeze_excite, (1, 2, 5, 5), ["GlobalAveragePool", "Sigmoid", "Mul"])
    one("lenet_tiny", lenet_tiny, (1, 1, 12, 12), ["Conv", "MaxPool", "Gemm"], kind="unit")
    one("tiny_unet", tiny_unet, (1, 1, 6, 6), ["Conv", "MaxPool", "Resize", "Concat"])
    one("attention_block", attention_block, (1, 6, 16), ["MatMul", "Softmax", "Transpose"])
    one("attention_multihead", attention_multihead, (1, 6, 16), ["MatMul", "Softmax", "Reshape", "Transpose"])
    one("transformer_block", transformer_block, (1, 6, 16), ["LayerNormalization", "MatMul", "Softmax", "Erf"])
    one("torch_multihead_attention", torch_mha, (1, 5, 16), ["MatMul", "Softmax"])
    one("attention_masked", attention_masked, None, ["MatMul", "Softmax", "Where"],
        tags=("composition", "bool-input", "multi-input"),
        inputs=lambda r: [("input", values(r, (1, 5, 8))), ("mask", i64([[1, 1, 1, 0, 0]]).astype(bool))])
    one("mlp_small", mlp_small, (1, 16), ["Gemm", "Relu"])
    one("mlp_deep_tanh", mlp_deep_tanh, (1, 10), ["Gemm", "Tanh"])
    one("mlp_softmax_classifier", mlp_softmax_classifier, (1, 12), ["Gemm", "Relu", "Softmax"])
    one("autoencoder_mlp", autoencoder, (1, 24), ["Gemm", "Relu", "Sigmoid"], kind="unit")
    one("gated_mlp_silu", gated_mlp, (1, 8), ["Gemm", "Sigmoid", "Mul"])
    one("lstm_classifier", lstm_classifier, (1, 6, 4), ["LSTM", "Gather", "Softmax"])
    one("text_cnn", text_cnn, None, ["Gather", "Conv", "ReduceMax"], tags=("composition", "int-input"),
        inputs=lambda r: [("token_ids", r.integers(0, 30, (1, 10)).astype(np.int64))])
    one("cnn_gap_classifier", cnn_gap_classifier, (1, 3, 8, 8), ["Conv", "GlobalAveragePool", "Gemm"])

    def two_heads():
        rng = rng_for("two_output_heads")
        net = Net(lambda s, x: (s.h1(F.relu(s.body(x))), torch.sigmoid(s.h2(F.relu(s.body(x))))),
                  body=lin(8, 12), h1=lin(12, 3), h2=lin(12, 1))
        return t_spec(net, [("input", values(rng, (1, 8)))], output_names=["logits", "score"])

    add("two_output_heads", two_heads, ["Gemm"], ["composition", "multi-output"])


# ---------------------------------------------------------------------------------------------
# Batch sizes: fixed 2 and 3, and a symbolic batch axis


def batch_models():
    def one(name, module_fn, shape, ops, dynamic=False, opset=OPSET):
        def build():
            rng = rng_for(name)
            return t_spec(module_fn(), [("input", values(rng, shape))], dynamic_batch=dynamic, opset=opset)
        tags = ["batch", f"batch{shape[0]}"] + (["dynamic-batch"] if dynamic else [])
        add(name, build, ops, tags)

    mlp = lambda: Net(lambda s, x: s.f2(F.relu(s.f1(x))), f1=lin(8, 12), f2=lin(12, 3))  # noqa: E731
    cnn = lambda: Net(lambda s, x: s.fc(torch.flatten(F.max_pool2d(F.relu(s.c(x)), 2), 1)),  # noqa: E731
                      c=nn.Conv2d(1, 3, 3, padding=1), fc=lin(3 * 9, 3))
    one("mlp_batch2", mlp, (2, 8), ["Gemm", "Relu"])
    one("mlp_batch3", mlp, (3, 8), ["Gemm", "Relu"])
    one("conv_batch2", cnn, (2, 1, 6, 6), ["Conv", "MaxPool"])
    one("conv_batch3", cnn, (3, 1, 6, 6), ["Conv", "MaxPool"])
    one("relu_batch3", lambda: Net(lambda s, x: F.relu(x)), (3, 10), ["Relu"])
    one("softmax_batch2", lambda: Net(lambda s, x: torch.softmax(s.f(x), dim=1), f=lin(6, 4)), (2, 6),
        ["Gemm", "Softmax"])
    one("layernorm_batch2", lambda: Net(lambda s, x: s.f(s.ln(x)), ln=nn.LayerNorm(8), f=lin(8, 3)), (2, 8),
        ["LayerNormalization"])
    one("mlp_dynbatch", mlp, (1, 8), ["Gemm", "Relu"], dynamic=True)
    one("mlp_dynbatch_b2", mlp, (2, 8), ["Gemm", "Relu"], dynamic=True)
    one("mlp_dynbatch_b3", mlp, (3, 8), ["Gemm", "Relu"], dynamic=True)
    one("conv_dynbatch", cnn, (1, 1, 6, 6), ["Conv", "MaxPool"], dynamic=True)
    one("conv_dynbatch_b2", cnn, (2, 1, 6, 6), ["Conv", "MaxPool"], dynamic=True)
    one("sigmoid_dynbatch", lambda: Net(lambda s, x: torch.sigmoid(s.f(x)), f=lin(6, 4)), (1, 6),
        ["Gemm", "Sigmoid"], dynamic=True)
    one("lstm_dynbatch", lambda: Net(lambda s, x: s.fc(s.lstm(x)[0][:, -1]), lstm=nn.LSTM(4, 6, batch_first=True),
                                     fc=lin(6, 2)), (1, 5, 4), ["LSTM"], dynamic=True)
    one("attention_dynbatch", lambda: Attention(8, 2), (1, 4, 8), ["MatMul", "Softmax"], dynamic=True)
    one("mlp_opset13_dynbatch", mlp, (1, 8), ["Gemm", "Relu"], dynamic=True, opset=13)
    one("conv_opset15", cnn, (1, 1, 6, 6), ["Conv", "MaxPool"], opset=15)


# ---------------------------------------------------------------------------------------------
# scikit-learn (skl2onnx), and tree ensembles written out in GEMM and Gather form


def sklearn_models():
    from sklearn.ensemble import (GradientBoostingClassifier, GradientBoostingRegressor, RandomForestClassifier,
                                  RandomForestRegressor)
    from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
    from sklearn.neural_network import MLPClassifier, MLPRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import LinearSVC, LinearSVR
    from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

    def data(name, classes):
        rng = rng_for(name)
        x = rng.standard_normal((200, 6)).astype(np.float32)
        score = x @ rng.standard_normal(6) + 0.3 * np.sin(3 * x[:, 0])
        if classes is None:
            return rng, x, (score + 0.1 * rng.standard_normal(200)).astype(np.float32)
        edges = np.quantile(score, np.linspace(0, 1, classes + 1)[1:-1])
        return rng, x, np.digitize(score, edges)

    def sk(name, make, classes, proba_only=False, ops=(), opset_ml=3, zipmap=False):
        def build():
            from skl2onnx import to_onnx
            rng, x, y = data(name, classes)
            est = make().fit(x, y)
            final = est.steps[-1][1] if hasattr(est, "steps") else est
            # Probabilities as a plain tensor, not skl2onnx's default list of maps (ZipMap),
            # unless the model is made to keep it.
            opts = {id(final): {"zipmap": False}} if hasattr(final, "predict_proba") and not zipmap else None
            proto = to_onnx(est, x[:1], options=opts, target_opset={"": OPSET, "ai.onnx.ml": opset_ml})
            # skl2onnx lists the opsets in set order: sort them so the file is reproducible.
            opsets = sorted(proto.opset_import, key=lambda o: o.domain)
            del proto.opset_import[:]
            proto.opset_import.extend(opsets)
            if proba_only:
                # What a user keeps of a classifier to prove: the probabilities output and the
                # nodes it needs.
                proto = onnx.utils.Extractor(proto).extract_model([proto.graph.input[0].name], ["probabilities"])
            xin = np.round(values(rng, (1, 6)), 4)
            spec = Spec([(proto.graph.input[0].name, xin)], proto=proto, source="sklearn/skl2onnx")
            spec.dynamic_batch = True
            return spec
        tags = ["classical-ml"] + (["multi-output"] if classes is not None and not proba_only else [])
        add(name, build, ops, tags)

    sk("sk_linear_regression", LinearRegression, None, ops=["ai.onnx.ml:LinearRegressor"])
    sk("sk_ridge", lambda: Ridge(alpha=0.5), None, ops=["ai.onnx.ml:LinearRegressor"])
    sk("sk_logistic_binary", lambda: LogisticRegression(max_iter=500), 2, ops=["ai.onnx.ml:LinearClassifier"])
    sk("sk_logistic_multiclass", lambda: LogisticRegression(max_iter=500), 3, ops=["ai.onnx.ml:LinearClassifier"])
    sk("sk_logistic_multiclass_proba", lambda: LogisticRegression(max_iter=500), 3, proba_only=True,
       ops=["ai.onnx.ml:LinearClassifier"])
    sk("sk_linear_svc", lambda: LinearSVC(max_iter=5000, random_state=0), 3, ops=["ai.onnx.ml:LinearClassifier"])
    sk("sk_linear_svr", lambda: LinearSVR(max_iter=5000, random_state=0), None, ops=["ai.onnx.ml:LinearRegressor"])
    sk("sk_decision_tree_classifier", lambda: DecisionTreeClassifier(max_depth=4, random_state=0), 3,
       ops=["ai.onnx.ml:TreeEnsembleClassifier"])
    sk("sk_decision_tree_regressor", lambda: DecisionTreeRegressor(max_depth=4, random_state=0), None,
       ops=["ai.onnx.ml:TreeEnsembleRegressor"])
    sk("sk_random_forest_classifier", lambda: RandomForestClassifier(n_estimators=8, max_depth=4, random_state=0), 3,
       ops=["ai.onnx.ml:TreeEnsembleClassifier"])
    sk("sk_random_forest_regressor", lambda: RandomForestRegressor(n_estimators=8, max_depth=4, random_state=0),
       None, ops=["ai.onnx.ml:TreeEnsembleRegressor"])
    sk("sk_gradient_boosting_classifier",
       lambda: GradientBoostingClassifier(n_estimators=10, max_depth=3, random_state=0), 2,
       ops=["ai.onnx.ml:TreeEnsembleRegressor"])
    sk("sk_gradient_boosting_regressor",
       lambda: GradientBoostingRegressor(n_estimators=10, max_depth=3, random_state=0), None,
       ops=["ai.onnx.ml:TreeEnsembleRegressor"])
    mlp_c = lambda: MLPClassifier(hidden_layer_sizes=(16,), max_iter=300, random_state=0)  # noqa: E731
    sk("sk_mlp_classifier", mlp_c, 3, ops=["MatMul", "Relu", "Softmax"])
    sk("sk_mlp_classifier_proba", mlp_c, 3, proba_only=True, ops=["MatMul", "Relu", "Softmax"])
    sk("sk_mlp_regressor", lambda: MLPRegressor(hidden_layer_sizes=(12,), max_iter=300, random_state=0), None,
       ops=["MatMul", "Relu"])
    sk("sk_scaler_logistic_pipeline", lambda: make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)), 2,
       ops=["ai.onnx.ml:Scaler", "ai.onnx.ml:LinearClassifier"])
    from sklearn.impute import SimpleImputer
    from sklearn.preprocessing import Binarizer, Normalizer
    from sklearn.svm import SVR
    sk("sk_logistic_zipmap", lambda: LogisticRegression(max_iter=500), 3, zipmap=True,
       ops=["ai.onnx.ml:LinearClassifier", "ai.onnx.ml:ZipMap"])
    sk("sk_random_forest_binary", lambda: RandomForestClassifier(n_estimators=6, max_depth=3, random_state=0), 2,
       ops=["ai.onnx.ml:TreeEnsembleClassifier"])
    sk("sk_gradient_boosting_multiclass",
       lambda: GradientBoostingClassifier(n_estimators=6, max_depth=2, random_state=0), 3,
       ops=["ai.onnx.ml:TreeEnsembleClassifier"])
    sk("sk_svr_linear_kernel", lambda: SVR(kernel="linear", C=0.5), None, ops=["ai.onnx.ml:SVMRegressor"])
    sk("sk_imputer_scaler_ridge", lambda: make_pipeline(SimpleImputer(), StandardScaler(), Ridge(alpha=0.5)), None,
       ops=["ai.onnx.ml:Imputer", "ai.onnx.ml:Scaler", "ai.onnx.ml:LinearRegressor"])
    sk("sk_normalizer_l2", lambda: Normalizer(norm="l2"), None, ops=["ai.onnx.ml:Normalizer"])
    sk("sk_normalizer_max_linear", lambda: make_pipeline(Normalizer(norm="max"), LinearRegression()), None,
       ops=["ai.onnx.ml:Normalizer", "ai.onnx.ml:LinearRegressor"])
    sk("sk_binarizer", lambda: Binarizer(threshold=0.2), None, ops=["ai.onnx.ml:Binarizer"])

    def fitted_tree(name, n_trees):
        _, x, y = data(name, 2)
        forest = RandomForestClassifier(n_estimators=n_trees, max_depth=3, random_state=0).fit(x, y)
        return [t.tree_ for t in forest.estimators_]

    class TreeGemm(nn.Module):
        """A tree ensemble in GEMM form (the strategy of the Hummingbird paper): which
        internal nodes' tests hold (x·A < B), which leaf every path reaches (·C == D), the
        leaf's class scores (·E), averaged over trees."""

        def __init__(self, trees, n_features):
            super().__init__()
            self.parts = []
            for i, t in enumerate(trees):
                internal = [k for k in range(t.node_count) if t.children_left[k] >= 0]
                leaves = [k for k in range(t.node_count) if t.children_left[k] < 0]
                a = np.zeros((n_features, len(internal)), np.float32)
                b = np.zeros(len(internal), np.float32)
                c = np.zeros((len(internal), len(leaves)), np.float32)
                d = np.zeros(len(leaves), np.float32)
                e = np.zeros((len(leaves), t.value.shape[2]), np.float32)
                for j, k in enumerate(internal):
                    a[t.feature[k], j], b[j] = 1.0, t.threshold[k]
                for li, leaf in enumerate(leaves):
                    e[li] = t.value[leaf, 0] / t.value[leaf, 0].sum()
                    node = leaf
                    while node != 0:
                        parent = next(p for p in internal if node in (t.children_left[p], t.children_right[p]))
                        left = t.children_left[parent] == node
                        c[internal.index(parent), li] = 1.0 if left else -1.0
                        d[li] += 1.0 if left else 0.0
                        node = parent
                for key, val in zip("ABCDE", (a, b, c, d, e)):
                    self.register_buffer(f"{key}{i}", torch.tensor(val))
                self.parts.append(i)
            self.n = len(trees)

        def forward(self, x):
            out = 0
            for i in self.parts:
                g = lambda k: getattr(self, f"{k}{i}")  # noqa: E731
                tests = (torch.matmul(x, g("A")) <= g("B")).float()
                reached = (torch.matmul(tests, g("C")) == g("D")).float()
                out = out + torch.matmul(reached, g("E"))
            return out / self.n

    class TreeGather(nn.Module):
        """One tree evaluated by traversal: per level, Gather the node's feature and threshold
        (data-dependent indices), compare, Where to the next node; Gather the leaf's scores."""

        def __init__(self, t):
            super().__init__()
            self.depth = int(t.max_depth)
            left = np.where(t.children_left >= 0, t.children_left, np.arange(t.node_count))
            right = np.where(t.children_right >= 0, t.children_right, np.arange(t.node_count))
            self.register_buffer("feature", torch.tensor(np.maximum(t.feature, 0), dtype=torch.int64))
            self.register_buffer("threshold", torch.tensor(t.threshold, dtype=torch.float32))
            self.register_buffer("left", torch.tensor(left, dtype=torch.int64))
            self.register_buffer("right", torch.tensor(right, dtype=torch.int64))
            v = t.value[:, 0] / t.value[:, 0].sum(axis=1, keepdims=True)
            self.register_buffer("value", torch.tensor(v, dtype=torch.float32))

        def forward(self, x):
            node = torch.zeros(x.shape[0], 1, dtype=torch.int64)
            for _ in range(self.depth):
                f = torch.gather(x, 1, self.feature[node])
                go_left = f <= self.threshold[node]
                node = torch.where(go_left, self.left[node], self.right[node])
            return self.value[node.squeeze(1)]

    def tree_gemm(name, n_trees):
        def build():
            rng = rng_for(name)
            return t_spec(TreeGemm(fitted_tree(name, n_trees), 6), [("input", values(rng, (1, 6)))])
        return build

    def tree_gather():
        rng = rng_for("tree_gather_form")
        return t_spec(TreeGather(fitted_tree("tree_gather_form", 1)[0]), [("input", values(rng, (1, 6)))])

    add("tree_gemm_form", tree_gemm("tree_gemm_form", 1), ["MatMul", "LessOrEqual", "Equal", "Cast"],
        ["composition", "classical-ml"])
    add("forest_gemm_form", tree_gemm("forest_gemm_form", 4), ["MatMul", "LessOrEqual", "Equal", "Cast"],
        ["composition", "classical-ml"])
    add("tree_gather_form", tree_gather, ["Gather", "GatherElements", "LessOrEqual", "Where"],
        ["composition", "classical-ml"])


# ---------------------------------------------------------------------------------------------
# Export, reference outputs, files


def export(spec):
    if spec.proto is not None:
        return spec.proto
    module = spec.module.eval()
    args = tuple(torch.from_numpy(np.asarray(a)) for _, a in spec.inputs)
    names = [n for n, _ in spec.inputs]
    with torch.no_grad():
        out = module(*args)
    n_out = len(out) if isinstance(out, tuple) else 1
    outs = spec.output_names or (["output"] if n_out == 1 else [f"output_{i}" for i in range(n_out)])
    dyn = {k: {0: "batch"} for k in names + outs} if spec.dynamic_batch else None
    buf = io.BytesIO()
    torch.onnx.export(module, args, buf, opset_version=spec.opset, input_names=names, output_names=outs,
                      dynamic_axes=dyn, do_constant_folding=True, dynamo=False)
    return onnx.load_from_string(buf.getvalue())


ONNX_DTYPES = {TensorProto.FLOAT: "float32", TensorProto.INT64: "int64", TensorProto.BOOL: "bool",
               TensorProto.INT32: "int32", TensorProto.DOUBLE: "float64"}


def shape_of(vi):
    t = vi.type.tensor_type
    if not t.HasField("shape"):
        return None
    return [d.dim_value if d.HasField("dim_value") else (d.dim_param or "?") for d in t.shape.dim]


def plain(arr):
    """A flattened array as JSON numbers: floats in float32's shortest round-trip form."""
    a = np.asarray(arr).reshape(-1)
    if a.dtype == np.bool_:
        return [int(v) for v in a]
    if np.issubdtype(a.dtype, np.integer):
        return [int(v) for v in a]
    return [float(str(np.float32(v))) for v in a]


def write_model(outdir, name, spec, exercises, tags):
    model = export(spec)
    graph = model.graph
    init_names = {i.name for i in graph.initializer}
    graph_inputs = [i for i in graph.input if i.name not in init_names]
    feeds = {n: a for n, a in spec.inputs}
    missing = [i.name for i in graph_inputs if i.name not in feeds]
    if missing:
        raise RuntimeError(f"graph inputs {missing} have no data")
    ordered = [(i.name, feeds[i.name]) for i in graph_inputs]
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    results = sess.run(None, dict(ordered))
    # A ZipMap's list of maps: its values in key order (the probabilities tensor).
    results = [np.asarray([[m[k] for k in sorted(m)] for m in r], np.float32) if isinstance(r, list) else r
               for r in results]
    out_infos = list(graph.output)
    # Helper-built graphs declare outputs without shapes: fill them in from the run.
    for vi, r in zip(out_infos, results):
        if shape_of(vi) is None and spec.source == "onnx.helper":
            vi.type.tensor_type.shape.CopyFrom(helper.make_tensor_type_proto(
                vi.type.tensor_type.elem_type, ["batch"] + list(r.shape[1:])).tensor_type.shape)
    onnx.checker.check_model(model)

    d = os.path.join(outdir, name)
    if os.path.isdir(d):
        shutil.rmtree(d)
    os.makedirs(d)
    onnx.save(model, os.path.join(d, "model.onnx"))
    with open(os.path.join(d, "input.json"), "w") as f:
        json.dump({"input_data": [plain(a) for _, a in ordered]}, f)
    with open(os.path.join(d, "reference.json"), "w") as f:
        json.dump({"outputs": [{"name": vi.name, "shape": list(r.shape), "dtype": str(r.dtype), "data": plain(r)}
                               for vi, r in zip(out_infos, results)]}, f)
    ops = sorted({(nd.op_type if nd.domain in ("", "ai.onnx") else f"{nd.domain}:{nd.op_type}")
                  for nd in graph.node})
    opsets = {o.domain or "ai.onnx": o.version for o in model.opset_import}
    meta = {
        "name": name,
        "generator": GENERATOR,
        "source": spec.source,
        "opset": opsets,
        "ops": ops,
        "exercises": exercises,
        "tags": tags,
        "inputs": [{"name": n, "shape": list(np.asarray(a).shape), "dtype": str(np.asarray(a).dtype),
                    "declared_shape": shape_of(vi)} for (n, a), vi in zip(ordered, graph_inputs)],
        "outputs": [{"name": vi.name, "shape": list(r.shape), "dtype": str(r.dtype)}
                    for vi, r in zip(out_infos, results)],
        "batch": int(np.asarray(ordered[0][1]).shape[0]) if np.asarray(ordered[0][1]).ndim else 1,
        "dynamic_batch": bool(spec.dynamic_batch),
        "params": int(sum(np.prod(i.dims) for i in graph.initializer)),
    }
    with open(os.path.join(d, "meta.json"), "w") as f:
        json.dump(meta, f, indent=1)
    return meta


def register_all():
    unary_models()
    binary_models()
    reduction_models()
    norm_models()
    movement_models()
    index_models()
    linear_models()
    recurrent_models()
    composition_models()
    batch_models()
    sklearn_models()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("outdir", nargs="?", help="output directory (default target/op-corpus, or with --subset "
                                             "fixtures/coverage)")
    p.add_argument("--subset", action="store_true", help="only the small CI subset (committed under "
                                                         "fixtures/coverage)")
    p.add_argument("--only", help="only models whose name contains this")
    p.add_argument("--list", action="store_true", help="print the model names and exit")
    a = p.parse_args()
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.join(here, "..")
    default = "fixtures/coverage" if a.subset else "target/op-corpus"
    outdir = a.outdir or os.path.normpath(os.path.join(root, default))
    register_all()
    missing = SUBSET - {r[0] for r in REGISTRY}
    assert not missing, f"SUBSET names unknown models: {missing}"
    chosen = [r for r in REGISTRY if (not a.subset or r[0] in SUBSET) and (not a.only or a.only in r[0])]
    if a.list:
        for name, _, exercises, tags in chosen:
            print(f"{name:36} {' '.join(exercises):40} {' '.join(tags)}{'  [subset]' if name in SUBSET else ''}")
        print(f"{len(chosen)} models")
        return 0
    os.makedirs(outdir, exist_ok=True)
    failed, metas = [], []
    for name, build, exercises, tags in chosen:
        try:
            metas.append(write_model(outdir, name, build(), exercises, tags))
        except Exception as e:  # noqa: BLE001 - report every model that could not be exported
            failed.append(name)
            print(f"FAILED {name}: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}", file=sys.stderr)
    if not a.only:
        # Drop directories of models this script no longer makes.
        names = {m["name"] for m in metas} | set(failed)
        for entry in sorted(os.listdir(outdir)):
            meta = os.path.join(outdir, entry, "meta.json")
            if entry not in names and os.path.isfile(meta):
                with open(meta) as f:
                    if json.load(f).get("generator") == GENERATOR:
                        shutil.rmtree(os.path.join(outdir, entry))
    covered = {op for m in metas for op in m["ops"]}
    print(f"wrote {len(metas)} models to {outdir}; {len(covered)} distinct ONNX ops")
    if not a.subset and not a.only:
        absent = [op for op in ISSUE14_OPS if op not in covered]
        if absent:
            print("issue 14 operators in no model: " + " ".join(absent), file=sys.stderr)
    if failed:
        print(f"{len(failed)} models failed to export: {' '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
