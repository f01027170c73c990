"""Every Bot API method the sandbox answers, by its Bot API name: the one place they are listed."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from tg_sandbox.methods import (
    account,
    callbacks,
    chats,
    media,
    messages,
    payments,
    streaming,
    updating,
)
from tg_sandbox.methods.call import Handler

METHODS: Mapping[str, Handler] = MappingProxyType(
    {
        # the bot itself
        "getMe": account.get_me,
        "logOut": account.log_out,
        "close": account.close,
        "setMyCommands": account.set_my_commands,
        "getMyCommands": account.get_my_commands,
        "deleteMyCommands": account.delete_my_commands,
        "setMyName": account.set_my_name,
        "getMyName": account.get_my_name,
        "setMyDescription": account.set_my_description,
        "getMyDescription": account.get_my_description,
        "setMyShortDescription": account.set_my_short_description,
        "getMyShortDescription": account.get_my_short_description,
        # getting updates
        "getUpdates": updating.get_updates,
        "setWebhook": updating.set_webhook,
        "deleteWebhook": updating.delete_webhook,
        "getWebhookInfo": updating.get_webhook_info,
        # messages
        "sendMessage": messages.send_message,
        "editMessageText": messages.edit_message_text,
        "editMessageCaption": messages.edit_message_caption,
        "editMessageReplyMarkup": messages.edit_message_reply_markup,
        "deleteMessage": messages.delete_message,
        "deleteMessages": messages.delete_messages,
        "forwardMessage": messages.forward_message,
        "copyMessage": messages.copy_message,
        "setMessageReaction": messages.set_message_reaction,
        # typing and drafts
        "sendChatAction": streaming.send_chat_action,
        "sendMessageDraft": streaming.send_message_draft,
        # files
        "sendPhoto": media.send_photo,
        "sendDocument": media.send_document,
        "sendVoice": media.send_voice,
        "sendAudio": media.send_audio,
        "sendVideo": media.send_video,
        "getFile": media.get_file,
        # buttons
        "answerCallbackQuery": callbacks.answer_callback_query,
        # chats, members and forum topics
        "getChat": chats.get_chat,
        "getChatMember": chats.get_chat_member,
        "getChatAdministrators": chats.get_chat_administrators,
        "getChatMemberCount": chats.get_chat_member_count,
        "leaveChat": chats.leave_chat,
        "createForumTopic": chats.create_forum_topic,
        "editForumTopic": chats.edit_forum_topic,
        "closeForumTopic": chats.close_forum_topic,
        "reopenForumTopic": chats.reopen_forum_topic,
        # Telegram Stars payments
        "sendInvoice": payments.send_invoice,
        "createInvoiceLink": payments.create_invoice_link,
        "answerPreCheckoutQuery": payments.answer_pre_checkout_query,
        "refundStarPayment": payments.refund_star_payment,
        "getStarTransactions": payments.get_star_transactions,
    }
)
_BY_LOWER_NAME = {name.lower(): name for name in METHODS}


def canonical_name(method: str) -> str | None:
    """The Bot API spelling of a method named in any case (Telegram matches it so), or None."""
    return _BY_LOWER_NAME.get(method.lower())
