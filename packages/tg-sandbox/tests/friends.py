"""A small world for the page tests: you, three friends, a group and a forum with two topics."""

from __future__ import annotations

from dataclasses import dataclass

from tg_sandbox import BotAccount, Sandbox

FRIENDS = ("Ann", "Bob", "Chloe")


@dataclass(frozen=True, slots=True)
class Friends:
    """Ids of what `friends` created; the private chat's id is `you`."""

    bot_id: int
    you: int
    ann: int
    bob: int
    chloe: int
    weekend_trip: int
    book_club: int
    fantasy: int
    sci_fi: int


def friends(sandbox: Sandbox, bot: BotAccount) -> Friends:
    """ "You" first (the page types as "You"), a plain group, a forum where the bot is admin."""
    you = sandbox.add_user("You", username="you")
    ann, bob, chloe = (sandbox.add_user(name, username=name.lower()) for name in FRIENDS)
    people = [you, ann, bob, chloe]
    trip = sandbox.add_group("Weekend trip", members=people, creator=you)
    sandbox.add_bot_to_chat(bot, trip)
    club = sandbox.add_group("Book club", members=people, forum=True, creator=ann)
    sandbox.add_bot_to_chat(bot, club, admin=True)
    fantasy = sandbox.create_topic(club, "Fantasy", by=ann)
    sci_fi = sandbox.create_topic(club, "Sci-fi", by=ann)
    return Friends(
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
