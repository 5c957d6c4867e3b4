#!/usr/bin/env python3
"""Exports the ONNX package's PyTorch conformance models (onnx/backend/test/data/
pytorch-converted and pytorch-operator) in the layout `zkinfer coverage` reads:
one directory per model with model.onnx, input.json (one entry per graph input,
flattened with its batch axis) and reference.json (the stored expected outputs).

    python3 scripts/onnx_conformance.py target/onnx-conformance
    cargo run --release -- coverage target/onnx-conformance
"""
import glob
import json
import os
import shutil
import sys

import numpy as np
import onnx
from onnx import numpy_helper


def tensor(path):
    t = onnx.TensorProto()
    with open(path, "rb") as f:
        t.ParseFromString(f.read())
    return numpy_helper.to_array(t)


def main(out):
    base = os.path.join(os.path.dirname(onnx.__file__), "backend", "test", "data")
    count = 0
    for sub in ["pytorch-converted", "pytorch-operator"]:
        for d in sorted(glob.glob(os.path.join(base, sub, "*"))):
            ins = sorted(glob.glob(os.path.join(d, "test_data_set_0", "input_*.pb")))
            outs = sorted(glob.glob(os.path.join(d, "test_data_set_0", "output_*.pb")))
            if not ins or not outs:
                continue
            dst = os.path.join(out, os.path.basename(d))
            os.makedirs(dst, exist_ok=True)
            shutil.copy(os.path.join(d, "model.onnx"), os.path.join(dst, "model.onnx"))
            xs = [tensor(p) for p in ins]
            with open(os.path.join(dst, "input.json"), "w") as f:
                json.dump({"input_data": [x.astype(np.float64).reshape(-1).tolist() for x in xs]}, f)
            refs = []
            for i, p in enumerate(outs):
                y = tensor(p)
                refs.append({"name": f"output_{i}", "shape": list(y.shape), "dtype": str(y.dtype),
                             "data": y.astype(np.float64).reshape(-1).tolist()})
            with open(os.path.join(dst, "reference.json"), "w") as f:
                json.dump({"outputs": refs}, f)
            count += 1
    print(f"{count} models in {out}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "target/onnx-conformance")
