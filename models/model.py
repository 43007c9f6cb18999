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
        tokens = torch.cat([self.fuse_token.expand(text.shape[0], 1, -1), t[:, None], i[:, None]], dim=1)  # [B, 3, dim]
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
# Re-ranking: the ARMMT teacher (seed 1, our reconstruction), its ablation baselines and the
# distilled edge head.
#
# Every re-ranker reads one request — a query, the user's history, a candidate list — and gives
# each candidate two logits: click, and purchase given a click. `score` is
#   log p_click + log(1 + 2 p_buy)  =  log(p_click + 2 p_click p_buy),
# the log of the expected graded gain the evaluation ranks by; it is the only exported output.
# Padded candidates (mask 0) score PAD_SCORE. Masks are float32 (1 real, 0 padding).
# ---------------------------------------------------------------------------------------------

PAD_SCORE = -1e9


def match(query, *modalities):
    """Σ over modalities of cos(query, item modality): [B, d], [B, L, d]... → [B, L]."""
    q = F.normalize(query, dim=-1)[:, None]
    return sum((q * F.normalize(m, dim=-1)).sum(-1) for m in modalities)


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
    """[B, L, d] → click, buy logits and score (see above), each [B, L].

    `match` [B, L] (optional) is added to the click logit: the cosine of the query with each of
    the item's modalities under the two-tower-initialized encoders, times a learned scale. Every
    teacher-family model gets it, so each starts from retrieval-aligned relevance and learns
    personalization and list context on top — sparse, position-biased clicks alone are too slow
    a signal for this machine's training budget (measured: README, "Training")."""

    def __init__(self, dim):
        super().__init__()
        self.out = nn.Linear(dim, 2)
        self.match_scale = nn.Parameter(torch.tensor(5.0))

    def forward(self, h, mask, match=None):
        click, buy = self.out(h).unbind(-1)
        if match is not None:
            click = click + self.match_scale * match
        # log σ(click) written as −softplus(−click): exported as log(Sigmoid(x)), onnxruntime's Sigmoid
        # (accurate in absolute, not relative, terms) put a click logit of −7 off by 2e-4 (measured).
        score = -F.softplus(-click) + torch.log1p(2 * torch.sigmoid(buy))
        return {"click": click, "buy": buy, "score": torch.where(mask > 0.5, score, torch.full_like(score, PAD_SCORE))}


def log_price(price, stats):
    """Price [B, L] → standardized log price [B, L, 1]; `stats` (mean, std of log price) is a
    buffer each model registers as `price_stats`, set from the training catalog (train.py), so it
    travels with the exported model."""
    return ((torch.log(price) - stats[0]) / stats[1])[..., None]


BEHAVIOUR_CHANNELS = 7


def behaviour_channels(text, image, price, hist_text, hist_image, hist_mask, hist_price):
    """ARMMT's explicit behaviour-sequence channels per candidate, [B, L, 7] (ours; see ARMMT):
      - affinity (4): mean and max over the real history of cos(candidate, history item), on the
        raw text and on the raw image features — how much of the user's past resembles this item;
      - price level (3): mean and std of the history's standardized log price, and the
        candidate's standardized log price times that mean.
    `price` [B, L, 1] and `hist_price` [B, H] are standardized log prices. A cold user (empty
    history) gets zeros."""
    n = hist_mask.sum(1).clamp(min=1)[:, None]  # [B, 1]
    real = hist_mask[:, None] > 0.5  # [B, 1, H]
    warm = (hist_mask.sum(1) > 0).float()[:, None]  # [B, 1]

    def affinity(a, h):  # [B, L, D], [B, H, D] → [B, L, 2]
        s = torch.einsum("bld,bhd->blh", F.normalize(a, dim=-1), F.normalize(h, dim=-1))  # [B, L, H]
        mean = (s * real).sum(-1) / n
        return torch.stack([mean, s.masked_fill(~real, -1).max(-1).values * warm], dim=-1)

    level = (hist_price * hist_mask).sum(1, keepdim=True) / n  # [B, 1]
    spread = ((hist_price - level) ** 2 * hist_mask).sum(1, keepdim=True) / n
    L = price.shape[1]
    prices = torch.stack([level.expand(-1, L), spread.sqrt().expand(-1, L), price[..., 0] * level], dim=-1)  # [B, L, 3]
    return torch.cat([affinity(text, hist_text), affinity(image, hist_image), prices], dim=-1)


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
        per_head = modal.reshape(modal.shape[0], modal.shape[1], modal.shape[2], self.heads, -1)  # [B, L, M, heads, d/heads]
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
    list after CAFU; separate item and personalized representations fused hierarchically; a
    target-oriented multimodal auxiliary task. Ours: every form and size below.
      1. text / image encoders shared by candidates and history (one per modality), the
         two-tower's aligned modality projections, frozen (see `init_from_two_tower`);
      2. context c = f(query, mean of the history per modality);
      3. item representation: CAFU(text, image | c), with the query match and the price;
      4. personalized representation: per-modality target attention of the candidate over the
         history, fused by a second CAFU, plus explicit behaviour channels (`behaviour_channels`:
         the candidate's affinity to the history per modality, the history's price level) — the
         learned attention alone left the history unused at this data budget (measured: README,
         "Training");
      5. MPSA: one self-attention layer over the list per perspective (item, personalized);
      6. hierarchical fusion: item view + gate(item, personalized) ⊙ personalized view;
      7. auxiliary task: text-only and image-only click logits under the context (`aux`), trained
         on the same target as the main score (see train.py).
    No retrieval score and no position among the scoring inputs: the logs show every list in
    retrieval order, so a retrieval-order feature cannot be told apart from position bias and
    soaks it up (measured: README, "Training"). Position enters training only through
    ExaminationBias.
    """

    def __init__(self, d_query, d_text, d_image, dim=64, heads=4, cafu=True):
        super().__init__()
        fusion = ContextAwareFusion if cafu else ConcatFusion
        self.text, self.image, self.query = mlp(d_text, 2 * dim, dim), mlp(d_image, 2 * dim, dim), mlp(d_query, 2 * dim, dim)
        self.context = nn.Linear(3 * dim, dim)
        self.item_fusion = fusion(dim, heads)
        self.history_text = HistoryAttention(dim, heads)
        self.history_image = HistoryAttention(dim, heads)
        self.personal_fusion = fusion(dim, heads)
        self.item_rep = mlp(2 * dim + 1 + BEHAVIOUR_CHANNELS, 2 * dim, dim)
        self.personal_rep = mlp(2 * dim + BEHAVIOUR_CHANNELS, 2 * dim, dim)
        self.item_view = ListBlock(dim, heads)
        self.personal_view = ListBlock(dim, heads)
        self.gate = nn.Linear(2 * dim, dim)
        self.head = GainHead(dim)
        self.aux_text = nn.Linear(dim, 1)
        self.aux_image = nn.Linear(dim, 1)
        self.register_buffer("price_stats", torch.tensor([0.0, 1.0]))

    def forward(self, query, text, image, price, mask, hist_text, hist_image, hist_mask, hist_price):
        q = self.query(query)  # [B, d]
        ct, ci = self.text(text), self.image(image)  # [B, L, d] each
        ht, hi = self.text(hist_text), self.image(hist_image)  # [B, H, d] each
        c = self.context(torch.cat([q, masked_mean(ht, hist_mask), masked_mean(hi, hist_mask)], dim=-1))  # [B, d]
        f = self.item_fusion(torch.stack([ct, ci], dim=2), c)  # [B, L, d]
        pt = self.history_text(ct, ht, hist_mask)  # [B, L, d]
        pi = self.history_image(ci, hi, hist_mask)
        p = self.personal_fusion(torch.stack([pt, pi], dim=2), c)  # [B, L, d]
        price = log_price(price, self.price_stats)  # [B, L, 1]
        b = behaviour_channels(text, image, price, hist_text, hist_image, hist_mask, log_price(hist_price, self.price_stats)[..., 0])  # [B, L, 7]
        x = self.item_view(self.item_rep(torch.cat([f, q[:, None] * f, price, b], dim=-1)), mask)  # [B, L, d]
        y = self.personal_view(self.personal_rep(torch.cat([p, f, b], dim=-1)), mask)  # [B, L, d]
        h = x + torch.sigmoid(self.gate(torch.cat([x, y], dim=-1))) * y
        out = self.head(h, mask, match(q, ct, ci))
        out["aux"] = torch.cat([self.aux_text(ct * c[:, None]), self.aux_image(ci * c[:, None])], dim=-1)  # [B, L, 2]
        return out


class PointwiseText(nn.Module):
    """Ablation baseline: a pointwise MLP on text only (query, item title embedding, the mean of
    the history's titles, price). Same signature as ARMMT; ignores the images."""

    def __init__(self, d_query, d_text, d_image, dim=64, heads=4):
        super().__init__()
        self.text, self.query = mlp(d_text, 2 * dim, dim), mlp(d_query, 2 * dim, dim)
        self.net = mlp(3 * dim + 1, 2 * dim, dim)
        self.head = GainHead(dim)
        self.register_buffer("price_stats", torch.tensor([0.0, 1.0]))

    def forward(self, query, text, image, price, mask, hist_text, hist_image, hist_mask, hist_price):
        ct = self.text(text)  # [B, L, d]
        L = ct.shape[1]
        u = masked_mean(self.text(hist_text), hist_mask)[:, None].expand(-1, L, -1)
        q = self.query(query)
        price = log_price(price, self.price_stats)  # [B, L, 1]
        return self.head(self.net(torch.cat([ct, q[:, None].expand(-1, L, -1), u, price], dim=-1)), mask, match(q, ct))


class PRM(nn.Module):
    """Ablation baseline: a PRM-style list transformer (Pei et al. 2019) on concatenated text +
    image, with the user as the mean of the history (PRM's personalized vector) — two layers of
    self-attention over the list, no fusion unit, no behaviour-sequence attention."""

    def __init__(self, d_query, d_text, d_image, dim=64, heads=4):
        super().__init__()
        self.text, self.image, self.query = mlp(d_text, 2 * dim, dim), mlp(d_image, 2 * dim, dim), mlp(d_query, 2 * dim, dim)
        self.item = nn.Linear(2 * dim, dim)
        self.input = mlp(3 * dim + 1, 2 * dim, dim)
        self.blocks = nn.ModuleList([ListBlock(dim, heads), ListBlock(dim, heads)])
        self.head = GainHead(dim)
        self.register_buffer("price_stats", torch.tensor([0.0, 1.0]))

    def forward(self, query, text, image, price, mask, hist_text, hist_image, hist_mask, hist_price):
        ct, ci = self.text(text), self.image(image)  # [B, L, d] each
        e = self.item(torch.cat([ct, ci], dim=-1))  # [B, L, d]
        L = e.shape[1]
        u = masked_mean(self.item(torch.cat([self.text(hist_text), self.image(hist_image)], dim=-1)), hist_mask)[:, None].expand(-1, L, -1)
        q = self.query(query)
        price = log_price(price, self.price_stats)  # [B, L, 1]
        x = self.input(torch.cat([e, q[:, None].expand(-1, L, -1), u, price], dim=-1))
        for block in self.blocks:
            x = block(x, mask)
        return self.head(x, mask, match(q, ct, ci))


class EdgeHead(nn.Module):
    """The distilled edge head: reads only what the edge has — the query embedding [B, E], the
    candidates' fused item embeddings [B, L, E] and the history's [B, H, E] (int8-dequantized, as
    stored in KV), and each candidate's catalog price [B, L] (stored beside its vector in KV) — and
    scores with one self-attention layer over the list plus one attention over the history, at
    width `dim`. The price matters: the world's utility falls with price at every user's own
    sensitivity, and no embedding carries it (measured: README, "Training"). No retrieval score or
    position: see ARMMT."""

    def __init__(self, d_emb=64, dim=32, heads=2):
        super().__init__()
        self.item = nn.Linear(2 * d_emb + 1, dim)
        self.history = nn.Linear(d_emb, dim)
        self.personal = HistoryAttention(dim, heads)
        self.block = ListBlock(dim, heads)
        self.head = GainHead(dim)
        self.register_buffer("price_stats", torch.tensor([0.0, 1.0]))

    def forward(self, query, items, mask, history, hist_mask, price):
        x = self.item(torch.cat([items, query[:, None] * items, log_price(price, self.price_stats)], dim=-1))  # [B, L, dim]
        x = x + self.personal(x, self.history(history), hist_mask)
        return self.head(self.block(x, mask), mask, match(query, items))


def init_from_two_tower(model, two_tower):
    """Sets a re-ranker's query and modality encoders (where it has them) to the two-tower model's
    query tower and stage-1 modality projections, which are already aligned with relevance, and
    freezes them: trained on sparse clicks they drift (ARMMT's auxiliary task pulled them off
    relevance: measured, README "Training"), and frozen they cost no backward pass. Every
    teacher-family model gets the same encoders, so the ablations stay fair."""
    for mine, theirs in (("query", two_tower.query.net), ("text", two_tower.item.text_proj), ("image", two_tower.item.image_proj)):
        if hasattr(model, mine):
            getattr(model, mine).load_state_dict(theirs.state_dict())
            getattr(model, mine).requires_grad_(False)


class ExaminationBias(nn.Module):
    """Training-only position bias (PAL-style factorization): p(click at position k) =
    σ(b_k) · σ(click logit). Logged clicks are position-biased; this term absorbs the bias during
    training and is dropped at inference, so scores rank by relevance, not by the logged order."""

    def __init__(self, positions=256):
        super().__init__()
        self.b = nn.Parameter(torch.full((positions,), 2.0))

    def forward(self, position):  # [B, L] int64 → log p(examined) [B, L]
        return F.logsigmoid(self.b[position.clamp(max=len(self.b) - 1)])
