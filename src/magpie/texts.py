"""Every sentence Magpie says on its own (not the model's words), in one place per language."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Texts:
    """English; another language is another instance of this class."""

    start: str = (
        "Hi, I'm {name} — an AI assistant. Just write to me; in groups, mention me "
        "(@{username}), reply to my message or call me by name.\n\n"
        "/new starts a fresh conversation, /stop stops an answer, /retry answers your last "
        "message again, /help shows this."
    )
    help: str = (
        "What I can do: answer questions, keep the thread of a conversation, and remember "
        "what was said in this chat.\n\n"
        "/new — forget the conversation so far and start fresh\n"
        "/stop — stop the answer I'm writing\n"
        "/retry — answer your last message again\n"
        "/tools — the tools I can use here (admins switch them on and off)\n"
        "/model — choose the language model for this chat\n"
        "/persona — show or set how I behave in this chat\n"
        "/help — this message\n\n"
        "I can tell the time, calculate, check the weather, search the web and read pages "
        "(when this bot is set up for it), and keep notes for this chat."
    )
    unknown_command: str = (
        "I don't know {command}. My commands: /new, /stop, /retry, /tools, /model, /persona, /help."
    )
    fresh: str = "Starting fresh — I've set aside our earlier conversation."
    nothing_to_stop: str = "I'm not writing anything right now."
    nothing_to_retry: str = "There's no earlier message of yours to answer again."
    stopped_suffix: str = "\n\n(stopped)"
    stopped_empty: str = "Stopped before I wrote anything."
    model_failed: str = (
        "Sorry — I couldn't get an answer from the language model ({reason}). "
        "Send /retry to try again."
    )
    model_empty: str = "I came up with nothing to say to that. Try rephrasing, or send /retry."
    crashed: str = "Sorry, something went wrong on my side. Please try again in a moment."
    unsupported: str = "I can't read {kind} messages yet — please send text."
    empty: str = "Your message looks empty to me — write me a few words."
    group_hello_all: str = (
        "Hi all! I'm {name}. I can read every message here, so I'll remember the conversation, "
        "but I answer only when you mention me (@{username}), reply to my message or call me "
        "{alias}."
    )
    group_hello_private: str = (
        "Hi all! I'm {name}. Telegram's privacy mode is on for me, so I only see messages that "
        "mention me (@{username}), replies to my messages and commands — I won't know what "
        "else is said. To let me follow the whole conversation, make me an admin, or turn "
        "privacy mode off with @BotFather (/setprivacy) and add me again."
    )
    group_hello_forum: str = " Each topic is a separate conversation for me."
    instructions_withheld: str = "I can't share my instructions, but I'm happy to help otherwise."
    allow: str = "✅ Allow"
    deny: str = "✖️ Don't"
    confirm_tool: str = "{user}, I'd like to use {tool} with {arguments}. Allow it?"
    confirmed: str = "Allowed by {user}."
    declined: str = "{user} said no; {tool} was not used."
    unanswered: str = "No answer, so {tool} was not used."
    not_yours: str = "Only {user} can answer this."
    expired: str = "This question has expired."
    tools_header: str = "Tools in this chat (tap to switch on or off):"
    tools_admins_only: str = "Only this chat's admins can switch tools on or off."
    tools_recent: str = "Recent tool calls here:"
    tools_none: str = "No tools have been used here yet."
    model_current: str = "Model for this chat: {model}. Choose another:"
    model_set: str = "Model for this chat: {model}."
    model_admins_only: str = "Only this chat's admins can change its model."
    persona_current: str = (
        "This chat's persona:\n\n{persona}\n\nSet a new one with /persona <text>, or "
        "/persona reset."
    )
    persona_set: str = "Persona updated for this chat."
    persona_reset: str = "Persona reset to the default."
    persona_admins_only: str = "Only this chat's admins can change its persona."


ENGLISH = Texts()
