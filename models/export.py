"""ONNX export and the saved parity cases (inputs + PyTorch outputs) that the
onnxruntime-node parity test replays."""
import os

import numpy as np
import torch

OPSET = 17


def _export(module, inputs, names, outputs, dynamic, path):
    # Exported with grad enabled: under no_grad + eval, nn.MultiheadAttention takes a fused
    # fast path that torch.onnx cannot export (DESIGN.md, measured on torch 1.13).
    module.eval()
    with torch.enable_grad():
        torch.onnx.export(module, inputs, path, input_names=names, output_names=outputs, dynamic_axes=dynamic, opset_version=OPSET)


class _ItemTower(torch.nn.Module):
    def __init__(self, tower):
        super().__init__()
        self.tower = tower

    def forward(self, text, image):
        return self.tower(text, image)


def export_two_tower(model, world, out):
    """query_tower.onnx: query [B, 128] → embedding [B, dim]; item_tower.onnx: text, image [B, 128] → embedding [B, dim]."""
    onnx_dir = os.path.join(out, "onnx")
    parity_dir = os.path.join(out, "parity")
    os.makedirs(onnx_dir, exist_ok=True)
    os.makedirs(parity_dir, exist_ok=True)
    qe = torch.from_numpy(np.array(world["query_emb"]))
    te = torch.from_numpy(np.array(world["item_text_emb"]))
    ie = torch.from_numpy(np.array(world["item_image_emb"]))
    files = {}

    q_path = os.path.join(onnx_dir, "query_tower.onnx")
    _export(model.query, (qe[:4],), ["query"], ["embedding"], {"query": {0: "batch"}, "embedding": {0: "batch"}}, q_path)
    i_path = os.path.join(onnx_dir, "item_tower.onnx")
    wrapped = _ItemTower(model.item)
    _export(wrapped, (te[:4], ie[:4]), ["text", "image"], ["embedding"], {"text": {0: "batch"}, "image": {0: "batch"}, "embedding": {0: "batch"}}, i_path)

    # Parity cases at a batch size other than the export's (4).
    with torch.no_grad():
        model.eval()
        cases = {
            "query_tower": ({"query": qe[10:17]}, model.query(qe[10:17])),
            "item_tower": ({"text": te[20:33], "image": ie[20:33]}, wrapped(te[20:33], ie[20:33])),
        }
    for name, (inputs, output) in cases.items():
        files[name] = {"file": f"onnx/{name}.onnx", "opset": OPSET, "parity": f"parity/{name}"}
        case = os.path.join(parity_dir, name)
        os.makedirs(case, exist_ok=True)
        for k, v in inputs.items():
            np.save(os.path.join(case, f"input.{k}.npy"), v.numpy().astype(np.float32))
        np.save(os.path.join(case, "output.embedding.npy"), output.numpy().astype(np.float32))
    dim = model.query.net[-1].out_features
    files["query_tower"]["inputs"] = [{"name": "query", "dtype": "float32", "shape": ["batch", qe.shape[1]]}]
    files["item_tower"]["inputs"] = [{"name": "text", "dtype": "float32", "shape": ["batch", te.shape[1]]},
                                     {"name": "image", "dtype": "float32", "shape": ["batch", ie.shape[1]]}]
    for name in files:
        files[name]["outputs"] = [{"name": "embedding", "dtype": "float32", "shape": ["batch", dim]}]
    return files
