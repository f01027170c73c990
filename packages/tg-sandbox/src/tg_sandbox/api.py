"""The Bot API as a function: token + method + parameters in, Telegram's envelope out."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import structlog

from tg_sandbox.bots import BotAccount
from tg_sandbox.errors import ApiError, not_found, unauthorized
from tg_sandbox.faults import Fault
from tg_sandbox.methods.call import Answer, Call, WebhookControl
from tg_sandbox.methods.table import METHODS, canonical_name
from tg_sandbox.params import Params
from tg_sandbox.world import World

log = structlog.get_logger(__name__)
QUIET_METHODS = frozenset({"getupdates", "getme", "getfile", "getwebhookinfo", "getchat"})
TOKEN_RE = re.compile(r"^[1-9][0-9]{0,19}:[A-Za-z0-9_-]{1,70}$")


@dataclass(frozen=True, slots=True)
class Reply:
    """What goes back over HTTP: status code and JSON body."""

    status: int
    body: dict[str, Any]

    @property
    def retry_after(self) -> int | None:
        value = self.body.get("parameters", {}).get("retry_after")
        return int(value) if value is not None else None


class ConnectionReset(Exception):
    """A scripted fault asked to drop the connection without an answer."""


class BotApi:
    """Looks up the bot, applies scripted faults, runs the method, records the call."""

    def __init__(self, world: World, webhooks: WebhookControl) -> None:
        self.world = world
        self.webhooks = webhooks

    def bot_for(self, token: str) -> BotAccount:
        if not TOKEN_RE.match(token):
            raise unauthorized("invalid token specified")
        bot = self.world.bots.get(token)
        if bot is None:
            raise unauthorized()
        return bot

    async def call(self, token: str, method: str, params: Params) -> Reply:
        name = method.lower()
        try:
            bot = self.bot_for(token)
        except ApiError as error:
            return Reply(error.code, error.envelope())
        fault = self.world.faults.take(name, token)
        try:
            if fault is not None:
                await self._apply(fault)
            known = canonical_name(name)
            if known is None:
                raise not_found("method not found")
            result = await METHODS[known](Call(self.world, bot, params, name, self.webhooks))
        except ApiError as error:
            self._record(bot, name, params, ok=False, error=error)
            return Reply(error.code, error.envelope())
        except ConnectionReset:
            self._record(bot, name, params, ok=False, error=ApiError(0, "connection reset"))
            raise
        except Exception:
            log.exception("sandbox.method_crashed", method=name)
            crash = ApiError(500, "Internal Server Error")
            self._record(bot, name, params, ok=False, error=crash)
            return Reply(500, crash.envelope())
        body: dict[str, Any] = {"ok": True}
        if isinstance(result, Answer):
            body["result"] = result.result
            body["description"] = result.description
        else:
            body["result"] = result
        self._record(bot, name, params, ok=True, result=body["result"])
        if name not in QUIET_METHODS:
            self.world.changed()
        return Reply(200, body)

    async def _apply(self, fault: Fault) -> None:
        if fault.kind == "hang":
            await self.world.faults.hang(fault.hang_seconds)
            raise ConnectionReset
        if fault.kind == "reset":
            raise ConnectionReset
        raise fault.error()

    def _record(
        self,
        bot: BotAccount,
        name: str,
        params: Params,
        *,
        ok: bool,
        result: Any = None,
        error: ApiError | None = None,
    ) -> None:
        self.world.transcript.record(
            at=self.world.clock.now(),
            bot_id=bot.id,
            method=canonical_name(name) or name,
            params=params.public(),
            ok=ok,
            result=result,
            error=error.description if error else None,
            error_code=error.code if error else None,
        )
