"""ONNX export and the saved parity cases (inputs + PyTorch outputs) that the
onnxruntime-node parity test replays."""
import os
import warnings

import numpy as np
import torch

OPSET = 17


def _export(module, inputs, input_names, path):
    # Exported with grad enabled: under no_grad + eval, nn.MultiheadAttention takes a fused
    # fast path that torch.onnx cannot export (DESIGN.md, measured on torch 1.13).
    module.eval()
    dynamic = {name: {0: "batch"} for name in [*input_names, "embedding"]}
    with torch.enable_grad(), warnings.catch_warnings():
        # torch 1.13 warns about shape inference of constants in the attention graph; the
        # parity check below is what proves the exported graph right.
        warnings.filterwarnings("ignore", message="The shape inference of prim::Constant")
        torch.onnx.export(module, inputs, path, input_names=input_names, output_names=["embedding"], dynamic_axes=dynamic, opset_version=OPSET)


def export_two_tower(model, features, out):
    """query_tower.onnx: query [B, 128] → embedding [B, dim]; item_tower.onnx: text, image [B, 128] → embedding [B, dim].

    Returns each model's manifest entry: file, opset, parity case, input/output names, shapes, dtypes.
    """
    qe, te, ie = features
    dim = model.query.net[-1].out_features
    # name → (module, export inputs, parity inputs at another batch size than the export's 4)
    towers = {
        "query_tower": (model.query, {"query": qe[:4]}, {"query": qe[10:17]}),
        "item_tower": (model.item, {"text": te[:4], "image": ie[:4]}, {"text": te[20:33], "image": ie[20:33]}),
    }
    specs = {}
    for name, (module, example, case_inputs) in towers.items():
        os.makedirs(os.path.join(out, "onnx"), exist_ok=True)
        _export(module, tuple(example.values()), list(example), os.path.join(out, "onnx", f"{name}.onnx"))
        case = os.path.join(out, "parity", name)
        os.makedirs(case, exist_ok=True)
        with torch.no_grad():
            output = module(*case_inputs.values())
        for k, v in case_inputs.items():
            np.save(os.path.join(case, f"input.{k}.npy"), v.numpy().astype(np.float32))
        np.save(os.path.join(case, "output.embedding.npy"), output.numpy().astype(np.float32))
        specs[name] = {
            "file": f"onnx/{name}.onnx",
            "opset": OPSET,
            "parity": f"parity/{name}",
            "inputs": [{"name": k, "dtype": "float32", "shape": ["batch", v.shape[1]]} for k, v in example.items()],
            "outputs": [{"name": "embedding", "dtype": "float32", "shape": ["batch", dim]}],
        }
    return specs
