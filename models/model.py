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
