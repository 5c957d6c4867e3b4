"""Ordinary exported models, as a user would bring them: torchvision CNNs and tiny Hugging Face
transformers with random weights, exported by PyTorch (the HF GPT-2 through the dynamo exporter,
which writes its weights as ONNX external data). Writes DIR/<name>/{model.onnx, input.json,
reference.json}, the corpus layout `zkinfer coverage DIR` reads (onnxruntime's outputs as the
reference). By hand, not CI: `pip install -r scripts/requirements-zoo.txt`, then
`python3 scripts/make_model_zoo.py /tmp/zoo && zkinfer coverage /tmp/zoo`.

Usage: make_model_zoo.py DIR [cnn] [hf]   (both by default)
"""
import json
import os
import shutil
import sys

import numpy as np
import onnxruntime as ort
import torch


def randomize_batchnorm(model):
    """Running statistics away from the identity, as a trained network's are."""
    for mod in model.modules():
        if isinstance(mod, (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d)):
            with torch.no_grad():
                mod.running_mean.uniform_(-0.2, 0.2)
                mod.running_var.uniform_(0.5, 1.5)
                mod.weight.uniform_(0.5, 1.5)
                mod.bias.uniform_(-0.2, 0.2)
    return model


def save(out, name, model, args, input_names, dynamo=False):
    d = os.path.join(out, name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    path = os.path.join(d, "model.onnx")
    model.eval()
    torch.onnx.export(model, args, path, input_names=input_names,
                      opset_version=18 if dynamo else 17, dynamo=dynamo)
    sess = ort.InferenceSession(path)
    outs = sess.run(None, {i.name: a.numpy() for i, a in zip(sess.get_inputs(), args)})
    with open(os.path.join(d, "input.json"), "w") as f:
        json.dump({"input_data": [a.numpy().flatten().tolist() for a in args]}, f)
    with open(os.path.join(d, "reference.json"), "w") as f:
        json.dump({"outputs": [{"name": o.name, "shape": list(v.shape),
                                "data": v.flatten().astype(float).tolist()}
                               for o, v in zip(sess.get_outputs(), outs)]}, f)
    print(name, [v.shape for v in outs], flush=True)


class LastTensor(torch.nn.Module):
    """An HF model called with one keyword input, returning its logits or last hidden state."""

    def __init__(self, model, key):
        super().__init__()
        self.model, self.key = model, key

    def forward(self, x):
        kw = {self.key: x}
        if self.key == "input_ids" and hasattr(self.model.config, "use_cache"):
            kw["use_cache"] = False
        out = self.model(**kw, return_dict=True)
        return out.logits if hasattr(out, "logits") else out.last_hidden_state


class WithMask(torch.nn.Module):
    """A sequence classifier called with token ids and an attention mask, returning its logits."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, ids, mask):
        return self.model(input_ids=ids, attention_mask=mask, return_dict=True).logits


def cnns(out):
    import torchvision.models as tvm
    image = (torch.rand(1, 3, 64, 64),)
    for name, make in [
        ("resnet18", tvm.resnet18), ("mobilenet_v2", tvm.mobilenet_v2),
        ("mobilenet_v3_small", tvm.mobilenet_v3_small), ("squeezenet1_1", tvm.squeezenet1_1),
        ("shufflenet_v2_x0_5", tvm.shufflenet_v2_x0_5), ("efficientnet_b0", tvm.efficientnet_b0),
        ("mnasnet0_5", tvm.mnasnet0_5), ("regnet_x_400mf", tvm.regnet_x_400mf),
        ("densenet121", tvm.densenet121),
        ("googlenet", lambda num_classes: tvm.googlenet(num_classes=num_classes, aux_logits=False,
                                                        init_weights=True)),
    ]:
        save(out, name, randomize_batchnorm(make(num_classes=10)), image, ["image"])


def transformers_tiny(out):
    from transformers import (BertConfig, BertForSequenceClassification, BertModel,
                              DistilBertConfig, DistilBertModel, GPT2Config, GPT2LMHeadModel,
                              ViTConfig, ViTForImageClassification)
    ids = (torch.randint(0, 100, (1, 16)),)
    save(out, "hf_bert_tiny", LastTensor(BertModel(BertConfig(
        vocab_size=100, hidden_size=64, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=128, max_position_embeddings=32)), "input_ids"), ids, ["input_ids"])
    save(out, "hf_distilbert_tiny", LastTensor(DistilBertModel(DistilBertConfig(
        vocab_size=100, dim=64, n_layers=2, n_heads=2, hidden_dim=128,
        max_position_embeddings=32)), "input_ids"), ids, ["input_ids"])
    # Its mask construction does not export with the TorchScript exporter (aten::diff).
    save(out, "hf_gpt2_tiny", LastTensor(GPT2LMHeadModel(GPT2Config(
        vocab_size=100, n_embd=64, n_layer=2, n_head=2, n_positions=32)), "input_ids"),
        ids, ["input_ids"], dynamo=True)
    # Sequence classification with a padding mask (the usual call): an additive mask the model
    # computes. Through the dynamo exporter; TorchScript's export flattens the mask off the batch
    # axis (refused).
    bert = BertForSequenceClassification(BertConfig(
        vocab_size=100, hidden_size=64, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=128, max_position_embeddings=32, num_labels=3))
    mask = torch.ones(1, 16, dtype=torch.int64)
    mask[0, 12:] = 0
    save(out, "hf_bert_masked_tiny", WithMask(bert), (ids[0], mask),
         ["input_ids", "attention_mask"], dynamo=True)
    save(out, "hf_vit_tiny", LastTensor(ViTForImageClassification(ViTConfig(
        image_size=32, patch_size=8, num_channels=3, hidden_size=64, num_hidden_layers=2,
        num_attention_heads=2, intermediate_size=128, num_labels=10)), "pixel_values"),
        (torch.rand(1, 3, 32, 32),), ["pixel_values"])


if __name__ == "__main__":
    torch.manual_seed(0)
    out, which = sys.argv[1], sys.argv[2:] or ["cnn", "hf"]
    os.makedirs(out, exist_ok=True)
    if "cnn" in which:
        cnns(out)
    if "hf" in which:
        transformers_tiny(out)
