"""ONNX export and the saved parity cases (inputs + PyTorch outputs) that the
onnxruntime-node parity test replays."""
import os
import warnings

import numpy as np
import torch
import torch.nn as nn

OPSET = 17


def _export(module, example, dynamic, output, path):
    # Exported with grad enabled: under no_grad + eval, nn.MultiheadAttention takes a fused
    # fast path that torch.onnx cannot export (DESIGN.md, measured on torch 1.13).
    module.eval()
    with torch.enable_grad(), warnings.catch_warnings():
        # torch 1.13 warns about shape inference of constants in the attention graph; the
        # parity check below is what proves the exported graph right.
        warnings.filterwarnings("ignore", message="The shape inference of prim::Constant")
        torch.onnx.export(module, tuple(example.values()), path, input_names=list(example), output_names=[output],
                          dynamic_axes=dynamic, opset_version=OPSET)


def _shape(tensor, axes):
    return [axes.get(i, n) for i, n in enumerate(tensor.shape)]


def export_model(name, module, example, case, dynamic, output, out):
    """Exports `module` (inputs named and ordered as `example`) to out/onnx/NAME.onnx, saves a
    parity case (`case` inputs, which should differ in its dynamic sizes from `example`, and the
    PyTorch output). `dynamic` names the dynamic axes of every input and of the output. Returns the model's manifest entry: file, opset, parity case, input and
    output names, shapes (dynamic axes named) and dtypes."""
    os.makedirs(os.path.join(out, "onnx"), exist_ok=True)
    _export(module, example, dynamic, output, os.path.join(out, "onnx", f"{name}.onnx"))
    case_dir = os.path.join(out, "parity", name)
    os.makedirs(case_dir, exist_ok=True)
    with torch.no_grad():
        result = module(*case.values())
    for k, v in case.items():
        np.save(os.path.join(case_dir, f"input.{k}.npy"), v.numpy().astype(np.float32))
    np.save(os.path.join(case_dir, f"output.{output}.npy"), result.numpy().astype(np.float32))
    return {
        "file": f"onnx/{name}.onnx",
        "opset": OPSET,
        "parity": f"parity/{name}",
        "inputs": [{"name": k, "dtype": "float32", "shape": _shape(v, dynamic[k])} for k, v in example.items()],
        "outputs": [{"name": output, "dtype": "float32", "shape": _shape(result, dynamic[output])}],
    }


def export_two_tower(model, features, out):
    """query_tower.onnx: query [B, 128] → embedding [B, dim]; item_tower.onnx: text, image [B, 128] → embedding [B, dim].
    Parity cases at batch sizes 7 and 13 (export: 4)."""
    qe, te, ie = features
    batch = {0: "batch"}
    return {
        "query_tower": export_model("query_tower", model.query, {"query": qe[:4]}, {"query": qe[10:17]},
                                    {"query": batch, "embedding": batch}, "embedding", out),
        "item_tower": export_model("item_tower", model.item, {"text": te[:4], "image": ie[:4]}, {"text": te[20:33], "image": ie[20:33]},
                                   {"text": batch, "image": batch, "embedding": batch}, "embedding", out),
    }


class ScoreOutput(nn.Module):
    """A re-ranker with its `score` as the only output (training also reads click, buy, aux)."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, *inputs):
        return self.model(*inputs)["score"]


def rerank_axes(inputs):
    """Dynamic axes of a re-ranker's inputs and of its score output [batch, list]: the query is
    [batch, features]; every other input is [batch, list, …], or [batch, history, …] for names
    starting "hist"."""
    def axes_of(name, tensor):
        if name == "query" or tensor.dim() == 1:
            return {0: "batch"}
        return {0: "batch", 1: "history" if name.startswith("hist") else "list"}
    axes = {k: axes_of(k, v) for k, v in inputs.items()}
    return {**axes, "score": {0: "batch", 1: "list"}}


def export_rerankers(rerankers, out):
    """rerankers: name → (model, example inputs, parity inputs) → manifest entries."""
    return {name: export_model(name, ScoreOutput(model), example, case, rerank_axes(example), "score", out)
            for name, (model, example, case) in rerankers.items()}


def export_weights(name, module, out):
    """out/onnx/NAME.weights.bin: every parameter and buffer of `module` as little-endian float32,
    in state_dict order, for runtimes that implement the architecture themselves (the edge's WASM
    kernel: functions/edge/kernel/). Returns its manifest entry: the file, the architecture it
    claims (`module.architecture`), and each tensor's name, shape and offset (in floats)."""
    tensors, chunks, offset = [], [], 0
    for key, value in module.state_dict().items():
        flat = value.detach().cpu().numpy().astype("<f4").ravel()
        tensors.append({"name": key, "shape": list(value.shape), "offset": offset})
        chunks.append(flat)
        offset += flat.size
    os.makedirs(os.path.join(out, "onnx"), exist_ok=True)
    np.concatenate(chunks).tofile(os.path.join(out, "onnx", f"{name}.weights.bin"))
    return {"file": f"onnx/{name}.weights.bin", "architecture": module.architecture, "floats": offset,
            "tensors": tensors}


def count_flops(model, inputs):
    """Floating-point operations of one forward pass, as torch's profiler counts them (matrix
    products: 2 per multiply-add; elementwise ops it knows). Counted with grad enabled so
    attention takes the same path as the export."""
    model.eval()
    with torch.enable_grad(), torch.profiler.profile(with_flops=True) as prof:
        model(**inputs)
    return int(sum(e.flops for e in prof.key_averages()))
