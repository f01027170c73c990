"""Streaming drafts, file uploads and downloads, and Telegram Stars payments."""

from __future__ import annotations

import asyncio

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import BufferedInputFile, LabeledPrice

from tg_sandbox import ManualClock, Sandbox, User


@pytest.fixture
def ann(sandbox: Sandbox) -> User:
    user = sandbox.add_user("Ann")
    sandbox.people.send_text(user, sandbox.bot(), "/start")
    return user


async def test_drafts_stream_in_private_chats_and_stop_reaches_the_bot(
    sandbox: Sandbox, bot: Bot, ann: User
) -> None:
    await bot.get_updates()  # confirm /start later
    assert await bot.send_message_draft(ann.id, draft_id=7, text="", can_stop=True) is True
    assert await bot.send_message_draft(ann.id, draft_id=7, text="Hel", can_stop=True) is True
    assert await bot.send_message_draft(ann.id, draft_id=7, text="Hello", can_stop=True) is True
    drafts = sandbox.world.live_drafts(sandbox.bot())
    assert [(d.text, d.updates) for d in drafts] == [("Hello", 3)]
    sandbox.people.press_stop(ann, sandbox.bot())
    updates = await bot.get_updates(offset=-1)
    stopped = updates[-1].stopped_message_generation
    assert stopped is not None and stopped.draft_id == 7 and stopped.chat.id == ann.id
    await bot.send_message(ann.id, "Hello")
    assert sandbox.world.live_drafts(sandbox.bot()) == []  # the real message replaces the draft


async def test_drafts_are_private_only_and_expire(
    sandbox: Sandbox, bot: Bot, ann: User, clock: ManualClock
) -> None:
    group = sandbox.add_group("G", members=[ann])
    sandbox.add_bot_to_chat(sandbox.bot(), group)
    with pytest.raises(TelegramBadRequest, match="TEXTDRAFT_PEER_INVALID"):
        await bot.send_message_draft(group.id, draft_id=1, text="x")
    with pytest.raises(TelegramBadRequest, match="draft_id"):
        await bot.send_message_draft(ann.id, draft_id=0, text="x")
    await bot.send_message_draft(ann.id, draft_id=2, text="soon gone")
    clock.advance(31)
    assert sandbox.world.live_drafts(sandbox.bot()) == []


async def test_upload_get_file_and_download(sandbox: Sandbox, bot: Bot, ann: User) -> None:
    payload = b"%PDF-1.4 tiny"
    sent = await bot.send_document(
        ann.id,
        BufferedInputFile(payload, filename="notes.pdf"),
        caption="<b>notes</b>",
        parse_mode="HTML",
    )
    assert sent.document and sent.document.file_name == "notes.pdf"
    assert sent.caption == "notes" and sent.caption_entities
    file = await bot.get_file(sent.document.file_id)
    assert file.file_path and file.file_size == len(payload)
    downloaded = await bot.download_file(file.file_path)
    assert downloaded is not None and downloaded.read() == payload
    photo = await bot.send_photo(ann.id, BufferedInputFile(b"\x89PNG....", filename="p.png"))
    assert photo.photo and len(photo.photo) == 2
    again = await bot.send_photo(ann.id, photo.photo[-1].file_id)
    assert again.photo and again.photo[-1].file_unique_id == photo.photo[-1].file_unique_id
    with pytest.raises(TelegramBadRequest, match="wrong file identifier/HTTP URL specified"):
        await bot.send_voice(ann.id, "no-such-file")
    with pytest.raises(TelegramBadRequest, match="message caption is too long"):
        await bot.send_photo(ann.id, photo.photo[-1].file_id, caption="x" * 1025)


async def test_user_media_can_be_downloaded_by_the_bot(
    sandbox: Sandbox, bot: Bot, ann: User
) -> None:
    sandbox.people.send_media(ann, sandbox.bot(), "voice", b"OggS-voice", mime_type="audio/ogg")
    voice = next(u.message.voice for u in await bot.get_updates() if u.message and u.message.voice)
    file = await bot.get_file(voice.file_id)
    assert file.file_path
    downloaded = await bot.download_file(file.file_path)
    assert downloaded is not None and downloaded.read() == b"OggS-voice"


async def test_stars_invoice_payment_and_refund(sandbox: Sandbox, bot: Bot, ann: User) -> None:
    invoice = await bot.send_invoice(
        ann.id,
        title="50 credits",
        description="Top up",
        payload="topup:50",
        currency="XTR",
        prices=[LabeledPrice(label="50 credits", amount=50)],
    )
    assert invoice.invoice and invoice.invoice.total_amount == 50
    message = sandbox.world.private_chat(sandbox.bot(), ann).messages[invoice.message_id]

    async def bot_side() -> None:
        while True:
            for update in await bot.get_updates(timeout=1):
                await bot.get_updates(offset=update.update_id + 1)
                if update.pre_checkout_query:
                    await bot.answer_pre_checkout_query(update.pre_checkout_query.id, ok=True)
                    return

    answering = asyncio.create_task(bot_side())
    outcome = await sandbox.people.pay(ann, message)
    await answering
    assert outcome.paid and outcome.charge_id
    receipts = [
        u.message.successful_payment
        for u in await bot.get_updates()
        if u.message and u.message.successful_payment
    ]
    assert receipts and receipts[0].telegram_payment_charge_id == outcome.charge_id
    assert receipts[0].invoice_payload == "topup:50"
    assert await bot.refund_star_payment(ann.id, outcome.charge_id) is True
    with pytest.raises(TelegramBadRequest, match="CHARGE_ALREADY_REFUNDED"):
        await bot.refund_star_payment(ann.id, outcome.charge_id)
    history = await bot.get_star_transactions()
    assert [t.amount for t in history.transactions] == [50, 50]
    assert history.transactions[0].source and history.transactions[1].receiver


async def test_invoice_validation(bot: Bot, ann: User) -> None:
    with pytest.raises(TelegramBadRequest, match="there must be at least one price"):
        await bot.send_invoice(
            ann.id, title="t", description="d", payload="p", currency="XTR", prices=[]
        )
    with pytest.raises(TelegramBadRequest, match="STARS_INVOICE_INVALID"):
        await bot.send_invoice(
            ann.id,
            title="t",
            description="d",
            payload="p",
            currency="XTR",
            prices=[LabeledPrice(label="a", amount=1), LabeledPrice(label="b", amount=2)],
        )
    link = await bot.create_invoice_link(
        title="t",
        description="d",
        payload="p",
        currency="XTR",
        prices=[LabeledPrice(label="a", amount=5)],
    )
    assert link.startswith("https://t.me/$")


async def test_late_pre_checkout_answer_is_refused(
    sandbox: Sandbox, bot: Bot, ann: User, clock: ManualClock
) -> None:
    invoice = await bot.send_invoice(
        ann.id,
        title="t",
        description="d",
        payload="p",
        currency="XTR",
        prices=[LabeledPrice(label="a", amount=5)],
    )
    message = sandbox.world.private_chat(sandbox.bot(), ann).messages[invoice.message_id]
    paying = asyncio.create_task(sandbox.people.pay(ann, message, wait=5))
    query = None
    while query is None:
        updates = await bot.get_updates(timeout=1)
        query = next((u.pre_checkout_query for u in updates if u.pre_checkout_query), None)
    clock.advance(11)
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_pre_checkout_query(query.id, ok=True)
    paying.cancel()
