#!/usr/bin/env python3
"""Writes zkinfer's small ONNX test fixtures into fixtures/ (deterministic, seeded).

Usage: pip install -r scripts/requirements.txt && python3 scripts/make_fixtures.py [OUTDIR]
(seq_*, from lowerings_seq(), are PyTorch exports with onnxruntime references: they also need
scripts/requirements-corpus.txt.)

Each model NAME.onnx comes with NAME.input.json ({"input_data": [[...]]}, ezkl style).
demo_mlp.onnx is a 64-32-10 MLP trained here in numpy on a synthetic 8x8 glyph task;
demo_test_inputs.npy / demo_test_labels.npy hold a held-out test split for it.
one_*.onnx are single-op models (a model with nothing committed per proof, or no weight layer).
All models: opset 17, float32, symbolic batch axis "batch", except multi_*.onnx: several graph
inputs (an int64 and a bool one among them), whose input files hold one entry per input.
"""
import json
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17


def init(name, arr):
    return numpy_helper.from_array(np.asarray(arr, dtype=np.float32), name)


def init_i64(name, arr):
    return numpy_helper.from_array(np.asarray(arr, dtype=np.int64), name)


def save(outdir, name, nodes, inits, in_shape, out_shape, x, opset=OPSET, batch="batch"):
    """`batch`: the batch axis, symbolic by default or a fixed size (then `x` holds that many samples)."""
    graph = helper.make_graph(
        nodes, name,
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [batch] + list(in_shape))],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [batch] + list(out_shape))],
        initializer=inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], producer_name="zkinfer-fixtures")
    model.ir_version = 8 if opset <= 18 else 9
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(outdir, name + ".onnx"))
    with open(os.path.join(outdir, name + ".input.json"), "w") as f:
        json.dump({"input_data": [np.asarray(x, dtype=np.float32).reshape(-1).astype(float).round(6).tolist()]}, f)


def w(rng, *shape, scale=None):
    fan_in = int(np.prod(shape[1:])) if len(shape) > 1 else shape[0]
    s = scale if scale is not None else 1.0 / np.sqrt(fan_in)
    return (rng.standard_normal(shape) * s).astype(np.float32)


def main(outdir):
    os.makedirs(outdir, exist_ok=True)
    rng = np.random.default_rng(1234)
    N = helper.make_node

    # 1. Gemm + Relu (transB=1 like PyTorch) and Gemm without transB
    save(outdir, "mlp_gemm_relu", [
        N("Gemm", ["input", "w1", "b1"], ["h1"], name="fc1", transB=1),
        N("Relu", ["h1"], ["a1"], name="relu1"),
        N("Gemm", ["a1", "w2", "b2"], ["output"], name="fc2", alpha=0.5, beta=2.0),
    ], [init("w1", w(rng, 16, 8)), init("b1", w(rng, 16, scale=0.1)),
        init("w2", w(rng, 16, 4)), init("b2", w(rng, 4, scale=0.1))], [8], [4], rng.standard_normal(8))

    # 2. MatMul + Add bias, residual-free
    save(outdir, "mlp_matmul_add", [
        N("MatMul", ["input", "w1"], ["m1"], name="mm1"),
        N("Add", ["m1", "b1"], ["h1"], name="bias1"),
        N("Relu", ["h1"], ["a1"], name="relu1"),
        N("MatMul", ["a1", "w2"], ["m2"], name="mm2"),
        N("Add", ["b2", "m2"], ["output"], name="bias2"),
    ], [init("w1", w(rng, 10, 12)), init("b1", w(rng, 12, scale=0.1)),
        init("w2", w(rng, 12, 3)), init("b2", w(rng, 3, scale=0.1))], [10], [3], rng.standard_normal(10))

    # 3. Sigmoid output (binary classifier)
    save(outdir, "sigmoid", [
        N("Gemm", ["input", "w1", "b1"], ["h1"], name="fc1", transB=1),
        N("Sigmoid", ["h1"], ["s1"], name="sig1"),
        N("Gemm", ["s1", "w2", "b2"], ["h2"], name="fc2", transB=1),
        N("Sigmoid", ["h2"], ["output"], name="sig_out"),
    ], [init("w1", w(rng, 8, 6, scale=1.0)), init("b1", w(rng, 8, scale=0.2)),
        init("w2", w(rng, 1, 8, scale=1.0)), init("b2", w(rng, 1, scale=0.2))], [6], [1], rng.standard_normal(6))

    # 4. Tanh hidden layer
    save(outdir, "tanh", [
        N("Gemm", ["input", "w1", "b1"], ["h1"], name="fc1", transB=1),
        N("Tanh", ["h1"], ["t1"], name="tanh1"),
        N("Gemm", ["t1", "w2", "b2"], ["output"], name="fc2", transB=1),
    ], [init("w1", w(rng, 12, 6, scale=0.8)), init("b1", w(rng, 12, scale=0.2)),
        init("w2", w(rng, 5, 12)), init("b2", w(rng, 5, scale=0.1))], [6], [5], rng.standard_normal(6))

    # 5. Softmax as the final op
    save(outdir, "softmax", [
        N("Gemm", ["input", "w1", "b1"], ["h1"], name="fc1", transB=1),
        N("Relu", ["h1"], ["a1"], name="relu1"),
        N("Gemm", ["a1", "w2", "b2"], ["logits"], name="fc2", transB=1),
        N("Softmax", ["logits"], ["output"], name="softmax", axis=-1),
    ], [init("w1", w(rng, 16, 8)), init("b1", w(rng, 16, scale=0.1)),
        init("w2", w(rng, 6, 16, scale=0.8)), init("b2", w(rng, 6, scale=0.1))], [8], [6], rng.standard_normal(8))

    # 6. Conv net: Conv+BN+Relu, MaxPool, residual block (Conv+BN+Relu+Conv+BN, Add, Relu),
    #    AveragePool, GlobalAveragePool, Flatten, Gemm
    def bn(prefix, c):
        return [init(prefix + "_s", 1.0 + 0.2 * rng.standard_normal(c)), init(prefix + "_b", 0.1 * rng.standard_normal(c)),
                init(prefix + "_m", 0.1 * rng.standard_normal(c)), init(prefix + "_v", 0.5 + rng.random(c))]
    c = 4
    save(outdir, "conv_net", [
        N("Conv", ["input", "cw1", "cb1"], ["c1"], name="conv1", pads=[1, 1, 1, 1]),
        N("BatchNormalization", ["c1", "bn1_s", "bn1_b", "bn1_m", "bn1_v"], ["n1"], name="bn1", epsilon=1e-5),
        N("Relu", ["n1"], ["r1"], name="relu1"),
        N("MaxPool", ["r1"], ["p1"], name="maxpool", kernel_shape=[2, 2], strides=[2, 2]),
        N("Conv", ["p1", "cw2", "cb2"], ["c2"], name="res_conv1", pads=[1, 1, 1, 1]),
        N("BatchNormalization", ["c2", "bn2_s", "bn2_b", "bn2_m", "bn2_v"], ["n2"], name="res_bn1"),
        N("Relu", ["n2"], ["r2"], name="res_relu"),
        N("Conv", ["r2", "cw3"], ["c3"], name="res_conv2", pads=[1, 1, 1, 1]),
        N("BatchNormalization", ["c3", "bn3_s", "bn3_b", "bn3_m", "bn3_v"], ["n3"], name="res_bn2"),
        N("Add", ["p1", "n3"], ["sum"], name="residual_add"),
        N("Relu", ["sum"], ["r3"], name="relu_out"),
        N("AveragePool", ["r3"], ["ap"], name="avgpool", kernel_shape=[2, 2], strides=[1, 1]),
        N("GlobalAveragePool", ["ap"], ["gap"], name="gap"),
        N("Flatten", ["gap"], ["flat"], name="flatten", axis=1),
        N("Gemm", ["flat", "fw", "fb"], ["output"], name="fc", transB=1),
    ], [init("cw1", w(rng, c, 1, 3, 3)), init("cb1", w(rng, c, scale=0.1))] + bn("bn1", c)
       + [init("cw2", w(rng, c, c, 3, 3)), init("cb2", w(rng, c, scale=0.1))] + bn("bn2", c)
       + [init("cw3", w(rng, c, c, 3, 3))] + bn("bn3", c)
       + [init("fw", w(rng, 3, c, scale=1.0)), init("fb", w(rng, 3, scale=0.1))],
       [1, 8, 8], [3], rng.random((1, 8, 8)))

    # 7. Strided conv without padding + Transpose + Reshape + Squeeze/Unsqueeze + Flatten
    save(outdir, "reshape_transpose", [
        N("Conv", ["input", "cw", "cb"], ["c1"], name="conv_s2", strides=[2, 2], kernel_shape=[3, 3]),
        N("Relu", ["c1"], ["r1"], name="relu1"),
        N("Transpose", ["r1"], ["t1"], name="transpose", perm=[0, 2, 3, 1]),
        N("Reshape", ["t1", "shape1"], ["rs"], name="reshape"),
        N("Unsqueeze", ["rs", "ax"], ["us"], name="unsqueeze"),
        N("Squeeze", ["us", "ax"], ["sq"], name="squeeze"),
        N("Flatten", ["sq"], ["fl"], name="flatten"),
        N("Gemm", ["fl", "fw", "fb"], ["output"], name="fc", transB=1),
    ], [init("cw", w(rng, 3, 2, 3, 3)), init("cb", w(rng, 3, scale=0.1)), init_i64("shape1", [0, -1, 3]),
        init_i64("ax", [3]), init("fw", w(rng, 4, 27)), init("fb", w(rng, 4, scale=0.1))],
       [2, 7, 7], [4], rng.standard_normal((2, 7, 7)))

    # 8. Clip (Relu6-style) and LeakyRelu
    save(outdir, "clip_leaky", [
        N("Gemm", ["input", "w1", "b1"], ["h1"], name="fc1", transB=1),
        N("Clip", ["h1", "lo", "hi"], ["c1"], name="clip"),
        N("Gemm", ["c1", "w2", "b2"], ["h2"], name="fc2", transB=1),
        N("LeakyRelu", ["h2"], ["l2"], name="leaky", alpha=0.1),
        N("Gemm", ["l2", "w3", "b3"], ["output"], name="fc3", transB=1),
    ], [init("w1", w(rng, 12, 6, scale=1.5)), init("b1", w(rng, 12, scale=0.3)), init("lo", 0.0), init("hi", 1.5),
        init("w2", w(rng, 10, 12)), init("b2", w(rng, 10, scale=0.1)),
        init("w3", w(rng, 3, 10)), init("b3", w(rng, 3, scale=0.1))], [6], [3], rng.standard_normal(6))

    # 9. Standalone BatchNorm (affine) + constant Sub/Mul preprocessing + AveragePool on the input
    save(outdir, "affine_bn", [
        N("Sub", ["input", "mean"], ["x0"], name="sub_mean"),
        N("Mul", ["x0", "inv_std"], ["x1"], name="mul_std"),
        N("BatchNormalization", ["x1", "s", "b", "m", "v"], ["n1"], name="bn_standalone"),
        N("AveragePool", ["n1"], ["ap"], name="avgpool_pad", kernel_shape=[3, 3], strides=[2, 2],
          pads=[1, 1, 1, 1], count_include_pad=1),
        N("Flatten", ["ap"], ["fl"], name="flatten"),
        N("Gemm", ["fl", "fw", "fb"], ["output"], name="fc", transB=1),
    ], [init("mean", np.full((2, 1, 1), 0.5)), init("inv_std", np.array([2.0, 0.5]).reshape(2, 1, 1)),
        init("s", [1.5, 0.7]), init("b", [0.1, -0.2]), init("m", [0.05, -0.1]), init("v", [0.9, 1.2]),
        init("fw", w(rng, 3, 2 * 3 * 3)), init("fb", w(rng, 3, scale=0.1))],
       [2, 6, 6], [3], rng.random((2, 6, 6)))

    # 10. Unsupported op
    save(outdir, "unsupported_cos", [
        N("Gemm", ["input", "w1", "b1"], ["h1"], name="fc1", transB=1),
        N("Cos", ["h1"], ["output"], name="my_cos_node"),
    ], [init("w1", w(rng, 4, 4)), init("b1", w(rng, 4, scale=0.1))], [4], [4], rng.standard_normal(4))

    soundness(outdir)
    elementwise(outdir)
    unary_ops(outdir)
    unary_more(outdir)
    demo(outdir)
    single_ops(outdir)
    batched(outdir)
    reductions(outdir)
    data_movement(outdir)
    multi_input(outdir)
    lowerings(outdir)
    gelu_subgraphs(outdir)
    activation_div(outdir)
    transformers(outdir)
    lowerings_seq(outdir)
    outputs_ml(outdir)
    pools(outdir)
    whole_batch(outdir)
    index_ops(outdir)
    class_token(outdir)
    additive_mask(outdir)
    depthwise_taps(outdir)
    widened_mask(outdir)
    computed_additive_mask(outdir)
    legacy_zoo_forms(outdir)
    image_scaler(outdir)


def legacy_zoo_forms(outdir):
    """The early-opset forms of the ONNX model zoo's classic CNNs (exported at opsets 3 to 9):
    legacy_zoo_opset3 has BatchNormalization with is_test=1 and consumed_inputs, a Concat without
    `axis` (default 1 before opset 4), a Reshape whose target is its `shape` attribute (before
    opset 5, with a 0 copying a dimension), Gemm with broadcast=1 and Dropout with is_test=1;
    legacy_bn_per_element is BatchNormalization with spatial=0 at opset 7 (one statistic per
    element of a sample). References: the ONNX reference evaluator on equivalent current graphs (onnxruntime runs
    no opset 3, and neither runs BatchNormalization with spatial=0)."""
    rng = np.random.default_rng(71)
    N = helper.make_node
    x = rng.standard_normal((1, 3, 6, 6))
    bn = [init("s", 1 + 0.1 * rng.standard_normal(8)), init("b", 0.1 * rng.standard_normal(8)),
          init("m", 0.1 * rng.standard_normal(8)), init("v", rng.uniform(0.5, 1.5, 8))]
    weights = [init("w1", w(rng, 8, 3, 3, 3)), init("b1", w(rng, 8, scale=0.1)),
               init("w2", w(rng, 4, 8, 1, 1)), init("w3", w(rng, 4, 8, 3, 3)),
               init("fw", w(rng, 5, 72)), init("fb", w(rng, 5, scale=0.1))]

    def graph(legacy):
        head = [N("Conv", ["input", "w1", "b1"], ["c1"], name="conv1", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
                N("BatchNormalization", ["c1", "s", "b", "m", "v"], ["bn"], name="bn1", epsilon=1e-5,
                  **({"is_test": 1, "consumed_inputs": [0, 0, 0, 1, 1]} if legacy else {})),
                N("Relu", ["bn"], ["r"], name="relu1"),
                N("Conv", ["r", "w2"], ["a"], name="branch_1x1", kernel_shape=[1, 1]),
                N("Conv", ["r", "w3"], ["bb"], name="branch_3x3", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
                N("Concat", ["a", "bb"], ["cat"], name="concat", **({} if legacy else {"axis": 1})),
                N("MaxPool", ["cat"], ["p"], name="pool", kernel_shape=[2, 2], strides=[2, 2])]
        if legacy:
            tail = [N("Reshape", ["p"], ["f"], name="flatten_by_reshape", shape=[0, -1]),
                    N("Gemm", ["f", "fw", "fb"], ["g"], name="fc", transB=1, broadcast=1),
                    N("Dropout", ["g"], ["output"], name="drop", is_test=1, ratio=0.5)]
            extra = []
        else:
            tail = [N("Reshape", ["p", "shape"], ["f"], name="flatten_by_reshape"),
                    N("Gemm", ["f", "fw", "fb"], ["g"], name="fc", transB=1),
                    N("Dropout", ["g"], ["output"], name="drop")]
            extra = [init_i64("shape", [0, -1])]
        inits = bn + weights + extra
        # IR 3: every initializer is also a graph input.
        listed = [helper.make_tensor_value_info(t.name, t.data_type, list(t.dims)) for t in inits] if legacy else []
        g = helper.make_graph(
            head + tail, "legacy_zoo_opset3",
            [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, 6, 6])] + listed,
            [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 5])],
            initializer=inits)
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 3 if legacy else OPSET)],
                              producer_name="zkinfer-fixtures")
        m.ir_version = 3 if legacy else 8
        return m

    legacy, current = graph(True), graph(False)
    onnx.checker.check_model(legacy)
    onnx.save(legacy, os.path.join(outdir, "legacy_zoo_opset3.onnx"))
    with open(os.path.join(outdir, "legacy_zoo_opset3.input.json"), "w") as f:
        json.dump({"input_data": [x.astype(np.float32).reshape(-1).astype(float).round(6).tolist()]}, f)
    save_spec_reference(outdir, "legacy_zoo_opset3", current)

    c, hw = 4, 5
    stats = [1 + 0.1 * rng.standard_normal((c, hw, hw)), 0.1 * rng.standard_normal((c, hw, hw)),
             0.1 * rng.standard_normal((c, hw, hw)), rng.uniform(0.5, 1.5, (c, hw, hw))]
    eps = 1e-3
    scale = stats[0] / np.sqrt(stats[3] + eps)
    shift = stats[1] - stats[2] * scale
    convs = [init("w1", w(rng, c, 3, 2, 2)), init("fw", w(rng, 3, c * hw * hw)), init("fb", w(rng, 3, scale=0.1))]
    common_tail = [N("Relu", ["bn"], ["r"], name="relu"), N("Flatten", ["r"], ["f"], name="flatten"),
                   N("Gemm", ["f", "fw", "fb"], ["output"], name="fc", transB=1)]
    conv = N("Conv", ["input", "w1"], ["c1"], name="conv", kernel_shape=[2, 2])
    save(outdir, "legacy_bn_per_element", [
        conv,
        N("BatchNormalization", ["c1", "s", "b", "m", "v"], ["bn"], name="bn_per_element", epsilon=eps, spatial=0),
    ] + common_tail, [init(n, a) for n, a in zip("sbmv", stats)] + convs, [3, 6, 6], [3],
        rng.standard_normal((1, 3, 6, 6)), opset=7)
    g = helper.make_graph(
        [conv, N("Mul", ["c1", "scale"], ["sc"], name="scale"), N("Add", ["sc", "shift"], ["bn"], name="shift")]
        + common_tail, "legacy_bn_per_element",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 3, 6, 6])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["batch", 3])],
        initializer=[init("scale", scale), init("shift", shift)] + convs)
    reference = helper.make_model(g, opset_imports=[helper.make_opsetid("", OPSET)])
    save_spec_reference(outdir, "legacy_bn_per_element", reference)


def image_scaler(outdir):
    """ImageScaler, the experimental op of opsets 1-9 (Tiny YOLOv2's first node, opset 8):
    `scale·x + bias[c]` before a Conv. onnx.checker no longer knows it (written unchecked); the
    reference is the ONNX reference evaluator on the same graph with Mul and Add constants."""
    rng = np.random.default_rng(72)
    N = helper.make_node
    scale, bias = 0.5, [0.2, -0.3, 0.1]
    inits = [init("w1", w(rng, 6, 3, 3, 3)), init("b1", w(rng, 6, scale=0.1)),
             init("fw", w(rng, 4, 6)), init("fb", w(rng, 4, scale=0.1))]
    tail = [N("Conv", ["s", "w1", "b1"], ["c"], name="conv", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
            N("LeakyRelu", ["c"], ["r"], name="leaky", alpha=0.1),
            N("MaxPool", ["r"], ["p"], name="pool", kernel_shape=[2, 2], strides=[2, 2]),
            N("GlobalAveragePool", ["p"], ["g"], name="gap"),
            N("Flatten", ["g"], ["f"], name="flatten"),
            N("Gemm", ["f", "fw", "fb"], ["output"], name="fc", transB=1)]

    def model(head, extra, opset):
        g = helper.make_graph(
            head + tail, "image_scaler",
            [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 3, 8, 8])],
            [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["batch", 4])],
            initializer=inits + extra)
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)], producer_name="zkinfer-fixtures")
        m.ir_version = 4
        return m

    legacy = model([N("ImageScaler", ["input"], ["s"], name="scaler", scale=scale, bias=bias)], [], 8)
    onnx.save(legacy, os.path.join(outdir, "image_scaler.onnx"))
    x = rng.standard_normal((1, 3, 8, 8))
    with open(os.path.join(outdir, "image_scaler.input.json"), "w") as f:
        json.dump({"input_data": [x.astype(np.float32).reshape(-1).astype(float).round(6).tolist()]}, f)
    current = model([N("Mul", ["input", "k"], ["m"], name="scale"), N("Add", ["m", "bias"], ["s"], name="bias")],
                    [init("k", [scale]), init("bias", np.asarray(bias).reshape(1, 3, 1, 1))], OPSET)
    current.ir_version = 8
    save_spec_reference(outdir, "image_scaler", current)


def save_multi(outdir, name, nodes, inits, inputs, out_shape, xs, batch="batch"):
    """A model with several graph inputs: `inputs` lists (name, elem type, per-sample shape)
    and `xs` their values, each with its batch axis. The input file holds one entry per
    input in graph order, each flattened over all its samples (ezkl's convention)."""
    graph = helper.make_graph(
        nodes, name,
        [helper.make_tensor_value_info(n, t, [batch] + list(shape)) for n, t, shape in inputs],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [batch] + list(out_shape))],
        initializer=inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="zkinfer-fixtures")
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(outdir, name + ".onnx"))
    entries = []
    for (_, t, _), x in zip(inputs, xs):
        x = np.asarray(x).reshape(-1)
        entries.append(x.astype(int).tolist() if t != TensorProto.FLOAT else x.astype(np.float32).astype(float).round(6).tolist())
    with open(os.path.join(outdir, name + ".input.json"), "w") as f:
        json.dump({"input_data": entries}, f)


def save_outputs(outdir, name, nodes, inits, in_shape, outputs, xs, ml=False):
    """A model with one float input and the graph outputs `outputs` (name, elem type or None
    for a ZipMap's sequence of maps, per-sample shape), opset 17 (+ ai.onnx.ml 3 when `ml`).
    `xs` holds samples: the input file has one entry per sample, and NAME.expected.json
    onnxruntime's outputs on them ({"outputs": [{"name", "data"}]}, each flattened over all
    samples; a ZipMap's maps as their values in class order)."""
    import onnxruntime as ort
    outs = []
    for n, t, shape in outputs:
        if t is None:
            outs.append(helper.make_value_info(n, helper.make_sequence_type_proto(
                helper.make_map_type_proto(TensorProto.INT64, helper.make_tensor_type_proto(TensorProto.FLOAT, [])))))
        else:
            outs.append(helper.make_tensor_value_info(n, t, ["batch"] + list(shape)))
    graph = helper.make_graph(
        nodes, name, [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch"] + list(in_shape))],
        outs, initializer=inits)
    opsets = [helper.make_opsetid("", OPSET)] + ([helper.make_opsetid("ai.onnx.ml", 3)] if ml else [])
    model = helper.make_model(graph, opset_imports=opsets, producer_name="zkinfer-fixtures")
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(outdir, name + ".onnx"))
    xs = np.asarray(xs, dtype=np.float32).reshape((-1,) + tuple(in_shape))
    with open(os.path.join(outdir, name + ".input.json"), "w") as f:
        json.dump({"input_data": [x.reshape(-1).astype(float).round(6).tolist() for x in xs]}, f)
    sess = ort.InferenceSession(model.SerializeToString())
    got = sess.run(None, {"input": xs})
    expected = []
    for (n, _, _), y in zip(outputs, got):
        if isinstance(y, list):
            y = [[m[k] for k in sorted(m)] for m in y]
        expected.append({"name": n, "data": np.asarray(y, dtype=np.float64).reshape(-1).tolist()})
    with open(os.path.join(outdir, name + ".expected.json"), "w") as f:
        json.dump({"outputs": expected}, f)


def outputs_ml(outdir):
    """outs_*: several graph outputs, integer (index) outputs, ArgMax/ArgMin/Hardmax/TopK.
    ml_*: ai.onnx.ml operators as skl2onnx and onnxmltools write them. Each with onnxruntime's
    outputs in NAME.expected.json."""
    rng = np.random.default_rng(14)
    N = helper.make_node
    F, I64 = TensorProto.FLOAT, TensorProto.INT64
    ML = "ai.onnx.ml"
    x8 = rng.standard_normal((8, 6))

    # Three heads of one trunk: logits, a score, and the label (ArgMax, int64).
    save_outputs(outdir, "outs_heads", [
        N("Gemm", ["input", "w1", "b1"], ["h"], transB=1),
        N("Relu", ["h"], ["a"]),
        N("Gemm", ["a", "w2", "b2"], ["logits"], transB=1),
        N("Gemm", ["a", "w3", "b3"], ["s"], transB=1),
        N("Sigmoid", ["s"], ["score"]),
        N("ArgMax", ["logits"], ["label"], axis=1, keepdims=0),
    ], [init("w1", w(rng, 8, 6)), init("b1", w(rng, 8, scale=0.1)), init("w2", w(rng, 4, 8)),
        init("b2", w(rng, 4, scale=0.1)), init("w3", w(rng, 1, 8)), init("b3", w(rng, 1, scale=0.1))],
        [6], [("logits", F, [4]), ("score", F, [1]), ("label", I64, [])], x8)

    # Index ops over inner axes; ties (repeated input values) exercise first/last index.
    xt = np.round(rng.standard_normal((8, 3, 4)) * 2) / 2
    save_outputs(outdir, "outs_index_ops", [
        N("ArgMax", ["input"], ["argmax_last"], axis=2, keepdims=0, select_last_index=1),
        N("ArgMin", ["input"], ["argmin"], axis=1, keepdims=1),
        N("Hardmax", ["input"], ["hardmax"], axis=-1),
        N("TopK", ["input", "k"], ["top_values", "top_indices"], axis=1, largest=0),
    ], [init_i64("k", [1])], [3, 4],
        [("argmax_last", I64, [3]), ("argmin", I64, [1, 4]), ("hardmax", F, [3, 4]),
         ("top_values", F, [1, 4]), ("top_indices", I64, [1, 4])], xt)

    # Logistic regression as skl2onnx writes it (3 classes, SOFTMAX, an L1 Normalizer, ZipMap).
    coef = rng.standard_normal((3, 6))
    save_outputs(outdir, "ml_linear_classifier", [
        N("LinearClassifier", ["input"], ["label", "scores"], domain=ML, coefficients=coef.reshape(-1).tolist(),
          intercepts=[0.1, -0.2, 0.05], classlabels_ints=[0, 1, 2], multi_class=1, post_transform="SOFTMAX"),
        N("Normalizer", ["scores"], ["probabilities"], domain=ML, norm="L1"),
        N("ZipMap", ["probabilities"], ["output_probability"], domain=ML, classlabels_int64s=[0, 1, 2]),
    ], [], [6], [("label", I64, []), ("output_probability", None, [])], x8, ml=True)

    # A two-tree classifier with every branch mode, and a one-score binary (gradient boosting).
    def tree_attrs(prefix, weights_key):
        # tree 0: n0 x0<=0.2 ? n1 : n2;  n1 x3<0 ? L3 : L4;  n2 x1>=0.5 ? L5 : n6;  n6 x2>-0.3 ? L7 : L8
        # tree 1: n0 x4 != 0.25 ? n1 : L2;  n1 x5 < 0.1 ? L3 : L4
        return dict(
            nodes_treeids=[0] * 9 + [1] * 5, nodes_nodeids=list(range(9)) + list(range(5)),
            nodes_featureids=[0, 3, 1, 0, 0, 0, 2, 0, 0, 4, 5, 0, 0, 0],
            nodes_values=[0.2, 0.0, 0.5, 0, 0, 0, -0.3, 0, 0, 0.25, 0.1, 0, 0, 0],
            nodes_modes=["BRANCH_LEQ", "BRANCH_LT", "BRANCH_GTE", "LEAF", "LEAF", "LEAF", "BRANCH_GT", "LEAF",
                         "LEAF", "BRANCH_NEQ", "BRANCH_LT", "LEAF", "LEAF", "LEAF"],
            nodes_truenodeids=[1, 3, 5, 0, 0, 0, 7, 0, 0, 1, 3, 0, 0, 0],
            nodes_falsenodeids=[2, 4, 6, 0, 0, 0, 8, 0, 0, 2, 4, 0, 0, 0])
    leaves = [(0, 3), (0, 4), (0, 5), (0, 7), (0, 8), (1, 2), (1, 3), (1, 4)]
    cw = rng.uniform(0, 1, (len(leaves), 3))
    cls = dict(tree_attrs("class", "class_weights"),
               class_treeids=[t for t, _ in leaves for _ in range(3)], class_nodeids=[n for _, n in leaves for _ in range(3)],
               class_ids=[c for _ in leaves for c in range(3)], class_weights=cw.reshape(-1).tolist(),
               classlabels_int64s=[0, 1, 2], post_transform="NONE")
    save_outputs(outdir, "ml_tree_classifier", [
        N("TreeEnsembleClassifier", ["input"], ["label", "probabilities"], domain=ML, **cls),
    ], [], [6], [("label", I64, []), ("probabilities", F, [3])], x8, ml=True)
    gb = dict(tree_attrs("class", "class_weights"),
              class_treeids=[t for t, _ in leaves], class_nodeids=[n for _, n in leaves], class_ids=[0] * len(leaves),
              class_weights=rng.uniform(-1, 1, len(leaves)).tolist(), classlabels_int64s=[0, 1],
              post_transform="LOGISTIC", base_values=[0.1])
    save_outputs(outdir, "ml_tree_binary", [
        N("TreeEnsembleClassifier", ["input"], ["label", "probabilities"], domain=ML, **gb),
    ], [], [6], [("label", I64, []), ("probabilities", F, [2])], x8, ml=True)
    reg = dict(tree_attrs("target", "target_weights"),
               target_treeids=[t for t, _ in leaves for _ in range(2)], target_nodeids=[n for _, n in leaves for _ in range(2)],
               target_ids=[c for _ in leaves for c in range(2)], target_weights=rng.uniform(-2, 2, 2 * len(leaves)).tolist(),
               n_targets=2, aggregate_function="AVERAGE", base_values=[0.5, -0.25])
    save_outputs(outdir, "ml_tree_regressor", [
        N("TreeEnsembleRegressor", ["input"], ["variable"], domain=ML, **reg),
    ], [], [6], [("variable", F, [2])], x8, ml=True)

    # Scaler, then a linear SVR (support vectors), a Binarizer and a MAX Normalizer as outputs.
    save_outputs(outdir, "ml_scaler_svm", [
        N("Scaler", ["input"], ["scaled"], domain=ML, offset=rng.standard_normal(6).tolist(),
          scale=rng.uniform(0.5, 2, 6).tolist()),
        N("SVMRegressor", ["scaled"], ["svr"], domain=ML, kernel_type="LINEAR", n_supports=3, kernel_params=[0.5, 0.25, 3.0],
          support_vectors=rng.standard_normal(18).tolist(), coefficients=[0.5, -0.25, 0.75], rho=[0.1]),
        N("Binarizer", ["scaled"], ["binary"], domain=ML, threshold=0.3),
        N("LinearRegressor", ["scaled"], ["linear"], domain=ML, coefficients=rng.standard_normal(12).tolist(),
          intercepts=[0.2, -0.1], targets=2),
    ], [], [6], [("svr", F, [1]), ("binary", F, [6]), ("linear", F, [2])], x8, ml=True)

    # Refused by name: a constant graph output; TopK with k = 2.
    save_outputs(outdir, "outs_refuse_constant", [
        N("Relu", ["input"], ["output"]),
        N("Constant", [], ["fixed"], value=numpy_helper.from_array(np.ones((1, 2), np.float32))),
    ], [], [6], [("output", F, [6]), ("fixed", F, [2])], x8[:2])
    save_outputs(outdir, "outs_refuse_topk2", [
        N("TopK", ["input", "k"], ["values", "indices"], axis=1),
    ], [init_i64("k", [2])], [6], [("values", F, [2]), ("indices", I64, [2])], x8[:2])


def multi_input(outdir):
    """Several graph inputs: combined into one public input tensor, each input a Select
    of its segment. Float inputs added and multiplied mid-graph, one broadcast against
    another, an int64 input used arithmetically, a bool mask, a fixed batch of 2."""
    rng = np.random.default_rng(14)
    N = helper.make_node
    F, I64, B = TensorProto.FLOAT, TensorProto.INT64, TensorProto.BOOL
    save_multi(outdir, "multi_add_mul", [
        N("Gemm", ["a", "w1", "b1"], ["h"], name="fc1", transB=1),
        N("Relu", ["h"], ["r"], name="relu"),
        N("Add", ["r", "b"], ["s"], name="add_b"),
        N("Mul", ["s", "b"], ["m"], name="mul_b"),
        N("Gemm", ["m", "w2", "b2"], ["output"], name="fc2", transB=1),
    ], [init("w1", w(rng, 6, 6)), init("b1", w(rng, 6)), init("w2", w(rng, 3, 6)), init("b2", w(rng, 3))],
        [("a", F, [6]), ("b", F, [6])], [3], [rng.standard_normal((1, 6)), rng.standard_normal((1, 6))])
    save_multi(outdir, "multi_broadcast", [
        N("MatMul", ["a", "w1"], ["h"], name="rows"),
        N("Unsqueeze", ["b", "ax1"], ["bu"], name="b_row"),
        N("Mul", ["h", "bu"], ["m"], name="gate_rows"),
        N("Add", ["m", "a"], ["s"], name="residual"),
        N("Flatten", ["s"], ["f"], name="flatten"),
        N("Gemm", ["f", "w2", "b2"], ["output"], name="fc", transB=1),
    ], [init("w1", w(rng, 4, 4)), init_i64("ax1", [1]), init("w2", w(rng, 3, 12)), init("b2", w(rng, 3))],
        [("a", F, [3, 4]), ("b", F, [4])], [3], [rng.standard_normal((1, 3, 4)), rng.standard_normal((1, 4))])
    save_multi(outdir, "multi_int_input", [
        N("Cast", ["counts"], ["c"], name="to_float", to=TensorProto.FLOAT),
        N("Mul", ["x", "c"], ["xc"], name="scale_by_count"),
        N("Add", ["xc", "c"], ["s"], name="add_count"),
        N("Gemm", ["s", "w", "b"], ["output"], name="fc", transB=1),
    ], [init("w", w(rng, 2, 5)), init("b", w(rng, 2))],
        [("x", F, [5]), ("counts", I64, [5])], [2], [rng.standard_normal((1, 5)), rng.integers(0, 4, (1, 5))])
    save_multi(outdir, "multi_three_batch2", [
        N("Gemm", ["a", "wa", "ba"], ["ha"], name="fc_a", transB=1),
        N("Cast", ["mask"], ["mf"], name="mask_to_float", to=TensorProto.FLOAT),
        N("Mul", ["ha", "mf"], ["g"], name="masked"),
        N("Gemm", ["b", "wb", "bb"], ["hb"], name="fc_b", transB=1),
        N("Add", ["g", "hb"], ["s"], name="join"),
        N("Relu", ["s"], ["r"], name="relu"),
        N("Gemm", ["r", "w2", "b2"], ["output"], name="fc2", transB=1),
    ], [init("wa", w(rng, 4, 4)), init("ba", w(rng, 4)), init("wb", w(rng, 4, 3)), init("bb", w(rng, 4)),
        init("w2", w(rng, 2, 4)), init("b2", w(rng, 2))],
        [("a", F, [4]), ("b", F, [3]), ("mask", B, [4])], [2],
        [rng.standard_normal((2, 4)), rng.standard_normal((2, 3)), rng.integers(0, 2, (2, 4)).astype(bool)], batch=2)


def transformers(outdir):
    """A tiny character GPT: token embedding by int64 ids (a Gather from a constant table,
    proven as the ids' public one-hot rows times the table), a position embedding (a Gather by
    constant positions, folded), one causal attention block (a constant triangular mask filled
    with -inf before the softmax: a masked softmax) and a linear head to logits at every position."""
    rng = np.random.default_rng(15)
    N = helper.make_node
    v, t, d, h = 11, 6, 8, 2
    dh = d // h
    mask = np.triu(np.ones((t, t), dtype=bool), k=1)
    save_multi(outdir, "tiny_gpt", [
        N("Gather", ["tok", "ids"], ["te"], name="tok_embed"),
        N("Gather", ["pos", "positions"], ["pe"], name="pos_embed"),
        N("Add", ["te", "pe"], ["x"], name="embed"),
        N("MatMul", ["x", "wq"], ["q"], name="q_proj"),
        N("MatMul", ["x", "wk"], ["k"], name="k_proj"),
        N("MatMul", ["x", "wv"], ["v"], name="v_proj"),
        N("Reshape", ["q", "heads_shape"], ["q4"], name="q_heads"),
        N("Reshape", ["k", "heads_shape"], ["k4"], name="k_heads"),
        N("Reshape", ["v", "heads_shape"], ["v4"], name="v_heads"),
        N("Transpose", ["q4"], ["qh"], name="q_t", perm=[0, 2, 1, 3]),
        N("Transpose", ["k4"], ["kh"], name="k_t", perm=[0, 2, 3, 1]),
        N("Transpose", ["v4"], ["vh"], name="v_t", perm=[0, 2, 1, 3]),
        N("MatMul", ["qh", "kh"], ["s"], name="scores"),
        N("Div", ["s", "sqrt_dh"], ["ss"], name="scale"),
        N("Where", ["causal", "neg_inf", "ss"], ["sm"], name="causal_mask"),
        N("Softmax", ["sm"], ["p"], name="softmax", axis=-1),
        N("MatMul", ["p", "vh"], ["o"], name="attend"),
        N("Transpose", ["o"], ["ot"], name="o_t", perm=[0, 2, 1, 3]),
        N("Reshape", ["ot", "merge_shape"], ["om"], name="merge_heads"),
        N("Add", ["om", "x"], ["res"], name="residual"),
        N("LayerNormalization", ["res", "ln_s", "ln_b"], ["n"], name="ln", axis=-1),
        N("MatMul", ["n", "head"], ["output"], name="head"),
    ], [init("tok", w(rng, v, d, scale=1.0)), init("pos", 0.5 * w(rng, t, d, scale=1.0)),
        init_i64("positions", np.arange(t)), init("wq", w(rng, d, d)), init("wk", w(rng, d, d)),
        init("wv", w(rng, d, d)), init_i64("heads_shape", np.array([0, t, h, dh])),
        init("sqrt_dh", np.array(np.sqrt(dh), dtype=np.float32)),
        numpy_helper.from_array(mask, "causal"), init("neg_inf", np.array(-np.inf, dtype=np.float32)),
        init_i64("merge_shape", np.array([0, t, d])), init("ln_s", np.ones(d, dtype=np.float32)),
        init("ln_b", np.zeros(d, dtype=np.float32)), init("head", w(rng, d, v))],
        [("ids", TensorProto.INT64, [t])], [t, v], [rng.integers(0, v, (1, t))])
    # Ids gathered (one-hot segment) and also read as numbers (their raw segment kept).
    save_multi(outdir, "ids_numeric", [
        N("Gather", ["tok", "ids"], ["te"], name="tok_embed"),
        N("Cast", ["ids"], ["c"], name="ids_as_float", to=TensorProto.FLOAT),
        N("Unsqueeze", ["c", "ax2"], ["cu"], name="ids_column"),
        N("Add", ["te", "cu"], ["output"], name="add_ids"),
    ], [init("tok", w(rng, 5, 3, scale=1.0)), init_i64("ax2", [2])],
        [("ids", TensorProto.INT64, [4])], [4, 3], [np.array([[4, 0, -2, 3]])])
    # A fixed batch of 1 whose projection works on the positions as rows (PyTorch's dynamo export
    # of HF GPT-2: embedding, Reshape dropping the batch axis, Gemm, Reshape back): proven as one
    # sample of the whole input, the embedding table's own axis kept.
    rows_rng = np.random.default_rng(37)
    save_multi(outdir, "ids_flat_rows", [
        N("Gather", ["tok", "ids"], ["te"], name="tok_embed"),
        N("Reshape", ["te", "rows"], ["r"], name="as_rows"),
        N("Gemm", ["r", "pw", "pb"], ["g"], name="proj"),
        N("Reshape", ["g", "back"], ["output"], name="as_sample"),
    ], [init("tok", w(rows_rng, 7, 3, scale=1.0)), init_i64("rows", [4, 3]), init("pw", w(rows_rng, 3, 2)),
        init("pb", w(rows_rng, 2)), init_i64("back", [1, 4, 2])],
        [("ids", TensorProto.INT64, [4])], [4, 2], [np.array([[6, 0, 2, 2]])], batch=1)
    # A -inf fill read by something other than a Softmax: refused by name.
    save(outdir, "refuse_inf_mask", [
        N("Where", ["causal", "neg_inf", "input"], ["sm"], name="causal_mask"),
        N("Add", ["sm", "input"], ["output"], name="add_masked"),
    ], [numpy_helper.from_array(np.triu(np.ones((3, 3), dtype=bool), k=1), "causal"),
        init("neg_inf", np.array(-np.inf, dtype=np.float32))], [3, 3], [3, 3], rng.standard_normal((3, 3)))


def reductions(outdir):
    """Softmax, LogSoftmax and reductions inside the graph, and broadcasting
    between activations (lowered to MaxPool, row-wise Dense, tables, Select)."""
    rng = np.random.default_rng(7)
    N = helper.make_node
    save(outdir, "softmax_mid", [
        N("Gemm", ["input", "w1", "b1"], ["h"], name="fc1", transB=1),
        N("Softmax", ["h"], ["p"], name="softmax", axis=-1),
        N("Gemm", ["p", "w2", "b2"], ["output"], name="fc2", transB=1),
    ], [init("w1", w(rng, 6, 5, scale=1.0)), init("b1", w(rng, 6)), init("w2", w(rng, 3, 6)), init("b2", w(rng, 3))],
        [5], [3], rng.standard_normal(5))
    save(outdir, "log_softmax_rows", [
        N("MatMul", ["input", "w1"], ["h"], name="fc1"),
        N("LogSoftmax", ["h"], ["output"], name="log_softmax", axis=-1),
    ], [init("w1", w(rng, 5, 4, scale=1.0))], [3, 5], [3, 4], rng.standard_normal((3, 5)))
    save(outdir, "reduce_center_l2", [
        N("ReduceMean", ["input"], ["m"], name="mean", axes=[2], keepdims=1),
        N("Sub", ["input", "m"], ["c"], name="center"),
        N("ReduceL2", ["c"], ["output"], name="l2", axes=[1], keepdims=0),
    ], [], [4, 6], [6], rng.standard_normal((4, 6)))
    save(outdir, "reduce_max_min_sum", [
        N("ReduceMax", ["input"], ["mx"], name="max", axes=[1], keepdims=0),
        N("ReduceMin", ["input"], ["mn"], name="min", axes=[1], keepdims=0),
        N("Sub", ["mx", "mn"], ["span"], name="span"),
        N("ReduceSum", ["span", "sum_axes"], ["output"], name="sum", keepdims=1),
    ], [init_i64("sum_axes", np.array([1]))], [4, 6], [1], rng.standard_normal((4, 6)))
    save(outdir, "reduce_logsumexp", [
        N("Conv", ["input", "cw", "cb"], ["c"], name="conv", pads=[1, 1, 1, 1]),
        N("ReduceLogSumExp", ["c"], ["output"], name="lse", axes=[2, 3], keepdims=0),
    ], [init("cw", w(rng, 3, 2, 3, 3)), init("cb", w(rng, 3))], [2, 4, 4], [3], rng.standard_normal((2, 4, 4)))
    save(outdir, "broadcast_gate", [
        N("GlobalAveragePool", ["input"], ["g"], name="squeeze"),
        N("Sigmoid", ["g"], ["s"], name="excite"),
        N("Mul", ["input", "s"], ["output"], name="scale"),
    ], [], [3, 4, 4], [3, 4, 4], rng.standard_normal((3, 4, 4)))

    save(outdir, "layer_norm_seq", [
        N("MatMul", ["input", "w1"], ["h"], name="fc1"),
        N("LayerNormalization", ["h", "ln_s", "ln_b"], ["n"], name="layer_norm", axis=-1, epsilon=1e-5),
        N("MatMul", ["n", "w2"], ["output"], name="fc2"),
    ], [init("w1", w(rng, 5, 8)), init("ln_s", 1 + 0.1 * w(rng, 8, scale=1.0)), init("ln_b", 0.1 * w(rng, 8, scale=1.0)),
        init("w2", w(rng, 8, 3))], [4, 5], [4, 3], rng.standard_normal((4, 5)))
    save(outdir, "instance_norm_prelu", [
        N("Conv", ["input", "cw", "cb"], ["c"], name="conv", pads=[1, 1, 1, 1]),
        N("InstanceNormalization", ["c", "in_s", "in_b"], ["n"], name="instance_norm", epsilon=1e-5),
        N("PRelu", ["n", "slope"], ["p"], name="prelu"),
        N("LpNormalization", ["p"], ["output"], name="l2_normalize", axis=1, p=2),
    ], [init("cw", w(rng, 3, 2, 3, 3)), init("cb", w(rng, 3)), init("in_s", 1 + 0.1 * w(rng, 3, scale=1.0)),
        init("in_b", 0.1 * w(rng, 3, scale=1.0)), init("slope", np.array([[[0.1]], [[0.25]], [[-0.2]]], dtype=np.float32))],
        [2, 5, 5], [3, 5, 5], rng.standard_normal((2, 5, 5)))

    # Two-head self-attention with a positional embedding (a whole-sample
    # constant), Q·Kᵀ and P·V as MatMuls of activations, softmax, LayerNorm.
    t, d, h = 4, 6, 2
    dh = d // h
    save(outdir, "attention_heads", [
        N("Add", ["input", "pos"], ["x"], name="pos_embed"),
        N("MatMul", ["x", "wq"], ["q"], name="q_proj"),
        N("MatMul", ["x", "wk"], ["k"], name="k_proj"),
        N("MatMul", ["x", "wv"], ["v"], name="v_proj"),
        N("Reshape", ["q", "heads_shape"], ["q4"], name="q_heads"),
        N("Reshape", ["k", "heads_shape"], ["k4"], name="k_heads"),
        N("Reshape", ["v", "heads_shape"], ["v4"], name="v_heads"),
        N("Transpose", ["q4"], ["qh"], name="q_t", perm=[0, 2, 1, 3]),
        N("Transpose", ["k4"], ["kh"], name="k_t", perm=[0, 2, 3, 1]),
        N("Transpose", ["v4"], ["vh"], name="v_t", perm=[0, 2, 1, 3]),
        N("MatMul", ["qh", "kh"], ["s"], name="scores"),
        N("Div", ["s", "sqrt_dh"], ["ss"], name="scale"),
        N("Softmax", ["ss"], ["p"], name="softmax", axis=-1),
        N("MatMul", ["p", "vh"], ["o"], name="attend"),
        N("Transpose", ["o"], ["ot"], name="o_t", perm=[0, 2, 1, 3]),
        N("Reshape", ["ot", "merge_shape"], ["om"], name="merge_heads"),
        N("Add", ["om", "x"], ["res"], name="residual"),
        N("LayerNormalization", ["res", "ln_s", "ln_b"], ["output"], name="ln", axis=-1),
    ], [init("pos", 0.5 * w(rng, 1, t, d, scale=1.0)), init("wq", w(rng, d, d)), init("wk", w(rng, d, d)),
        init("wv", w(rng, d, d)), init_i64("heads_shape", np.array([0, t, h, dh])),
        init("sqrt_dh", np.array(np.sqrt(dh), dtype=np.float32)), init_i64("merge_shape", np.array([0, t, d])),
        init("ln_s", np.ones(d, dtype=np.float32)), init("ln_b", np.zeros(d, dtype=np.float32))],
        [t, d], [t, d], rng.standard_normal((t, d)))

    # Comparisons, logic and Where: exact 0/1 tables on differences, Mul/Add.
    save(outdir, "compare_where", [
        N("Gemm", ["input", "cw", "cb"], ["h"], name="fc", transB=1),
        N("Greater", ["h", "hi"], ["g"], name="greater"),
        N("Less", ["h", "lo"], ["l"], name="less"),
        N("Or", ["g", "l"], ["o"], name="or"),
        N("Not", ["o"], ["n"], name="not"),
        N("Cast", ["n"], ["nf"], name="cast", to=1),
        N("Mul", ["h", "half"], ["hh"], name="halve"),
        N("Where", ["g", "h", "hh"], ["w"], name="where"),
        N("Add", ["w", "nf"], ["output"], name="add"),
    ], [init("cw", w(rng, 6, 5)), init("cb", w(rng, 6)), init("hi", np.array(0.3, dtype=np.float32)),
        init("lo", np.array(-0.2, dtype=np.float32)), init("half", np.array(0.5, dtype=np.float32))],
        [5], [6], rng.standard_normal(5))


def data_movement(outdir):
    """Slice, Pad, Concat, DepthToSpace, Split, Gather, Trilu, Resize, Tile:
    each a public index map (Select), proven by one linear sumcheck."""
    rng = np.random.default_rng(11)
    N = helper.make_node
    save(outdir, "data_movement", [
        N("Slice", ["input", "s_starts", "s_ends", "s_axes"], ["s"], name="slice_channels"),
        N("Pad", ["s", "pads"], ["p"], name="pad", mode="constant"),
        N("Conv", ["p", "cw", "cb"], ["c"], name="conv"),
        N("Relu", ["c"], ["cr"], name="relu"),
        N("Concat", ["cr", "input"], ["cat"], name="concat", axis=1),
        N("DepthToSpace", ["cat"], ["d"], name="depth_to_space", blocksize=2, mode="CRD"),
        N("Split", ["d", "split"], ["d0", "d1"], name="split", axis=1),
        N("Mul", ["d0", "d1"], ["m"], name="mul"),
        N("Gather", ["m", "cols"], ["g"], name="gather_cols", axis=3),
        N("Trilu", ["g"], ["t"], name="upper", upper=1),
        N("Flatten", ["t"], ["f"], name="flatten"),
        N("Gemm", ["f", "fw", "fb"], ["output"], name="fc", transB=1),
    ], [init_i64("s_starts", np.array([1])), init_i64("s_ends", np.array([3])), init_i64("s_axes", np.array([1])),
        init_i64("pads", np.array([0, 0, 1, 1, 0, 0, 1, 1])), init("cw", w(rng, 4, 2, 3, 3)), init("cb", w(rng, 4)),
        init_i64("split", np.array([1, 1])), init_i64("cols", np.array([0, 2, 4, 6])),
        init("fw", w(rng, 3, 32)), init("fb", w(rng, 3))],
        [4, 4, 4], [3], rng.standard_normal((4, 4, 4)), opset=14)
    save(outdir, "pad_value", [
        N("Gemm", ["input", "pw", "pb"], ["h"], name="fc", transB=1),
        N("Pad", ["h", "pads", "value"], ["output"], name="pad_constant", mode="constant"),
    ], [init("pw", w(rng, 4, 5)), init("pb", w(rng, 4)), init_i64("pads", np.array([0, 2, 0, 1])),
        init("value", np.array(0.75, dtype=np.float32))], [5], [7], rng.standard_normal(5), opset=13)
    save(outdir, "upsample_tile", [
        N("Resize", ["input", "", "scales"], ["r"], name="upsample", mode="nearest"),
        N("Tile", ["r", "reps"], ["t"], name="tile"),
        N("GlobalAveragePool", ["t"], ["g"], name="gap"),
        N("Flatten", ["g"], ["output"], name="flatten"),
    ], [init("scales", np.array([1, 1, 2, 2], dtype=np.float32)), init_i64("reps", np.array([1, 1, 1, 2]))],
        [2, 3, 3], [2], rng.standard_normal((2, 3, 3)), opset=13)


def class_token(outdir):
    """A vision transformer's class token: a constant Concat'ed before the
    patch embeddings (an AddConst on the placed activations), then a
    position embedding."""
    rng = np.random.default_rng(31)
    N = helper.make_node
    save(outdir, "class_token", [
        N("MatMul", ["input", "pw"], ["h"], name="patch_embed"),
        N("Concat", ["cls", "h"], ["t"], name="prepend_cls", axis=1),
        N("Add", ["t", "pos"], ["a"], name="add_pos"),
        N("Relu", ["a"], ["r"], name="relu"),
        N("Flatten", ["r"], ["f"], name="flatten"),
        N("Gemm", ["f", "fw", "fb"], ["output"], name="head", transB=1),
    ], [init("pw", w(rng, 6, 8)), init("cls", w(rng, 1, 1, 8, scale=0.5)),
        init("pos", w(rng, 1, 5, 8, scale=0.3)), init("fw", w(rng, 3, 40)), init("fb", w(rng, 3))],
        [4, 6], [3], rng.standard_normal((4, 6)), opset=13, batch=1)


def additive_mask(outdir):
    """An attention mask added as a constant of zeros and float32's minimum (Hugging Face's
    exports) before a Softmax: a masked softmax, the minimum never quantized; then HF's guard
    `Where(IsNaN(p), 0, p)`, which folds away (an activation is never NaN)."""
    rng = np.random.default_rng(41)
    N = helper.make_node
    t = 4
    mask = np.where(np.triu(np.ones((1, t, t), dtype=bool), k=1), np.finfo(np.float32).min, 0.0).astype(np.float32)
    save(outdir, "additive_mask", [
        N("MatMul", ["input", "wq"], ["q"], name="q_proj"),
        N("MatMul", ["input", "wk"], ["k"], name="k_proj"),
        N("Transpose", ["k"], ["kt"], name="k_t", perm=[0, 2, 1]),
        N("MatMul", ["q", "kt"], ["s"], name="scores"),
        N("Add", ["s", "mask"], ["sm"], name="add_mask"),
        N("Softmax", ["sm"], ["p"], name="softmax", axis=-1),
        N("IsNaN", ["p"], ["nan"], name="isnan"),
        N("Where", ["nan", "zero", "p"], ["pg"], name="nan_guard"),
        N("MatMul", ["pg", "input"], ["output"], name="attend"),
    ], [init("wq", w(rng, 6, 6)), init("wk", w(rng, 6, 6)), init("mask", mask),
        init("zero", np.array(0.0, dtype=np.float32))],
        [t, 6], [t, 6], rng.standard_normal((t, 6)), opset=13, batch=1)
    # The same added mask read by a Relu: refused by name (no quantized value holds it).
    save(outdir, "refuse_additive_mask", [
        N("MatMul", ["input", "wq"], ["s"], name="scores"),
        N("Add", ["s", "mask"], ["sm"], name="add_mask"),
        N("Relu", ["sm"], ["output"], name="relu"),
    ], [init("wq", w(rng, 4, 4)), init("mask", mask)],
        [t, 4], [t, 4], rng.standard_normal((t, 4)), opset=13, batch=1)


def depthwise_taps(outdir):
    """Depthwise convolutions over many channels and few positions (a late MobileNet/EfficientNet
    stage), lowered as their taps instead of a C×C dense kernel: one with a bias and padding, one
    strided and dilated reading padding."""
    rng = np.random.default_rng(53)
    N = helper.make_node
    c = 48
    save(outdir, "depthwise_taps", [
        N("Conv", ["input", "dw1", "db1"], ["c1"], name="depthwise_pad", group=c, kernel_shape=[3, 3],
          pads=[1, 1, 1, 1]),
        N("Relu", ["c1"], ["r1"], name="relu1"),
        N("Conv", ["r1", "dw2"], ["c2"], name="depthwise_dilated", group=c, kernel_shape=[2, 2],
          pads=[2, 2, 1, 1], strides=[2, 2], dilations=[2, 2]),
        N("Relu", ["c2"], ["r2"], name="relu2"),
        N("GlobalAveragePool", ["r2"], ["g"], name="gap"),
        N("Flatten", ["g"], ["f"], name="flatten"),
        N("Gemm", ["f", "fw", "fb"], ["output"], name="fc", transB=1),
    ], [init("dw1", w(rng, c, 1, 3, 3)), init("db1", w(rng, c, scale=0.1)),
        init("dw2", w(rng, c, 1, 2, 2)), init("fw", w(rng, 3, c)), init("fb", w(rng, 3, scale=0.1))],
        [c, 4, 4], [3], rng.standard_normal((c, 4, 4)))


def widened_mask(outdir):
    """A padding mask the model computes (`[1, 1, L]`), and'ed with a constant causal mask
    (`[1, L, L]`, larger than the activation: the activation is broadcast first), then a masked
    softmax."""
    rng = np.random.default_rng(59)
    N = helper.make_node
    t = 4
    causal = np.tril(np.ones((1, t, t), dtype=bool))
    save(outdir, "widened_mask", [
        N("MatMul", ["input", "wq"], ["q"], name="q_proj"),
        N("Transpose", ["input"], ["xt"], name="x_t", perm=[0, 2, 1]),
        N("MatMul", ["q", "xt"], ["s"], name="scores"),
        N("ReduceSum", ["input", "last"], ["rs"], name="row_sum", keepdims=1),
        N("Greater", ["rs", "thr"], ["keep_col"], name="keep"),
        N("Transpose", ["keep_col"], ["keep_row"], name="keep_t", perm=[0, 2, 1]),
        N("And", ["keep_row", "causal"], ["keep_both"], name="and_causal"),
        N("Where", ["keep_both", "s", "neg_inf"], ["sm"], name="mask"),
        N("Softmax", ["sm"], ["output"], name="softmax", axis=-1),
    ], [init("wq", w(rng, 6, 6)), init_i64("last", [2]), init("thr", np.array(-2.6, dtype=np.float32)),
        numpy_helper.from_array(causal, "causal"), init("neg_inf", np.array(-np.inf, dtype=np.float32))],
        [t, 6], [t, t], rng.standard_normal((t, 6)), opset=13, batch=1)


def computed_additive_mask(outdir):
    """A padding mask the model computes, turned into an additive one (`Where(keep, 0,
    float32 min)`, Hugging Face's BERT export) and added to two attention layers' scores before
    their softmaxes: masked softmaxes, the minimum never quantized."""
    rng = np.random.default_rng(61)
    N = helper.make_node
    t = 4
    save(outdir, "computed_additive_mask", [
        N("ReduceSum", ["input", "last"], ["rs"], name="row_sum", keepdims=1),
        N("Greater", ["rs", "thr"], ["keep_col"], name="keep"),
        N("Transpose", ["keep_col"], ["keep_row"], name="keep_t", perm=[0, 2, 1]),
        N("Where", ["keep_row", "zero", "fmin"], ["amask"], name="additive_mask"),
        N("Transpose", ["input"], ["xt"], name="x_t", perm=[0, 2, 1]),
        N("MatMul", ["input", "wq1"], ["q1"], name="q1_proj"),
        N("MatMul", ["q1", "xt"], ["s1"], name="scores1"),
        N("Add", ["s1", "amask"], ["m1"], name="mask1"),
        N("Softmax", ["m1"], ["p1"], name="softmax1", axis=-1),
        N("MatMul", ["input", "wq2"], ["q2"], name="q2_proj"),
        N("MatMul", ["q2", "xt"], ["s2"], name="scores2"),
        N("Add", ["amask", "s2"], ["m2"], name="mask2"),
        N("Softmax", ["m2"], ["p2"], name="softmax2", axis=-1),
        N("Add", ["p1", "p2"], ["output"], name="sum"),
    ], [init_i64("last", [2]), init("thr", np.array(-2.6, dtype=np.float32)),
        init("zero", np.array(0.0, dtype=np.float32)),
        init("fmin", np.array(np.finfo(np.float32).min, dtype=np.float32)),
        init("wq1", w(rng, 6, 6)), init("wq2", w(rng, 6, 6))],
        [t, 6], [t, t], np.random.default_rng(59).standard_normal((t, 6)), opset=13, batch=1)


def index_ops(outdir):
    """TopK with k > 1, Gather/GatherElements by computed indices (the one-hot
    staircase), ScatterElements with a reduction: lowered onto proven ops,
    swept by the malicious prover."""
    rng = np.random.default_rng(23)
    N = helper.make_node
    save(outdir, "index_ops", [
        N("Gemm", ["input", "w1", "b1"], ["h"], name="fc", transB=1),
        N("TopK", ["h", "k"], ["v", "i"], name="top2"),
        N("GatherElements", ["h", "i"], ["g"], name="gather_by_topk", axis=1),
        N("ArgMax", ["h"], ["a"], name="argmax", axis=1, keepdims=0),
        N("Gather", ["table", "a"], ["t"], name="table_row", axis=0),
        N("Gemm", ["input", "wu", "bu"], ["u"], name="fc_updates", transB=1),
        N("ScatterElements", ["h", "idx", "u"], ["s"], name="scatter_add", axis=1, reduction="add"),
        N("Concat", ["v", "g", "t", "s"], ["output"], name="concat", axis=1),
    ], [init("w1", w(rng, 5, 4)), init("b1", w(rng, 5)), init_i64("k", np.array([2])),
        init("table", w(rng, 5, 2, scale=1.0)), init("wu", w(rng, 3, 4)), init("bu", w(rng, 3)),
        init_i64("idx", np.array([[0, 0, 3]]))],
        [4], [11], rng.standard_normal(4), opset=18)


def batched(outdir):
    """Models exported with a fixed batch size: one statement over all samples."""
    rng = np.random.default_rng(99)
    N = helper.make_node
    save(outdir, "batch_mlp", [
        N("Gemm", ["input", "w1", "b1"], ["h"], name="fc1", transB=1),
        N("Relu", ["h"], ["r"], name="relu"),
        N("Gemm", ["r", "w2", "b2"], ["output"], name="fc2", transB=1),
    ], [init("w1", w(rng, 8, 6)), init("b1", w(rng, 8)), init("w2", w(rng, 3, 8)), init("b2", w(rng, 3))],
        [6], [3], rng.standard_normal((3, 6)), batch=3)
    save(outdir, "batch_cnn", [
        N("Conv", ["input", "cw", "cb"], ["c"], name="conv", pads=[1, 1, 1, 1]),
        N("Relu", ["c"], ["r"], name="relu"),
        N("Transpose", ["r"], ["t"], name="swap_hw", perm=[0, 1, 3, 2]),
        N("MaxPool", ["t"], ["m"], name="maxpool", kernel_shape=[2, 2], strides=[2, 2]),
        N("AveragePool", ["m"], ["a"], name="avgpool", kernel_shape=[2, 2], strides=[2, 2]),
        N("Flatten", ["a"], ["f"], name="flatten"),
        N("Gemm", ["f", "fw", "fb"], ["output"], name="fc", transB=1),
    ], [init("cw", w(rng, 4, 2, 3, 3)), init("cb", w(rng, 4)), init("fw", w(rng, 5, 16)), init("fb", w(rng, 5))],
        [2, 8, 8], [5], rng.standard_normal((2, 2, 8, 8)), batch=2)
    save(outdir, "batch_gated", [
        N("Gemm", ["input", "w1", "b1"], ["h"], name="fc1", transB=1),
        N("Sigmoid", ["h"], ["g"], name="gate"),
        N("Relu", ["h"], ["r"], name="relu"),
        N("Mul", ["g", "r"], ["m"], name="gated"),
        N("Add", ["m", "h"], ["s"], name="residual"),
        N("Gemm", ["s", "w2", "b2"], ["output"], name="fc2", transB=1),
    ], [init("w1", w(rng, 7, 5)), init("b1", w(rng, 7)), init("w2", w(rng, 4, 7)), init("b2", w(rng, 4))],
        [5], [4], rng.standard_normal((5, 5)), batch=5)
    # A Linear over a sequence (MatMul of [N, T, K] rows, then its bias),
    # a transpose of each sample's [T, C] matrix and a second row-wise Linear.
    save(outdir, "seq_linear", [
        N("MatMul", ["input", "w1"], ["h"], name="fc1"),
        N("Add", ["h", "b1"], ["hb"], name="fc1_bias"),
        N("Relu", ["hb"], ["r"], name="relu"),
        N("Transpose", ["r"], ["t"], name="swap", perm=[0, 2, 1]),
        N("MatMul", ["t", "w2"], ["g"], name="fc2"),
        N("Add", ["g", "b2"], ["output"], name="fc2_bias"),
    ], [init("w1", w(rng, 5, 6)), init("b1", w(rng, 6)), init("w2", w(rng, 3, 4)), init("b2", w(rng, 4))],
        [3, 5], [6, 4], rng.standard_normal((2, 3, 5)), batch=2)


def whole_batch(outdir):
    """Fixed-shape graphs whose batch cannot be split into samples, proven as one sample of the
    whole input (crates/zkinfer-model/src/whole_batch.rs): whole_batch_gemm multiplies two graph
    inputs of different leading sizes (a Gemm with transB, alpha, beta and a bias input), adds a
    constant that differs per row and takes a Softmax over axis 1; whole_batch_rank1 reads a rank-1
    input through Slice, Reshape, Transpose and Flatten(axis=0). NAME.expected.json is the ONNX
    reference evaluator's output."""
    rng = np.random.default_rng(2468)
    N = helper.make_node
    F = TensorProto.FLOAT
    models = [
        ("whole_batch_gemm", [
            N("Gemm", ["a", "b", "c"], ["g"], name="gemm_inputs", transB=1, alpha=0.5, beta=2.0),
            N("Add", ["g", "rows"], ["s"], name="add_per_row"),
            N("Softmax", ["s"], ["output"], name="softmax_axis1", axis=1),
        ], [init("rows", rng.standard_normal((2, 4)))],
            [("a", [2, 3]), ("b", [4, 3]), ("c", [4])], [2, 4]),
        ("whole_batch_rank1", [
            N("Slice", ["x", "st", "en", "ax"], ["sl"], name="slice_axis0"),
            N("Reshape", ["sl", "shape"], ["r"], name="reshape"),
            N("Transpose", ["r"], ["t"], name="transpose", perm=[1, 0]),
            N("Flatten", ["t"], ["f"], name="flatten_axis0", axis=0),
            N("Mul", ["f", "k"], ["output"], name="mul_const"),
        ], [init_i64("st", [1]), init_i64("en", [7]), init_i64("ax", [0]), init_i64("shape", [2, 3]),
            init("k", rng.uniform(0.5, 2.0, (1, 6)))],
            [("x", [8])], [1, 6]),
    ]
    for name, nodes, inits, inputs, out_shape in models:
        graph = helper.make_graph(
            nodes, name, [helper.make_tensor_value_info(n, F, shape) for n, shape in inputs],
            [helper.make_tensor_value_info("output", F, out_shape)], initializer=inits)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                                  producer_name="zkinfer-fixtures")
        model.ir_version = 8
        onnx.checker.check_model(model)
        onnx.save(model, os.path.join(outdir, name + ".onnx"))
        xs = [rng.standard_normal(shape).astype(np.float32) for _, shape in inputs]
        with open(os.path.join(outdir, name + ".input.json"), "w") as f:
            json.dump({"input_data": [x.reshape(-1).astype(float).round(6).tolist() for x in xs]}, f)
        xs = [np.asarray(v, dtype=np.float32).reshape(shape) for v, (_, shape) in
              zip(json.load(open(os.path.join(outdir, name + ".input.json")))["input_data"], inputs)]
        from onnx.reference import ReferenceEvaluator
        y = ReferenceEvaluator(model).run(None, {n: x for (n, _), x in zip(inputs, xs)})[0]
        with open(os.path.join(outdir, name + ".expected.json"), "w") as f:
            json.dump({"output_data": [np.asarray(y, dtype=np.float64).reshape(-1).tolist()]}, f)


def pools(outdir):
    """Pooling with every ONNX attribute and per-element constants (crates/zkinfer-model/src/
    lowering_pool.rs): padded MaxPool and AveragePool with ceil_mode=1 and count_include_pad=0
    (border divisors: a MulConst), LpPool p = 1 (1-D) and p = 2, PRelu with per-element slopes and a
    Mul by a constant of the whole sample's shape; legacy_prelu_add is opset 6 (a rank-1 PRelu slope
    per channel, Add with broadcast=1 at axis 1)."""
    rng = np.random.default_rng(9753)
    N = helper.make_node
    save(outdir, "pool_ceil_exclude_pad", [
        N("Conv", ["input", "cw", "cb"], ["c"], name="conv", pads=[1, 1, 1, 1]),
        N("Relu", ["c"], ["r"], name="relu"),
        N("AveragePool", ["r"], ["a"], name="avgpool_excl", kernel_shape=[3, 3], strides=[2, 2],
          pads=[1, 1, 1, 1], count_include_pad=0, ceil_mode=1),
        N("MaxPool", ["a"], ["m"], name="maxpool_ceil", kernel_shape=[2, 2], strides=[2, 2],
          pads=[1, 0, 0, 1], ceil_mode=1),
        N("Flatten", ["m"], ["f"], name="flatten"),
        N("Gemm", ["f", "fw", "fb"], ["output"], name="fc", transB=1),
    ], [init("cw", w(rng, 3, 2, 3, 3)), init("cb", w(rng, 3, scale=0.1)),
        init("fw", w(rng, 4, 3 * 3 * 2)), init("fb", w(rng, 4, scale=0.1))],
        [2, 8, 7], [4], rng.standard_normal((2, 8, 7)))
    save(outdir, "pool_lp", [
        N("LpPool", ["input"], ["l1"], name="lppool_p1", kernel_shape=[3], strides=[2], pads=[1, 1], p=1),
        N("Conv", ["l1", "cw", "cb"], ["c"], name="conv1d"),
        N("Unsqueeze", ["c", "ax"], ["c4"], name="as_image"),
        N("LpPool", ["c4"], ["l2"], name="lppool_p2", kernel_shape=[1, 2], strides=[1, 2], p=2),
        N("Flatten", ["l2"], ["f"], name="flatten"),
        N("Gemm", ["f", "fw", "fb"], ["output"], name="fc", transB=1),
    ], [init("cw", w(rng, 3, 2, 1)), init("cb", w(rng, 3, scale=0.1)), init_i64("ax", [2]),
        init("fw", w(rng, 2, 3 * 2)), init("fb", w(rng, 2, scale=0.1))],
        [2, 9], [2], rng.standard_normal((2, 9)))
    save(outdir, "prelu_mul_whole", [
        N("PRelu", ["input", "slope"], ["p"], name="prelu_elementwise"),
        N("Mul", ["p", "scale"], ["m"], name="mul_whole"),
        N("Div", ["m", "div"], ["d"], name="div_whole"),
        N("Flatten", ["d"], ["f"], name="flatten"),
        N("Gemm", ["f", "fw", "fb"], ["output"], name="fc", transB=1),
    ], [init("slope", rng.uniform(-0.5, 0.5, (2, 3, 4))), init("scale", rng.uniform(-2, 2, (3, 4))),
        init("div", rng.uniform(0.5, 2, (1, 1, 3, 4))),
        init("fw", w(rng, 3, 2 * 3 * 4)), init("fb", w(rng, 3, scale=0.1))],
        [2, 3, 4], [3], rng.standard_normal((2, 3, 4)))
    save(outdir, "legacy_prelu_add", [
        N("PRelu", ["input", "slope"], ["p"], name="prelu_legacy"),
        N("Add", ["p", "bias"], ["a"], name="add_axis1", broadcast=1, axis=1),
        N("Flatten", ["a"], ["f"], name="flatten"),
        N("Gemm", ["f", "fw", "fb"], ["output"], name="fc", transB=1, broadcast=1),
    ], [init("slope", [0.1, -0.2, 0.3]), init("bias", [[0.5, -0.5], [1.0, 0.0], [-1.0, 0.25]]),
        init("fw", w(rng, 2, 3 * 2 * 4)), init("fb", w(rng, 2, scale=0.1))],
        [3, 2, 4], [2], rng.standard_normal((3, 2, 4)), opset=6)
    # volumes: a grouped, strided, padded, dilated Conv3d, BatchNorm3d, MaxPool3d with ceil_mode,
    # AveragePool3d with count_include_pad=0 (two 2-D pools each)
    save(outdir, "volume_conv_pool", [
        N("Conv", ["input", "cw", "cb"], ["c"], name="conv3d", group=2, strides=[2, 1, 1],
          pads=[1, 1, 0, 1, 0, 1], dilations=[1, 2, 1]),
        N("BatchNormalization", ["c", "bs", "bb", "bm", "bv"], ["n"], name="bn3d"),
        N("Relu", ["n"], ["r"], name="relu"),
        N("MaxPool", ["r"], ["m"], name="maxpool3d", kernel_shape=[2, 2, 2], strides=[2, 2, 2],
          pads=[0, 1, 0, 1, 0, 0], ceil_mode=1),
        N("AveragePool", ["m"], ["a"], name="avgpool3d", kernel_shape=[2, 2, 2], pads=[1, 0, 0, 0, 1, 1],
          count_include_pad=0),
        N("Flatten", ["a"], ["f"], name="flatten"),
        N("Gemm", ["f", "fw", "fb"], ["output"], name="fc", transB=1),
    ], [init("cw", w(rng, 4, 1, 3, 2, 2)), init("cb", w(rng, 4, scale=0.1)),
        init("bs", rng.uniform(0.5, 1.5, 4)), init("bb", w(rng, 4, scale=0.1)),
        init("bm", w(rng, 4, scale=0.1)), init("bv", rng.uniform(0.5, 1.5, 4)),
        init("fw", w(rng, 3, 4 * 2 * 3 * 3)), init("fb", w(rng, 3, scale=0.1))],
        [2, 5, 6, 5], [3], rng.standard_normal((2, 5, 6, 5)))
    for name in ["pool_ceil_exclude_pad", "pool_lp", "prelu_mul_whole", "volume_conv_pool"]:
        save_spec_reference(outdir, name)
    # the legacy model's meaning at opset 17: the slope and bias as per-channel constants
    legacy = onnx.load(os.path.join(outdir, "legacy_prelu_add.onnx"))
    g = legacy.graph
    del g.node[1].attribute[:]
    del g.node[3].attribute[:]
    g.node[3].attribute.append(helper.make_attribute("transB", 1))
    for t in g.initializer:
        if t.name == "slope":
            t.CopyFrom(init("slope", np.asarray([0.1, -0.2, 0.3]).reshape(3, 1, 1)))
        if t.name == "bias":
            t.CopyFrom(init("bias", np.asarray([[0.5, -0.5], [1.0, 0.0], [-1.0, 0.25]]).reshape(3, 2, 1)))
    del legacy.opset_import[:]
    legacy.opset_import.append(helper.make_opsetid("", OPSET))
    save_spec_reference(outdir, "legacy_prelu_add", legacy)


def save_spec_reference(outdir, name, reference=None):
    """NAME.expected.json from the ONNX specification's reference evaluator (`onnx.reference`) on
    NAME.input.json (running `reference`, an equivalent graph, instead of NAME.onnx if given)."""
    from onnx.reference import ReferenceEvaluator
    model = reference if reference is not None else onnx.load(os.path.join(outdir, name + ".onnx"))
    dims = [d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim][1:]
    x = np.asarray(json.load(open(os.path.join(outdir, name + ".input.json")))["input_data"][0],
                   dtype=np.float32).reshape([-1] + dims)
    y = ReferenceEvaluator(model).run(None, {model.graph.input[0].name: x})[0]
    with open(os.path.join(outdir, name + ".expected.json"), "w") as f:
        json.dump({"output_data": [np.asarray(y, dtype=np.float64).reshape(-1).tolist()]}, f)


def lowerings(outdir):
    """ONNX patterns the importer lowers onto the proven ops (crates/zkinfer-model/src/lowering.rs):
    grouped, depthwise, dilated and 1-D convolutions, 1-D and global pools, Max/Min/Sum/Mean, Pow,
    constant / activation, folded ConstantOfShape/Range/EyeLike/Shape/Cast; lower_batch_* has a fixed
    batch of 2. lower_refuse_* are refused by name (4-D Conv, MaxPool dilation, LpPool p = 3)."""
    rng = np.random.default_rng(8642)
    N = helper.make_node
    # depthwise conv (channel multiplier 2, stride 2) between two dense-kernel layers
    save(outdir, "lower_depthwise_conv", [
        N("Conv", ["input", "cw1", "cb1"], ["c1"], name="conv1", pads=[1, 1, 1, 1]),
        N("Relu", ["c1"], ["r1"], name="relu1"),
        N("Conv", ["r1", "dw", "db"], ["c2"], name="depthwise", group=4, kernel_shape=[3, 3],
          pads=[1, 1, 1, 1], strides=[2, 2]),
        N("Relu", ["c2"], ["r2"], name="relu2"),
        N("GlobalAveragePool", ["r2"], ["g"], name="gap"),
        N("Flatten", ["g"], ["f"], name="flatten"),
        N("Gemm", ["f", "fw", "fb"], ["output"], name="fc", transB=1),
    ], [init("cw1", w(rng, 4, 2, 3, 3)), init("cb1", w(rng, 4, scale=0.1)),
        init("dw", w(rng, 8, 1, 3, 3)), init("db", w(rng, 8, scale=0.1)),
        init("fw", w(rng, 3, 8)), init("fb", w(rng, 3, scale=0.1))],
        [2, 8, 8], [3], rng.standard_normal((2, 8, 8)))
    # grouped conv: 2 groups of 2 input and 3 output channels, asymmetric pads
    save(outdir, "lower_grouped_conv", [
        N("Conv", ["input", "gw", "gb"], ["c1"], name="grouped", group=2, pads=[1, 0, 0, 1]),
        N("Relu", ["c1"], ["r1"], name="relu1"),
        N("Conv", ["r1", "pw"], ["c2"], name="pointwise"),
        N("Flatten", ["c2"], ["f"], name="flatten"),
        N("Gemm", ["f", "fw", "fb"], ["output"], name="fc", transB=1),
    ], [init("gw", w(rng, 6, 2, 3, 3)), init("gb", w(rng, 6, scale=0.1)), init("pw", w(rng, 2, 6, 1, 1)),
        init("fw", w(rng, 4, 2 * 5 * 5)), init("fb", w(rng, 4, scale=0.1))],
        [4, 6, 6], [4], rng.standard_normal((4, 6, 6)))
    # dilated convs: 3x3 dilation 2 padded to keep the size, then 2x2 dilations (1, 3) unpadded
    # (onnxruntime refuses dilations with auto_pad SAME: explicit pads here)
    save(outdir, "lower_dilated_conv", [
        N("Conv", ["input", "dw1", "db1"], ["c1"], name="dilated_same", dilations=[2, 2], pads=[2, 2, 2, 2]),
        N("Relu", ["c1"], ["r1"], name="relu1"),
        N("Conv", ["r1", "dw2", "db2"], ["c2"], name="dilated_13", dilations=[1, 3]),
        N("Flatten", ["c2"], ["f"], name="flatten"),
        N("Gemm", ["f", "fw", "fb"], ["output"], name="fc", transB=1),
    ], [init("dw1", w(rng, 3, 2, 3, 3)), init("db1", w(rng, 3, scale=0.1)),
        init("dw2", w(rng, 2, 3, 2, 2)), init("db2", w(rng, 2, scale=0.1)),
        init("fw", w(rng, 3, 2 * 8 * 6)), init("fb", w(rng, 3, scale=0.1))],
        [2, 9, 9], [3], rng.standard_normal((2, 9, 9)))
    # 1-D: Conv1d (k=4, SAME_LOWER) + BatchNorm (folded) + ReLU, MaxPool1d, grouped dilated Conv1d,
    # padded AveragePool1d, GlobalMaxPool over the sequence, Gemm
    save(outdir, "lower_conv1d", [
        N("Conv", ["input", "w1", "b1"], ["c1"], name="conv1d", auto_pad="SAME_LOWER"),
        N("BatchNormalization", ["c1", "bn_s", "bn_b", "bn_m", "bn_v"], ["n1"], name="bn1d"),
        N("Relu", ["n1"], ["r1"], name="relu1"),
        N("MaxPool", ["r1"], ["p1"], name="maxpool1d", kernel_shape=[2], strides=[2]),
        N("Conv", ["p1", "w2", "b2"], ["c2"], name="conv1d_grouped", group=2, dilations=[2],
          kernel_shape=[3], pads=[2, 2]),
        N("Relu", ["c2"], ["r2"], name="relu2"),
        N("AveragePool", ["r2"], ["a2"], name="avgpool1d", kernel_shape=[3], pads=[1, 1], count_include_pad=1),
        N("GlobalMaxPool", ["a2"], ["g"], name="global_maxpool1d"),
        N("Flatten", ["g"], ["f"], name="flatten"),
        N("Gemm", ["f", "fw", "fb"], ["output"], name="fc", transB=1),
    ], [init("w1", w(rng, 4, 2, 4)), init("b1", w(rng, 4, scale=0.1)),
        init("bn_s", 1.0 + 0.2 * rng.standard_normal(4)), init("bn_b", 0.1 * rng.standard_normal(4)),
        init("bn_m", 0.1 * rng.standard_normal(4)), init("bn_v", 0.5 + rng.random(4)),
        init("w2", w(rng, 4, 2, 3)), init("b2", w(rng, 4, scale=0.1)),
        init("fw", w(rng, 3, 4)), init("fb", w(rng, 3, scale=0.1))],
        [2, 16], [3], rng.standard_normal((2, 16)))
    # GlobalMaxPool straight after a Conv (its accumulator is requantized first)
    save(outdir, "lower_global_maxpool", [
        N("Conv", ["input", "cw", "cb"], ["c"], name="conv", pads=[1, 1, 1, 1]),
        N("GlobalMaxPool", ["c"], ["g"], name="global_maxpool"),
        N("Flatten", ["g"], ["f"], name="flatten"),
        N("Gemm", ["f", "fw", "fb"], ["output"], name="fc", transB=1),
    ], [init("cw", w(rng, 4, 2, 3, 3)), init("cb", w(rng, 4, scale=0.1)),
        init("fw", w(rng, 3, 4)), init("fb", w(rng, 3, scale=0.1))],
        [2, 6, 6], [3], rng.standard_normal((2, 6, 6)))
    # Max of three activations, Min of two, Max and Min with scalar constants (Clips)
    save(outdir, "lower_max_min", [
        N("Gemm", ["input", "w1", "b1"], ["h1"], name="fc1", transB=1),
        N("Gemm", ["input", "w2", "b2"], ["h2"], name="fc2", transB=1),
        N("Gemm", ["input", "w3", "b3"], ["h3"], name="fc3", transB=1),
        N("Max", ["h1", "h2", "h3"], ["mx"], name="max3"),
        N("Min", ["h1", "h2"], ["mn"], name="min2"),
        N("Max", ["mn", "lo"], ["mnc"], name="max_const"),
        N("Min", ["mx", "hi"], ["mxc"], name="min_const"),
        N("Sub", ["mxc", "mnc"], ["d"], name="sub"),
        N("Gemm", ["d", "w4", "b4"], ["output"], name="fc4", transB=1),
    ], [init("w1", w(rng, 8, 6)), init("b1", w(rng, 8, scale=0.2)), init("w2", w(rng, 8, 6)),
        init("b2", w(rng, 8, scale=0.2)), init("w3", w(rng, 8, 6)), init("b3", w(rng, 8, scale=0.2)),
        init("lo", -0.3), init("hi", np.full((1, 8), 0.8)),
        init("w4", w(rng, 3, 8)), init("b4", w(rng, 3, scale=0.1))],
        [6], [3], rng.standard_normal(6))
    # Sum of two activations and a per-channel constant, Mean of three activations (conv outputs)
    save(outdir, "lower_sum_mean", [
        N("Conv", ["input", "cw1"], ["c1"], name="conv1", pads=[1, 1, 1, 1]),
        N("Conv", ["input", "cw2"], ["c2"], name="conv2", pads=[1, 1, 1, 1]),
        N("Relu", ["c1"], ["r1"], name="relu1"),
        N("Sum", ["c1", "c2", "bias"], ["s"], name="sum3"),
        N("Mean", ["s", "r1", "c2"], ["m"], name="mean3"),
        N("Flatten", ["m"], ["f"], name="flatten"),
        N("Gemm", ["f", "fw", "fb"], ["output"], name="fc", transB=1),
    ], [init("cw1", w(rng, 3, 2, 3, 3)), init("cw2", w(rng, 3, 2, 3, 3)),
        init("bias", np.array([0.2, -0.1, 0.3]).reshape(3, 1, 1)),
        init("fw", w(rng, 3, 3 * 5 * 5)), init("fb", w(rng, 3, scale=0.1))],
        [2, 5, 5], [3], rng.standard_normal((2, 5, 5)))
    # Pow by 2 (exact Mul), 3 (table), 1.5 (table on x >= 0) and 0.5 (Sqrt)
    for name, p, act in [("lower_pow2", 2.0, None), ("lower_pow3", 3.0, None),
                         ("lower_pow_frac", 1.5, "Relu"), ("lower_pow_sqrt", 0.5, "Sigmoid")]:
        pre = [N(act, ["h"], ["a"], name=act.lower())] if act else []
        save(outdir, name, [
            N("Gemm", ["input", "w1", "b1"], ["h"], name="fc1", transB=1),
            *pre,
            N("Pow", ["a" if act else "h", "p"], ["y"], name="pow"),
            N("Gemm", ["y", "w2", "b2"], ["output"], name="fc2", transB=1),
        ], [init("w1", w(rng, 8, 6)), init("b1", w(rng, 8, scale=0.2)), init("p", p),
            init("w2", w(rng, 3, 8)), init("b2", w(rng, 3, scale=0.1))],
            [6], [3], rng.standard_normal(6))
    # constant / activation: 2 / sigmoid(h) (Reciprocal table, then the scale 2)
    save(outdir, "lower_const_div", [
        N("Gemm", ["input", "w1", "b1"], ["h"], name="fc1", transB=1),
        N("Sigmoid", ["h"], ["s"], name="sigmoid"),
        N("Div", ["two", "s"], ["q"], name="const_div"),
        N("Gemm", ["q", "w2", "b2"], ["output"], name="fc2", transB=1),
    ], [init("w1", w(rng, 8, 6, scale=0.3)), init("b1", w(rng, 8, scale=0.2)), init("two", 2.0),
        init("w2", w(rng, 3, 8)), init("b2", w(rng, 3, scale=0.1))],
        [6], [3], rng.standard_normal(6))
    # ConstantOfShape(Shape(conv output)) folded into an Add (a uniform constant per channel)
    save(outdir, "lower_constant_of_shape", [
        N("Conv", ["input", "cw", "cb"], ["c"], name="conv", pads=[1, 1, 1, 1]),
        N("Shape", ["c"], ["shp"], name="shape"),
        N("ConstantOfShape", ["shp"], ["z"], name="const_of_shape",
          value=helper.make_tensor("v", TensorProto.FLOAT, [1], [0.25])),
        N("Add", ["c", "z"], ["s"], name="add_const"),
        N("Relu", ["s"], ["r"], name="relu"),
        N("Flatten", ["r"], ["f"], name="flatten"),
        N("Gemm", ["f", "fw", "fb"], ["output"], name="fc", transB=1),
    ], [init("cw", w(rng, 3, 2, 3, 3)), init("cb", w(rng, 3, scale=0.1)),
        init("fw", w(rng, 3, 3 * 4 * 4)), init("fb", w(rng, 3, scale=0.1))],
        [2, 4, 4], [3], rng.standard_normal((2, 4, 4)))
    # folds: Cast(Range) as a bias, EyeLike (k=1) as a MatMul weight, ConstantOfShape of a constant
    # shape plus Shape of a constant as a Mul (value given: tract 0.23 makes the default 0 a float64)
    save(outdir, "lower_folds", [
        N("Gemm", ["input", "w1", "b1"], ["h"], name="fc1", transB=1),
        N("Range", ["r0", "r1", "r2"], ["rng"], name="range"),
        N("Cast", ["rng"], ["rngf"], name="cast", to=TensorProto.FLOAT),
        N("Add", ["h", "rngf"], ["h2"], name="add_range"),
        N("EyeLike", ["sq"], ["eye"], name="eye_like", k=1),
        N("MatMul", ["h2", "eye"], ["h3"], name="shift_matmul"),
        N("ConstantOfShape", ["cshape"], ["zeros"], name="zeros",
          value=helper.make_tensor("v", TensorProto.FLOAT, [1], [0.0])),
        N("Shape", ["sq"], ["sqs"], name="shape_of_const", start=1),
        N("Cast", ["sqs"], ["sqsf"], name="cast_shape", to=TensorProto.FLOAT),
        N("Add", ["zeros", "sqsf"], ["fours"], name="fold_add"),
        N("Mul", ["h3", "fours"], ["h4"], name="mul_const"),
        N("Relu", ["h4"], ["r"], name="relu"),
        N("Gemm", ["r", "w2", "b2"], ["output"], name="fc2", transB=1),
    ], [init("w1", w(rng, 4, 5)), init("b1", w(rng, 4, scale=0.2)),
        init_i64("r0", 0), init_i64("r1", 4), init_i64("r2", 1), init("sq", np.ones((4, 4))),
        init_i64("cshape", [1, 4]), init("w2", w(rng, 3, 4)), init("b2", w(rng, 3, scale=0.1))],
        [5], [3], rng.standard_normal(5))
    # fixed batch of 2: Conv1d, Max of two activations, ConstantOfShape(Shape(x)) over the batch
    save(outdir, "lower_batch_conv1d", [
        N("Conv", ["input", "w1", "b1"], ["c1"], name="conv1d", pads=[1, 1]),
        N("Conv", ["input", "w2", "b2"], ["c2"], name="conv1d_b", pads=[2, 2], dilations=[2]),
        N("Max", ["c1", "c2"], ["m"], name="max"),
        N("Shape", ["m"], ["shp"], name="shape"),
        N("ConstantOfShape", ["shp"], ["z"], name="const_of_shape",
          value=helper.make_tensor("v", TensorProto.FLOAT, [1], [-0.5])),
        N("Add", ["m", "z"], ["s"], name="add_const"),
        N("Relu", ["s"], ["r"], name="relu"),
        N("Flatten", ["r"], ["f"], name="flatten"),
        N("Gemm", ["f", "fw", "fb"], ["output"], name="fc", transB=1),
    ], [init("w1", w(rng, 3, 2, 3)), init("b1", w(rng, 3, scale=0.1)),
        init("w2", w(rng, 3, 2, 3)), init("b2", w(rng, 3, scale=0.1)),
        init("fw", w(rng, 4, 3 * 8)), init("fb", w(rng, 4, scale=0.1))],
        [2, 8], [4], rng.standard_normal((2, 2, 8)), batch=2)
    # refused by name
    for name, node, in_shape, out_shape, inits in [
        ("lower_refuse_conv4d", N("Conv", ["input", "w4"], ["output"], name="conv4d"), [1, 3, 3, 3, 3],
         [1, 2, 2, 2, 2], [init("w4", w(rng, 1, 1, 2, 2, 2, 2))]),
        ("lower_refuse_maxpool_dilation", N("MaxPool", ["input"], ["output"], name="maxpool_dilated",
         kernel_shape=[2, 2], dilations=[2, 2]), [1, 5, 5], [1, 3, 3], []),
        ("lower_refuse_lppool_p3", N("LpPool", ["input"], ["output"], name="lppool_p3",
         kernel_shape=[2], p=3), [1, 5], [1, 4], []),
    ]:
        save(outdir, name, [node], inits, in_shape, out_shape, rng.standard_normal(in_shape))
    # AlexNet-style local response normalization across channels (size 3 of
    # 4 channels: edge windows cut), between a Conv+ReLU and a pool
    rng = np.random.default_rng(31)  # its own stream: the fixtures above stay as committed
    save(outdir, "lower_lrn", [
        N("Conv", ["input", "cw", "cb"], ["c"], name="conv", pads=[1, 1, 1, 1]),
        N("Relu", ["c"], ["r"], name="relu"),
        N("LRN", ["r"], ["n"], name="lrn", size=3, alpha=0.3, beta=0.75, bias=1.0),
        N("MaxPool", ["n"], ["p"], name="pool", kernel_shape=[2, 2], strides=[2, 2]),
        N("Flatten", ["p"], ["f"], name="flatten"),
        N("Gemm", ["f", "fw", "fb"], ["output"], name="fc", transB=1),
    ], [init("cw", w(rng, 4, 2, 3, 3, scale=1.0)), init("cb", w(rng, 4, scale=0.1)),
        init("fw", w(rng, 3, 4 * 2 * 2)), init("fb", w(rng, 3, scale=0.1))],
        [2, 4, 4], [3], rng.standard_normal((2, 4, 4)))


def gelu_subgraphs(outdir):
    """GELU as PyTorch exports it (crates/zkinfer-model/src/gelu_fusion.rs fuses each into one Gelu):
    the erf form `0.5·x·(1 + erf(x/√2))` and the tanh form `0.5·x·(1 + tanh(√(2/π)(x + 0.044715x³)))`
    in PyTorch's node order, the erf form with its factors in another order (`x·0.5` first, `Mul` by
    1/√2), and a look-alike (`0.4` for `0.5`) that is not GELU and must stay unfused."""
    rng = np.random.default_rng(4321)
    N = helper.make_node
    c = lambda name, v: N("Constant", [], [name], value=helper.make_tensor(name, TensorProto.FLOAT, [], [v]))
    nodes = [
        N("Gemm", ["input", "w1", "b1"], ["h1"], name="fc1", transB=1),
        c("sqrt2", 1.4142135), c("one", 1.0), c("half", 0.5),
        N("Div", ["h1", "sqrt2"], ["d1"]), N("Erf", ["d1"], ["e1"]), N("Add", ["e1", "one"], ["a1"]),
        N("Mul", ["h1", "a1"], ["m1"]), N("Mul", ["m1", "half"], ["g1"]),
        N("Gemm", ["g1", "w2", "b2"], ["h2"], name="fc2", transB=1),
        c("k3", 0.044715), c("s2pi", 0.7978846),
        N("Mul", ["h2", "h2"], ["sq"]), N("Mul", ["h2", "sq"], ["cube"]), N("Mul", ["k3", "cube"], ["kc"]),
        N("Add", ["h2", "kc"], ["inner"]), N("Mul", ["s2pi", "inner"], ["arg"]), N("Tanh", ["arg"], ["t"]),
        N("Add", ["one", "t"], ["a2"]), N("Mul", ["h2", "a2"], ["m2"]), N("Mul", ["half", "m2"], ["g2"]),
        N("Gemm", ["g2", "w3", "b3"], ["h3"], name="fc3", transB=1),
        c("rsqrt2", 0.70710678),
        N("Mul", ["h3", "half"], ["hx"]), N("Mul", ["h3", "rsqrt2"], ["d3"]), N("Erf", ["d3"], ["e3"]),
        N("Add", ["e3", "one"], ["a3"]), N("Mul", ["hx", "a3"], ["g3"]),
        N("Gemm", ["g3", "w4", "b4"], ["h4"], name="fc4", transB=1),
        c("not_half", 0.4),
        N("Div", ["h4", "sqrt2"], ["d4"]), N("Erf", ["d4"], ["e4"]), N("Add", ["e4", "one"], ["a4"]),
        N("Mul", ["h4", "a4"], ["m4"]), N("Mul", ["m4", "not_half"], ["output"]),
    ]
    inits = []
    for k, (i, o) in enumerate([(6, 8), (8, 8), (8, 8), (8, 4)], 1):
        inits += [init(f"w{k}", w(rng, o, i)), init(f"b{k}", w(rng, o, scale=0.1))]
    save(outdir, "gelu_subgraphs", nodes, inits, [6], [4], rng.standard_normal(6))


def activation_div(outdir):
    """Div of two activations (a / b = a · Reciprocal(b)), b bounded away from 0, with broadcasting
    of a per-row divisor (as a normalisation by a computed norm)."""
    rng = np.random.default_rng(2468)
    N = helper.make_node
    save(outdir, "div_activations", [
        N("Gemm", ["input", "w1", "b1"], ["a"], name="numerator", transB=1),
        N("Gemm", ["input", "w2", "b2"], ["h"], name="denominator", transB=1),
        N("Sigmoid", ["h"], ["s"]),
        N("Add", ["s", "half"], ["d"]),
        N("Div", ["a", "d"], ["q"], name="div_full"),
        N("ReduceSum", ["d", "axes"], ["n"], keepdims=1),
        N("Div", ["q", "n"], ["output"], name="div_broadcast"),
    ], [init("w1", w(rng, 5, 6)), init("b1", w(rng, 5, scale=0.1)), init("w2", w(rng, 5, 6)),
        init("b2", w(rng, 5, scale=0.1)), init("half", [0.5]), init_i64("axes", [1])],
        [6], [5], rng.standard_normal(6))


def save_torch(outdir, name, net, x, dynamic=True):
    """A PyTorch export (opset 17, input `input`, output `output`, symbolic batch unless `dynamic` is
    False) with onnxruntime's output on `x` as NAME.expected.json ({"output_data": [[...]]})."""
    import warnings

    import onnxruntime as ort
    import torch
    path = os.path.join(outdir, name + ".onnx")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(net.eval(), torch.tensor(x, dtype=torch.float32), path, input_names=["input"],
                          output_names=["output"], opset_version=OPSET,
                          dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}} if dynamic else None)
    save_inputs_and_reference(outdir, name, x)


def save_inputs_and_reference(outdir, name, x, reference=None):
    """NAME.input.json from `x`, NAME.expected.json from onnxruntime on it (running the model
    `reference` instead of NAME.onnx if given: an equivalent graph onnxruntime implements)."""
    import onnxruntime as ort
    x = np.asarray(x, dtype=np.float32)
    with open(os.path.join(outdir, name + ".input.json"), "w") as f:
        json.dump({"input_data": [x.reshape(-1).astype(float).round(6).tolist()]}, f)
    x = np.asarray(json.load(open(os.path.join(outdir, name + ".input.json")))["input_data"][0],
                   dtype=np.float32).reshape(x.shape)
    model = reference.SerializeToString() if reference is not None else os.path.join(outdir, name + ".onnx")
    sess = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
    y = sess.run(None, {sess.get_inputs()[0].name: x})[0]
    with open(os.path.join(outdir, name + ".expected.json"), "w") as f:
        json.dump({"output_data": [np.asarray(y, dtype=np.float64).reshape(-1).tolist()]}, f)


def lowerings_seq(outdir):
    """Upsampling and recurrent operators lowered onto the proven ops (crates/zkinfer-model/src/
    lowering_upsample.rs, lowering_seq.rs): ConvTranspose 1-D/2-D (stride, padding, output_padding,
    groups, dilation, output_shape, auto_pad), Resize/Upsample linear, LSTM/GRU/RNN. seq_* come with
    onnxruntime's output (NAME.expected.json); seq_refuse_* are refused by name."""
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    torch.manual_seed(2468)
    rng = np.random.default_rng(2468)
    N = helper.make_node

    class Net(nn.Module):
        def __init__(self, fwd, **mods):
            super().__init__()
            self.fwd = fwd
            for k, m in mods.items():
                setattr(self, k, m)

        def forward(self, x):
            return self.fwd(self, x)

    # ConvTranspose2d: stride 2, padding 1, output_padding 1, 2 groups; then a plain stride-2 one
    save_torch(outdir, "seq_deconv2d", Net(
        lambda s, x: s.d2(F.relu(s.d1(F.relu(s.c(x))))),
        c=nn.Conv2d(2, 4, 3, padding=1),
        d1=nn.ConvTranspose2d(4, 4, 3, stride=2, padding=1, output_padding=1, groups=2),
        d2=nn.ConvTranspose2d(4, 2, 2, stride=2)), rng.standard_normal((1, 2, 3, 3)))
    # ConvTranspose1d: stride 2, padding 1, dilation 2, between two 1-D layers
    save_torch(outdir, "seq_deconv1d", Net(
        lambda s, x: s.c(F.relu(s.d(x))),
        d=nn.ConvTranspose1d(3, 4, 3, stride=2, padding=1, dilation=2),
        c=nn.Conv1d(4, 2, 3)), rng.standard_normal((1, 3, 6)))
    # output_shape (pads derived, SAME_UPPER split) and auto_pad SAME_LOWER with an asymmetric kernel
    for name, attrs in [("seq_deconv_output_shape", dict(strides=[2, 3], output_shape=[8, 10], auto_pad="SAME_UPPER")),
                        ("seq_deconv_same_lower", dict(strides=[2, 2], auto_pad="SAME_LOWER"))]:
        save(outdir, name, [N("ConvTranspose", ["input", "w", "b"], ["output"], name="deconv", **attrs)],
             [init("w", w(rng, 2, 3, 3, 2)), init("b", w(rng, 3, scale=0.1))],
             [2, 4, 3], [3, 8, 10] if "output_shape" in name else [3, 8, 6], 0)
        save_inputs_and_reference(outdir, name, rng.standard_normal((1, 2, 4, 3)))
    # Upsample bilinear (align_corners False / True), 1-D linear Resize by sizes
    save_torch(outdir, "seq_upsample_bilinear", Net(
        lambda s, x: s.c2(F.interpolate(F.relu(s.c1(x)), scale_factor=2, mode="bilinear", align_corners=False)),
        c1=nn.Conv2d(2, 3, 3, padding=1), c2=nn.Conv2d(3, 2, 3)), rng.standard_normal((1, 2, 4, 4)))
    save_torch(outdir, "seq_upsample_align_corners", Net(
        lambda s, x: F.interpolate(s.c(x), size=(5, 7), mode="bilinear", align_corners=True),
        c=nn.Conv2d(2, 2, 1)), rng.standard_normal((1, 2, 3, 4)))
    for name, mode, x_shape, out_shape, extra in [
        ("seq_resize_linear_sizes", "asymmetric", [3, 5], [3, 8], [init_i64("sizes", [1, 3, 8])]),
        ("seq_resize_linear_down", "pytorch_half_pixel", [2, 6, 6], [2, 4, 3],
         [init("scales", [1.0, 1.0, 0.75, 0.5])]),
    ]:
        inputs = ["input", "", "scales" if "down" in name else "", "sizes" if "sizes" in name else ""]
        save(outdir, name, [
            N("Relu", ["input"], ["r"], name="relu"),
            N("Resize", ["r"] + inputs[1:], ["output"], name="resize", mode="linear",
              coordinate_transformation_mode=mode),
        ], extra, x_shape, out_shape, 0, batch=1)
        save_inputs_and_reference(outdir, name, rng.standard_normal([1] + x_shape))
    # Recurrent: PyTorch batch_first exports (Transpose + op), last step or the whole sequence
    for name, fwd, mods in [
        ("seq_lstm", lambda s, x: s.fc(s.rnn(x)[0][:, -1]),
         dict(rnn=nn.LSTM(4, 6, batch_first=True), fc=nn.Linear(6, 3))),
        ("seq_lstm_bidirectional", lambda s, x: s.rnn(x)[0],
         dict(rnn=nn.LSTM(4, 5, batch_first=True, bidirectional=True))),
        ("seq_gru", lambda s, x: s.fc(s.rnn(x)[1][0]),
         dict(rnn=nn.GRU(4, 6, batch_first=True), fc=nn.Linear(6, 3))),
        ("seq_rnn_relu", lambda s, x: s.rnn(x)[0],
         dict(rnn=nn.RNN(4, 6, batch_first=True, nonlinearity="relu"))),
    ]:
        save_torch(outdir, name, Net(fwd, **mods), rng.standard_normal((1, 5, 4)), dynamic=False)
    # layout 1 (batch first) written by hand: reverse GRU with linear_before_reset=0, clip and an
    # initial state; LSTM with peepholes, input_forget and non-default activations
    # (onnxruntime runs layout 0 only: its reference is the layout-0 node between Transposes)
    H, I, T = 4, 3, 4

    def layout1(name, op, inputs, outputs, inits, out_shape, out_perm, **attrs):
        nodes = [N(op, ["input"] + inputs, outputs, name=op.lower(), hidden_size=H, layout=1, **attrs)]
        save(outdir, name, nodes, inits, [T, I], out_shape, 0, batch=1)
        out = outputs.index("output")
        twin_outs = [o + "_l0" if i == out else o for i, o in enumerate(outputs)]
        twin = helper.make_graph([
            N("Transpose", ["input"], ["x_l0"], perm=[1, 0, 2]),
            N(op, ["x_l0"] + inputs, twin_outs, hidden_size=H, **attrs),
            N("Transpose", [twin_outs[out]], ["output"], perm=out_perm),
        ], name, [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, T, I])],
            [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1] + out_shape)], initializer=inits)
        twin = helper.make_model(twin, opset_imports=[helper.make_opsetid("", OPSET)])
        twin.ir_version = 8
        save_inputs_and_reference(outdir, name, rng.standard_normal((1, T, I)), reference=twin)

    layout1("seq_gru_layout1", "GRU", ["W", "R", "B", "", "h0"], ["y", "output"],
            [init("W", w(rng, 1, 3 * H, I)), init("R", w(rng, 1, 3 * H, H)), init("B", w(rng, 1, 6 * H, scale=0.2)),
             init("h0", w(rng, 1, 1, H, scale=0.5))], [1, H], [1, 0, 2],
            direction="reverse", clip=2.5, linear_before_reset=0)
    layout1("seq_lstm_peephole", "LSTM", ["W", "R", "B", "", "", "", "P"], ["output"],
            [init("W", w(rng, 1, 4 * H, I)), init("R", w(rng, 1, 4 * H, H)), init("B", w(rng, 1, 8 * H, scale=0.2)),
             init("P", w(rng, 1, 3 * H, scale=0.5))], [T, 1, H], [2, 0, 1, 3],
            input_forget=1, activations=["HardSigmoid", "Tanh", "Softsign"], activation_alpha=[0.25],
            activation_beta=[0.45])
    # refused by name: cubic Resize, sequence_lens computed, layout 0 with the sequence as batch axis
    save(outdir, "seq_refuse_cubic", [N("Resize", ["input", "", "scales"], ["output"], name="resize_cubic",
                                         mode="cubic")],
         [init("scales", [1.0, 1.0, 2.0, 2.0])], [1, 3, 3], [1, 6, 6], rng.standard_normal((1, 3, 3)))
    save(outdir, "seq_refuse_layout0", [N("RNN", ["input", "W", "R"], ["output"], name="rnn_seq_first",
                                         hidden_size=2)],
         [init("W", w(rng, 1, 2, 3)), init("R", w(rng, 1, 2, 2))], [1, 3], [1, 1, 2],
         rng.standard_normal((5, 1, 3)), batch=5)
    # PyTorch attention exports whose batch axis does not stay first: nn.MultiheadAttention on a
    # sequence-first [T, 1, E] input (a trained-like nonzero in_proj_bias), and TransformerEncoderLayer
    # batch-first (its MatMuls run over a transposed batch axis) and sequence-first. Both are proven as one
    # sample of their whole input (whole_batch.rs), their Shape → Slice → Concat → Reshape shape
    # arithmetic kept as computed. Own seed: the fixtures above stay as committed.
    torch.manual_seed(97)
    mha = nn.MultiheadAttention(16, 2)
    with torch.no_grad():
        mha.in_proj_bias.normal_(0.0, 0.1)
    save_torch(outdir, "seq_mha_seq_first", Net(lambda s, x: s.m(x, x, x, need_weights=False)[0], m=mha),
               np.random.default_rng(97).standard_normal((5, 1, 16)), dynamic=False)
    enc = nn.TransformerEncoderLayer(16, 2, 32, dropout=0.0, batch_first=True)
    save_torch(outdir, "seq_encoder_batch_first", Net(lambda s, x: s.e(x, src_mask=None, is_causal=False), e=enc),
               np.random.default_rng(98).standard_normal((1, 5, 16)), dynamic=False)
    # the sequence-first layer: its out_proj runs on [T·B, E] and is viewed back as [T, B, E] for the
    # residual Add (one arrangement: a unit axis does not move an element)
    enc = nn.TransformerEncoderLayer(16, 2, 32, dropout=0.0)
    save_torch(outdir, "seq_encoder_seq_first", Net(lambda s, x: s.e(x, src_mask=None, is_causal=False), e=enc),
               np.random.default_rng(99).standard_normal((5, 1, 16)), dynamic=False)
    # a Linear after an Expand of an unsqueezed activation: tract 0.23's optimizer fails on it
    # ("declutter … EinSum"), so `compile` reports the import check as not run and goes on
    torch.manual_seed(100)
    save_torch(outdir, "seq_expand_tract_fails",
               Net(lambda s, x: s.fc2(s.fc1(x).unsqueeze(1).expand(1, 3, 6)), fc1=nn.Linear(8, 6), fc2=nn.Linear(6, 2)),
               np.random.default_rng(100).standard_normal((1, 8)), dynamic=False)


def single_ops(outdir):
    """One-op models: nothing committed per proof (Gemm, Conv, BatchNorm, Div by a
    constant) or no weight layer at all (Relu, Sigmoid, Softmax, Clip)."""
    rng = np.random.default_rng(77)
    N = helper.make_node
    save(outdir, "one_gemm", [N("Gemm", ["input", "w", "b"], ["output"], name="fc", transB=1)],
         [init("w", w(rng, 3, 5)), init("b", w(rng, 3, scale=0.1))], [5], [3], rng.standard_normal(5))
    save(outdir, "one_conv", [N("Conv", ["input", "cw", "cb"], ["output"], name="conv", pads=[1, 1, 1, 1])],
         [init("cw", w(rng, 2, 1, 3, 3)), init("cb", w(rng, 2, scale=0.1))], [1, 5, 5], [2, 5, 5],
         rng.standard_normal((1, 5, 5)))
    save(outdir, "one_batchnorm", [N("BatchNormalization", ["input", "s", "b", "m", "v"], ["output"], name="bn")],
         [init("s", [1.5, 0.7]), init("b", [0.1, -0.2]), init("m", [0.05, -0.1]), init("v", [0.9, 1.2])],
         [2, 3, 3], [2, 3, 3], rng.standard_normal((2, 3, 3)))
    save(outdir, "one_div", [N("Div", ["input", "d"], ["output"], name="div_const")],
         [init("d", 4.0)], [6], [6], rng.standard_normal(6))
    save(outdir, "one_relu", [N("Relu", ["input"], ["output"], name="relu")], [], [7], [7], rng.standard_normal(7))
    save(outdir, "one_sigmoid", [N("Sigmoid", ["input"], ["output"], name="sigmoid")], [], [5], [5],
         rng.standard_normal(5))
    save(outdir, "one_clip", [N("Clip", ["input", "lo", "hi"], ["output"], name="clip")],
         [init("lo", -0.5), init("hi", 1.0)], [6], [6], rng.standard_normal(6))
    save(outdir, "one_softmax", [N("Softmax", ["input"], ["output"], name="softmax", axis=-1)], [], [4], [4],
         rng.standard_normal(4))


def elementwise(outdir):
    """Mul and Sub of two activations: SiLU (x · sigmoid(x)) minus a second branch."""
    rng = np.random.default_rng(2468)
    N = helper.make_node
    save(outdir, "mul_sub_activations", [
        N("Gemm", ["input", "w1", "b1"], ["h"], name="fc1", transB=1),
        N("Sigmoid", ["h"], ["s"], name="sigmoid"),
        N("Mul", ["h", "s"], ["silu"], name="silu_mul"),
        N("Gemm", ["input", "w2", "b2"], ["h2"], name="fc2", transB=1),
        N("Sub", ["silu", "h2"], ["d"], name="sub"),
        N("Gemm", ["d", "w3", "b3"], ["output"], name="fc3", transB=1),
    ], [init("w1", w(rng, 7, 5)), init("b1", w(rng, 7, scale=0.2)),
        init("w2", w(rng, 7, 5)), init("b2", w(rng, 7, scale=0.2)),
        init("w3", w(rng, 3, 7)), init("b3", w(rng, 3, scale=0.1))], [5], [3], rng.standard_normal(5))


# (ONNX op, attributes, opset, first layer: "normal" | "positive" | "wide")
UNARY = [
    ("Exp", {}, OPSET, "normal"),
    ("Log", {}, OPSET, "positive"),
    ("Sqrt", {}, OPSET, "positive"),
    ("Reciprocal", {}, OPSET, "positive"),
    ("Erf", {}, OPSET, "normal"),
    ("Gelu", {}, 20, "normal"),
    ("Gelu", {"approximate": "tanh"}, 20, "normal"),
    ("Elu", {"alpha": 0.7}, OPSET, "normal"),
    ("Selu", {}, OPSET, "normal"),
    ("Celu", {}, OPSET, "normal"),  # tract 0.23 drops alpha from Celu: default only
    ("Softplus", {}, OPSET, "normal"),
    ("Softsign", {}, OPSET, "normal"),
    ("HardSigmoid", {"alpha": 0.25, "beta": 0.4}, OPSET, "wide"),
    ("HardSwish", {}, OPSET, "wide"),
    ("Mish", {}, 18, "normal"),
    ("Abs", {}, OPSET, "normal"),
    ("Neg", {}, OPSET, "normal"),
    ("Sign", {}, OPSET, "normal"),
    ("Sin", {}, OPSET, "wide"),
    ("Cos", {}, OPSET, "wide"),
    ("Floor", {}, OPSET, "wide"),
    ("Ceil", {}, OPSET, "wide"),
    ("Round", {}, OPSET, "wide"),
]


def unary_ops(outdir):
    """Unary table functions: unary_NAME is Gemm → op → Gemm (op in the middle of the graph);
    one_exp, one_gelu_tanh, one_floor are the op alone; unsupported_isinf is refused by name."""
    rng = np.random.default_rng(1357)
    N = helper.make_node
    for op, attrs, opset, kind in UNARY:
        name = "unary_" + op.lower() + ("_tanh" if attrs.get("approximate") == "tanh" else "")
        scale = {"normal": 0.6, "positive": 0.3, "wide": 1.5}[kind]
        w1 = w(rng, 8, 6) * scale
        b1 = np.full(8, 3.0, np.float32) if kind == "positive" else w(rng, 8, scale=0.2)
        save(outdir, name, [
            N("Gemm", ["input", "w1", "b1"], ["h"], name="fc1", transB=1),
            N(op, ["h"], ["u"], name=op.lower() + "_node", **attrs),
            N("Gemm", ["u", "w2", "b2"], ["output"], name="fc2", transB=1),
        ], [init("w1", w1), init("b1", b1), init("w2", w(rng, 3, 8)), init("b2", w(rng, 3, scale=0.1))],
            [6], [3], rng.standard_normal(6), opset=opset)
    save(outdir, "one_exp", [N("Exp", ["input"], ["output"], name="exp")], [], [5], [5], rng.standard_normal(5))
    save(outdir, "one_gelu_tanh", [N("Gelu", ["input"], ["output"], name="gelu", approximate="tanh")], [],
         [6], [6], rng.standard_normal(6), opset=20)
    save(outdir, "one_floor", [N("Floor", ["input"], ["output"], name="floor")], [], [6], [6],
         2.5 * rng.standard_normal(6))
    save(outdir, "unsupported_isinf", [
        N("Gemm", ["input", "w1", "b1"], ["h1"], name="fc1", transB=1),
        N("IsInf", ["h1"], ["output"], name="my_isinf_node"),
    ], [init("w1", w(rng, 4, 4)), init("b1", w(rng, 4, scale=0.1))], [4], [4], rng.standard_normal(4), opset=OPSET)


# The trigonometric and hyperbolic functions and the two shrink-style activations, each in
# the middle of a graph. `small` keeps the first layer's output inside (−1, 1) (Asin, Acos,
# Atanh) and away from tan's poles; `positive` centres it near 3 (Acosh).
UNARY_MORE = [
    ("Tan", {}, "small"),
    ("Asin", {}, "small"),
    ("Acos", {}, "small"),
    ("Atan", {}, "wide"),
    ("Sinh", {}, "normal"),
    ("Cosh", {}, "normal"),
    ("Asinh", {}, "wide"),
    ("Acosh", {}, "positive"),
    ("Atanh", {}, "small"),
    ("ThresholdedRelu", {"alpha": 0.3}, "normal"),
    ("Shrink", {"bias": 0.1, "lambd": 0.4}, "normal"),
]


def unary_more(outdir):
    """unary_NAME for UNARY_MORE: Gemm → op → Gemm."""
    rng = np.random.default_rng(2468)
    N = helper.make_node
    for op, attrs, kind in UNARY_MORE:
        scale = {"small": 0.12, "normal": 0.6, "positive": 0.3, "wide": 1.5}[kind]
        w1 = w(rng, 8, 6) * scale
        b1 = np.full(8, 3.0, np.float32) if kind == "positive" else w(rng, 8, scale=0.2 * min(scale, 1.0))
        save(outdir, "unary_" + op.lower(), [
            N("Gemm", ["input", "w1", "b1"], ["h"], name="fc1", transB=1),
            N(op, ["h"], ["u"], name=op.lower() + "_node", **attrs),
            N("Gemm", ["u", "w2", "b2"], ["output"], name="fc2", transB=1),
        ], [init("w1", w1), init("b1", b1), init("w2", w(rng, 3, 8)), init("b2", w(rng, 3, scale=0.1))],
            [6], [3], rng.standard_normal(6))


def soundness(outdir):
    """Models for issue 12's padding-row forgery, whose clamp tables exclude the all-zero
    row: Clip with a positive min, Clip with a negative max; and a LeakyRelu, whose
    odd-length table the tests edit to f(0) != 0. The first hidden unit of each has zero
    weights and bias, so its pre-activation value is exactly 0 on every input."""
    rng = np.random.default_rng(4321)
    N = helper.make_node
    for name, act in [
        ("clip_positive_min", N("Clip", ["h1", "lo", "hi"], ["a1"], name="clip")),
        ("clip_negative_max", N("Clip", ["h1", "lo", "hi"], ["a1"], name="clip")),
        ("leaky_zero_unit", N("LeakyRelu", ["h1"], ["a1"], name="leaky", alpha=0.2)),
    ]:
        w1 = w(rng, 6, 5, scale=1.0)
        b1 = w(rng, 6, scale=0.3)
        w1[0, :] = 0.0
        b1[0] = 0.0
        lo, hi = {"clip_positive_min": (0.5, 1.5), "clip_negative_max": (-1.5, -0.5)}.get(name, (None, None))
        clip = [init("lo", lo), init("hi", hi)] if lo is not None else []
        save(outdir, name, [
            N("Gemm", ["input", "w1", "b1"], ["h1"], name="fc1", transB=1),
            act,
            N("Gemm", ["a1", "w2", "b2"], ["output"], name="fc2", transB=1),
        ], [init("w1", w1), init("b1", b1)] + clip + [init("w2", w(rng, 3, 6)), init("b2", w(rng, 3, scale=0.1))],
            [5], [3], rng.standard_normal(5))


def glyphs(rng, n, protos):
    labels = rng.integers(0, 10, n)
    x = protos[labels]
    # random 1-pixel shifts, noise, intensity jitter
    shifted = np.empty_like(x)
    for i in range(n):
        img = x[i].reshape(8, 8)
        img = np.roll(img, rng.integers(-1, 2), axis=0)
        img = np.roll(img, rng.integers(-1, 2), axis=1)
        shifted[i] = img.reshape(-1)
    x = shifted * rng.uniform(0.6, 1.0, (n, 1)) + 0.3 * rng.standard_normal((n, 64))
    return np.clip(x, 0.0, 1.0).astype(np.float32), labels.astype(np.int64)


def demo(outdir):
    """64-32-10 MLP trained with plain numpy (Adam, cross-entropy) on synthetic 8x8 glyphs."""
    rng = np.random.default_rng(42)
    protos = (rng.random((10, 64)) < 0.25).astype(np.float32)
    xtr, ytr = glyphs(rng, 3000, protos)
    xte, yte = glyphs(rng, 200, protos)
    params = [w(rng, 64, 32, scale=np.sqrt(2 / 64)), np.zeros(32, np.float32),
              w(rng, 32, 10, scale=np.sqrt(1 / 32)), np.zeros(10, np.float32)]
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    lr, b1, b2, t = 3e-3, 0.9, 0.999, 0
    for epoch in range(15):
        perm = rng.permutation(len(xtr))
        for i in range(0, len(xtr), 64):
            idx = perm[i:i + 64]
            x, y = xtr[idx], ytr[idx]
            h = x @ params[0] + params[1]
            a = np.maximum(h, 0)
            z = a @ params[2] + params[3]
            p = np.exp(z - z.max(1, keepdims=True))
            p /= p.sum(1, keepdims=True)
            dz = p
            dz[np.arange(len(y)), y] -= 1
            dz /= len(y)
            da = dz @ params[2].T
            dh = da * (h > 0)
            grads = [x.T @ dh, dh.sum(0), a.T @ dz, dz.sum(0)]
            t += 1
            for k in range(4):
                m[k] = b1 * m[k] + (1 - b1) * grads[k]
                v[k] = b2 * v[k] + (1 - b2) * grads[k] ** 2
                params[k] -= lr * (m[k] / (1 - b1 ** t)) / (np.sqrt(v[k] / (1 - b2 ** t)) + 1e-8)
    logits = np.maximum(xte @ params[0] + params[1], 0) @ params[2] + params[3]
    acc = float((logits.argmax(1) == yte).mean())
    N = helper.make_node
    # PyTorch-style export: Gemm with transB=1
    save(outdir, "demo_mlp", [
        N("Gemm", ["input", "fc1.weight", "fc1.bias"], ["h1"], name="/fc1/Gemm", transB=1),
        N("Relu", ["h1"], ["a1"], name="/relu/Relu"),
        N("Gemm", ["a1", "fc2.weight", "fc2.bias"], ["output"], name="/fc2/Gemm", transB=1),
    ], [init("fc1.weight", params[0].T), init("fc1.bias", params[1]),
        init("fc2.weight", params[2].T), init("fc2.bias", params[3])], [64], [10], xte[0])
    os.replace(os.path.join(outdir, "demo_mlp.input.json"), os.path.join(outdir, "demo_input.json"))
    np.save(os.path.join(outdir, "demo_test_inputs.npy"), xte)
    np.save(os.path.join(outdir, "demo_test_labels.npy"), yte)
    print(f"demo_mlp: float test accuracy {acc:.3f} on {len(yte)} samples")


if __name__ == "__main__":
    here = os.path.dirname(os.path.abspath(__file__))
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "fixtures"))
