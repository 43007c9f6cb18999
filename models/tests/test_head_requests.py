import copy
import json
import os

import numpy as np
import pytest
import torch

from models.export import HEAD_REQUEST_SIZES, HEAD_REQUESTS, load_weights
from models.head_requests import main as write_head_requests
from models.head_requests import release_head
from models.model import EdgeHead

RELEASE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # models/
HEAD_INPUTS = ["query", "items", "mask", "history", "hist_mask", "price", "hist_price"]


def test_the_weights_blob_rebuilds_the_head_that_scored_the_committed_parity_case():
    # The parity case was written by training's own module, so this proves the blob is that head.
    case = os.path.join(RELEASE, "parity", "edge_head")
    inputs = {k: torch.from_numpy(np.load(os.path.join(case, f"input.{k}.npy"))) for k in HEAD_INPUTS}
    with torch.no_grad():
        score = release_head(RELEASE).eval()(**inputs)["score"].numpy()
    np.testing.assert_allclose(score, np.load(os.path.join(case, "output.score.npy")), rtol=0, atol=1e-5)


def test_load_weights_refuses_a_blob_of_another_architecture():
    with open(os.path.join(RELEASE, "manifest.json")) as f:
        entry = json.load(f)["models"]["edge_head"]["weights"]
    wider = copy.deepcopy(entry)
    wider["architecture"]["dim"] += 8
    with pytest.raises(ValueError, match="architecture"):
        load_weights(
            EdgeHead(64, entry["architecture"]["dim"], entry["architecture"]["heads"]), wider, RELEASE
        )


def test_the_committed_head_requests_are_what_the_release_exports_now(tmp_path):
    # The same manifest, weights blob and KV embeddings, in a scratch release: inputs must match
    # exactly, torch's scores to float rounding (thread counts may sum in another order).
    for name in ["manifest.json", "onnx/edge_head.weights.bin", "embeddings"]:
        os.makedirs(os.path.dirname(tmp_path / name), exist_ok=True)
        src = os.path.join(RELEASE, name)
        os.symlink(src, tmp_path / name)
    write_head_requests(["--release", str(tmp_path)])
    committed = os.path.join(RELEASE, "parity", HEAD_REQUESTS)
    fresh = tmp_path / "parity" / HEAD_REQUESTS
    assert sorted(os.listdir(committed)) == sorted(os.listdir(fresh))
    assert sorted(os.listdir(committed)) == sorted(f"l{l}-h{h}" for l, h in HEAD_REQUEST_SIZES)
    for case in os.listdir(committed):
        for file in sorted(os.listdir(os.path.join(committed, case))):
            want, got = np.load(os.path.join(committed, case, file)), np.load(fresh / case / file)
            assert want.shape == got.shape, f"{case}/{file}"
            tolerance = 1e-6 if file.startswith("output.") else 0
            np.testing.assert_allclose(got, want, rtol=0, atol=tolerance, err_msg=f"{case}/{file}")


def test_a_cold_users_request_scores_as_one_with_a_masked_history():
    # export_head_requests scores H = 0 with one masked slot; any masked history must score the same.
    head = release_head(RELEASE).eval()
    g = torch.Generator().manual_seed(0)
    request = {
        "query": torch.randn(1, 64, generator=g),
        "items": torch.randn(1, 9, 64, generator=g),
        "mask": torch.ones(1, 9),
        "price": torch.rand(1, 9, generator=g) * 100 + 1,
    }
    one_slot = dict(
        request, history=torch.zeros(1, 1, 64), hist_mask=torch.zeros(1, 1), hist_price=torch.ones(1, 1)
    )
    three_slots = dict(
        request,
        history=torch.randn(1, 3, 64, generator=g),
        hist_mask=torch.zeros(1, 3),
        hist_price=torch.full((1, 3), 7.0),
    )
    with torch.no_grad():
        torch.testing.assert_close(head(**one_slot)["score"], head(**three_slots)["score"])
