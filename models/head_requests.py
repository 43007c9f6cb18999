"""Writes the edge head's parity requests (parity/edge_head_requests: inputs as the head reads them,
PyTorch's scores) for a release already trained, from what it committed — the manifest, the head's
weights blob and the KV embeddings — without retraining:

    /usr/bin/python3 -m models.head_requests [--release models]

Training writes the same files as it exports the head (models/train.py `export_pair`)."""
import argparse
import json
import os
import sys

from models.export import export_head_requests, load_weights, sample_head_requests
from models.model import EdgeHead
from models.train import load_edge_embeddings


def release_head(release):
    """The release's edge head in PyTorch: its architecture and weights, as the manifest names them."""
    with open(os.path.join(release, "manifest.json")) as f:
        entry = json.load(f)["models"]["edge_head"]["weights"]
    a = entry["architecture"]
    return load_weights(EdgeHead(a["d_emb"], a["dim"], a["heads"]), entry, release)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--release", default="models", help="a release's directory (manifest.json, onnx/, embeddings/)"
    )
    args = p.parse_args(argv)
    path = export_head_requests(
        release_head(args.release), sample_head_requests(*load_edge_embeddings(args.release)), args.release
    )
    print(f"head requests: wrote {os.path.join(args.release, path)}")


if __name__ == "__main__":
    sys.exit(main())
