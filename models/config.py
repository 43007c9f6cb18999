"""Training configuration per preset: sized so the default chain fits ~40 min on 2 CPU cores."""
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
class Config:
    preset: str
    seed: int = 1
    two_tower: TwoTowerConfig = field(default_factory=TwoTowerConfig)


PRESETS = {
    "smoke": Config("smoke", two_tower=TwoTowerConfig(align_epochs=2, fusion_epochs=2, batch_size=256)),
    "default": Config("default"),
}


def preset(name):
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r} (expected one of {', '.join(PRESETS)})")
    return PRESETS[name]
