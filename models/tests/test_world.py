import numpy as np
import pytest
import torch

from models.world import World


def test_reads_every_array_as_the_manifest_describes(smoke_world_dir):
    w = World(smoke_world_dir, verify=True)
    assert w.manifest["synthetic"] is True
    c = w.counts
    assert w["item_text_emb"].shape == (c["items"], w.manifest["dims"]["text"])
    assert w["cand_item"].shape == (c["candidates"],)
    assert w.offset[-1] == c["candidates"]
    assert sum(len(w.sessions(s)) for s in ("train", "valid", "test")) == c["sessions"]
    assert len(w.metadata("items")) == c["items"]
    # Embeddings are unit vectors, as the generator documents.
    norms = np.linalg.norm(w["item_image_emb"][:100], axis=1)
    np.testing.assert_allclose(norms, 1.0, atol=1e-5)


def test_verify_rejects_a_corrupted_file(smoke_world_dir, tmp_path):
    import shutil

    copy = tmp_path / "w"
    shutil.copytree(smoke_world_dir, copy)
    data = bytearray((copy / "cand_purchase.npy").read_bytes())
    data[-1] ^= 1
    (copy / "cand_purchase.npy").write_bytes(bytes(data))
    with pytest.raises(ValueError, match="cand_purchase.npy: sha256"):
        World(str(copy), verify=True)


def test_truth_is_the_documented_choice_model(smoke_world_dir):
    """Cross-language check: the stored truth equals σ(v + bias) recomputed in Python."""
    w = World(smoke_world_dir)
    v = np.asarray(w["cand_utility"], np.float64).sum(axis=1)
    sig = lambda x: 1 / (1 + np.exp(-x))
    p_click = sig(v + w.choice["clickBias"])
    p_purchase = p_click * sig(v + w.choice["purchaseBias"])
    np.testing.assert_allclose(w["cand_p_click"], p_click, atol=2e-6)
    np.testing.assert_allclose(w["cand_p_purchase"], p_purchase, atol=2e-6)
    assert np.all(w["cand_purchase"] <= w["cand_click"])


def first_len(w, s):
    return int(w.offset[s + 1] - w.offset[s])


def test_list_batch_pads_lists_and_histories(smoke_world_dir):
    w = World(smoke_world_dir)
    sessions = w.sessions("test")[:8]
    batch = {k: torch.from_numpy(v) for k, v in w.list_batch(sessions).items()}
    B = len(sessions)
    L = int(w.session[sessions, 3].max())
    full = np.asarray(w["user_history"])[w.session[sessions, 0]]
    H = max(1, int((full >= 0).sum(1).max()))  # trimmed to the batch's longest history
    assert batch["item"].shape == (B, L) and batch["history"].shape == (B, H)
    # The trimming rule's point, stated apart from its formula: nothing real is cut, and no column
    # past the first is padding for every user.
    assert (full[:, H:] < 0).all()
    assert H == 1 or (full[:, H - 1] >= 0).any()
    np.testing.assert_array_equal(batch["history"].numpy(), full[:, :H])
    assert torch.all(batch["row"][batch["mask"]] >= 0) and torch.all(batch["row"][~batch["mask"]] == -1)
    np.testing.assert_array_equal(
        batch["row"][0, : first_len(w, sessions[0])].numpy(),
        np.arange(w.offset[sessions[0]], w.offset[sessions[0] + 1]),
    )
    assert torch.equal(batch["mask"].sum(1), torch.from_numpy(w.session[sessions, 3].astype(np.int64)))
    assert torch.all(batch["item"][~batch["mask"]] == -1)
    first = w.rows(sessions[0])
    np.testing.assert_array_equal(batch["item"][0, : first.stop - first.start].numpy(), w["cand_item"][first])
