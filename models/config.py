"""Training configuration per preset: sized so the default chain fits 90 min on 2 CPU cores."""
from dataclasses import dataclass, field


@dataclass
class TwoTowerConfig:
    dim: int = 64  # fused item embedding width (what the edge reads from KV)
    heads: int = 4
    temperature: float = 0.05
    batch_size: int = 512
    lr: float = 2e-3
    align_epochs: int = 4  # stage 1: query ↔ text and query ↔ image
    fusion_epochs: int = 4  # stage 2: query ↔ fused item


@dataclass
class RerankConfig:
    """The teacher, its ablation baselines and the edge head (list-wise re-rankers). The teacher
    family's width is the two-tower's `dim`."""

    heads: int = 4
    batch_size: int = 128  # sessions per step
    lr: float = 2e-3
    warmup: int = 100  # steps of linear warm-up, then cosine decay (train.get_lr)
    min_lr_share: float = 0.05  # the last step's learning rate, as a share of lr
    epochs: int = 8  # the published teacher: passes over every training session
    table_epochs: int = 1  # the ablation table (ARMMT included, as armmt_table): passes over table_sessions
    table_sessions: int = 48000  # a fixed random subset of the training sessions (0: all) — the CPU budget
    aux_weight: float = 0.3  # ARMMT's multimodal auxiliary task (each modality's click loss, averaged)
    listwise_weight: float = 0.5  # plus the list-wise softmax loss on inverse-propensity graded gains
    weight_decay: float = 0.05  # > 0: decoupled weight decay (AdamW); 0: Adam (measured: docs/training.md)
    keep_best: bool = True  # keep each model's pass with the lowest validation loss, not its last
    seeds: tuple = (1, 2, 3)
    workers: int = 2  # models trained at once, one process and one torch thread each
    head_dim: int = 24
    head_heads: int = 2
    head_epochs: int = 4
    head_sessions: int = (
        0  # the head distils on this many training sessions (0: all — the teacher labels any list for free)
    )
    distill_weight: float = 1.0  # list-wise KL to the teacher's score distribution
    distill_temperature: float = 2.0  # softens both distributions (KL scaled by T², as usual)
    label_weight: float = 0.5  # plus the same position-debiased label loss the teacher trains on


@dataclass
class Config:
    preset: str
    seed: int = 1
    two_tower: TwoTowerConfig = field(default_factory=TwoTowerConfig)
    rerank: RerankConfig = field(default_factory=RerankConfig)


PRESETS = {
    "smoke": Config(
        "smoke",
        two_tower=TwoTowerConfig(align_epochs=2, fusion_epochs=2, batch_size=256),
        rerank=RerankConfig(
            epochs=2, table_epochs=2, table_sessions=0, head_epochs=2, seeds=(1, 2), head_dim=16, warmup=10
        ),
    ),
    "default": Config("default"),
}


def preset(name):
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r} (expected one of {', '.join(PRESETS)})")
    return PRESETS[name]
