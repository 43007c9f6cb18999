"""Training: `npm run train` drives this file stage by stage (python -m models.train --stage ...).

Stage `two_tower`: the ablation variants of the retrieval model (text, image, concat, fusion),
each writing its query and item embeddings for the TypeScript evaluation, and the fusion model's
query and item towers exported to ONNX.

Stage `rerank` (after the TypeScript side has int8-quantized the fused embeddings with the KV
codec): the ARMMT teacher over several seeds at the full budget, the ablation table (ARMMT included)
at one smaller budget, the edge head distilled from the first seed's teacher — each model in its own
one-thread process, two at a time (`Jobs`) — each writing test-split scores for the TypeScript
evaluation; teacher and head exported to ONNX with their FLOP counts.
"""
import argparse
import dataclasses
import functools
import json
import multiprocessing
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

from models.config import preset
from models.export import (
    count_flops,
    export_head_requests,
    export_rerankers,
    export_two_tower,
    export_weights,
    sample_head_requests,
)
from models.model import (
    ARMMT,
    PRM,
    EdgeHead,
    ExaminationBias,
    PointwiseText,
    TwoTower,
    in_batch_nce,
    PAD_SCORE,
)
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
        print(
            f"  {self.name} epoch {self.done}/{self.total} loss {loss:.4f}{extra}  [{elapsed:.0f}s, eta {eta:.0f}s]",
            flush=True,
        )


def click_pairs(world, split):
    """(query, item) for every click of a split; purchases appear twice (weighted up)."""
    row_session = world.row_session  # [candidates]
    in_split = split_rows(world, split)
    click = np.asarray(world["cand_click"]).astype(bool) & in_split
    buy = np.asarray(world["cand_purchase"]).astype(bool) & in_split
    rows = np.concatenate([np.nonzero(click)[0], np.nonzero(buy)[0]])
    q = world.session[row_session[rows], 1].astype(np.int64)
    i = np.asarray(world["cand_item"])[rows].astype(np.int64)
    return torch.from_numpy(q), torch.from_numpy(i)


def train_two_tower(pairs, features, cfg, mode, seed):
    """Trains one variant on `pairs` (click_pairs of the train and valid splits). Fusion: stage 1
    aligns the query with text and image separately, stage 2 trains the fusion on top. Other
    modes: one stage of the same total length."""
    torch.manual_seed(seed)
    tc = cfg.two_tower
    qe, te, ie = features  # [Q, 128], [N, 128], [N, 128]
    model = TwoTower(qe.shape[1], te.shape[1], ie.shape[1], tc.dim, tc.heads, mode)
    (q_ids, i_ids), (vq, vi) = pairs
    opt = torch.optim.Adam(model.parameters(), lr=tc.lr)
    stages = (
        [("align", tc.align_epochs), ("fusion", tc.fusion_epochs)]
        if mode == "fusion"
        else [(mode, tc.align_epochs + tc.fusion_epochs)]
    )
    progress = Progress(f"two_tower[{mode}]", sum(e for _, e in stages))

    def loss_of(stage, q, i):
        qv = model.query(qe[q])
        if stage == "align":
            t, v = model.item.modalities(te[i], ie[i])
            return in_batch_nce(qv, t, i, tc.temperature) + in_batch_nce(qv, v, i, tc.temperature)
        return in_batch_nce(qv, model.item(te[i], ie[i]), i, tc.temperature)

    def train_losses(stage):
        perm = torch.randperm(len(q_ids))
        for s in range(0, len(perm) - tc.batch_size + 1, tc.batch_size):
            b = perm[s : s + tc.batch_size]
            yield loss_of(stage, q_ids[b], i_ids[b])

    def valid_losses(stage):
        vb = torch.arange(min(len(vq), 8 * tc.batch_size))
        return (loss_of(stage, vq[c], vi[c]) for c in vb.split(tc.batch_size) if len(c) == tc.batch_size)

    for stage, epochs in stages:
        for _ in range(epochs):
            train, valid = fit_epoch(model, opt, train_losses(stage), lambda: valid_losses(stage))
            progress.epoch(train, f" valid {valid:.4f} ({stage})")
    return model


def fit_epoch(model, opt, losses, valid_losses):
    """One epoch of every training loop here: an optimizer step per loss `losses` yields (computed
    lazily, in train mode), then the mean of `valid_losses()` in eval mode without grad.
    Returns (mean train loss, mean valid loss)."""
    model.train()
    total, n = 0.0, 0
    for loss in losses:
        opt.zero_grad()
        loss.backward()
        opt.step()
        total, n = total + loss.item(), n + 1
    model.eval()
    with torch.no_grad():
        valid = np.mean([loss.item() for loss in valid_losses()])
    return total / max(1, n), valid


@torch.no_grad()
def embed_catalog(features, model):
    """Every query's and every item's embedding: [Q, dim], [N, dim] float32."""
    model.eval()
    qe, te, ie = features
    return model.query(qe).numpy().astype(np.float32), model.item(te, ie).numpy().astype(np.float32)


def stage_two_tower(world, cfg, out):
    features = world.features()
    pairs = click_pairs(world, "train"), click_pairs(world, "valid")  # the same for every variant
    variants = {}
    fusion = None
    for mode in ("text", "image", "concat", "fusion"):
        started = time.time()
        model = train_two_tower(pairs, features, cfg, mode, cfg.seed)
        q, items = embed_catalog(features, model)
        d = os.path.join(out, "two_tower", mode)
        os.makedirs(d, exist_ok=True)
        np.save(os.path.join(d, "query_emb.npy"), q)
        np.save(os.path.join(d, "item_emb.npy"), items)
        variants[mode] = {"seconds": round(time.time() - started, 1), "dir": d}
        if mode == "fusion":
            fusion = model
            torch.save(
                model.state_dict(), os.path.join(d, "model.pt")
            )  # the re-rankers start from its encoders
    summary = {"variants": variants, "onnx": export_two_tower(fusion, features, out)}
    with open(os.path.join(out, "two_tower", "summary.json"), "w") as f:
        json.dump(summary, f, indent=2)
    return summary


# ---- list-wise re-rankers ------------------------------------------------------------------

# The ablation table: name → (model factory, auxiliary-task weight multiplier). Every row trains
# at the table's budget (RerankConfig.table_*); the published teacher is TEACHER again at the full
# budget, so the table compares equals and the teacher gets what the chain can afford.
TABLE = {
    "pointwise_text": (PointwiseText, 0.0),
    "prm": (PRM, 0.0),
    "armmt_no_cafu": (lambda *a, **k: ARMMT(*a, **k, cafu=False), 1.0),
    "armmt_no_aux": (ARMMT, 0.0),
    "armmt_table": (ARMMT, 1.0),
}
TEACHER = "armmt"
TEACHER_FACTORY = TABLE["armmt_table"]  # the same model and loss, at the full budget


def list_batches(world, sessions, batch_size, rng=None):
    """World.list_batch over `sessions`, bucketed by list length inside chunks of 32 batches
    (less padding); shuffled when `rng` is given, in order otherwise."""
    sessions = np.asarray(sessions)
    if rng is not None:
        sessions = sessions[rng.permutation(len(sessions))]
    chunk = 32 * batch_size
    for start in range(0, len(sessions), chunk):
        part = sessions[start : start + chunk]
        part = part[np.argsort(world.session[part, 3], kind="stable")]
        batches = [part[i : i + batch_size] for i in range(0, len(part), batch_size)]
        for i in rng.permutation(len(batches)) if rng is not None else range(len(batches)):
            yield world.list_batch(batches[i])


class ListInputs:
    """Turns a World.list_batch into model inputs, from raw features (teacher family) or from the
    edge's int8-dequantized fused embeddings (head)."""

    def __init__(self, world, features, edge):
        self.features = features  # query [Q, 128], text [N, 128], image [N, 128]
        self.price = torch.from_numpy(np.array(world["item_price"], dtype=np.float32))
        self.edge = edge  # (query [Q, E], item [N, E]), int8-dequantized

    @staticmethod
    def common(b):
        hist = torch.from_numpy(b["history"])
        return {
            "item": torch.from_numpy(b["item"]).clamp(min=0),
            "mask": torch.from_numpy(b["mask"]).float(),
            "hist": hist.clamp(min=0),
            "hist_mask": (hist >= 0).float(),
        }

    def teacher(self, b):
        c = self.common(b)
        qe, te, ie = self.features
        item, hist = c["item"], c["hist"]
        return {
            "query": qe[torch.from_numpy(b["query"])],
            "text": te[item],
            "image": ie[item],
            "price": self.price[item],
            "mask": c["mask"],
            "hist_text": te[hist],
            "hist_image": ie[hist],
            "hist_mask": c["hist_mask"],
            "hist_price": self.price[hist],
        }

    def head(self, b):
        c = self.common(b)
        q, e = self.edge
        return {
            "query": q[torch.from_numpy(b["query"])],
            "items": e[c["item"]],
            "mask": c["mask"],
            "history": e[c["hist"]],
            "hist_mask": c["hist_mask"],
            "price": self.price[c["item"]],
            "hist_price": self.price[c["hist"]],
        }


def click_nll(click_logit, log_exam, click):
    """−log-likelihood of the logged click under p = σ(b_position) · σ(click_logit), [B, L]."""
    log_p = log_exam + F.logsigmoid(click_logit)
    log_not = torch.log1p(-torch.exp(log_p).clamp(max=1 - 1e-6))
    return -(click * log_p + (1 - click) * log_not)


def listwise_loss(score, log_exam, click, purchase):
    """Softmax cross-entropy of each list's scores against its logged graded gain (purchase 3,
    click 1), each label divided by its position's examination probability (inverse propensity,
    the learned bias taken as given), over the lists with any click."""
    gain = (click + 2 * purchase) / torch.exp(log_exam).detach()  # [B, L]
    has = gain.sum(1) > 0
    if not has.any():
        return score.new_zeros(())
    target = gain[has] / gain[has].sum(1, keepdim=True)
    return -(target * score[has].log_softmax(dim=1)).sum(1).mean()


def label_loss(out, exam, b, aux_weight=0.0, listwise_weight=0.0):
    """Position-debiased label loss: per real candidate (mean), click (with the examination term)
    + purchase given click (+ the auxiliary modalities' click losses, ARMMT only); plus, per list,
    `listwise_weight` times `listwise_loss`."""
    position, click, purchase = (torch.from_numpy(b[k]) for k in ("position", "click", "purchase"))
    mask = torch.from_numpy(b["mask"]).float()
    log_exam = exam(position)
    nll = click_nll(out["click"], log_exam, click)
    nll = nll + F.binary_cross_entropy_with_logits(out["buy"], purchase, reduction="none") * click
    if aux_weight and "aux" in out:
        aux = out["aux"]  # [B, L, 2]: text-only, image-only
        nll = nll + aux_weight * 0.5 * (
            click_nll(aux[..., 0], log_exam, click) + click_nll(aux[..., 1], log_exam, click)
        )
    loss = (nll * mask).sum() / mask.sum()
    if listwise_weight:
        loss = loss + listwise_weight * listwise_loss(out["score"], log_exam, click, purchase)
    return loss


def distill_loss(score, teacher_score, temperature=1.0):
    """List-wise KL(teacher ‖ student) over each list's softmax of scores / T (pads hold
    PAD_SCORE), times T² so its gradient scale does not shrink with T."""
    p = (teacher_score / temperature).softmax(dim=1)
    kl = (p * (torch.log(p.clamp(min=1e-12)) - (score / temperature).log_softmax(dim=1))).sum(1).mean()
    return kl * temperature**2


def get_lr(step, total, rc):
    """Linear warm-up over the first `rc.warmup` steps, then cosine decay to `rc.min_lr_share` of
    `rc.lr` at the last step."""
    if step < rc.warmup:
        return rc.lr * (step + 1) / rc.warmup
    progress = min(1.0, (step - rc.warmup) / max(1, total - rc.warmup))
    return rc.lr * (rc.min_lr_share + (1 - rc.min_lr_share) * 0.5 * (1 + np.cos(np.pi * progress)))


def make_optimizer(params, rc):
    """Adam, or AdamW when `rc.weight_decay` > 0 (decoupled decay)."""
    if rc.weight_decay > 0:
        return torch.optim.AdamW(params, lr=rc.lr, weight_decay=rc.weight_decay)
    return torch.optim.Adam(params, lr=rc.lr)


class BestPass:
    """A copy of a model's weights at its lowest validation loss so far (`RerankConfig.keep_best`):
    past a few passes the re-rankers start to memorize the training users."""

    def __init__(self, model):
        self.model, self.loss, self.state = model, float("inf"), None

    def offer(self, valid_loss):
        if valid_loss < self.loss:
            self.loss = valid_loss
            self.state = {k: v.detach().clone() for k, v in self.model.state_dict().items()}

    def restore(self):
        if self.state is not None:
            self.model.load_state_dict(self.state)


def train_ranker(world, sessions, valid_batches, make_inputs, model, loss_of, epochs, rc, seed, name):
    """The one training loop of every re-ranker: `fit_epoch` under `make_optimizer`'s optimizer with
    `get_lr` set before each step, list batches, per-epoch train/valid loss (`valid_batches`: the
    validation lists, batched once for every model), and with `rc.keep_best` the best pass kept."""
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    exam = ExaminationBias()
    opt = make_optimizer([*model.parameters(), *exam.parameters()], rc)
    best = BestPass(model) if rc.keep_best else None
    total = epochs * -(-len(sessions) // rc.batch_size)
    progress = Progress(name, epochs)
    step = 0

    def losses(batches, schedule):
        nonlocal step
        for b in batches:
            if schedule:
                for group in opt.param_groups:
                    group["lr"] = get_lr(step, total, rc)
                step += 1
            yield loss_of(model(**make_inputs(b)), exam, b)

    for _ in range(epochs):
        train, valid = fit_epoch(
            model,
            opt,
            losses(list_batches(world, sessions, rc.batch_size, rng), True),
            lambda: losses(valid_batches, False),
        )
        progress.epoch(train, f" valid {valid:.4f}")
        if best:
            best.offer(valid)
    if best:
        best.restore()
    model.eval()
    return model


@torch.no_grad()
def score_rows(world, sessions, make_inputs, model, batch_size=512):
    """The model's score of every candidate row of `sessions`, as a full-length float32 array
    (NaN elsewhere)."""
    model.eval()
    scores = np.full(world.counts["candidates"], np.nan, np.float32)
    for b in list_batches(world, sessions, batch_size):
        s = model(**make_inputs(b))["score"].numpy()
        scores[b["row"][b["mask"]]] = s[b["mask"]]
    return scores


def subset(sessions, n):
    """A fixed random `n` of `sessions`, sorted (all of them when n is 0 or covers them)."""
    return (
        np.sort(np.random.default_rng(0).choice(sessions, n, replace=False))
        if 0 < n < len(sessions)
        else sessions
    )


def split_rows(world, split):
    """Boolean mask of the candidate rows of a split (row order = the evaluation's)."""
    return world.session[world.row_session, 2] == world.split_code(split)


def load_edge_embeddings(out):
    """The int8 + scale embeddings the TypeScript KV codec wrote, dequantized exactly as the edge
    does (q · scale in float32): query [Q, E], item [N, E]."""

    def load(name):
        q = np.load(os.path.join(out, "embeddings", f"{name}.int8.npy")).astype(np.float32)
        scale = np.load(os.path.join(out, "embeddings", f"{name}.scale.npy"))
        return torch.from_numpy(q * scale[:, None])

    return load("queries"), load("items")


def export_pair(world, inputs, teacher, head, out):
    """Exports teacher and head (export lists of the median length; parity lists of the shortest
    and the longest length, padded together; the head's parity requests) and counts both models' FLOPs on the reference
    request: 100 candidates, 20 history items."""
    test = world.sessions("test")
    lengths = world.session[test, 3]
    median = np.sort(lengths)[len(lengths) // 2]  # a length some list has (np.median may fall between two)
    example = world.list_batch(test[lengths == median][:2])
    case = world.list_batch([test[lengths == lengths.min()][0], test[lengths == lengths.max()][0]])
    onnx = export_rerankers(
        {
            "armmt": (teacher, inputs.teacher(example), inputs.teacher(case)),
            "edge_head": (head, inputs.head(example), inputs.head(case)),
        },
        out,
    )
    onnx["edge_head"]["weights"] = export_weights("edge_head", head, out)
    # The requests the edge's two head backends are checked against: torch's scores, not another runtime's.
    export_head_requests(head, sample_head_requests(*inputs.edge), out)
    # FLOPs do not depend on the values: any one list, cycled to the reference sizes.
    reference = {
        k: np.resize(v, (1, 100)) if v.ndim == 2 and k != "history" else v[:1]
        for k, v in world.list_batch(test[:1]).items()
    }
    reference["history"] = np.resize(np.arange(20), (1, 20))
    flops = {
        "armmt": count_flops(teacher, inputs.teacher(reference)),
        "head": count_flops(head, inputs.head(reference)),
        "reference": {"candidates": 100, "history": 20},
    }
    print(
        f"rerank: FLOPs per request (100 candidates, 20 history): teacher {flops['armmt']:,}, head {flops['head']:,}",
        flush=True,
    )
    return onnx, flops


# ---- parallel training jobs ------------------------------------------------------------------
#
# Each model trains in its own process on one torch thread: on this 2-core machine two such
# processes train two models at once, and one thread per process is faster per step than two
# threads contending (measured: docs/training.md). Workers are forked, so they inherit the
# world and the inputs of `Jobs.context` without copying or pickling them.


class Jobs:
    """Runs `train_job`s on `workers` forked processes; a job returns what `train_job` returns."""

    context = None

    def __init__(self, workers, **context):
        Jobs.context = context
        self.workers = workers

    def run(self, jobs):
        Jobs.context["jobs"] = jobs  # a job holds closures: workers read it by index, never pickled
        if self.workers <= 1:
            return [train_job(i) for i in range(len(jobs))]
        ctx = multiprocessing.get_context("fork")
        with ctx.Pool(self.workers, maxtasksperchild=1) as pool:
            return pool.map(train_job, range(len(jobs)), chunksize=1)


def train_job(index):
    """Trains one re-ranker for one seed in this process (`Jobs.context`: world, rc, jobs...),
    saves its test-split scores and weights, returns {name, seed, scores, weights, seconds}."""
    torch.set_num_threads(1)
    c = Jobs.context
    job = c["jobs"][index]
    started = time.time()
    torch.manual_seed(job["seed"])
    model = job["make_model"]()
    train_ranker(
        c["world"],
        job["sessions"],
        c["valid_batches"],
        job["make_inputs"],
        model,
        job["loss_of"],
        job["epochs"],
        c["rc"],
        job["seed"],
        f"{job['name']}[seed {job['seed']}]",
    )
    d = c["dir"]
    scores = os.path.join(d, "scores", f"{job['name']}.seed{job['seed']}.npy")
    np.save(
        scores, score_rows(c["world"], c["world"].sessions("test"), job["make_inputs"], model)[c["test_rows"]]
    )
    weights = os.path.join(d, "weights", f"{job['name']}.seed{job['seed']}.pt")
    torch.save(model.state_dict(), weights)
    return {
        "name": job["name"],
        "seed": job["seed"],
        "scores": scores,
        "weights": weights,
        "seconds": round(time.time() - started, 1),
    }


def build_teacher(factory, features, price, dim, heads):
    """A teacher-family model (TEACHER or a TABLE row) with its input normalization fitted to the
    catalog; a job's `make_model`, bound with functools.partial."""
    model = factory(*(f.shape[1] for f in features), dim=dim, heads=heads)
    model.inputs.fit(*features, price)
    return model


def build_edge_head(edge, price, rc):
    """The edge head, its input normalization fitted to the int8-dequantized embeddings."""
    model = EdgeHead(edge[1].shape[1], rc.head_dim, rc.head_heads)
    model.fit(*edge, price)
    return model


def head_loss(teacher_scores, rc, out, exam, b):
    """The head's loss: list-wise distillation from the teacher's scores of the same rows (pads at
    PAD_SCORE), plus the label loss the teacher family trains on."""
    t = teacher_scores[torch.from_numpy(b["row"]).clamp(min=0)]
    t = torch.where(torch.from_numpy(b["mask"]), t, torch.full_like(t, PAD_SCORE))
    distill = distill_loss(out["score"], t, rc.distill_temperature)
    return rc.distill_weight * distill + rc.label_weight * label_loss(out, exam, b)


def hide_history(make_inputs, b):
    """`make_inputs(b)` as if no user had any history."""
    x = make_inputs(b)
    return {**x, "hist_mask": torch.zeros_like(x["hist_mask"])}


def make_job(name, seed, make_model, make_inputs, loss_of, epochs, sessions):
    """One `train_job`: a re-ranker `name` trained for one seed."""
    return {
        "name": name,
        "seed": seed,
        "make_model": make_model,
        "make_inputs": make_inputs,
        "loss_of": loss_of,
        "epochs": epochs,
        "sessions": sessions,
    }


class RerankStage:
    """Stage `rerank` step by step. What the steps share lives here, so that a job's model and loss
    are plain partials of module-level functions (workers still read them after a fork, never pickled)."""

    def __init__(self, world, cfg, out, scope):
        rc = cfg.rerank
        if scope == "release":
            rc = dataclasses.replace(rc, seeds=rc.seeds[:1])
        torch.set_num_threads(1)  # before any fork: every process here runs one thread
        self.world, self.cfg, self.rc, self.out, self.scope = world, cfg, rc, out, scope
        self.features = world.features()
        self.price = torch.from_numpy(np.array(world["item_price"], dtype=np.float32))
        self.inputs = ListInputs(world, self.features, load_edge_embeddings(out))
        self.train = world.sessions("train")
        self.table_train = subset(self.train, rc.table_sessions)
        self.valid = world.sessions("valid")[:2000]
        self.dir = os.path.join(out, "rerank")
        for sub in ("scores", "weights"):
            os.makedirs(os.path.join(self.dir, sub), exist_ok=True)
        self.summary = {
            "rankers": {},
            "train_sessions": int(len(self.train)),
            "table_sessions": int(len(self.table_train)),
            "epochs": rc.epochs,
            "table_epochs": rc.table_epochs,
            "head_epochs": rc.head_epochs,
        }
        self.test_rows = split_rows(world, "test")
        # What every job reads besides itself (Jobs.context): the validation lists, batched once for all.
        self.context = {
            "world": world,
            "rc": rc,
            "valid_batches": list(list_batches(world, self.valid, 4 * rc.batch_size)),
            "test_rows": self.test_rows,
            "dir": self.dir,
        }

    def run(self):
        self.announce()
        teacher = self.train_teachers()
        self.score_history_hidden(TEACHER, self.inputs.teacher, teacher)
        head = self.distill_head(teacher)
        self.score_history_hidden("head", self.inputs.head, head)
        self.summary["onnx"], self.summary["flops"] = export_pair(
            self.world, self.inputs, teacher, head, self.out
        )
        with open(os.path.join(self.dir, "summary.json"), "w") as f:
            json.dump(self.summary, f, indent=2)
        return self.summary

    def announce(self):
        rc = self.rc
        table = (
            f"; the ablation table on {len(self.table_train)} × {rc.table_epochs}"
            if self.scope == "full"
            else ""
        )
        print(
            f"rerank: teacher on {len(self.train)} training sessions × {rc.epochs} epochs{table}; "
            f"seeds {list(rc.seeds)}; {rc.workers} worker processes",
            flush=True,
        )

    def teacher_family(self, factory):
        return functools.partial(
            build_teacher, factory, self.features, self.price, self.cfg.two_tower.dim, self.rc.heads
        )

    def teacher_job(self, name, seed, factory, aux, epochs, sessions):
        """A teacher-family job: label loss with `aux` times the auxiliary-task weight."""
        rc = self.rc
        loss_of = functools.partial(
            label_loss, aux_weight=aux * rc.aux_weight, listwise_weight=rc.listwise_weight
        )
        return make_job(
            name, seed, self.teacher_family(factory), self.inputs.teacher, loss_of, epochs, sessions
        )

    def teacher_jobs(self):
        """The teacher's seeds first: the longest jobs, so the table's short ones fill in around them."""
        rc = self.rc
        factory, aux = TEACHER_FACTORY
        jobs = [self.teacher_job(TEACHER, s, factory, aux, rc.epochs, self.train) for s in rc.seeds]
        table = TABLE.items() if self.scope == "full" else ()
        jobs += [
            self.teacher_job(name, s, factory, aux, rc.table_epochs, self.table_train)
            for name, (factory, aux) in table
            for s in rc.seeds
        ]
        return jobs

    def run_jobs(self, jobs):
        """Trains `jobs` on `rc.workers` processes and records each one's scores and seconds in the summary."""
        results = Jobs(self.rc.workers, **self.context).run(jobs)
        for r in results:
            entry = self.summary["rankers"].setdefault(r["name"], {"scores": {}, "seconds": []})
            entry["scores"][r["seed"]] = r["scores"]
            entry["seconds"].append(r["seconds"])
        return results

    def train_teachers(self):
        """The teacher over every seed and the ablation table; returns the first seed's teacher."""
        results = self.run_jobs(self.teacher_jobs())
        teacher = self.teacher_family(TEACHER_FACTORY[0])()
        first = next(r for r in results if r["name"] == TEACHER and r["seed"] == self.rc.seeds[0])
        teacher.load_state_dict(torch.load(first["weights"]))
        teacher.eval()
        return teacher

    def score_history_hidden(self, name, make_inputs, model):
        """What the history is worth to `name`: its first seed again, with every user's history hidden
        (scored, not trained: no seconds)."""
        seed = self.rc.seeds[0]
        file = os.path.join(self.dir, "scores", f"{name}_history_hidden.seed{seed}.npy")
        hidden = functools.partial(hide_history, make_inputs)
        np.save(file, score_rows(self.world, self.world.sessions("test"), hidden, model)[self.test_rows])
        self.summary["rankers"][f"{name}_history_hidden"] = {"scores": {seed: file}}

    def distill_head(self, teacher):
        """The head over every seed, learning from `teacher`; returns the first seed's head."""
        rc, inputs = self.rc, self.inputs
        # The head learns from the first seed's teacher: its scores on the head's training lists —
        # by default every training session, since the teacher labels any list for free.
        head_train = subset(self.train, rc.head_sessions)
        started = time.time()
        teacher_scores = torch.from_numpy(
            score_rows(self.world, np.concatenate([head_train, self.valid]), inputs.teacher, teacher)
        )
        print(
            f"rerank: teacher scored the training and validation lists in {time.time() - started:.0f}s",
            flush=True,
        )
        print(
            f"rerank: the head distils on {len(head_train)} training sessions × {rc.head_epochs} epochs",
            flush=True,
        )
        self.summary["head_sessions"] = int(len(head_train))
        edge_head = functools.partial(build_edge_head, inputs.edge, self.price, rc)
        loss_of = functools.partial(head_loss, teacher_scores, rc)
        results = self.run_jobs(
            [
                make_job("head", s, edge_head, inputs.head, loss_of, rc.head_epochs, head_train)
                for s in rc.seeds
            ]
        )
        head = edge_head()
        head.load_state_dict(torch.load(results[0]["weights"]))
        head.eval()
        return head


def stage_rerank(world, cfg, out, scope="full"):
    """scope "full": the teacher and the head over every seed, and the ablation table; "release":
    the teacher and the head only, on the first seed (another world's check)."""
    return RerankStage(world, cfg, out, scope).run()


def main(argv=None):
    p = argparse.ArgumentParser(description="Train the edge-rerank models on a synthetic world.")
    p.add_argument("--world", required=True)
    p.add_argument("--preset", default="smoke")
    p.add_argument("--out", required=True)
    p.add_argument("--stage", choices=["two_tower", "rerank"], required=True)
    p.add_argument("--seed", type=int, default=None)
    p.add_argument(
        "--scope",
        choices=["full", "release"],
        default="full",
        help="rerank: everything (full) or only the teacher and the head on one seed (release)",
    )
    args = p.parse_args(argv)
    cfg = preset(args.preset)
    if args.seed is not None:
        cfg.seed = args.seed
    world = World(args.world)
    os.makedirs(args.out, exist_ok=True)
    threads = (
        "one thread per worker process" if args.stage == "rerank" else f"{torch.get_num_threads()} threads"
    )
    print(
        f"train: stage {args.stage}, preset {args.preset}, seed {cfg.seed}, torch {torch.__version__}, {threads}",
        flush=True,
    )
    if args.stage == "two_tower":
        stage_two_tower(world, cfg, args.out)
    if args.stage == "rerank":
        stage_rerank(world, cfg, args.out, args.scope)


if __name__ == "__main__":
    sys.exit(main())
