"""The models, in one file (nanoGPT style).

Two-tower retrieval with modality fusion — our reconstruction of "Beyond Text: Aligning Vision and
Language for Multimodal E-Commerce Retrieval" (arXiv 2603.04836). What the paper states: a query
tower and an item tower, a modality fusion network over product text and image, and two-stage
alignment of the query with the text and image modalities. What is ours: every layer size, the
fusion block (one attention layer over [FUSE, text, image] tokens), the losses and schedule.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F


def mlp(d_in, d_hidden, d_out):
    return nn.Sequential(nn.Linear(d_in, d_hidden), nn.GELU(), nn.Linear(d_hidden, d_out))


class QueryTower(nn.Module):
    """Query text embedding [B, 128] → unit vector [B, dim]."""

    def __init__(self, d_in, dim):
        super().__init__()
        self.net = mlp(d_in, 2 * dim, dim)

    def forward(self, query):
        return F.normalize(self.net(query), dim=-1)


class ItemTower(nn.Module):
    """Item text [B, 128] and image [B, 128] embeddings → unit vector [B, dim].

    mode: "fusion" (attention between the modalities), "concat" (naive concatenation → MLP),
    "text" or "image" (one modality only). The projections `text_proj` / `image_proj` are also
    what stage 1 aligns with the query, one modality at a time.
    """

    MODES = ("fusion", "concat", "text", "image")

    def __init__(self, d_text, d_image, dim, heads=4, mode="fusion"):
        super().__init__()
        assert mode in self.MODES, mode
        self.mode = mode
        self.text_proj = mlp(d_text, 2 * dim, dim)
        self.image_proj = mlp(d_image, 2 * dim, dim)
        if mode == "concat":
            self.concat = mlp(d_text + d_image, 2 * dim, dim)
        if mode == "fusion":
            self.fuse_token = nn.Parameter(torch.zeros(1, 1, dim))
            self.modality = nn.Parameter(0.02 * torch.randn(2, dim))  # which token is text, which image
            self.norm1 = nn.LayerNorm(dim)
            self.attn = nn.MultiheadAttention(dim, heads, batch_first=True)
            self.norm2 = nn.LayerNorm(dim)
            self.ff = mlp(dim, 2 * dim, dim)

    def modalities(self, text, image):
        """Stage-1 views: each modality projected alone, unit norm, [B, dim] each."""
        return F.normalize(self.text_proj(text), dim=-1), F.normalize(self.image_proj(image), dim=-1)

    def forward(self, text, image):
        if self.mode == "text":
            return F.normalize(self.text_proj(text), dim=-1)
        if self.mode == "image":
            return F.normalize(self.image_proj(image), dim=-1)
        if self.mode == "concat":
            return F.normalize(self.concat(torch.cat([text, image], dim=-1)), dim=-1)
        t = self.text_proj(text) + self.modality[0]  # [B, dim]
        i = self.image_proj(image) + self.modality[1]  # [B, dim]
        tokens = torch.cat(
            [self.fuse_token.expand(text.shape[0], 1, -1), t[:, None], i[:, None]], dim=1
        )  # [B, 3, dim]
        h = self.norm1(tokens)
        tokens = tokens + self.attn(h, h, h, need_weights=False)[0]
        tokens = tokens + self.ff(self.norm2(tokens))
        # The fused token read out, plus a residual of both modalities so fusion starts near "sum".
        return F.normalize(tokens[:, 0] + t + i, dim=-1)  # [B, dim]


class TwoTower(nn.Module):
    def __init__(self, d_query, d_text, d_image, dim, heads=4, mode="fusion"):
        super().__init__()
        self.query = QueryTower(d_query, dim)
        self.item = ItemTower(d_text, d_image, dim, heads, mode)


def in_batch_nce(q, e, item_ids, temperature):
    """InfoNCE of each query against every item of the batch, [B, dim] × [B, dim] → scalar.

    Rows whose item is the positive's own item elsewhere in the batch are masked out, so a
    popular item is never its own negative.
    """
    logits = q @ e.T / temperature  # [B, B]
    same = item_ids[:, None] == item_ids[None, :]
    logits = logits.masked_fill(same & ~torch.eye(len(q), dtype=torch.bool), float("-inf"))
    return F.cross_entropy(logits, torch.arange(len(q)))


# ---------------------------------------------------------------------------------------------
# Re-ranking: the ARMMT teacher (our reconstruction), its ablation baselines and the distilled
# edge head.
#
# Every re-ranker reads one request — a query, the user's history, a candidate list — and gives
# each candidate two logits: click, and purchase given a click. `score` is
#   log p_click + log(1 + 2 p_buy)  =  log(p_click + 2 p_click p_buy),
# the log of the expected graded gain the evaluation ranks by; it is the only exported output.
# Padded candidates (mask 0) score PAD_SCORE. Masks are float32 (1 real, 0 padding).
# ---------------------------------------------------------------------------------------------

PAD_SCORE = -1e9


class Standardize(nn.Module):
    """x [..., width] → (x − mean) / std per coordinate. The statistics are buffers set from the
    training catalog (`fit`), so they travel with the exported model and every caller sends raw
    features. Why: the features are unit-norm 128-d vectors whose coordinates are ~0.09 each, so
    products of learned projections start vanishingly small and train slowly."""

    def __init__(self, width):
        super().__init__()
        self.register_buffer("mean", torch.zeros(width))
        self.register_buffer("std", torch.ones(width))

    def fit(self, x):  # x [N, width]
        self.mean.copy_(x.mean(0))
        self.std.copy_(x.std(0).clamp(min=1e-6))
        return self

    def forward(self, x):
        return (x - self.mean) / self.std


class LogPrice(Standardize):
    """Price [B, L] → standardized log price [B, L, 1]."""

    def __init__(self):
        super().__init__(1)

    def fit(self, price):  # price [N]
        return super().fit(torch.log(price)[:, None])

    def forward(self, price):
        return super().forward(torch.log(price)[..., None])


def masked_mean(x, mask):
    """[B, H, d] with mask [B, H] → [B, d]; zero for an empty history."""
    return (x * mask[..., None]).sum(1) / mask.sum(1, keepdim=True).clamp(min=1)


class ListBlock(nn.Module):
    """One pre-norm transformer layer over the candidate list (padding masked as keys)."""

    def __init__(self, dim, heads, ff=2):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = nn.MultiheadAttention(dim, heads, batch_first=True)
        self.norm2 = nn.LayerNorm(dim)
        self.ff = mlp(dim, ff * dim, dim)

    def forward(self, x, mask):  # [B, L, d] → [B, L, d]
        h = self.norm1(x)
        x = x + self.attn(h, h, h, key_padding_mask=mask < 0.5, need_weights=False)[0]
        return x + self.ff(self.norm2(x))


class HistoryAttention(nn.Module):
    """Target attention of each candidate over the user's behaviour sequence. A learned null slot
    is always attendable, so a cold user (empty history) is well defined."""

    def __init__(self, dim, heads):
        super().__init__()
        self.null = nn.Parameter(torch.zeros(1, 1, dim))
        self.attn = nn.MultiheadAttention(dim, heads, batch_first=True)

    def forward(self, x, hist, hist_mask):  # x [B, L, d], hist [B, H, d], hist_mask [B, H] → [B, L, d]
        keys = torch.cat([self.null.expand(hist.shape[0], 1, -1), hist], dim=1)  # [B, H+1, d]
        pad = torch.cat([torch.zeros_like(hist_mask[:, :1]), 1 - hist_mask], dim=1) > 0.5
        return self.attn(x, keys, keys, key_padding_mask=pad, need_weights=False)[0]


class GainHead(nn.Module):
    """[B, L, d] → click, buy logits and score (see above), each [B, L]."""

    def __init__(self, dim):
        super().__init__()
        self.out = nn.Linear(dim, 2)

    def forward(self, h, mask):
        click, buy = self.out(h).unbind(-1)
        # log σ(click) written as −softplus(−click): exported as log(Sigmoid(x)), onnxruntime's Sigmoid
        # (accurate in absolute, not relative, terms) put a click logit of −7 off by 2e-4 (measured).
        score = -F.softplus(-click) + torch.log1p(2 * torch.sigmoid(buy))
        return {
            "click": click,
            "buy": buy,
            "score": torch.where(mask > 0.5, score, torch.full_like(score, PAD_SCORE)),
        }


PRICE_CHANNELS = 3


def price_channels(price, hist_price, hist_mask):
    """The history's price level per candidate, [B, L, 3]: mean and std of the history's
    standardized log price, and the candidate's times that mean. `price` [B, L, 1], `hist_price`
    [B, H, 1]. A cold user gets zeros."""
    n = hist_mask.sum(1, keepdim=True).clamp(min=1)  # [B, 1]
    hp = hist_price[..., 0]
    level = (hp * hist_mask).sum(1, keepdim=True) / n  # [B, 1]
    spread = (((hp - level) ** 2) * hist_mask).sum(1, keepdim=True) / n
    L = price.shape[1]
    return torch.stack([level.expand(-1, L), spread.sqrt().expand(-1, L), price[..., 0] * level], dim=-1)


class TeacherInputs(nn.Module):
    """What every teacher-family model does first: standardize the raw query, text and image
    features and the log prices (statistics from the training catalog: `fit`)."""

    def __init__(self, d_query, d_text, d_image):
        super().__init__()
        self.query, self.text, self.image, self.price = (
            Standardize(d_query),
            Standardize(d_text),
            Standardize(d_image),
            LogPrice(),
        )

    def fit(self, query, text, image, price):  # the catalog's [Q, dq], [N, dt], [N, di], [N]
        for norm, x in ((self.query, query), (self.text, text), (self.image, image), (self.price, price)):
            norm.fit(x)


class ContextAwareFusion(nn.Module):
    """CAFU — our reconstruction of ARMMT's Context-Aware Fusion Unit (its Fig. 3; the equations are
    not available to us). What the paper describes: initial modality weights by mean pooling,
    concatenated with the context, an MLP giving the weights of a weighted combination of the
    modalities. Ours, per item, modality m and head h (each head owns a dim/heads slice):
        w[m, h] = softmax over m of MLP([e_m ⊙ c, c, mean_pool(e_m)])[h]
        fused   = W_o · concat_h Σ_m w[m, h] · e_m[h]
    """

    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.context = nn.Linear(dim, dim)
        self.weights = mlp(2 * dim + 1, dim, heads)
        self.out = nn.Linear(dim, dim)

    def forward(self, modal, context):  # modal [B, L, M, d], context [B, d] → [B, L, d]
        c = self.context(context)[:, None, None, :].expand_as(modal)  # [B, L, M, d]
        pooled = modal.mean(-1, keepdim=True)  # [B, L, M, 1]
        w = self.weights(torch.cat([modal * c, c, pooled], dim=-1)).softmax(dim=2)  # [B, L, M, heads]
        per_head = modal.reshape(
            modal.shape[0], modal.shape[1], modal.shape[2], self.heads, -1
        )  # [B, L, M, heads, d/heads]
        fused = (w[..., None] * per_head).sum(2)  # [B, L, heads, d/heads]
        return self.out(fused.flatten(-2))


class ConcatFusion(nn.Module):
    """The "without CAFU" ablation: modalities concatenated and projected, blind to the context."""

    def __init__(self, dim, heads):
        super().__init__()
        self.out = nn.Linear(2 * dim, dim)

    def forward(self, modal, context):  # modal [B, L, 2, d] → [B, L, d]
        return self.out(modal.flatten(-2))


class ARMMT(nn.Module):
    """The teacher — our reconstruction of ARMMT (arXiv 2408.05751), served by the origin.

    From the paper: text and image features per item; multi-head attention extracting the useful
    part of the user's behaviour sequence (Fig. 2); CAFU; Multi-Perspective Self-Attention over the
    list; separate item and personalized representations fused; a target-oriented multimodal
    auxiliary task. Ours: every form and size below.
      1. standardized inputs (`TeacherInputs`); one text and one image encoder and one item
         encoder (both modalities + price), shared by the candidates and the history, so a
         history item and a candidate live in one space;
      2. context c = f(query, the user's mean history item);
      3. item view: CAFU(text, image | c);
      4. personalized view: target attention of each candidate over the history, the candidate's
         products with the query, the mean history item and the attended history, and the
         history's price level (`price_channels`) — the utility the world draws is a sum of
         query matches and a user's taste times the item's attributes, which these products can
         express directly;
      5. MPSA: self-attention over the list of both views combined;
      6. auxiliary task: text-only and image-only click logits under the context (`aux`), trained
         on the same target as the main score (see train.py).
    No retrieval score and no position among the scoring inputs: the logs show every list in
    retrieval order, so a retrieval-order feature cannot be told apart from position bias and
    soaks it up (measured: docs/training.md). Position enters training only through
    ExaminationBias.
    """

    def __init__(self, d_query, d_text, d_image, dim=64, heads=4, cafu=True):
        super().__init__()
        self.inputs = TeacherInputs(d_query, d_text, d_image)
        self.query = mlp(d_query, 2 * dim, dim)
        self.text, self.image = nn.Linear(d_text, dim), nn.Linear(d_image, dim)
        self.item = mlp(2 * dim + 1, 2 * dim, dim)
        self.context = nn.Linear(2 * dim, dim)
        self.fusion = (ContextAwareFusion if cafu else ConcatFusion)(dim, heads)
        self.history = HistoryAttention(dim, heads)
        self.rep = mlp(7 * dim + PRICE_CHANNELS, 2 * dim, dim)
        self.list = ListBlock(dim, heads)
        self.head = GainHead(dim)
        self.aux_text = nn.Linear(dim, 1)
        self.aux_image = nn.Linear(dim, 1)

    def forward(self, query, text, image, price, mask, hist_text, hist_image, hist_mask, hist_price):
        n = self.inputs
        q = self.query(n.query(query))  # [B, d]
        t, i, p = (
            self.text(n.text(text)),
            self.image(n.image(image)),
            n.price(price),
        )  # [B, L, d], [B, L, d], [B, L, 1]
        hp = n.price(hist_price)  # [B, H, 1]
        e = self.item(torch.cat([t, i, p], dim=-1))  # [B, L, d]
        eh = self.item(
            torch.cat([self.text(n.text(hist_text)), self.image(n.image(hist_image)), hp], dim=-1)
        )  # [B, H, d]
        u = masked_mean(eh, hist_mask)  # [B, d]
        c = self.context(torch.cat([q, u], dim=-1))  # [B, d]
        f = self.fusion(torch.stack([t, i], dim=2), c)  # [B, L, d]
        a = self.history(e, eh, hist_mask)  # [B, L, d]
        L = e.shape[1]
        qe, ue = q[:, None] * e, u[:, None] * e
        x = self.rep(
            torch.cat(
                [e, f, qe, ue, a * e, a, u[:, None].expand(-1, L, -1), price_channels(p, hp, hist_mask)],
                dim=-1,
            )
        )
        out = self.head(self.list(x, mask), mask)
        out["aux"] = torch.cat(
            [self.aux_text(t * c[:, None]), self.aux_image(i * c[:, None])], dim=-1
        )  # [B, L, 2]
        return out


class PointwiseText(nn.Module):
    """Ablation baseline: a pointwise MLP on text only (query, item title embedding, the mean of
    the history's titles, price). Same signature as ARMMT; ignores the images."""

    def __init__(self, d_query, d_text, d_image, dim=64, heads=4):
        super().__init__()
        self.inputs = TeacherInputs(d_query, d_text, d_image)
        self.text, self.query = mlp(d_text, 2 * dim, dim), mlp(d_query, 2 * dim, dim)
        self.net = mlp(4 * dim + 1, 2 * dim, dim)
        self.head = GainHead(dim)

    def forward(self, query, text, image, price, mask, hist_text, hist_image, hist_mask, hist_price):
        n = self.inputs
        t = self.text(n.text(text))  # [B, L, d]
        L = t.shape[1]
        u = masked_mean(self.text(n.text(hist_text)), hist_mask)[:, None].expand(-1, L, -1)
        q = self.query(n.query(query))[:, None].expand(-1, L, -1)
        return self.head(self.net(torch.cat([t, q * t, u * t, u, n.price(price)], dim=-1)), mask)


class PRM(nn.Module):
    """Ablation baseline: a PRM-style list transformer (Pei et al. 2019) on concatenated text +
    image, with the user as the mean of the history (PRM's personalized vector) — two layers of
    self-attention over the list, no fusion unit, no behaviour-sequence attention."""

    def __init__(self, d_query, d_text, d_image, dim=64, heads=4):
        super().__init__()
        self.inputs = TeacherInputs(d_query, d_text, d_image)
        self.item, self.query = mlp(d_text + d_image + 1, 2 * dim, dim), mlp(d_query, 2 * dim, dim)
        self.input = mlp(4 * dim, 2 * dim, dim)
        self.blocks = nn.ModuleList([ListBlock(dim, heads), ListBlock(dim, heads)])
        self.head = GainHead(dim)

    def forward(self, query, text, image, price, mask, hist_text, hist_image, hist_mask, hist_price):
        n = self.inputs
        e = self.item(torch.cat([n.text(text), n.image(image), n.price(price)], dim=-1))  # [B, L, d]
        L = e.shape[1]
        eh = self.item(
            torch.cat([n.text(hist_text), n.image(hist_image), n.price(hist_price)], dim=-1)
        )  # [B, H, d]
        u = masked_mean(eh, hist_mask)[:, None].expand(-1, L, -1)
        q = self.query(n.query(query))[:, None].expand(-1, L, -1)
        x = self.input(torch.cat([e, q * e, u * e, u], dim=-1))
        for block in self.blocks:
            x = block(x, mask)
        return self.head(x, mask)


class EdgeHead(nn.Module):
    """The distilled edge head: reads only what the edge has — the query embedding [B, E], the
    candidates' fused item embeddings [B, L, E] and the history's [B, H, E] (int8-dequantized, as
    stored in KV), and each candidate's and history item's catalog price [B, L], [B, H] (stored
    beside its vector in KV) — and
    scores with one self-attention layer over the list plus one attention over the history, at
    width `dim`. Inputs are standardized as the teacher's are (`fit`: the KV table's statistics).
    The price matters: the world's utility falls with price at every user's own sensitivity, and
    no embedding carries it (measured: docs/training.md). No retrieval score or position: see
    ARMMT."""

    def __init__(self, d_emb=64, dim=32, heads=2):
        super().__init__()
        self.norm_query, self.norm_item, self.price = Standardize(d_emb), Standardize(d_emb), LogPrice()
        self.item = nn.Linear(d_emb + 1, dim)
        self.query = nn.Linear(d_emb, dim)
        self.personal = HistoryAttention(dim, heads)
        self.mix = mlp(4 * dim + PRICE_CHANNELS, dim, dim)
        self.block = ListBlock(dim, heads)
        self.head = GainHead(dim)
        # What the edge's WASM kernel checks before it reads these weights (models/export.py).
        self.architecture = {
            "name": "edge_head/v1",
            "d_emb": d_emb,
            "dim": dim,
            "heads": heads,
            "ff": 2 * dim,
            "price_channels": PRICE_CHANNELS,
        }

    def fit(self, query, items, price):  # the KV table's [Q, E], [N, E] and the catalog's prices [N]
        self.norm_query.fit(query)
        self.norm_item.fit(items)
        self.price.fit(price)

    def forward(self, query, items, mask, history, hist_mask, price, hist_price):
        p, hp = self.price(price), self.price(hist_price)  # [B, L, 1], [B, H, 1]
        x = self.item(torch.cat([self.norm_item(items), p], dim=-1))  # [B, L, dim]
        h = self.item(torch.cat([self.norm_item(history), hp], dim=-1))  # [B, H, dim]
        q = self.query(self.norm_query(query))  # [B, dim]
        u = masked_mean(h, hist_mask)  # [B, dim]
        a = self.personal(x, h, hist_mask)  # [B, L, dim]
        x = self.mix(
            torch.cat([x, q[:, None] * x, u[:, None] * x, a, price_channels(p, hp, hist_mask)], dim=-1)
        )
        return self.head(self.block(x, mask), mask)


class ExaminationBias(nn.Module):
    """Training-only position bias (PAL-style factorization): p(click at position k) =
    σ(b_k) · σ(click logit). Logged clicks are position-biased; this term absorbs the bias during
    training and is dropped at inference, so scores rank by relevance, not by the logged order."""

    def __init__(self, positions=256):
        super().__init__()
        self.b = nn.Parameter(torch.full((positions,), 2.0))

    def forward(self, position):  # [B, L] int64 → log p(examined) [B, L]
        return F.logsigmoid(self.b[position.clamp(max=len(self.b) - 1)])
