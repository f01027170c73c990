"""The garbage collector is tuned while `magpie run` serves, and only there (GC_TUNING)."""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from tg_sandbox import BotAccount, FloodPolicy, Sandbox

from magpie.app import running
from magpie.cli import serve_until
from magpie.collector import YOUNG_THRESHOLD, tuned_for_serving
from magpie.config import Settings, load_settings

TOKEN = "7000000001:SANDBOX-collector"


def test_start_up_objects_are_frozen_while_serving_and_released_after() -> None:
    before = gc.get_threshold()

    with tuned_for_serving():
        assert gc.get_freeze_count() > 10_000  # imported modules, schemas, the app itself
        assert gc.get_threshold()[0] == YOUNG_THRESHOLD

    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


@contextlib.asynccontextmanager
async def bot_api() -> AsyncIterator[tuple[Sandbox, BotAccount]]:
    async with Sandbox(flood=FloodPolicy(enabled=False), anti_spin=False) as sandbox:
        yield sandbox, sandbox.add_bot(token=TOKEN, username="magpie_bot")


def settings_for(sandbox: Sandbox, tmp_path: Path, **overrides: Any) -> Settings:
    return load_settings(
        env_file=None,
        telegram_bot_token=TOKEN,
        telegram_api_url=sandbox.url,
        data_dir=tmp_path,
        offline_words_per_second=0,
        log_format="console",
        **overrides,
    )


def collector() -> tuple[tuple[int, int, int], int]:
    return gc.get_threshold(), gc.get_freeze_count()


async def test_magpie_embedded_through_running_leaves_the_collector_alone(
    tmp_path: Path,
) -> None:
    before = collector()
    async with bot_api() as (sandbox, _), running(settings_for(sandbox, tmp_path)):
        assert collector() == before
    assert collector() == before


@pytest.mark.parametrize("tuning", [True, False])
async def test_magpie_run_tunes_the_collector_while_it_serves_when_gc_tuning_is_on(
    tmp_path: Path, tuning: bool
) -> None:
    before = collector()
    async with bot_api() as (sandbox, account):
        stop = asyncio.Event()
        settings = settings_for(sandbox, tmp_path, gc_tuning=tuning)
        serving = asyncio.create_task(serve_until(settings, stop=stop))
        ann = sandbox.add_user("Ann")
        sandbox.people.send_text(ann, account, "hello")
        chat = sandbox.private_chat(account, ann)
        async with asyncio.timeout(60):  # answered: Magpie is serving
            while not any(m.sender_id == account.id for m in chat.messages.values()):
                await sandbox.world.wait_for_change(sandbox.world.version, 1.0)
        while_serving = collector()
        stop.set()
        await serving
    if tuning:
        assert while_serving[0] == (YOUNG_THRESHOLD, *before[0][1:])
        assert while_serving[1] > before[1] + 10_000
    else:
        assert while_serving == before
    assert collector() == before
