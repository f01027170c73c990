"""`magpie demo`: the scene it opens on, a port already taken, and what it says where the sandbox
is not installed — each a clear line."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

from tg_sandbox import Sandbox

from magpie.demo_scene import demo_scene
from magpie.texts import ENGLISH

TOKEN = "7000000001:SANDBOX-test-token"

# `magpie demo` as it runs from the product wheel alone: importing tg_sandbox fails.
WITHOUT_SANDBOX = (
    "import sys; sys.modules['tg_sandbox'] = None; "
    "from magpie.cli import main; sys.exit(main(['demo', '--port', '0']))"
)


def test_demo_scene_builds_the_private_chat_the_trip_and_the_book_club() -> None:
    fresh = Sandbox()
    bot = fresh.add_bot(token=TOKEN, username="magpie_bot")
    scene = demo_scene(fresh, bot)
    world = fresh.world
    names = {u.first_name: u.id for u in world.users.values() if not u.is_bot}
    assert names == {"You": scene.you, "Ann": scene.ann, "Bob": scene.bob, "Chloe": scene.chloe}
    trip, club = world.groups[scene.weekend_trip], world.groups[scene.book_club]
    assert (trip.title, trip.is_forum) == ("Weekend trip", False)
    assert (club.title, club.is_forum) == ("Book club", True)
    for chat in (trip, club):
        assert set(names.values()) | {bot.id} == {m.user_id for m in chat.members.values()}
    assert trip.members[bot.id].status == "member"
    assert club.members[bot.id].status == "administrator"
    assert bot.privacy_mode  # as the bot has it: the trip shows it only what addresses it
    assert {t.thread_id: t.name for t in club.topics.values()} == {
        scene.fantasy: "Fantasy",
        scene.sci_fi: "Sci-fi",
    }
    created = [m for m in club.messages.values() if "forum_topic_created" in m.content]
    assert [m.sender_id for m in created] == [scene.ann, scene.ann]


def test_without_the_sandbox_the_demo_says_how_to_get_it_in_one_line() -> None:
    done = subprocess.run(  # noqa: S603 (our own interpreter)
        [sys.executable, "-c", WITHOUT_SANDBOX],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr == f"magpie: {ENGLISH.demo_needs_sandbox}\n"
    assert "make demo" in done.stderr
    assert done.stdout == ""


def test_a_second_demo_on_a_taken_port_says_so_and_suggests_port(tmp_path: Path) -> None:
    with socket.socket() as taken:  # a first demo, as far as the second can tell
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(  # noqa: S603 (this interpreter, our own module)
            [sys.executable, "-m", "magpie.cli", "demo", "--port", str(port)],
            capture_output=True,
            text=True,
            env={"PATH": os.environ["PATH"], "HOME": str(tmp_path)},
            cwd=tmp_path,
            timeout=120,
            check=False,
        )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"magpie: port {port} is in use on 127.0.0.1 (another demo?): stop it, "
        "or pass --port to use another"
    ]
