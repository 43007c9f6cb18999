"""ONNX export and the saved parity cases (inputs + PyTorch outputs) that the
onnxruntime-node parity test replays; the edge head's weights blob and the requests (inputs + PyTorch
scores) its two backends are checked against."""
import os
import shutil
import warnings

import numpy as np
import torch
import torch.nn as nn

OPSET = 17


def _export(module, example, dynamic, output, path):
    # Exported with grad enabled: under no_grad + eval, nn.MultiheadAttention takes a fused
    # path that torch.onnx (torch 1.13) does not export.
    module.eval()
    with torch.enable_grad(), warnings.catch_warnings():
        # torch 1.13 warns about shape inference of constants in the attention graph; the
        # parity check below is what proves the exported graph right.
        warnings.filterwarnings("ignore", message="The shape inference of prim::Constant")
        torch.onnx.export(
            module,
            tuple(example.values()),
            path,
            input_names=list(example),
            output_names=[output],
            dynamic_axes=dynamic,
            opset_version=OPSET,
        )


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
        "inputs": [
            {"name": k, "dtype": "float32", "shape": _shape(v, dynamic[k])} for k, v in example.items()
        ],
        "outputs": [{"name": output, "dtype": "float32", "shape": _shape(result, dynamic[output])}],
    }


def export_two_tower(model, features, out):
    """query_tower.onnx: query [B, 128] → embedding [B, dim]; item_tower.onnx: text, image [B, 128] → embedding [B, dim].
    Parity cases at batch sizes 7 and 13 (export: 4)."""
    qe, te, ie = features
    batch = {0: "batch"}
    return {
        "query_tower": export_model(
            "query_tower",
            model.query,
            {"query": qe[:4]},
            {"query": qe[10:17]},
            {"query": batch, "embedding": batch},
            "embedding",
            out,
        ),
        "item_tower": export_model(
            "item_tower",
            model.item,
            {"text": te[:4], "image": ie[:4]},
            {"text": te[20:33], "image": ie[20:33]},
            {"text": batch, "image": batch, "embedding": batch},
            "embedding",
            out,
        ),
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
    return {
        name: export_model(name, ScoreOutput(model), example, case, rerank_axes(example), "score", out)
        for name, (model, example, case) in rerankers.items()
    }


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
    return {
        "file": f"onnx/{name}.weights.bin",
        "architecture": module.architecture,
        "floats": offset,
        "tensors": tensors,
    }


def load_weights(module, entry, out):
    """The inverse of `export_weights`: sets every parameter and buffer of `module` from the blob
    its manifest entry `entry` names (under `out`). Refuses a blob of another architecture."""
    if entry["architecture"] != module.architecture:
        raise ValueError(f"{entry['file']}: architecture {entry['architecture']}, not {module.architecture}")
    blob = np.fromfile(os.path.join(out, entry["file"]), dtype="<f4")
    if blob.size != entry["floats"]:
        raise ValueError(f"{entry['file']}: {blob.size} floats, the manifest says {entry['floats']}")
    state = {}
    for t in entry["tensors"]:
        n = int(np.prod(t["shape"]))
        state[t["name"]] = torch.from_numpy(blob[t["offset"] : t["offset"] + n].reshape(t["shape"]).copy())
    module.load_state_dict(state, strict=True)
    return module


# The edge head's parity requests: one candidate, cold users, one history item, mid-sized lists,
# the most candidates with the default HISTORY_LIMIT's 50 history items, and its largest, 200.
HEAD_REQUESTS = "edge_head_requests"
HEAD_REQUEST_SIZES = [
    (1, 0),
    (12, 0),
    (50, 1),
    (100, 20),
    (200, 50),
    (20, 200),
]  # (candidates, history items)


def sample_head_requests(queries, items, seed=0):
    """One request per HEAD_REQUEST_SIZES, as the edge head reads one (functions/shared/head-inputs.ts
    `HeadFeatures`): a query vector [E], the candidates' vectors [L, E] and prices [L], the history's
    [H, E] and [H]. Vectors are rows of the release's KV tables (`queries` [Q, E], `items` [N, E],
    int8-dequantized as the edge reads them); prices are log-uniform in 1…1000, around the
    catalog's."""
    queries, items = np.asarray(queries, dtype=np.float32), np.asarray(items, dtype=np.float32)
    rng = np.random.default_rng(seed)

    def records(n):
        rows = rng.choice(len(items), size=n, replace=False)
        return items[rows], np.exp(rng.uniform(0, np.log(1000), n)).astype(np.float32)

    requests = []
    for candidates, history in HEAD_REQUEST_SIZES:
        query = queries[rng.integers(len(queries))]
        vectors, price = records(candidates)
        hist, hist_price = records(history)
        requests.append(
            {"query": query, "items": vectors, "price": price, "history": hist, "hist_price": hist_price}
        )
    return requests


def export_head_requests(head, requests, out):
    """out/parity/edge_head_requests/l{L}-h{H}/: each request's inputs (input.NAME.npy, as
    `sample_head_requests` gives them) and the head's PyTorch scores of it (output.score.npy [L]),
    scored alone — batch 1, no candidate padded — as the edge scores a request. The edge's head
    tests replay them through its WASM kernel and onnxruntime-web (test/workerd/head.test.ts)."""
    root = os.path.join(out, "parity", HEAD_REQUESTS)
    shutil.rmtree(root, ignore_errors=True)
    head.eval()
    for r in requests:
        t = {k: torch.from_numpy(np.asarray(v, dtype=np.float32))[None] for k, v in r.items()}
        candidates, history = t["items"].shape[1], t["history"].shape[1]
        hist, hist_price, hist_mask = t["history"], t["hist_price"], torch.ones(1, history)
        if history == 0:
            # torch's attention needs a key: a cold user is one masked slot, as in training's batches.
            hist, hist_price, hist_mask = (
                torch.zeros(1, 1, hist.shape[2]),
                torch.ones(1, 1),
                torch.zeros(1, 1),
            )
        with torch.no_grad():
            score = head(
                query=t["query"],
                items=t["items"],
                mask=torch.ones(1, candidates),
                history=hist,
                hist_mask=hist_mask,
                price=t["price"],
                hist_price=hist_price,
            )["score"][0]
        case_dir = os.path.join(root, f"l{candidates}-h{history}")
        os.makedirs(case_dir)
        for k, v in r.items():
            np.save(os.path.join(case_dir, f"input.{k}.npy"), np.asarray(v, dtype=np.float32))
        np.save(os.path.join(case_dir, "output.score.npy"), score.numpy().astype(np.float32))
    return f"parity/{HEAD_REQUESTS}"


def count_flops(model, inputs):
    """Floating-point operations of one forward pass, as torch's profiler counts them (matrix
    products: 2 per multiply-add; elementwise ops it knows). Counted with grad enabled so
    attention takes the same path as the export."""
    model.eval()
    with torch.enable_grad(), torch.profiler.profile(with_flops=True) as prof:
        model(**inputs)
    return int(sum(e.flops for e in prof.key_averages()))
