"""Allow / Don't on a question about a tool call: only its asker, once; then the turn goes on."""

from __future__ import annotations

import structlog
from aiogram import F, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.types import CallbackQuery, Message
from dishka.integrations.aiogram import FromDishka

from magpie.config import Settings
from magpie.conversation.turn import Answer, Assistant
from magpie.conversation.types import Caller
from magpie.observability.metrics import Metrics
from magpie.telegram.admins import ChatAdmins
from magpie.telegram.questions import PREFIX, parse
from magpie.telegram.streaming import Replies
from magpie.texts import Texts

log = structlog.get_logger(__name__)


async def _acknowledge(
    query: CallbackQuery, text: str | None = None, *, alert: bool = False
) -> None:
    """Stop the button's spinner; a query too old to answer (a restart) is fine to skip."""
    try:
        await query.answer(text, show_alert=alert)
    except TelegramAPIError as error:
        log.info("question.ack_failed", error=str(error))


async def on_answer(
    query: CallbackQuery,
    assistant: FromDishka[Assistant],
    admins: FromDishka[ChatAdmins],
    settings: FromDishka[Settings],
    replies: FromDishka[Replies],
    texts: FromDishka[Texts],
    metrics: FromDishka[Metrics],
    redelivered: bool = False,
) -> None:
    parsed = parse(query.data or "")
    message = query.message
    if parsed is None or not isinstance(message, Message):
        await _acknowledge(query, texts.expired)
        return
    approval_id, allow = parsed
    claim = await assistant.claim(
        approval_id, user_id=query.from_user.id, allow=allow, again=redelivered
    )
    if claim.answer is Answer.NOT_YOURS:
        await _acknowledge(query, texts.not_yours.format(user=claim.owner), alert=True)
        return
    if claim.approval is None:
        await _acknowledge(query, texts.expired)
        return
    await _acknowledge(query)
    approval = claim.approval
    private = message.chat.type == "private"
    user_id = query.from_user.id
    caller = Caller(
        user_id=user_id,
        name=approval.user_name,
        chat_id=approval.key.chat_id,
        thread_id=approval.key.thread_id,
        is_chat_admin=private or await admins.is_admin(approval.key.chat_id, user_id),
        is_bot_admin=user_id in settings.bot_admins,
    )
    channel = replies.at(  # the rest of the answer goes where the question was
        approval.key.chat_id,
        private=private,
        thread_id=approval.key.thread_id or None,
        reply_to=approval.trigger_message_id,
    )
    record = await assistant.resume(approval, allow=allow, caller=caller, channel=channel)
    metrics.observe_turn(record, chat_type=message.chat.type)


def router() -> Router:
    approvals = Router(name=__name__)
    approvals.callback_query.register(on_answer, F.data.startswith(f"{PREFIX}:"))
    return approvals
