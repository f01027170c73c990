"""The demo world the web chat opens on: you, three friends, a trip group and a book club forum.

Magpie's story, told through the sandbox's public API: the trip shows privacy mode (Magpie is
a plain member and hears only what addresses it), the book club shows forum topics (Magpie is
an admin there).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the sandbox is a development dependency; this module runs only with it
    from tg_sandbox import BotAccount, Sandbox

FRIENDS = ("Ann", "Bob", "Chloe")


@dataclass(frozen=True, slots=True)
class DemoScene:
    """Ids of what `demo_scene` created; the private chat's id is `you`."""

    bot_id: int
    you: int
    ann: int
    bob: int
    chloe: int
    weekend_trip: int
    book_club: int
    fantasy: int
    sci_fi: int


def demo_scene(sandbox: Sandbox, bot: BotAccount) -> DemoScene:
    """People and chats for `make demo`; call it once, on a fresh sandbox."""
    you = sandbox.add_user("You", username="you")
    ann, bob, chloe = (sandbox.add_user(name, username=name.lower()) for name in FRIENDS)
    people = [you, ann, bob, chloe]
    trip = sandbox.add_group("Weekend trip", members=people, creator=you)
    sandbox.add_bot_to_chat(bot, trip)
    club = sandbox.add_group("Book club", members=people, forum=True, creator=ann)
    sandbox.add_bot_to_chat(bot, club, admin=True)
    fantasy = sandbox.create_topic(club, "Fantasy", by=ann)
    sci_fi = sandbox.create_topic(club, "Sci-fi", by=ann)
    return DemoScene(
        bot_id=bot.id,
        you=you.id,
        ann=ann.id,
        bob=bob.id,
        chloe=chloe.id,
        weekend_trip=trip.id,
        book_club=club.id,
        fantasy=fantasy.thread_id,
        sci_fi=sci_fi.thread_id,
    )
