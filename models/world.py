"""Reads a SYNTHETIC world written by `npm run world` (memory-mapped .npy files + manifest.json).

The TypeScript generator (scripts/world/) is the only writer; this is the Python reader the
training code uses. File layout and meaning: docs/world.md.
"""
import hashlib
import json
import os

import numpy as np

SPLITS = ("train", "valid", "test")


class World:
    def __init__(self, path, verify=False):
        self.path = path
        with open(os.path.join(path, "manifest.json")) as f:
            self.manifest = json.load(f)
        if self.manifest.get("kind") != "edge-rerank synthetic world":
            raise ValueError(f"{path}/manifest.json is not a world manifest")
        self.arrays = {}
        self._loaded = {}  # arrays read into memory, by key (`_in_memory`)
        for key, entry in self.manifest["files"].items():
            if "dtype" not in entry:
                continue  # JSONL metadata, read on demand
            file = os.path.join(path, entry["file"])
            if verify and _sha256(file) != entry["sha256"]:
                raise ValueError(f"{entry['file']}: sha256 does not match the manifest")
            a = np.load(file, mmap_mode="r")
            if str(a.dtype) != entry["dtype"] or list(a.shape) != entry["shape"]:
                raise ValueError(
                    f"{entry['file']}: {a.dtype} {list(a.shape)} but the manifest says {entry['dtype']} {entry['shape']}"
                )
            self.arrays[key] = a
        self.choice = self.manifest["config"]["choice"]
        self.session = self.arrays["session"]  # [S, 4]: user, query, split, length
        self.offset = self.arrays["session_offset"]  # [S + 1]

    def __getitem__(self, key):
        return self.arrays[key]

    @property
    def counts(self):
        return self.manifest["counts"]

    def sessions(self, split):
        """Session indices of a split, in time order."""
        return np.nonzero(self.session[:, 2] == self.split_code(split))[0]

    def split_code(self, split):
        return SPLITS.index(split)

    @property
    def row_session(self):
        """Session of every candidate row, [candidates] int64 (computed once)."""
        if not hasattr(self, "_row_session"):
            self._row_session = np.repeat(np.arange(len(self.offset) - 1), np.diff(self.offset))
        return self._row_session

    def features(self):
        """The model-visible embeddings as float32 tensors: query [Q, 128], item text [N, 128], item image [N, 128]."""
        import torch

        return tuple(
            torch.from_numpy(np.array(self.arrays[k]))
            for k in ("query_emb", "item_text_emb", "item_image_emb")
        )

    def rows(self, s):
        return slice(int(self.offset[s]), int(self.offset[s + 1]))

    def metadata(self, key):
        """Rows of items.jsonl / queries.jsonl / users.jsonl as dicts."""
        with open(os.path.join(self.path, self.manifest["files"][key]["file"])) as f:
            return [json.loads(line) for line in f if line.strip()]

    def list_batch(self, sessions):
        """Padded arrays for a batch of sessions (B sessions, L = longest list in the batch).

        Returns a dict of numpy arrays:
          item [B, L] int64 (-1 pad), row [B, L] int64 (candidate row, -1 pad), mask [B, L] bool,
          position [B, L] int64,
          retrieval [B, L] float32, click / purchase [B, L] float32,
          p_click / p_purchase [B, L] float32 (truth), query [B] int64, user [B] int64,
          history [B, H] int64 (-1 pad, newest first; H = the batch's longest history, at least 1).
        """
        sessions = np.asarray(sessions)
        lengths = self.session[sessions, 3].astype(np.int64)
        L = int(lengths.max())
        positions = np.arange(L, dtype=np.int64)
        mask = positions[None] < lengths[:, None]  # [B, L]
        rows = np.where(mask, self.offset[sessions].astype(np.int64)[:, None] + positions[None], -1)
        safe = rows.clip(min=0)  # gathered, then blanked where padded
        out = {"row": rows, "mask": mask, "position": np.broadcast_to(positions, mask.shape).copy()}
        sources = {
            "item": ("cand_item", -1, np.int64),
            "retrieval": ("cand_retrieval", 0, np.float32),
            "click": ("cand_click", 0, np.float32),
            "purchase": ("cand_purchase", 0, np.float32),
            "p_click": ("cand_p_click", 0, np.float32),
            "p_purchase": ("cand_p_purchase", 0, np.float32),
        }
        for name, (key, pad, dtype) in sources.items():
            out[name] = np.where(mask, self._in_memory(key)[safe], pad).astype(dtype)
        out["query"] = self.session[sessions, 1].astype(np.int64)
        out["user"] = self.session[sessions, 0].astype(np.int64)
        history = self._in_memory("user_history")[out["user"]].astype(np.int64)
        out["history"] = history[:, : max(1, int((history >= 0).sum(1).max()))]
        return out

    def _in_memory(self, key):
        """An array read into memory once (training gathers from it at random)."""
        if key not in self._loaded:
            self._loaded[key] = np.asarray(self.arrays[key])
        return self._loaded[key]


def _sha256(file):
    h = hashlib.sha256()
    with open(file, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
