import torch
import torch.nn as nn

from models.export import count_flops
from models.model import ARMMT, PAD_SCORE, PRM, EdgeHead, ExaminationBias, PointwiseText
from models.train import distill_loss


def teacher_inputs(B=2, L=7, H=5, seed=0):
    g = torch.Generator().manual_seed(seed)
    mask = torch.ones(B, L)
    hist_mask = torch.ones(B, H)
    if B > 1:
        mask[1, 4:] = 0  # the second list is shorter
        hist_mask[1] = 0  # a cold user
    return {"query": torch.randn(B, 128, generator=g), "text": torch.randn(B, L, 128, generator=g), "image": torch.randn(B, L, 128, generator=g),
            "price": torch.rand(B, L, generator=g) * 100 + 1, "mask": mask,
            "hist_text": torch.randn(B, H, 128, generator=g), "hist_image": torch.randn(B, H, 128, generator=g), "hist_mask": hist_mask,
            "hist_price": torch.rand(B, H, generator=g) * 100 + 1}


def head_inputs(B=2, L=7, H=5, seed=0):
    t = teacher_inputs(B, L, H, seed)
    g = torch.Generator().manual_seed(seed + 1)
    return {"query": torch.randn(B, 64, generator=g), "items": torch.randn(B, L, 64, generator=g), "mask": t["mask"],
            "history": torch.randn(B, H, 64, generator=g), "hist_mask": t["hist_mask"], "price": t["price"]}


def rerankers():
    torch.manual_seed(0)
    return {"armmt": ARMMT(128, 128, 128, 64, 4), "armmt_no_cafu": ARMMT(128, 128, 128, 64, 4, cafu=False),
            "prm": PRM(128, 128, 128, 64, 4), "pointwise_text": PointwiseText(128, 128, 128, 64, 4)}


def test_every_reranker_scores_real_candidates_and_pads_the_rest():
    x = teacher_inputs()
    for name, model in rerankers().items():
        out = model.eval()(**x)
        assert out["score"].shape == (2, 7), name
        assert torch.isfinite(out["score"][x["mask"] > 0]).all(), name  # the cold user too
        assert (out["score"][x["mask"] == 0] == PAD_SCORE).all(), name
    head = EdgeHead(64, 32, 2).eval()
    h = head_inputs()
    assert torch.isfinite(head(**h)["score"][h["mask"] > 0]).all()


def test_padding_does_not_change_the_scores_of_real_candidates():
    x = teacher_inputs()
    padded = {k: v for k, v in x.items()}
    short = {k: (v[1:, :4] if k in ("text", "image", "price", "mask") else v[1:]) for k, v in x.items()}
    for name, model in rerankers().items():
        model.eval()
        with torch.no_grad():
            torch.testing.assert_close(model(**padded)["score"][1, :4], model(**short)["score"][0], msg=name)


def test_history_padding_does_not_change_the_scores():
    # A warm user's history padded with masked slots (as list_batch pads to the batch's longest).
    x = teacher_inputs(B=1, H=3)
    pad = lambda t: torch.cat([t, torch.randn(1, 2, *t.shape[2:])], dim=1)
    padded = dict(x, hist_text=pad(x["hist_text"]), hist_image=pad(x["hist_image"]), hist_mask=torch.cat([x["hist_mask"], torch.zeros(1, 2)], dim=1),
                  hist_price=torch.cat([x["hist_price"], torch.full((1, 2), 7.0)], dim=1))
    h = head_inputs(B=1, H=3)
    head_padded = dict(h, history=pad(h["history"]), hist_mask=padded["hist_mask"])
    models = {**rerankers(), "head": EdgeHead(64, 32, 2)}
    with torch.no_grad():
        for name, model in models.items():
            model.eval()
            a, b = (model(**h), model(**head_padded)) if name == "head" else (model(**x), model(**padded))
            torch.testing.assert_close(a["score"], b["score"], msg=name)


def test_history_personalizes_armmt_and_the_head():
    x = teacher_inputs()
    model = rerankers()["armmt"].eval()
    other = dict(x, hist_text=torch.randn_like(x["hist_text"]))
    with torch.no_grad():
        assert not torch.allclose(model(**x)["score"][0], model(**other)["score"][0])
        # Masked-out history (the cold user in row 1) has no effect at all.
        torch.testing.assert_close(model(**x)["score"][1], model(**other)["score"][1])
        # The history's price level is a behaviour channel: a pricier past changes the scores.
        pricier = dict(x, hist_price=x["hist_price"] * 5)
        assert not torch.allclose(model(**x)["score"][0], model(**pricier)["score"][0])
        torch.testing.assert_close(model(**x)["score"][1], model(**pricier)["score"][1])
    head = EdgeHead(64, 32, 2).eval()
    h = head_inputs()
    with torch.no_grad():
        assert not torch.allclose(head(**h)["score"][0], head(**dict(h, history=torch.randn_like(h["history"])))["score"][0])


def test_the_head_reads_the_price():
    head = EdgeHead(64, 32, 2).eval()
    h = head_inputs()
    cheaper = dict(h, price=h["price"].clone())
    cheaper["price"][0, 2] /= 4
    with torch.no_grad():
        a, b = head(**h)["score"], head(**cheaper)["score"]
    assert a[0, 2] != b[0, 2]
    torch.testing.assert_close(a[1], b[1])  # only the list whose price changed


def test_list_context_matters_for_list_models_not_for_the_pointwise_baseline():
    x = teacher_inputs()
    changed = dict(x, text=x["text"].clone())
    changed["text"][:, 0] += 3.0  # change candidate 0 only
    for name, model in rerankers().items():
        with torch.no_grad():
            a, b = model.eval()(**x)["score"][0, 1:4], model(**changed)["score"][0, 1:4]
        assert torch.allclose(a, b) == (name == "pointwise_text"), name


def test_examination_bias_is_a_log_probability_per_position():
    bias = ExaminationBias(positions=10)
    lp = bias(torch.tensor([[0, 3, 50]]))
    assert (lp < 0).all()
    assert lp[0, 2] == bias(torch.tensor([[9]]))[0, 0]  # clamped to the last position


def test_distill_loss_is_zero_for_the_teacher_itself_and_ignores_pads():
    t = torch.tensor([[1.0, 0.5, PAD_SCORE], [0.2, -1.0, 3.0]])
    assert distill_loss(t, t).abs().item() < 1e-6
    assert distill_loss(t + 5.0, t).abs().item() < 1e-5  # list-wise: shifts do not matter
    assert distill_loss(torch.tensor([[0.5, 1.0, PAD_SCORE], [0.2, -1.0, 3.0]]), t).item() > 0.01


def test_flop_count_matches_a_linear_layers_multiply_adds():
    layer = nn.Linear(16, 8)

    class Wrap(nn.Module):
        def __init__(self):
            super().__init__()
            self.layer = layer

        def forward(self, x):
            return self.layer(x)

    assert count_flops(Wrap(), {"x": torch.randn(10, 16)}) == 2 * 10 * 16 * 8


def test_the_head_costs_a_tenth_of_the_teacher_or_less():
    teacher = ARMMT(128, 128, 128, 64, 4)
    head = EdgeHead(64, 32, 2)
    assert count_flops(head, head_inputs(1, 100, 20)) * 10 <= count_flops(teacher, teacher_inputs(1, 100, 20))


def test_rerank_axes_keep_the_query_width_fixed():
    from models.export import rerank_axes
    axes = rerank_axes(head_inputs(2, 5, 3))
    assert axes["query"] == {0: "batch"}
    assert axes["items"] == {0: "batch", 1: "list"} and axes["mask"] == {0: "batch", 1: "list"}
    assert axes["history"] == {0: "batch", 1: "history"} and axes["hist_mask"] == {0: "batch", 1: "history"}
    assert axes["price"] == {0: "batch", 1: "list"}
    assert axes["score"] == {0: "batch", 1: "list"}


def test_the_teacher_family_encoders_come_from_the_two_tower_frozen():
    from models.model import TwoTower, init_from_two_tower
    torch.manual_seed(0)
    two_tower = TwoTower(128, 128, 128, 64, 4, "fusion")
    model = ARMMT(128, 128, 128, 64, 4)
    init_from_two_tower(model, two_tower)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-2)
    x = teacher_inputs()
    model(**x)["score"][x["mask"] > 0].sum().backward()
    opt.step()
    after = model.state_dict()
    for mine, theirs in ((model.query, two_tower.query.net), (model.text, two_tower.item.text_proj), (model.image, two_tower.item.image_proj)):
        torch.testing.assert_close(mine.state_dict(), theirs.state_dict())  # set, and unchanged by the step
    assert any(not torch.equal(before[k], after[k]) for k in after if k.startswith("item_rep"))  # the rest trains
