"""Training: `npm run train` drives this file stage by stage (python -m models.train --stage ...).

Stage `two_tower`: the ablation variants of the retrieval model (text, image, concat, fusion),
each writing its query and item embeddings for the TypeScript evaluation, and the fusion model's
query and item towers exported to ONNX.
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch

from models.config import preset
from models.export import export_two_tower
from models.model import TwoTower, in_batch_nce
from models.world import World

torch.set_num_threads(max(1, os.cpu_count() or 1))


class Progress:
    """Per-epoch loss with an ETA over the whole stage."""

    def __init__(self, name, total_epochs):
        self.name, self.total, self.done, self.start = name, total_epochs, 0, time.time()

    def epoch(self, loss, extra=""):
        self.done += 1
        elapsed = time.time() - self.start
        eta = elapsed / self.done * (self.total - self.done)
        print(f"  {self.name} epoch {self.done}/{self.total} loss {loss:.4f}{extra}  [{elapsed:.0f}s, eta {eta:.0f}s]", flush=True)


def click_pairs(world, split):
    """(query, item) for every click of a split; purchases appear twice (weighted up)."""
    row_session = world.row_session  # [candidates]
    in_split = world.session[row_session, 2] == world.split_code(split)
    click = np.asarray(world["cand_click"]).astype(bool) & in_split
    buy = np.asarray(world["cand_purchase"]).astype(bool) & in_split
    rows = np.concatenate([np.nonzero(click)[0], np.nonzero(buy)[0]])
    q = world.session[row_session[rows], 1].astype(np.int64)
    i = np.asarray(world["cand_item"])[rows].astype(np.int64)
    return torch.from_numpy(q), torch.from_numpy(i)


def train_two_tower(world, features, cfg, mode, seed):
    """Trains one variant. Fusion: stage 1 aligns the query with text and image separately,
    stage 2 trains the fusion on top. Other modes: one stage of the same total length."""
    torch.manual_seed(seed)
    tc = cfg.two_tower
    qe, te, ie = features  # [Q, 128], [N, 128], [N, 128]
    model = TwoTower(qe.shape[1], te.shape[1], ie.shape[1], tc.dim, tc.heads, mode)
    q_ids, i_ids = click_pairs(world, "train")
    vq, vi = click_pairs(world, "valid")
    opt = torch.optim.Adam(model.parameters(), lr=tc.lr)
    stages = [("align", tc.align_epochs), ("fusion", tc.fusion_epochs)] if mode == "fusion" else [(mode, tc.align_epochs + tc.fusion_epochs)]
    progress = Progress(f"two_tower[{mode}]", sum(e for _, e in stages))

    def loss_of(stage, q, i):
        qv = model.query(qe[q])
        if stage == "align":
            t, v = model.item.modalities(te[i], ie[i])
            return in_batch_nce(qv, t, i, tc.temperature) + in_batch_nce(qv, v, i, tc.temperature)
        return in_batch_nce(qv, model.item(te[i], ie[i]), i, tc.temperature)

    for stage, epochs in stages:
        for _ in range(epochs):
            model.train()
            perm = torch.randperm(len(q_ids))
            total, n = 0.0, 0
            for s in range(0, len(perm) - tc.batch_size + 1, tc.batch_size):
                b = perm[s : s + tc.batch_size]
                loss = loss_of(stage, q_ids[b], i_ids[b])
                opt.zero_grad()
                loss.backward()
                opt.step()
                total, n = total + loss.item(), n + 1
            model.eval()
            with torch.no_grad():
                vb = torch.arange(min(len(vq), 8 * tc.batch_size))
                valid = np.mean([loss_of(stage, vq[c], vi[c]).item() for c in vb.split(tc.batch_size) if len(c) == tc.batch_size])
            progress.epoch(total / max(1, n), f" valid {valid:.4f} ({stage})")
    return model


@torch.no_grad()
def embed_catalog(features, model):
    """Every query's and every item's embedding: [Q, dim], [N, dim] float32."""
    model.eval()
    qe, te, ie = features
    return model.query(qe).numpy().astype(np.float32), model.item(te, ie).numpy().astype(np.float32)


def stage_two_tower(world, cfg, out):
    features = world.features()
    variants = {}
    fusion = None
    for mode in ("text", "image", "concat", "fusion"):
        started = time.time()
        model = train_two_tower(world, features, cfg, mode, cfg.seed)
        q, items = embed_catalog(features, model)
        d = os.path.join(out, "two_tower", mode)
        os.makedirs(d, exist_ok=True)
        np.save(os.path.join(d, "query_emb.npy"), q)
        np.save(os.path.join(d, "item_emb.npy"), items)
        variants[mode] = {"seconds": round(time.time() - started, 1), "dir": d}
        if mode == "fusion":
            fusion = model
    summary = {"variants": variants, "onnx": export_two_tower(fusion, features, out)}
    with open(os.path.join(out, "two_tower", "summary.json"), "w") as f:
        json.dump(summary, f, indent=2)
    return summary


def main(argv=None):
    p = argparse.ArgumentParser(description="Train the edge-rerank models on a synthetic world.")
    p.add_argument("--world", required=True)
    p.add_argument("--preset", default="smoke")
    p.add_argument("--out", required=True)
    p.add_argument("--stage", choices=["two_tower"], required=True)
    p.add_argument("--seed", type=int, default=None)
    args = p.parse_args(argv)
    cfg = preset(args.preset)
    if args.seed is not None:
        cfg.seed = args.seed
    world = World(args.world)
    os.makedirs(args.out, exist_ok=True)
    print(f"train: stage {args.stage}, preset {args.preset}, seed {cfg.seed}, torch {torch.__version__}, {torch.get_num_threads()} threads", flush=True)
    if args.stage == "two_tower":
        stage_two_tower(world, cfg, args.out)


if __name__ == "__main__":
    sys.exit(main())
