import os
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, REPO)


@pytest.fixture(scope="session")
def smoke_world_dir(tmp_path_factory):
    """A smoke world written by the real generator (`npm run world`)."""
    out = tmp_path_factory.mktemp("world")
    subprocess.run(
        [
            "npm",
            "run",
            "--silent",
            "world",
            "--",
            "--preset",
            "smoke",
            "--seed",
            "3",
            "--out",
            str(out),
            "--quiet",
        ],
        cwd=REPO,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return str(out)
