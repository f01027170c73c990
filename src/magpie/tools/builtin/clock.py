"""The clock tool: the current date and time in a timezone the model names."""

from __future__ import annotations

import asyncio
from datetime import datetime
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from magpie.tools.deps import ToolDeps

HOW_TO = "use an IANA timezone name such as Europe/Kyiv, America/New_York, Asia/Tokyo or UTC"


async def current_time(deps: ToolDeps, timezone: str = "UTC") -> str:
    """Current date and time in an IANA timezone, e.g. Europe/Kyiv."""
    # Reading zone files is disk I/O (cached after the first time), so keep it off the loop.
    zone = await asyncio.to_thread(find_zone, timezone)
    if zone is None:
        return f"unknown timezone {timezone.strip()!r}: {HOW_TO}"
    now = datetime.now(zone)
    offset = now.strftime("%z")
    return (
        f"{now:%Y-%m-%d %H:%M:%S} ({now:%A, %d %B %Y}) in {zone.key}, "
        f"{now:%Z}, UTC{offset[:3]}:{offset[3:]}"
    )


def find_zone(name: str) -> ZoneInfo | None:
    """The zone for an IANA name, forgiving case, spaces and a bare city ("kyiv", "New York")."""
    wanted = "_".join(name.split()) or "UTC"
    if len(wanted) > 64:
        return None
    try:
        return ZoneInfo(wanted)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: "Europe" is a directory
        pass
    key = _keys().get(wanted.casefold())
    return ZoneInfo(key) if key is not None else None


@cache
def _keys() -> dict[str, str]:
    """Every zone by its full name and by its city, in lower case."""
    keys: dict[str, str] = {}
    for key in sorted(available_timezones()):
        keys.setdefault(key.rsplit("/", 1)[-1].casefold(), key)
    for key in available_timezones():
        keys[key.casefold()] = key
    return keys
