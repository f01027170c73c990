"""Per-user rate limits as a person meets them: a few answers, then one friendly line saying when
to come back, then quiet — and the model is never asked meanwhile. SQLite and PostgreSQL."""

from __future__ import annotations

import os
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from redis.asyncio import Redis
from sqlalchemy import select
from structlog.testing import capture_logs
from tg_sandbox import Sandbox

from magpie.limits.outgoing import OutgoingLimiter
from magpie.limits.redis_outgoing import RedisOutgoing
from magpie.limits.redis_users import RedisCounters
from magpie.limits.users import UserLimits, UserQuota
from magpie.observability.metrics import Metrics
from magpie.storage.database import Database
from magpie.storage.tables import MessageRow, TurnRow
from tests.conftest import missing
from tests.e2e.conftest import TOKEN, Harness, magpie_settings, on_fake_openai, start
from tests.e2e.test_questions import FrozenClock
from tests.fakes.llm_vendors import FakeLLMVendors, Reply

# 40 s into a minute, so the minute's end is 20 s away
NOON = datetime(2026, 12, 2, 12, 0, 40, tzinfo=UTC)


async def stored(h: Harness) -> tuple[list[str], int]:
    """The texts of every message kept, and how many turns were recorded."""
    db = await h.runtime.container.get(Database)
    async with db.read() as connection:
        texts = list(await connection.scalars(select(MessageRow.text).order_by(MessageRow.id)))
        turns = len(list(await connection.scalars(select(TurnRow.id))))
    return [t or "" for t in texts], turns


async def test_over_the_limit_a_person_is_told_once_when_to_write_again_and_the_model_rests(
    sandbox: Sandbox, tmp_path: Path, database_url: str, fake_vendors: FakeLLMVendors
) -> None:
    account = sandbox.add_bot(token=TOKEN, username="magpie_bot")
    settings = magpie_settings(
        sandbox, tmp_path, database_url, user_messages_per_minute=2, **on_fake_openai(fake_vendors)
    )
    clock = FrozenClock(NOON)
    fake_vendors.enqueue(Reply("First answer."), Reply("Second answer."), Reply("Third answer."))
    async with start(sandbox, account, settings, extra=[clock]) as h:
        ann = sandbox.add_user("Ann")
        chat = h.private(ann)
        with capture_logs() as logs:
            for text in ("one", "two", "three", "four"):
                sandbox.people.send_text(ann, account, text)
                await h.settled()
        replies = [m.text for m in h.bot_messages(chat)]
        assert replies == [
            "First answer.",
            "Second answer.",
            "You've reached your limit of 2 messages a minute — I'll be glad to go on in 20 "
            "seconds. Until then I read along but don't answer.",
        ]  # and nothing for "four": told once
        assert len(fake_vendors.requests) == 2  # "three" and "four" never reached the model
        limited = [e for e in logs if e["event"] == "user.limited"]
        assert [(e["limit"], e["told"], e["log_level"]) for e in limited] == [
            ("messages_per_minute", True, "warning"),
            ("messages_per_minute", False, "warning"),
        ]
        metrics = await h.runtime.container.get(Metrics)
        counted = metrics.registry.get_sample_value(
            "magpie_user_limited_total", {"limit": "messages_per_minute"}
        )
        assert counted == 2

        clock.times.append(NOON + timedelta(seconds=20))  # the next minute
        sandbox.people.send_text(ann, account, "five")
        await h.settled()
        assert h.bot_messages(chat)[-1].text == "Third answer."
        texts, turns = await stored(h)
        assert [t for t in texts if t in {"one", "two", "three", "four", "five"}] == [
            "one",
            "two",
            "three",
            "four",
            "five",
        ]  # every message is kept, answered or not
        assert turns == 3


async def test_bot_admins_are_not_limited(
    sandbox: Sandbox, tmp_path: Path, database_url: str
) -> None:
    account = sandbox.add_bot(token=TOKEN, username="magpie_bot")
    ann = sandbox.add_user("Ann")
    settings = magpie_settings(
        sandbox, tmp_path, database_url, user_messages_per_minute=1, bot_admins=str(ann.id)
    )
    async with start(sandbox, account, settings, extra=[FrozenClock(NOON)]) as h:
        for text in ("one", "two", "three"):
            sandbox.people.send_text(ann, account, text)
            await h.settled()
        assert len(h.bot_messages(h.private(ann))) == 3
        _, turns = await stored(h)
        assert turns == 3


async def test_chatter_not_meant_for_magpie_uses_no_allowance(
    sandbox: Sandbox, tmp_path: Path, database_url: str
) -> None:
    account = sandbox.add_bot(token=TOKEN, username="magpie_bot", privacy_mode=False)
    settings = magpie_settings(sandbox, tmp_path, database_url, user_messages_per_minute=1)
    async with start(sandbox, account, settings, extra=[FrozenClock(NOON)]) as h:
        ann = sandbox.add_user("Ann")
        group = sandbox.add_group("Weekend trip", members=[ann])
        sandbox.add_bot_to_chat(account, group, admin=True)  # it hears everything
        await h.until(lambda: h.bot_messages(group))  # its hello
        for text in ("where shall we go?", "the lake, maybe", "@magpie_bot what about the lake?"):
            sandbox.people.send_text(ann, group, text)
            await h.settled()
        _hello, reply = h.bot_messages(group)
        assert "limit" not in (reply.text or "")  # the question is answered, not refused


@pytest.mark.redis
async def test_with_redis_the_limits_live_where_every_process_sees_them(
    sandbox: Sandbox, tmp_path: Path, database_url: str
) -> None:
    url = os.environ.get("MAGPIE_TEST_REDIS_URL")
    if not url:
        missing("Redis (MAGPIE_TEST_REDIS_URL)", "MAGPIE_REQUIRE_SERVICES")
    account = sandbox.add_bot(token=TOKEN, username="magpie_bot")
    settings = magpie_settings(
        sandbox, tmp_path, database_url, redis_url=url, user_messages_per_minute=2
    )
    now = NOON + timedelta(days=random.randrange(1, 10_000))  # keys no other run has used
    async with start(sandbox, account, settings, extra=[FrozenClock(now)]) as h:
        assert isinstance(await h.runtime.container.get(OutgoingLimiter), RedisOutgoing)
        ann = sandbox.add_user("Ann")
        for text in ("one", "two"):
            sandbox.people.send_text(ann, account, text)
            await h.settled()
        assert len(h.bot_messages(h.private(ann))) == 2
        other_process = UserLimits(
            RedisCounters(Redis.from_url(url)),
            UserQuota(messages_per_minute=2),
            clock=now.timestamp,
        )
        try:
            verdict = await other_process.admit(ann.id)
        finally:
            await other_process.counters.redis.aclose()  # type: ignore[attr-defined]
        assert (verdict.allowed, verdict.limit) == (False, "messages_per_minute")


async def test_retry_counts_as_a_message_of_whoever_asks_for_it(
    sandbox: Sandbox, tmp_path: Path, database_url: str, fake_vendors: FakeLLMVendors
) -> None:
    account = sandbox.add_bot(token=TOKEN, username="magpie_bot")
    settings = magpie_settings(
        sandbox, tmp_path, database_url, user_messages_per_minute=2, **on_fake_openai(fake_vendors)
    )
    fake_vendors.enqueue(Reply("An answer."), Reply("Another answer."))
    async with start(sandbox, account, settings, extra=[FrozenClock(NOON)]) as h:
        ann = sandbox.add_user("Ann")
        for text in ("a question", "/retry", "/retry"):
            sandbox.people.send_text(ann, account, text)
            await h.settled()
        replies = [m.text or "" for m in h.bot_messages(h.private(ann))]
        assert replies[:2] == ["An answer.", "Another answer."]
        assert replies[2].startswith("You've reached your limit of 2 messages a minute")
        assert len(replies) == 3 and len(fake_vendors.requests) == 2
