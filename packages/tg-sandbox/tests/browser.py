"""Debian Chromium driven by Playwright, for the browser tests (skips on a laptop without it)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from playwright.async_api import Page

from tests.conftest import missing

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-quic",
]


def chromium_path() -> str:
    """TG_SANDBOX_CHROMIUM or `chromium` on the PATH; fails if absent and required."""
    path = os.environ.get("TG_SANDBOX_CHROMIUM") or shutil.which("chromium")
    if not path or not Path(path).exists():
        missing("Chromium", "TG_SANDBOX_REQUIRE_BROWSER")
    assert path is not None
    return path


async def snapshot(page: Page, folder: str, name: str) -> None:
    """Keep a screenshot as a test artefact."""
    (ARTIFACTS / folder).mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=ARTIFACTS / folder / f"{name}.png")
