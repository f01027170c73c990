"""Smoke test of the product as a packager installs it: the wheel, its declared dependencies only.

1. build Magpie's wheel; it holds no sandbox module and does not depend on tg-sandbox;
2. install it with pip into a fresh venv, from its declared dependencies only;
3. `magpie --help` works; `magpie demo` says in one line that it needs the sandbox;
4. a sandbox (from the development venv) serves, the installed `magpie run` polls it with
   SQLite in a temporary directory, and a message sent through the control API is answered.

Run from the repository root with the development venv's Python (`make smoke`); exits non-zero,
with the failing step and the logs of what it started, on any failure.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "7000000001:SANDBOX-smoke"  # noqa: S105 (the sandbox's own token)
BOT = "magpie_bot"
INSTALL_SECONDS = 1200  # pip resolves and downloads every dependency from the index
START_SECONDS = 60
ANSWER_SECONDS = 120  # `magpie run` imports its world first, on a busy 2-core machine
FORBIDDEN_PREFIXES = ("tg_sandbox/", "magpie/sandbox/")


class SmokeFailure(Exception):
    """A step did not do what it should; the message says what was seen."""


class Report:
    """Counts the checks and prints one line for each."""

    def __init__(self) -> None:
        self.passed = 0

    def ok(self, what: str) -> None:
        self.passed += 1
        print(f"ok - {what}", flush=True)


def run(
    args: list[str], *, timeout: float, env: dict[str, str] | None = None, cwd: Path = ROOT
) -> str:
    """Run a command to completion; its output, or SmokeFailure with the output on failure."""
    try:
        done = subprocess.run(  # noqa: S603 (our own commands)
            args,
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as expired:
        raise SmokeFailure(f"{' '.join(args)} did not finish within {timeout:.0f} s") from expired
    if done.returncode != 0:
        raise SmokeFailure(
            f"{' '.join(args)} exited {done.returncode}\n{done.stdout[-4000:]}{done.stderr[-4000:]}"
        )
    return done.stdout


def clean_env(**extra: str) -> dict[str, str]:
    """Only what a fresh shell has, so nothing of the CI's or developer's settings leaks in."""
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TMPDIR")}
    return keep | {"PYTHONUNBUFFERED": "1"} | extra


def build_wheel(out: Path) -> Path:
    uv = ROOT / ".venv" / "bin" / "uv"
    run([str(uv), "build", "--wheel", "--out-dir", str(out), str(ROOT)], timeout=600)
    wheels = sorted(out.glob("magpie-*.whl"))
    if len(wheels) != 1:
        raise SmokeFailure(f"expected one magpie wheel in {out}, found {wheels}")
    return wheels[0]


def check_wheel(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata = next(n for n in names if n.endswith(".dist-info/METADATA"))
        requires = [
            line
            for line in archive.read(metadata).decode().splitlines()
            if line.startswith("Requires-Dist:")
        ]
    sandboxed = [name for name in names if name.startswith(FORBIDDEN_PREFIXES)]
    if sandboxed:
        raise SmokeFailure(f"the product wheel contains the sandbox: {sandboxed[:5]}")
    if not any(name == "magpie/cli.py" for name in names):
        raise SmokeFailure(f"the wheel has no magpie/cli.py: {names[:10]}")
    if any("tg-sandbox" in line or "tg_sandbox" in line for line in requires):
        raise SmokeFailure(f"the product wheel depends on the sandbox: {requires}")


def install(wheel: Path, venv: Path) -> Path:
    """A fresh venv with the wheel and what it declares; pip resolves, no lock is read."""
    run([sys.executable, "-m", "venv", str(venv)], timeout=120)
    python = venv / "bin" / "python"
    run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", str(wheel)],
        timeout=INSTALL_SECONDS,
        env=clean_env(),
    )
    return venv / "bin" / "magpie"


@contextlib.contextmanager
def started(
    args: list[str], *, log: Path, env: dict[str, str], cwd: Path
) -> Iterator[subprocess.Popen[str]]:
    """A process whose output goes to `log`; stopped (SIGTERM, then SIGKILL) when the block ends."""
    with log.open("w") as sink:
        process = subprocess.Popen(  # noqa: S603 (our own commands)
            args, cwd=cwd, env=env, stdout=sink, stderr=subprocess.STDOUT, text=True
        )
        try:
            yield process
        finally:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(15)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(5)


def wait_for_url(process: subprocess.Popen[str], log: Path) -> str:
    """The sandbox prints TELEGRAM_API_URL=... once it listens."""
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        found = re.search(r"TELEGRAM_API_URL=(\S+)", log.read_text())
        if found:
            return found.group(1)
        if process.poll() is not None:
            raise SmokeFailure(f"the sandbox exited {process.returncode} before listening")
        time.sleep(0.1)
    raise SmokeFailure(f"the sandbox did not listen within {START_SECONDS} s")


def control(url: str, path: str, body: dict[str, Any] | None = None, timeout: float = 30) -> Any:
    """One call to the sandbox's control API; its result."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(  # noqa: S310 (http on 127.0.0.1, our sandbox)
        f"{url}/sandbox/api{path}",
        data=data,
        headers={"Content-Type": "application/json"},
        method="POST" if body is not None else "GET",
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
        answer = json.loads(response.read())
    if not answer.get("ok"):
        raise SmokeFailure(f"control API {path}: {answer}")
    return answer["result"]


def wait_for_answer(url: str, user_id: int, magpie: subprocess.Popen[str]) -> str:
    """The text of the bot's first message in the private chat, waiting on the sandbox's /wait."""
    deadline = time.monotonic() + ANSWER_SECONDS
    version = 0
    while time.monotonic() < deadline:
        view = control(url, f"/chat?bot={BOT}&user_id={user_id}")
        replies = [m for m in view["messages"] if m.get("from", {}).get("is_bot")]
        if replies:
            return str(replies[0].get("text", ""))
        if magpie.poll() is not None:
            raise SmokeFailure(f"magpie run exited {magpie.returncode} before answering")
        version = control(url, f"/wait?version={version}&timeout=2", timeout=10)["version"]
    raise SmokeFailure(f"no answer within {ANSWER_SECONDS} s")


def tail(log: Path, lines: int = 40) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:]) if log.exists() else ""


def smoke(work: Path, report: Report) -> None:
    wheel = build_wheel(work / "dist")
    report.ok(f"built {wheel.name}")
    check_wheel(wheel)
    report.ok("the wheel holds no sandbox module and does not depend on tg-sandbox")
    magpie = install(wheel, work / "venv")
    report.ok("installed into a fresh venv from its declared dependencies (no lock)")
    usage = run([str(magpie), "--help"], timeout=120, env=clean_env(), cwd=work)
    if "run" not in usage or "demo" not in usage:
        raise SmokeFailure(f"magpie --help does not list run and demo:\n{usage}")
    report.ok("magpie --help")
    demo = subprocess.run(  # noqa: S603 (our own command)
        [str(magpie), "demo", "--port", "0"],
        cwd=work,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if demo.returncode != 2 or len(demo.stderr.splitlines()) != 1 or "make demo" not in demo.stderr:
        raise SmokeFailure(
            f"magpie demo without the sandbox: exit {demo.returncode}\n{demo.stderr}"
        )
    report.ok("magpie demo without the sandbox says how to get it, in one line")

    dev_python = ROOT / ".venv" / "bin" / "python"
    sandbox_log, magpie_log = work / "sandbox.log", work / "magpie.log"
    sandbox_args = [str(dev_python), "-m", "tg_sandbox", "--port", "0", "--token", TOKEN]
    try:
        with started(
            [*sandbox_args, "--username", BOT, "--flood", "off"],
            log=sandbox_log,
            env=clean_env(),
            cwd=work,
        ) as sandbox:
            url = wait_for_url(sandbox, sandbox_log)
            settings = clean_env(
                TELEGRAM_API_URL=url,
                TELEGRAM_BOT_TOKEN=TOKEN,
                DATA_DIR=str(work / "data"),
                LLM_MODEL="offline",
            )
            with started([str(magpie), "run"], log=magpie_log, env=settings, cwd=work) as running:
                person = control(url, "/users", {"first_name": "Smoke"})
                control(url, "/send", {"user_id": person["id"], "bot": BOT, "text": "hello"})
                answer = wait_for_answer(url, int(person["id"]), running)
            if not answer.strip():
                raise SmokeFailure("the answer is empty")
            if not list((work / "data").glob("*.db")):
                raise SmokeFailure(f"no SQLite database in {work / 'data'}")
        report.ok(f"magpie run answered through the sandbox: {answer[:60]!r}")
    except SmokeFailure:
        for name, log in (("sandbox", sandbox_log), ("magpie run", magpie_log)):
            print(f"--- last lines of the {name} log ---\n{tail(log)}", file=sys.stderr)
        raise


def main() -> int:
    report = Report()
    work = Path(tempfile.mkdtemp(prefix="magpie-smoke-"))
    try:
        smoke(work, report)
    except (SmokeFailure, OSError) as failure:
        print(f"FAIL - {failure}", file=sys.stderr, flush=True)
        print(f"smoke: {report.passed} passed, 1 failed", flush=True)
        return 1
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"smoke: {report.passed} passed, 0 failed", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
