"""`magpie demo` start-up: a port that is already taken is one clear line with what to do."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path


def test_a_second_demo_on_a_taken_port_says_so_and_suggests_port(tmp_path: Path) -> None:
    with socket.socket() as taken:  # a first demo, as far as the second can tell
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(  # noqa: S603 (this interpreter, our own module)
            [sys.executable, "-m", "magpie.cli", "demo", "--port", str(port)],
            capture_output=True,
            text=True,
            env={"PATH": os.environ["PATH"], "HOME": str(tmp_path)},
            cwd=tmp_path,
            timeout=120,
            check=False,
        )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"magpie: port {port} is in use on 127.0.0.1 (another demo?): stop it, "
        "or pass --port to use another"
    ]
