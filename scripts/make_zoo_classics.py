#!/usr/bin/env python3
"""The ONNX package's model-zoo classics (onnx/backend/test/data/light: AlexNet, DenseNet-121,
Inception v1/v2, ResNet-50, ShuffleNet, SqueezeNet, VGG-19, ZFNet-512; opset 9, IR 3), made
provable test models. The package replaced their float weights by `ConstantOfShape` nodes, so
as shipped every weight is one repeated value; this script gives each such weight a random value
of a realistic scale and writes DIR/<name>/{model.onnx, input.json, reference.json}, the layout
`zkinfer coverage DIR` reads (onnxruntime's outputs as the reference). By hand, not CI:

    python3 scripts/make_zoo_classics.py /tmp/classics [NAME ...]   (needs onnx, onnxruntime, numpy)
    zkinfer coverage /tmp/classics

Weights: conv and Gemm weights He-normal over their fan-in, biases uniform in ±0.05, BatchNorm
and the Caffe "Scale" layers after it (Unsqueeze + Mul/Add) scale 1 ± 0.1, shift ± 0.1; the
small float initializers the package kept as they were trained are redrawn alike. Every
BatchNorm's running mean is near 0 and its variance near its input's mean square on the
sample, so each layer keeps a scale near 1: unit statistics next to random weights would
saturate ResNet-50's and ShuffleNet's softmax (their sums grow the scale block by block).
Graph inputs keep the IR 3 form (every initializer also listed as a graph input), as the zoo's
files have it. The image is standard normal, batch 1, of the graph's input shape. With
`--small`, the fully convolutional ones (SqueezeNet, DenseNet-121) are also written at 112×112
as `<name>_112`.
"""
import json
import os
import shutil
import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnx import helper, numpy_helper

NAMES = ["bvlc_alexnet", "densenet121", "inception_v1", "inception_v2", "resnet50",
         "shufflenet", "squeezenet", "vgg19", "zfnet512"]
# A distinct, fixed seed per model: each file is reproducible on its own.
SEEDS = {name: 1000 + i for i, name in enumerate(NAMES)}
FULLY_CONVOLUTIONAL = ["squeezenet", "densenet121"]


def light_dir():
    return os.path.join(os.path.dirname(onnx.__file__), "backend", "test", "data", "light")


def consumers(graph, name):
    """(node, input slot) reading `name`, looking through Unsqueeze (Caffe Scale layers) and a
    Reshape of the weight (Inception v1's classifier)."""
    out = []
    for n in graph.node:
        for slot, i in enumerate(n.input):
            if i != name:
                continue
            if n.op_type == "Unsqueeze" or n.op_type == "Reshape" and slot == 0:
                out += consumers(graph, n.output[0])
            else:
                out.append((n, slot))
    return out


def attr(node, key, default):
    for a in node.attribute:
        if a.name == key:
            return helper.get_attribute_value(a)
    return default


def random_weight(rng, graph, name, shape):
    """A value for the ConstantOfShape output `name`, by what reads it."""
    uses = consumers(graph, name)
    if not uses:
        raise ValueError(f"{name}: no consumer")
    node, slot = uses[0]
    op = node.op_type
    if op == "Conv" and slot == 1:
        fan_in = int(np.prod(shape[1:]))
        return rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)
    if op == "Gemm" and slot == 1:
        fan_in = int(np.prod(shape[1:])) if attr(node, "transB", 0) else shape[0]
        return rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)
    if op in ("Conv", "Gemm") and slot == 2:
        return rng.uniform(-0.05, 0.05, shape)
    if op == "BatchNormalization" and slot == 1 or op == "Mul":
        return 1.0 + 0.1 * rng.standard_normal(shape)
    if op == "BatchNormalization" and slot == 2 or op == "Add":
        return 0.1 * rng.standard_normal(shape)
    if op == "BatchNormalization" and slot == 3:
        return np.zeros(shape)  # set from the data by calibrate_batchnorm
    if op == "BatchNormalization" and slot == 4:
        return np.ones(shape)
    raise ValueError(f"{name}: read by {op} input {slot}, no rule")


def materialize(model, rng):
    """Every ConstantOfShape of a constant shape becomes a random initializer (also a graph
    input, IR 3); shape initializers left unread are dropped."""
    g = model.graph
    inits = {t.name: t for t in g.initializer}
    keep_nodes = []
    new_inits = []
    for n in g.node:
        if n.op_type == "ConstantOfShape" and n.input[0] in inits:
            shape = [int(d) for d in numpy_helper.to_array(inits[n.input[0]])]
            value = random_weight(rng, g, n.output[0], shape).astype(np.float32)
            new_inits.append(numpy_helper.from_array(value, n.output[0]))
        else:
            keep_nodes.append(n)
    del g.node[:]
    g.node.extend(keep_nodes)
    # The float initializers the package kept (small trained biases, Scale-layer factors,
    # BatchNorm statistics) are redrawn by the same rules: trained values next to random
    # weights make channels of one tensor differ in scale by orders of magnitude.
    read = {i for n in g.node for i in n.input}
    for t in g.initializer:
        if t.data_type == onnx.TensorProto.FLOAT and t.name in read:
            value = random_weight(rng, g, t.name, list(t.dims)).astype(np.float32)
            t.CopyFrom(numpy_helper.from_array(value, t.name))
    g.initializer.extend(new_inits)
    for t in new_inits:
        g.input.append(helper.make_tensor_value_info(t.name, onnx.TensorProto.FLOAT, list(t.dims)))
    read = {i for n in g.node for i in n.input}
    unread = {t.name for t in g.initializer if t.name not in read}
    keep = [t for t in g.initializer if t.name not in unread]
    del g.initializer[:]
    g.initializer.extend(keep)
    ins = [i for i in g.input if i.name not in unread]
    del g.input[:]
    g.input.extend(ins)


def set_init(model, name, value):
    for t in model.graph.initializer:
        if t.name == name:
            t.CopyFrom(numpy_helper.from_array(value.astype(np.float32), name))
            return
    raise KeyError(name)


def calibrate_batchnorm(model, feeds, rng):
    """Running statistics of every BatchNormalization in units of its input's mean square `m`
    on the sample: mean 0 ± 0.1·√m, var `m` ± 10 % — the layer's scale kept near 1, set layer by
    layer (one onnxruntime run per depth). Per-channel statistics (centring every channel on
    one sample) make these random networks chaotic: a rounding of the input by 1e-3 of its
    range moved DenseNet's output by 6 %, where a trained network barely moves."""
    g = model.graph
    bns = [n for n in g.node if n.op_type == "BatchNormalization"]
    producer = {o: n for n in g.node for o in n.output}

    def upstream_bns(name, seen):
        out = set()
        stack = [name]
        while stack:
            t = stack.pop()
            if t in seen or t not in producer:
                continue
            seen.add(t)
            n = producer[t]
            if n.op_type == "BatchNormalization":
                out.add(n.output[0])
            stack += list(n.input)
        return out

    deps = {bn.output[0]: upstream_bns(bn.input[0], set()) for bn in bns}
    done = set()
    while len(done) < len(bns):
        ready = [bn for bn in bns if bn.output[0] not in done and deps[bn.output[0]] <= done]
        probe = onnx.ModelProto()
        probe.CopyFrom(model)
        del probe.graph.output[:]
        for bn in ready:
            probe.graph.output.append(helper.make_tensor_value_info(bn.input[0], onnx.TensorProto.FLOAT, None))
        sess = ort.InferenceSession(probe.SerializeToString(), providers=["CPUExecutionProvider"])
        vals = sess.run(None, feeds)
        for bn, v in zip(ready, vals):
            c = v.shape[1]
            ms = float((v ** 2).mean())
            set_init(model, bn.input[3], 0.1 * np.sqrt(ms) * rng.standard_normal(c))
            set_init(model, bn.input[4], ms * rng.uniform(0.9, 1.1, c))
            done.add(bn.output[0])


def graph_input(model):
    inits = {t.name for t in model.graph.initializer}
    real = [i for i in model.graph.input if i.name not in inits]
    assert len(real) == 1, [i.name for i in real]
    return real[0]


def resize_input(model, side):
    """The image input at side×side (a fully convolutional network's other shapes follow)."""
    dims = graph_input(model).type.tensor_type.shape.dim
    dims[2].dim_value = side
    dims[3].dim_value = side
    del model.graph.value_info[:]  # (a global pool keeps the output's shape)


def write(out, name, model, rng):
    x_info = graph_input(model)
    shape = [d.dim_value for d in x_info.type.tensor_type.shape.dim]
    x = rng.standard_normal(shape).astype(np.float32)
    feeds = {x_info.name: x}
    if any(n.op_type == "BatchNormalization" for n in model.graph.node):
        calibrate_batchnorm(model, feeds, rng)
    onnx.checker.check_model(model)
    d = os.path.join(out, name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    path = os.path.join(d, "model.onnx")
    onnx.save(model, path)
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    outs = sess.run(None, feeds)
    with open(os.path.join(d, "input.json"), "w") as f:
        json.dump({"input_data": [x.astype(np.float64).reshape(-1).tolist()]}, f)
    with open(os.path.join(d, "reference.json"), "w") as f:
        json.dump({"outputs": [{"name": o.name, "shape": list(v.shape), "dtype": str(v.dtype),
                                "data": v.astype(np.float64).reshape(-1).tolist()}
                               for o, v in zip(sess.get_outputs(), outs)]}, f)
    params = sum(int(np.prod(t.dims)) for t in model.graph.initializer if t.data_type == 1)
    top = outs[0].reshape(-1)
    print(f"{name}: input {shape}, {params / 1e6:.1f}M parameters, output {list(outs[0].shape)} "
          f"max {top.max():.3g} min {top.min():.3g}", flush=True)


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    small = "--small" in sys.argv
    out = args[0] if args else "target/zoo-classics"
    names = args[1:] or NAMES
    for name in names:
        rng = np.random.default_rng(SEEDS[name])
        model = onnx.load(os.path.join(light_dir(), f"light_{name}.onnx"))
        materialize(model, rng)
        if small and name in FULLY_CONVOLUTIONAL:
            variant = onnx.ModelProto()
            variant.CopyFrom(model)
            resize_input(variant, 112)
            write(out, f"{name}_112", variant, np.random.default_rng(SEEDS[name] + 100))
        write(out, name, model, rng)


if __name__ == "__main__":
    main()
