import torch
import torch.nn as nn

from models.export import count_flops
from models.model import ARMMT, PAD_SCORE, PRM, EdgeHead, ExaminationBias, PointwiseText
from models.config import RerankConfig
from models.model import LogPrice, Standardize
from models.train import BestPass, distill_loss, get_lr, listwise_loss, make_optimizer


def teacher_inputs(B=2, L=7, H=5, seed=0):
    g = torch.Generator().manual_seed(seed)
    mask = torch.ones(B, L)
    hist_mask = torch.ones(B, H)
    if B > 1:
        mask[1, 4:] = 0  # the second list is shorter
        hist_mask[1] = 0  # a cold user
    return {
        "query": torch.randn(B, 128, generator=g),
        "text": torch.randn(B, L, 128, generator=g),
        "image": torch.randn(B, L, 128, generator=g),
        "price": torch.rand(B, L, generator=g) * 100 + 1,
        "mask": mask,
        "hist_text": torch.randn(B, H, 128, generator=g),
        "hist_image": torch.randn(B, H, 128, generator=g),
        "hist_mask": hist_mask,
        "hist_price": torch.rand(B, H, generator=g) * 100 + 1,
    }


def head_inputs(B=2, L=7, H=5, seed=0):
    t = teacher_inputs(B, L, H, seed)
    g = torch.Generator().manual_seed(seed + 1)
    return {
        "query": torch.randn(B, 64, generator=g),
        "items": torch.randn(B, L, 64, generator=g),
        "mask": t["mask"],
        "history": torch.randn(B, H, 64, generator=g),
        "hist_mask": t["hist_mask"],
        "price": t["price"],
        "hist_price": t["hist_price"],
    }


HEAD = RerankConfig()


def edge_head():
    return EdgeHead(64, HEAD.head_dim, HEAD.head_heads)


def rerankers():
    torch.manual_seed(0)
    return {
        "armmt": ARMMT(128, 128, 128, 64, 4),
        "armmt_no_cafu": ARMMT(128, 128, 128, 64, 4, cafu=False),
        "prm": PRM(128, 128, 128, 64, 4),
        "pointwise_text": PointwiseText(128, 128, 128, 64, 4),
    }


def test_every_reranker_scores_real_candidates_and_pads_the_rest():
    x = teacher_inputs()
    for name, model in rerankers().items():
        out = model.eval()(**x)
        assert out["score"].shape == (2, 7), name
        assert torch.isfinite(out["score"][x["mask"] > 0]).all(), name  # the cold user too
        assert (out["score"][x["mask"] == 0] == PAD_SCORE).all(), name
    head = edge_head().eval()
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
    padded = dict(
        x,
        hist_text=pad(x["hist_text"]),
        hist_image=pad(x["hist_image"]),
        hist_mask=torch.cat([x["hist_mask"], torch.zeros(1, 2)], dim=1),
        hist_price=torch.cat([x["hist_price"], torch.full((1, 2), 7.0)], dim=1),
    )
    h = head_inputs(B=1, H=3)
    head_padded = dict(
        h, history=pad(h["history"]), hist_mask=padded["hist_mask"], hist_price=padded["hist_price"]
    )
    models = {**rerankers(), "head": edge_head()}
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
    head = edge_head().eval()
    h = head_inputs()
    with torch.no_grad():
        assert not torch.allclose(
            head(**h)["score"][0], head(**dict(h, history=torch.randn_like(h["history"])))["score"][0]
        )
        # The head reads the history's prices too (KV serves them beside each history vector).
        pricier = head(**dict(h, hist_price=h["hist_price"] * 5))["score"]
        assert not torch.allclose(head(**h)["score"][0], pricier[0])
        torch.testing.assert_close(head(**h)["score"][1], pricier[1])  # the cold user's history is masked


def test_the_head_reads_the_price():
    head = edge_head().eval()
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
    head = edge_head()
    assert count_flops(head, head_inputs(1, 100, 20)) * 10 <= count_flops(teacher, teacher_inputs(1, 100, 20))


def test_rerank_axes_keep_the_query_width_fixed():
    from models.export import rerank_axes

    axes = rerank_axes(head_inputs(2, 5, 3))
    assert axes["query"] == {0: "batch"}
    assert axes["items"] == {0: "batch", 1: "list"} and axes["mask"] == {0: "batch", 1: "list"}
    assert axes["history"] == {0: "batch", 1: "history"} and axes["hist_mask"] == {0: "batch", 1: "history"}
    assert axes["price"] == {0: "batch", 1: "list"}
    assert axes["score"] == {0: "batch", 1: "list"}


def test_standardize_fits_the_catalog_and_travels_with_the_model():
    g = torch.Generator().manual_seed(0)
    catalog = 0.09 * torch.randn(500, 8, generator=g) + 0.3
    norm = Standardize(8).fit(catalog)
    z = norm(catalog)
    torch.testing.assert_close(z.mean(0), torch.zeros(8), atol=1e-5, rtol=0)
    torch.testing.assert_close(z.std(0), torch.ones(8), atol=1e-5, rtol=0)
    assert set(norm.state_dict()) == {"mean", "std"}  # buffers: exported and saved with the weights


def test_log_price_standardizes_log_prices_to_one_channel():
    prices = torch.tensor([1.0, 10.0, 100.0])
    out = LogPrice().fit(prices)(prices[None])
    assert out.shape == (1, 3, 1)
    torch.testing.assert_close(out[0, :, 0], torch.tensor([-1.0, 0.0, 1.0]))


def test_teacher_inputs_fit_every_feature_and_change_the_scores():
    model = rerankers()["armmt"].eval()
    x = teacher_inputs()
    with torch.no_grad():
        before = model(**x)["score"]
        model.inputs.fit(
            x["query"] * 3, x["text"].flatten(0, 1) + 1, x["image"].flatten(0, 1), x["price"].flatten()
        )
        after = model(**x)["score"]
    assert not torch.allclose(before[x["mask"] > 0], after[x["mask"] > 0])


def test_listwise_loss_is_lower_when_the_clicked_item_ranks_first():
    log_exam = torch.zeros(1, 3)
    click, purchase = torch.tensor([[0.0, 1.0, 0.0]]), torch.zeros(1, 3)
    good = listwise_loss(torch.tensor([[0.0, 2.0, 0.0]]), log_exam, click, purchase)
    bad = listwise_loss(torch.tensor([[2.0, 0.0, 0.0]]), log_exam, click, purchase)
    assert good < bad


def test_listwise_loss_weighs_a_deep_click_up_by_its_examination():
    scores = torch.zeros(1, 2, requires_grad=True)
    log_exam = torch.log(torch.tensor([[1.0, 0.25]]))
    listwise_loss(scores, log_exam, torch.tensor([[1.0, 1.0]]), torch.zeros(1, 2)).backward()
    # Two clicks, the second seen a quarter as often: it counts four times as much (target 0.2, 0.8),
    # so from equal scores the loss pushes the first down and the second up.
    torch.testing.assert_close(scores.grad, torch.tensor([[0.3, -0.3]]))


def test_listwise_loss_ignores_lists_without_a_click():
    assert (
        listwise_loss(torch.randn(2, 4), torch.zeros(2, 4), torch.zeros(2, 4), torch.zeros(2, 4)).item() == 0
    )


def test_learning_rate_warms_up_then_decays_to_its_floor():
    rc = RerankConfig(lr=1e-2, warmup=10, min_lr_share=0.1)
    assert get_lr(0, 100, rc) == 1e-3
    assert abs(get_lr(9, 100, rc) - 1e-2) < 1e-12
    assert get_lr(50, 100, rc) < get_lr(20, 100, rc)
    assert abs(get_lr(100, 100, rc) - 1e-3) < 1e-12


def test_best_pass_restores_the_weights_of_the_lowest_validation_loss():
    model = torch.nn.Linear(3, 2)
    best = BestPass(model)
    best.offer(2.0)
    kept = model.weight.detach().clone()
    with torch.no_grad():
        model.weight.add_(1.0)
    best.offer(2.5)  # worse: not kept
    with torch.no_grad():
        model.weight.add_(1.0)
    best.restore()
    assert torch.equal(model.weight, kept)


def test_weight_decay_switches_adam_to_adamw():
    params = [torch.nn.Parameter(torch.zeros(2))]
    assert type(make_optimizer(params, RerankConfig(weight_decay=0.0))) is torch.optim.Adam
    opt = make_optimizer(params, RerankConfig(weight_decay=0.05))
    assert type(opt) is torch.optim.AdamW and opt.param_groups[0]["weight_decay"] == 0.05
