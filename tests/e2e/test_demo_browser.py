"""The demo as a person sees it: the web chat page in Chromium, with Magpie answering."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Page, async_playwright, expect
from tg_sandbox import FloodPolicy, Sandbox

from magpie.demo_scene import demo_scene
from tests.browser import CHROMIUM_ARGS, chromium_path, snapshot
from tests.e2e.conftest import TOKEN, magpie_settings, start

pytestmark = pytest.mark.browser


@pytest.fixture
async def page(tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[Page]:
    """`make demo` in miniature: the demo scene, Magpie on the offline model, the page open."""
    executable = chromium_path()
    async with Sandbox(flood=FloodPolicy(enabled=False), anti_spin=False) as sandbox:
        account = sandbox.add_bot(token=TOKEN, username="magpie_bot")
        demo_scene(sandbox, account)
        overrides = getattr(request, "param", {})  # e.g. the demo's own writing pace
        settings = magpie_settings(
            sandbox, tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'magpie.db'}", **overrides
        )
        async with start(sandbox, account, settings), async_playwright() as playwright:
            browser = await playwright.chromium.launch(
                executable_path=executable, args=CHROMIUM_ARGS
            )
            opened = await browser.new_page(viewport={"width": 1280, "height": 800})
            try:
                await opened.goto(f"{sandbox.url}/")
                await expect(opened.get_by_test_id("chat-item")).to_have_count(3)
                yield opened
            finally:
                await snapshot(opened, "demo", request.node.name)
                await browser.close()


async def say(page: Page, text: str) -> None:
    composer = page.get_by_test_id("composer")
    await composer.fill(text)
    await composer.press("Enter")


async def test_magpie_answers_in_the_private_chat_and_runs_a_tool(page: Page) -> None:
    await say(page, "What time is it in Tokyo?")
    last = page.get_by_test_id("message").last
    await expect(last).to_contain_text("current_time", timeout=15_000)
    await expect(last).to_contain_text("Asia/Tokyo")
    await say(page, "Hello there")
    await expect(page.get_by_test_id("message").last).to_contain_text(
        "You wrote: Hello there", timeout=15_000
    )
    await expect(page.get_by_test_id("message").last.locator("b, strong").first).to_have_text(
        "Magpie"
    )


@pytest.mark.parametrize("page", [{"offline_words_per_second": 40}], indirect=True)
async def test_at_the_demos_pace_the_answer_is_seen_being_written(page: Page) -> None:
    """`make demo` writes at ~40 words a second, so the draft grows before the message lands."""
    await say(page, "Hello there")
    draft = page.get_by_test_id("draft")
    await expect(draft.get_by_test_id("draft-text")).to_contain_text("Magpie", timeout=15_000)
    await expect(draft.get_by_test_id("stop-button")).to_be_visible()
    await expect(draft).to_have_count(0, timeout=15_000)
    await expect(page.get_by_test_id("message").last).to_contain_text("You wrote: Hello there")


async def test_in_the_group_magpie_answers_only_when_mentioned(page: Page) -> None:
    await page.get_by_test_id("identity-select").select_option(label="Ann")
    await page.get_by_test_id("chat-item").filter(has_text="Weekend trip").click()
    hello = page.get_by_test_id("message").filter(has_text="privacy mode is on")
    await expect(hello).to_have_count(1, timeout=15_000)
    await say(page, "Let's go to Lviv on Friday")
    await say(page, "@magpie_bot what do you think?")
    answer = page.get_by_test_id("message").filter(has_text="You wrote: @magpie_bot what do")
    await expect(answer).to_have_count(1, timeout=15_000)
    await expect(answer.get_by_test_id("reply-quote")).to_contain_text("Ann")
    replies = page.get_by_test_id("message").filter(has_text="offline")
    await expect(replies).to_have_count(1)  # the unaddressed message got no answer
