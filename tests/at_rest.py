"""Magpie as `magpie run` starts it, on its defaults, answering one message: which optional
packages did that import? Printed as a JSON list on the last line of stdout.

Run in a fresh interpreter by tests/test_imports_at_rest.py (`python -m tests.at_rest`), so
that no other test's imports count.
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
from pathlib import Path

from tg_sandbox import FloodPolicy, Sandbox

from magpie.cli import serve_until
from magpie.config import load_settings

OPTIONAL = ("openai", "anthropic", "google.genai", "mcp", "trafilatura", "redis")
TOKEN = "7000000001:SANDBOX-at-rest"


async def main() -> None:
    with tempfile.TemporaryDirectory() as data_dir:
        async with Sandbox(flood=FloodPolicy(enabled=False), anti_spin=False) as sandbox:
            account = sandbox.add_bot(token=TOKEN, username="magpie_bot")
            settings = load_settings(
                env_file=None,
                telegram_bot_token=TOKEN,
                telegram_api_url=sandbox.url,
                data_dir=Path(data_dir),
                offline_words_per_second=0,
                log_level="WARNING",
            )
            stop = asyncio.Event()
            serving = asyncio.create_task(serve_until(settings, stop=stop))
            ann = sandbox.add_user("Ann")
            sandbox.people.send_text(ann, account, "what time is it in Tokyo?")  # a tool call
            chat = sandbox.private_chat(account, ann)
            async with asyncio.timeout(120):
                while not any(
                    "text" in m.content for m in chat.messages.values() if m.sender_id == account.id
                ):
                    await sandbox.world.wait_for_change(sandbox.world.version, 1.0)
            stop.set()
            await serving
    print(json.dumps([name for name in OPTIONAL if name in sys.modules]))


if __name__ == "__main__":
    asyncio.run(main())
