"""The bot's own account: getMe, logOut/close, commands, name and descriptions."""

from __future__ import annotations

import json
import re
from typing import Any

from tg_sandbox.errors import bad_request
from tg_sandbox.methods.call import Call

COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")
PROFILE_LIMITS = {"name": 64, "description": 512, "short_description": 120}


async def get_me(call: Call) -> dict[str, Any]:
    return call.bot.me()


async def log_out(call: Call) -> bool:
    call.bot.logged_out = True
    return True


async def close(call: Call) -> bool:
    call.bot.closed_at = call.world.clock.now()
    return True


def _scope_key(call: Call) -> str:
    scope = call.params.json("scope", "can't parse BotCommandScope JSON object") or {}
    if not isinstance(scope, dict) or scope.get("type", "default") not in {
        "default",
        "all_private_chats",
        "all_group_chats",
        "all_chat_administrators",
        "chat",
        "chat_administrators",
        "chat_member",
    }:
        raise bad_request("can't parse BotCommandScope JSON object")
    language = call.params.get("language_code") or ""
    return json.dumps([scope, language], sort_keys=True)


async def set_my_commands(call: Call) -> bool:
    commands = call.params.json("commands", "can't parse commands JSON object")
    if commands is None:
        raise bad_request('parameter "commands" is required')
    if not isinstance(commands, list):
        raise bad_request("can't parse commands JSON object")
    if len(commands) > 100:
        raise bad_request("too many commands specified")
    cleaned = []
    for item in commands:
        if not isinstance(item, dict):
            raise bad_request("can't parse BotCommand JSON object")
        command = str(item.get("command", "")).strip().lower().removeprefix("/")
        description = str(item.get("description", "")).strip()
        if not COMMAND_RE.match(command):
            raise bad_request("BOT_COMMAND_INVALID")
        if not 1 <= len(description) <= 256:
            raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        cleaned.append({"command": command, "description": description})
    call.bot.commands[_scope_key(call)] = cleaned
    return True


async def get_my_commands(call: Call) -> list[dict[str, Any]]:
    return call.bot.commands.get(_scope_key(call), [])


async def delete_my_commands(call: Call) -> bool:
    call.bot.commands.pop(_scope_key(call), None)
    return True


def _set_profile(call: Call, field: str) -> bool:
    value = call.params.get(field) or ""
    if len(value) > PROFILE_LIMITS[field]:
        raise bad_request(f"bot {field.replace('_', ' ')} is too long")
    key = f"{field}:{call.params.get('language_code') or ''}"
    if value:
        call.bot.profile[key] = value
    else:
        call.bot.profile.pop(key, None)
    if field == "name" and key == "name:" and value:
        call.bot.user.first_name = value
    return True


def _get_profile(call: Call, field: str) -> dict[str, str]:
    language = call.params.get("language_code") or ""
    value = call.bot.profile.get(f"{field}:{language}") or call.bot.profile.get(f"{field}:", "")
    if field == "name" and not value:
        value = call.bot.user.first_name
    return {field: value}


async def set_my_name(call: Call) -> bool:
    return _set_profile(call, "name")


async def get_my_name(call: Call) -> dict[str, str]:
    return _get_profile(call, "name")


async def set_my_description(call: Call) -> bool:
    return _set_profile(call, "description")


async def get_my_description(call: Call) -> dict[str, str]:
    return _get_profile(call, "description")


async def set_my_short_description(call: Call) -> bool:
    return _set_profile(call, "short_description")


async def get_my_short_description(call: Call) -> dict[str, str]:
    return _get_profile(call, "short_description")
