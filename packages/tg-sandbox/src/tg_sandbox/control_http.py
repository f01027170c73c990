"""The control surface over HTTP, under /sandbox/api: set up the world, act as people, inspect."""

from __future__ import annotations

import base64
import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from tg_sandbox.bots import BotAccount
from tg_sandbox.clock import ManualClock
from tg_sandbox.control import ControlSurface
from tg_sandbox.model import Chat, Message, User
from tg_sandbox.people import ActionRefused
from tg_sandbox.render import chat_json, message_json, topic_json, user_json

PREFIX = "/sandbox/api"
Body = dict[str, Any]
Route = Callable[[ControlSurface, Body, web.Request], Awaitable[Any]]


class BadControl(Exception):
    """A control request that names something that does not exist or is malformed."""


def _ok(result: Any) -> web.Response:
    return web.json_response(
        {"ok": True, "result": result}, dumps=lambda v: json.dumps(v, ensure_ascii=False)
    )


def _handler(
    sandbox: ControlSurface, route: Route
) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handle(request: web.Request) -> web.Response:
        body: Body = dict(request.query)
        if request.can_read_body:
            try:
                loaded = await request.json()
            except ValueError:
                return web.json_response({"ok": False, "error": "body must be JSON"}, status=400)
            if isinstance(loaded, dict):
                body |= loaded
        try:
            return _ok(await route(sandbox, body, request))
        except (BadControl, ActionRefused, LookupError, ValueError, TypeError) as error:
            return web.json_response({"ok": False, "error": str(error)}, status=400)

    return handle


# --- lookups --------------------------------------------------------------------------------


def _user(sandbox: ControlSurface, body: Body, key: str = "user_id") -> User:
    user = sandbox.world.users.get(int(body.get(key) or 0))
    if user is None or user.is_bot:
        raise BadControl(f"no user {body.get(key)!r}")
    return user


def _bot(sandbox: ControlSurface, body: Body) -> BotAccount:
    name = body.get("bot")
    if name is not None and str(name).lstrip("-").isdigit():
        bot = sandbox.world.bot_by_id(int(name))
        if bot is None:
            raise BadControl(f"no bot {name!r}")
        return bot
    return sandbox.bot(str(name) if name is not None else None)


def _place(sandbox: ControlSurface, body: Body) -> BotAccount | Chat:
    """Where a person acts: a group by chat_id, or the private chat with `bot`."""
    if body.get("chat_id") is not None and int(body["chat_id"]) < 0:
        chat = sandbox.world.groups.get(int(body["chat_id"]))
        if chat is None:
            raise BadControl(f"no chat {body['chat_id']!r}")
        return chat
    return _bot(sandbox, body)


def _chat(sandbox: ControlSurface, body: Body) -> Chat:
    place = _place(sandbox, body)
    if isinstance(place, BotAccount):
        return sandbox.world.private_chat(place, _user(sandbox, body))
    return place


def _message(sandbox: ControlSurface, body: Body) -> Message:
    chat = _chat(sandbox, body)
    message = chat.messages.get(int(body.get("message_id") or 0))
    if message is None:
        raise BadControl(f"no message {body.get('message_id')!r} in chat {chat.id}")
    return message


def _group_json(chat: Chat) -> dict[str, Any]:
    return chat_json(chat) | {
        "members": [
            {"user_id": m.user_id, "status": m.status}
            for m in chat.members.values()
            if m.is_present
        ],
        "topics": [topic_json(t) | {"closed": t.closed} for t in chat.topics.values()],
    }


# --- routes ---------------------------------------------------------------------------------


async def state(sandbox: ControlSurface, body: Body, request: web.Request) -> Any:
    world = sandbox.world
    return {
        "bots": [
            bot.me() | {"token": bot.token, "webhook": bot.webhook.url if bot.webhook else None}
            for bot in world.bots.values()
        ],
        "users": [user_json(u) for u in world.users.values() if not u.is_bot],
        "groups": [_group_json(c) for c in world.groups.values()],
    }


async def add_user(sandbox: ControlSurface, body: Body, request: web.Request) -> Any:
    fields = {k: body[k] for k in ("last_name", "username", "language_code") if body.get(k)}
    return user_json(sandbox.add_user(str(body.get("first_name") or "User"), **fields))


async def add_bot(sandbox: ControlSurface, body: Body, request: web.Request) -> Any:
    bot = sandbox.add_bot(
        token=body.get("token"),
        username=str(body.get("username") or "magpie_bot"),
        first_name=str(body.get("first_name") or "Magpie"),
        privacy_mode=bool(body.get("privacy_mode", True)),
    )
    return bot.me() | {"token": bot.token}


async def add_group(sandbox: ControlSurface, body: Body, request: web.Request) -> Any:
    members = [_user(sandbox, {"user_id": uid}) for uid in body.get("member_ids", [])]
    creator = _user(sandbox, body, "creator_id") if body.get("creator_id") else None
    chat = sandbox.add_group(
        str(body.get("title") or "Group"),
        members=members,
        forum=bool(body.get("forum", False)),
        kind=str(body.get("kind") or "supergroup"),
        creator=creator,
        username=body.get("username"),
    )
    return _group_json(chat)


async def add_member(sandbox: ControlSurface, body: Body, request: web.Request) -> Any:
    chat = _chat(sandbox, {"chat_id": request.match_info["chat_id"]})
    admin = bool(body.get("admin", False))
    if body.get("bot") is not None:
        sandbox.add_bot_to_chat(_bot(sandbox, body), chat, admin=admin)
    else:
        sandbox.add_member(chat, _user(sandbox, body), admin=admin)
    return _group_json(chat)


async def remove_member(sandbox: ControlSurface, body: Body, request: web.Request) -> Any:
    chat = _chat(sandbox, {"chat_id": request.match_info["chat_id"]})
    user = sandbox.world.users.get(int(request.match_info["user_id"]))
    if user is None:
        raise BadControl("no such user")
    sandbox.remove_member(chat, user)
    return _group_json(chat)


async def add_topic(sandbox: ControlSurface, body: Body, request: web.Request) -> Any:
    chat = _chat(sandbox, {"chat_id": request.match_info["chat_id"]})
    by = _user(sandbox, body) if body.get("user_id") else None
    return topic_json(sandbox.create_topic(chat, str(body.get("name") or "Topic"), by=by))


async def send(sandbox: ControlSurface, body: Body, request: web.Request) -> Any:
    user, place = _user(sandbox, body), _place(sandbox, body)
    kind = str(body.get("kind") or "text")
    reply_to = body.get("reply_to")
    topic = body.get("thread_id")
    common: dict[str, Any] = {
        "reply_to": int(reply_to) if reply_to else None,
        "topic": int(topic) if topic else None,
    }
    if kind == "text":
        text = str(body.get("text") or "")
        for _ in range(max(0, min(100_000, int(body.get("repeat") or 1)) - 1)):  # benchmarks
            sandbox.people.send_text(user, place, text, **common)
        message = sandbox.people.send_text(user, place, text, **common)
    else:
        data = base64.b64decode(str(body.get("data_base64") or ""))
        message = sandbox.people.send_media(
            user,
            place,
            kind,
            data,
            file_name=body.get("file_name"),
            mime_type=body.get("mime_type"),
            caption=body.get("caption"),
            **common,
        )
    return message_json(sandbox.world.users, message)


async def edit(sandbox: ControlSurface, body: Body, request: web.Request) -> Any:
    message = _message(sandbox, body)
    edited = sandbox.people.edit_text(_user(sandbox, body), message, str(body.get("text") or ""))
    return message_json(sandbox.world.users, edited)


async def forward(sandbox: ControlSurface, body: Body, request: web.Request) -> Any:
    user = _user(sandbox, body)
    source = _message(sandbox, body.get("from") or {} | {"user_id": body.get("user_id")})
    target = _place(sandbox, body.get("to") or {})
    return message_json(sandbox.world.users, sandbox.people.forward(user, source, target))


async def press(sandbox: ControlSurface, body: Body, request: web.Request) -> Any:
    query_id = sandbox.people.press_button(
        _user(sandbox, body), _message(sandbox, body), str(body.get("data") or "")
    )
    return {"query_id": query_id}


async def pay(sandbox: ControlSurface, body: Body, request: web.Request) -> Any:
    outcome = await sandbox.people.pay(_user(sandbox, body), _message(sandbox, body))
    result: dict[str, Any] = {"paid": outcome.paid}
    if outcome.charge_id:
        result["charge_id"] = outcome.charge_id
    if outcome.error_message:
        result["error_message"] = outcome.error_message
    return result


async def stop(sandbox: ControlSurface, body: Body, request: web.Request) -> Any:
    draft = body.get("draft_id")
    draft_id = sandbox.people.press_stop(
        _user(sandbox, body), _bot(sandbox, body), int(draft) if draft else None
    )
    return {"draft_id": draft_id}


async def block(sandbox: ControlSurface, body: Body, request: web.Request) -> Any:
    blocked = bool(body.get("blocked", True))
    sandbox.people.block(_user(sandbox, body), _bot(sandbox, body), blocked=blocked)
    return {"blocked": blocked}


async def chat_view(sandbox: ControlSurface, body: Body, request: web.Request) -> Any:
    """A chat as a person sees it: messages (with senders' names), live drafts and topics."""
    chat = _chat(sandbox, body)
    world = sandbox.world
    since = int(body.get("since_id") or 0)
    messages = [
        message_json(world.users, m) for m in chat.messages.values() if m.message_id > since
    ]
    drafts = []
    if chat.type == "private" and chat.owner_bot_id is not None:
        bot = world.bot_by_id(chat.owner_bot_id)
        if bot is not None:
            drafts = [
                {
                    "draft_id": d.draft_id,
                    "text": d.text,
                    "entities": d.entities,
                    "can_stop": d.can_stop,
                }
                for d in world.live_drafts(bot)
                if d.chat_id == chat.id
            ]
    return {
        "chat": _group_json(chat) if chat.type != "private" else chat_json(chat),
        "messages": messages,
        "drafts": drafts,
    }


async def wait(sandbox: ControlSurface, body: Body, request: web.Request) -> Any:
    """Long-poll: answer with the world's version once it passes `version` (at most 25 s)."""
    after = int(body.get("version") or 0)
    seconds = min(25.0, float(body.get("timeout") or 25))
    return {"version": await sandbox.world.wait_for_change(after, seconds)}


async def transcript(sandbox: ControlSurface, body: Body, request: web.Request) -> Any:
    bot = _bot(sandbox, body) if body.get("bot") is not None else None
    entries = sandbox.transcript(
        method=body.get("method"), bot=bot, since=int(body.get("since") or 0)
    )
    return [entry.as_json() for entry in entries]


async def stats(sandbox: ControlSurface, body: Body, request: web.Request) -> Any:
    """Successful calls per method: cheap progress for benchmarks and load tests."""
    return sandbox.world.transcript.counts()


async def add_fault(sandbox: ControlSurface, body: Body, request: web.Request) -> Any:
    allowed = {"kind", "status", "description", "retry_after", "hang_seconds", "times", "token"}
    fault = sandbox.inject(str(body["method"]), **{k: v for k, v in body.items() if k in allowed})
    return {
        "method": fault.method,
        "kind": fault.kind,
        "status": fault.status,
        "times": fault.times,
    }


async def clear_faults(sandbox: ControlSurface, body: Body, request: web.Request) -> Any:
    sandbox.world.faults.clear()
    return True


async def reset(sandbox: ControlSurface, body: Body, request: web.Request) -> Any:
    await sandbox.reset()
    return True


async def advance_clock(sandbox: ControlSurface, body: Body, request: web.Request) -> Any:
    clock = sandbox.world.clock
    if not isinstance(clock, ManualClock):
        raise BadControl("the sandbox runs on the wall clock; start it with a manual clock")
    clock.advance(float(body.get("seconds") or 0))
    return clock.now()


def add_control_routes(app: web.Application, sandbox: ControlSurface) -> None:
    """Add the /sandbox/api routes, each acting on `sandbox`."""
    routes: list[tuple[str, str, Route]] = [
        ("GET", "/state", state),
        ("POST", "/users", add_user),
        ("POST", "/bots", add_bot),
        ("POST", "/groups", add_group),
        ("POST", "/groups/{chat_id}/members", add_member),
        ("DELETE", "/groups/{chat_id}/members/{user_id}", remove_member),
        ("POST", "/groups/{chat_id}/topics", add_topic),
        ("POST", "/send", send),
        ("POST", "/edit", edit),
        ("POST", "/forward", forward),
        ("POST", "/press", press),
        ("POST", "/pay", pay),
        ("POST", "/stop", stop),
        ("POST", "/block", block),
        ("GET", "/chat", chat_view),
        ("GET", "/transcript", transcript),
        ("GET", "/wait", wait),
        ("GET", "/stats", stats),
        ("POST", "/faults", add_fault),
        ("DELETE", "/faults", clear_faults),
        ("POST", "/reset", reset),
        ("POST", "/clock", advance_clock),
    ]
    for verb, path, route in routes:
        app.router.add_route(verb, PREFIX + path, _handler(sandbox, route))
