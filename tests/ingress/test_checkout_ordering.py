"""A pre-checkout query never waits in a lane: Telegram wants its answer within 10 seconds,
and the person's private chat may be busy with a long answer."""

from __future__ import annotations

import asyncio

from aiogram.types import PreCheckoutQuery, Update, User

from magpie.ingress.ordering import ChatQueues, is_urgent

ANN = User(id=5, is_bot=False, first_name="Ann")


def checkout() -> Update:
    query = PreCheckoutQuery(
        id="q1", from_user=ANN, currency="XTR", total_amount=50, invoice_payload="stars:5:50"
    )
    return Update(update_id=2, pre_checkout_query=query)


async def test_a_checkout_is_answered_while_its_chat_is_busy() -> None:
    assert is_urgent(checkout(), "magpie_bot")
    queues, answer_done, release = ChatQueues(), asyncio.Event(), asyncio.Event()

    async def long_answer() -> None:
        await release.wait()

    async def answer_checkout() -> None:
        answer_done.set()

    queues.submit((5, 0), long_answer)
    queues.submit((5, 0), answer_checkout, urgent=is_urgent(checkout(), "magpie_bot"))
    await asyncio.wait_for(answer_done.wait(), 5)  # while the long answer still runs
    release.set()
    await queues.join()
