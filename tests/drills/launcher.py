"""Starts Magpie processes quickly: imports Magpie once, then forks one process per run.

Importing Magpie and its libraries costs ~8 s of CPU on the 2-core test machine; the drills
start Magpie about twenty times. So this launcher (started once per test session) imports it
and waits for requests on stdin, one JSON object a line: `{"socket": path, "cwd": path,
"env": {...}}`. For each it forks a child that connects to the Unix socket at `path` (its
stderr from then on; stdin and stdout are /dev/null), says its pid, takes `env` as its whole
environment and runs exactly what `magpie run` runs: `magpie.cli.main(["run"])`. The child is
an ordinary process: SIGKILL and SIGTERM reach it like any other. Its last line is its exit
code (unless killed). The launcher ends when its stdin closes; its children die with it.

Run as a script (`python tests/drills/launcher.py`); it imports nothing from the tests.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import json
import os
import signal
import socket
import sys
import traceback

import magpie.app  # what `magpie run` imports when it starts: done once, here
import magpie.cli

PR_SET_PDEATHSIG = 1


def _say(line: dict[str, object]) -> None:
    os.write(2, (json.dumps(line) + "\n").encode())


def _die_with_launcher() -> None:
    """If the launcher goes (the test session died), its children go too (Linux only)."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def _child(request: dict[str, object]) -> None:
    """In the forked child: become one run of `magpie run`; never returns."""
    code = 1
    try:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        _die_with_launcher()
        logs = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        logs.connect(str(request["socket"]))
        devnull = os.open(os.devnull, os.O_RDWR)
        os.dup2(devnull, 0)
        os.dup2(devnull, 1)
        os.dup2(logs.fileno(), 2)
        os.chdir(str(request["cwd"]))
        env = request["env"]
        assert isinstance(env, dict)
        os.environ.clear()
        os.environ.update({str(k): str(v) for k, v in env.items()})
        _say({"event": "drill.started", "pid": os.getpid()})
        code = magpie.cli.main(["run"])
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else 1
    except BaseException:
        _say({"event": "drill.crashed", "exception": traceback.format_exc()})
    finally:
        _say({"event": "drill.exit", "code": code})
        os._exit(code)


def main() -> None:
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the kernel
    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        if os.fork() == 0:
            _child(request)


if __name__ == "__main__":
    main()
