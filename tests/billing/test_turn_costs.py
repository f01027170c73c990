"""What a turn costs, as a person sees it (SQLite and PostgreSQL): a limit hit gets the
friendly message and costs nothing, a priced turn is charged with the turn in one transaction,
a failed turn releases its hold, two turns cannot spend the same credit."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import pytest
from sqlalchemy import insert, select, update

from magpie.billing import accounts
from magpie.billing.meter import Meter
from magpie.billing.policy import PoolMode, QuotaPolicy, Quotas
from magpie.billing.prices import Price, PriceTable
from magpie.billing.service import Billing
from magpie.conversation.clock import Clock
from magpie.conversation.memory import MemoryApprovals, MemoryPreferences
from magpie.conversation.ports import ModelFailure, TextSink
from magpie.conversation.running import RunningTurns
from magpie.conversation.turn import Assistant, TurnSettings
from magpie.conversation.types import (
    Addressing,
    Caller,
    Completion,
    ConversationKey,
    Identity,
    Incoming,
    Outcome,
    Parked,
    Preferences,
    Prompt,
    Speaker,
)
from magpie.storage.conversations import SqlConversationStore
from magpie.storage.database import Database
from magpie.storage.ledger import SqlLedger
from magpie.storage.tables import ChatRow, TurnRow, UserRow
from magpie.texts import ENGLISH
from tests.billing.conftest import Now
from tests.conversation.test_questions import Board, Channel

ANN, BOB, ADMIN = Speaker(1, "Ann"), Speaker(2, "Bob"), Speaker(3, "Olga")
GROUP = -100
PRICES = PriceTable({"m": Price(output=1_000_000)})  # 1 credit per output token


@dataclass
class Scripted:
    """A Model double: answers with 50 output tokens, or fails; may wait for a signal."""

    name: str = "m"
    fail: bool = False
    calls: int = 0
    gate: asyncio.Event | None = None
    started: asyncio.Event = field(default_factory=asyncio.Event)
    seen_holds: list[int] = field(default_factory=list)
    meter: Meter | None = None

    async def complete(
        self,
        prompt: Prompt,
        *,
        caller: Caller,
        preferences: Preferences,
        on_text: TextSink,
        on_status: TextSink,
    ) -> Completion:
        self.calls += 1
        self.started.set()
        if self.meter is not None:
            self.seen_holds.append(self.meter.held(accounts.wallet(caller.user_id)))
        if self.gate is not None:
            await self.gate.wait()
        if self.fail:
            raise ModelFailure("the model service failed")
        return Completion(text="Here you are.", tokens_in=100, tokens_out=50, model="m")

    async def resume(
        self,
        parked: Parked,
        *,
        allowed: bool,
        caller: Caller,
        preferences: Preferences,
        on_text: TextSink,
        on_status: TextSink,
    ) -> Completion:
        raise AssertionError("not used")


@dataclass
class Shop:
    db: Database
    ledger: SqlLedger
    meter: Meter
    billing: Billing
    model: Scripted
    assistant: Assistant
    store: SqlConversationStore
    now: Now


@pytest.fixture
async def shop(migrated_db: Database) -> Shop:
    return await make_shop(migrated_db, Quotas(free_daily=0))


async def make_shop(db: Database, quotas: Quotas, *, expected_output: int = 50) -> Shop:
    async with db.write() as connection:
        await connection.execute(
            insert(UserRow), [{"id": s.id, "first_name": s.name} for s in (ANN, BOB, ADMIN)]
        )
        await connection.execute(
            insert(ChatRow),
            [{"id": s.id, "type": "private"} for s in (ANN, BOB, ADMIN)]
            + [{"id": GROUP, "type": "supergroup", "title": "Trip"}],
        )
    now = Now()
    ledger = SqlLedger(db)
    policy = QuotaPolicy(quotas)
    meter = Meter(
        prices=PRICES, policy=policy, books=ledger, now=now, expected_output=expected_output
    )
    model = Scripted(meter=meter)
    store = SqlConversationStore(db)
    assistant = Assistant(
        store=store,
        preferences=MemoryPreferences(),
        approvals=MemoryApprovals(),
        questions=Board(),
        model=model,
        identity=Identity(id=99, username="magpie_bot"),
        settings=TurnSettings(persona="You are Magpie.", context_tokens=4000),
        count=len,
        running=RunningTurns(),
        texts=ENGLISH,
        clock=Clock(now=now),
        meter=meter,
    )
    return Shop(
        db, ledger, meter, Billing(ledger, policy=policy, now=now), model, assistant, store, now
    )


def message(speaker: Speaker, *, chat: int | None = None, message_id: int = 10) -> Incoming:
    chat_id = speaker.id if chat is None else chat
    return Incoming(
        key=ConversationKey(chat_id),
        message_id=message_id,
        chat_type="private" if chat_id > 0 else "supergroup",
        speaker=speaker,
        text="@magpie_bot what's up?",
        sent_at=Now()(),
        addressing=Addressing(mentions=frozenset({"magpie_bot"})),
        is_bot_admin=speaker is ADMIN,
    )


async def turns(shop: Shop) -> list[tuple[str, int]]:
    async with shop.db.read() as connection:
        rows = await connection.execute(select(TurnRow.outcome, TurnRow.cost).order_by(TurnRow.id))
        return [(row.outcome, row.cost) for row in rows]


async def test_a_limit_hit_gets_the_friendly_message_and_costs_nothing(shop: Shop) -> None:
    channel = Channel()
    record = await shop.assistant.on_message(message(ANN), channel)
    assert record is not None and record.outcome is Outcome.LIMITED
    assert channel.finished == [(ENGLISH.limit_no_credit.format(balance="0"), None)]
    assert shop.model.calls == 0  # the model was not asked
    assert await shop.ledger.balances() == {}
    assert await turns(shop) == [("limited", 0)]


async def test_a_limit_message_cut_off_by_a_crash_is_sent_again_as_itself(shop: Shop) -> None:
    await shop.assistant.on_message(message(ANN), Channel())
    async with shop.db.write() as connection:  # as if Magpie died before it was sent
        await connection.execute(update(TurnRow).values(outcome="delivering"))
    channel = Channel()
    record = await shop.assistant.on_message(message(ANN), channel, redelivered=True)
    assert record is not None and record.outcome is Outcome.LIMITED
    assert channel.finished == [(ENGLISH.limit_no_credit.format(balance="0"), None)]
    assert shop.model.calls == 0
    assert await turns(shop) == [("limited", 0)]


async def test_a_priced_turn_is_charged_with_the_turn(shop: Shop) -> None:
    await shop.billing.grant(ANN.id, amount=1000, reason="welcome")
    record = await shop.assistant.on_message(message(ANN), Channel())
    assert record is not None and record.outcome is Outcome.ANSWERED and record.cost == 50
    assert await shop.ledger.balance(accounts.wallet(ANN.id)) == 950
    assert await shop.ledger.balance(accounts.REVENUE) == 50
    assert await turns(shop) == [("answered", 50)]
    assert shop.model.seen_holds == [50]  # held while the model ran…
    assert shop.meter.held(accounts.wallet(ANN.id)) == 0  # …and gone once charged
    assert (await shop.billing.usage(ANN.id)).today == 50


async def test_a_failed_turn_releases_its_hold_and_costs_nothing(shop: Shop) -> None:
    await shop.billing.grant(ANN.id, amount=1000, reason="welcome")
    shop.model.fail = True
    channel = Channel()
    record = await shop.assistant.on_message(message(ANN), channel)
    assert record is not None and record.outcome is Outcome.FAILED and record.cost == 0
    assert shop.model.seen_holds == [50]
    assert shop.meter.held(accounts.wallet(ANN.id)) == 0
    assert await shop.ledger.balance(accounts.wallet(ANN.id)) == 1000


async def test_two_turns_at_once_cannot_spend_the_same_credit(shop: Shop) -> None:
    await shop.billing.grant(ANN.id, amount=60, reason="just enough for one")
    shop.model.gate = asyncio.Event()
    first = asyncio.ensure_future(shop.assistant.on_message(message(ANN), Channel()))
    await shop.model.started.wait()  # the first turn is running, its hold placed
    second_channel = Channel()
    second = await shop.assistant.on_message(message(ANN, chat=GROUP), second_channel)
    assert second is not None and second.outcome is Outcome.LIMITED
    shop.model.gate.set()
    assert (await first) is not None
    assert await shop.ledger.balance(accounts.wallet(ANN.id)) == 10


async def test_the_free_allowance_pays_first_then_the_wallet(migrated_db: Database) -> None:
    shop = await make_shop(migrated_db, Quotas(free_daily=30))
    await shop.billing.grant(ANN.id, amount=100, reason="top-up")
    await shop.assistant.on_message(message(ANN), Channel())
    assert await shop.ledger.balance(accounts.FREE) == -30
    assert await shop.ledger.balance(accounts.wallet(ANN.id)) == 80
    assert (await shop.billing.account(ANN.id)).free_left_today == 0
    shop.now.advance(days=1)
    assert (await shop.billing.account(ANN.id)).free_left_today == 30  # back at midnight UTC


async def test_a_group_pool_pays_for_its_members_first(shop: Shop) -> None:
    await shop.billing.grant(BOB.id, amount=1000, reason="sponsor")
    assert await shop.billing.sponsor(BOB.id, GROUP, amount=70)
    await shop.billing.grant(ANN.id, amount=100, reason="own")
    await shop.assistant.on_message(message(ANN, chat=GROUP, message_id=1), Channel())
    await shop.assistant.on_message(message(ANN, chat=GROUP, message_id=2), Channel())
    assert await shop.ledger.balance(accounts.pool(GROUP)) == 0  # 70 from the pool
    assert await shop.ledger.balance(accounts.wallet(ANN.id)) == 70  # the other 30 her own
    await shop.billing.set_pool_mode(GROUP, PoolMode.POOL_ONLY)
    channel = Channel()
    await shop.assistant.on_message(message(ANN, chat=GROUP, message_id=3), channel)
    assert channel.finished == [(ENGLISH.limit_pool_only, None)]  # her own credit is not used
    await shop.assistant.on_message(message(ANN, message_id=4), Channel())  # in private it is
    assert await shop.ledger.balance(accounts.wallet(ANN.id)) == 20


async def test_bot_admins_are_exempt(shop: Shop) -> None:
    record = await shop.assistant.on_message(message(ADMIN), Channel())
    assert record is not None and record.outcome is Outcome.ANSWERED and record.cost == 50
    assert await shop.ledger.balance(accounts.FREE) == -50  # recorded, not charged to them
    assert await shop.ledger.balance(accounts.wallet(ADMIN.id)) == 0


async def test_caps_per_person_and_per_group(migrated_db: Database) -> None:
    shop = await make_shop(migrated_db, Quotas(user_daily_cap=100, group_daily_cap=110))
    for speaker in (ANN, BOB):
        await shop.billing.grant(speaker.id, amount=1000, reason="plenty")
    for message_id in (1, 2):
        await shop.assistant.on_message(message(ANN, chat=GROUP, message_id=message_id), Channel())
    capped = Channel()
    await shop.assistant.on_message(message(ANN, chat=GROUP, message_id=3), capped)
    assert capped.finished == [(ENGLISH.limit_user_cap, None)]
    group_capped = Channel()
    await shop.assistant.on_message(message(BOB, chat=GROUP, message_id=4), group_capped)
    assert group_capped.finished == [(ENGLISH.limit_group_cap, None)]
    assert await turns(shop) == [("answered", 50), ("answered", 50), ("limited", 0), ("limited", 0)]
