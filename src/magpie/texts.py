"""Every sentence Magpie says on its own (not the model's words), in one place per language."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class FailureReasons:
    """Why a model call failed, in a few words: the {reason} of `Texts.model_failed`."""

    paused: str = "the model service keeps failing, so Magpie paused calls to it"
    rate_limited: str = "the model is rate-limited right now"
    quota: str = "the model's quota is used up"
    overloaded: str = "the model service is overloaded"
    too_slow: str = "the model took too long"
    unreachable: str = "the model service could not be reached"
    too_long: str = "the conversation is too long for the model"
    bad_key: str = "the model rejected Magpie's API key"
    no_such_model: str = "the configured model does not exist"
    filtered: str = "the model's content filter blocked the answer"
    failed: str = "the model service failed"
    rejected: str = "the model rejected the request"
    unreadable: str = "the model sent something unreadable"
    unexpected: str = "unexpected error"
    tool_loop: str = "it kept using tools without answering (limit: {limit} steps)"
    too_many_tokens: str = "the answer needed more than {limit} tokens"
    took_too_long: str = "the answer took longer than {seconds} seconds"
    lost_pause: str = "the paused answer could not be read back"


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
        "/balance, /usage, /buy — your credit, what answers cost, buying Stars\n"
        "/help — this message\n\n"
        "I can tell the time, calculate, check the weather, search the web and read pages "
        "(when this bot is set up for it), and keep notes for this chat."
    )
    unknown_command: str = (
        "I don't know {command}. My commands: /new, /stop, /retry, /tools, /model, /persona, "
        "/balance, /usage, /buy, /help."
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
    reasons: FailureReasons = field(default_factory=FailureReasons)
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
    user_limited: str = (
        "You've reached your limit of {limit} — I'll be glad to go on {when}. Until then I "
        "read along but don't answer."
    )
    limit_messages_per_minute: str = "{n} messages a minute"
    limit_messages_per_day: str = "{n} messages a day"
    limit_tokens_per_minute: str = "{n} tokens a minute"
    limit_tokens_per_day: str = "{n} tokens a day"
    limit_again_in: str = "in {seconds} seconds"
    limit_again_at: str = "at {time} UTC"
    instructions_withheld: str = "I can't share my instructions, but I'm happy to help otherwise."
    allow: str = "✅ Allow"
    deny: str = "✖️ Don't"
    ask_tool_plain: str = "{user}, may I use the {tool} tool?"
    ask_tool_one: str = "{user}, may I use the {tool} tool with this?"
    ask_tool_many: str = "{user}, may I use the {tool} tool with these?"
    confirmed: str = "Allowed by {user}."
    declined: str = "{user} said no; {tool} was not used."
    unanswered: str = "No answer in time, so {tool} was not used."
    question_cancelled: str = "Stopped, so {tool} was not used."
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
    # Billing: balances, usage, Stars, limits (amounts are shown in Stars, e.g. "1.25").
    balance: str = "Your balance: ⭐ {balance}. Free today: ⭐ {free} left."
    balance_entries: str = "Recent entries:"
    balance_no_entries: str = "No entries yet. /buy adds Stars."
    entry_line: str = "• {date} {kind}: {amount}"
    usage: str = "What your messages cost:\nToday: ⭐ {today}\nThis month: ⭐ {month}"
    usage_model: str = "• {model}: {turns} answers, ⭐ {credits}"
    usage_none: str = "Nothing yet this month."
    buy: str = (
        "Buy credit with Telegram Stars. Every Star is 1,000 credits; an answer usually costs "
        "a few credits. Choose a package:"
    )
    buy_button: str = "⭐ {stars}"
    buy_private: str = "Send /buy to me in a private chat."
    invoice_title: str = "{stars} Stars of credit"
    invoice_description: str = "Credit for Magpie's answers: ⭐ {stars}."
    paid: str = (
        "Thank you! ⭐ {stars} added. Your balance: ⭐ {balance}.\n"
        "Payment id (for support and refunds): {charge_id}"
    )
    checkout_declined: str = "This invoice can't be paid ({reason}). Send /buy for a fresh one."
    limit_no_credit: str = (
        "You've used today's free allowance and your balance is ⭐ {balance}, so I won't answer "
        "this one (it costs nothing). The free allowance comes back at midnight UTC — or "
        "send /buy to add Stars and keep chatting now."
    )
    limit_pool_only: str = (
        "This group's sponsor pool is empty and it pays only from the pool, so I won't answer "
        "this one (it costs nothing). A group admin can top it up with /sponsor; your free "
        "allowance comes back at midnight UTC."
    )
    limit_user_cap: str = (
        "You've reached today's spending cap, so I won't answer this one (it costs nothing). "
        "It resets at midnight UTC; /usage shows what you've spent."
    )
    limit_group_cap: str = (
        "This group has reached today's spending cap, so I won't answer this one (it costs "
        "nothing). It resets at midnight UTC; you can still write to me in private."
    )
    paysupport: str = (
        "Payment support: payments are in Telegram Stars and add credit for my answers. A "
        "payment whose credit is still unspent can be refunded within {days} days — send the "
        "bot's operators the payment id from the thank-you message. /balance shows your entries."
    )
    refund_usage: str = "Use: /refund <telegram_payment_charge_id> (bot admins only)."
    refund_admins_only: str = "Only the bot's admins can refund payments."
    refund_done: str = "Refunded ⭐ {stars} to user {user_id}; the ledger has the reversal."
    refund_refused_unknown: str = "There is no payment with that charge id."
    refund_refused_already: str = "That payment was refunded already."
    refund_refused_too_old: str = "That payment is older than {days} days, past the refund window."
    refund_refused_spent: str = (
        "That payment's credit has been partly spent (balance ⭐ {balance}), so it can't be "
        "refunded in full."
    )
    refund_refused_telegram: str = "Telegram refused the refund ({reason}); nothing was changed."
    refunded_notice: str = "⭐ {stars} were refunded to you. Your balance: ⭐ {balance}."
    pool: str = "This group's sponsor pool: ⭐ {balance} ({mode})."
    pool_mode_pool_then_wallet: str = "members' own credit is used once the pool is empty"
    pool_mode_pool_only: str = "members never pay: only the pool"
    pool_set: str = "Pool setting: {mode}."
    pool_admins_only: str = "Only this group's admins can change how its pool is used."
    pool_groups_only: str = "Sponsor pools are for groups: use /sponsor and /pool in a group."
    sponsor_admins_only: str = "Only this group's admins can top up its pool."
    sponsor_usage: str = (
        "Use: /sponsor <Stars> — moves Stars of your credit into this group's pool."
    )
    sponsored: str = "Thank you! ⭐ {stars} moved into this group's pool (now ⭐ {balance})."
    sponsor_short: str = "Your balance is ⭐ {balance}; /buy adds Stars in a private chat."
    demo_needs_sandbox: str = (
        "the demo needs the Telegram sandbox (tg-sandbox), a development package that this "
        "install does not have: run `make demo` in a clone of the Magpie repository"
    )

    # The command menu Telegram shows by the input field (registered at start).
    command_new: str = "Start a fresh conversation"
    command_stop: str = "Stop the answer being written"
    command_retry: str = "Answer my last message again"
    command_tools: str = "Tools in this chat (admins switch them)"
    command_model: str = "Choose the model for this chat"
    command_persona: str = "Show or set this chat's persona"
    command_balance: str = "My balance and recent entries"
    command_usage: str = "What my messages cost"
    command_buy: str = "Buy credit with Telegram Stars"
    command_paysupport: str = "Help with a payment"
    command_help: str = "What I can do"

    # What the reply shows while a built-in tool runs.
    status_time: str = "checking the time…"
    status_calculate: str = "calculating…"
    status_weather: str = "checking the weather…"
    status_search: str = "searching the web…"
    status_page: str = "reading the page…"
    status_save_note: str = "saving a note…"
    status_find_notes: str = "looking through notes…"


ENGLISH = Texts()
