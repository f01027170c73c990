"""The fault drills of "nothing lost, nothing twice", sized by their callers.

The tests run them with a few hundred updates (tests/drills/test_*.py); bench/drills.py runs
the same with 10,000. Each returns the end state's counts (end_state.Tally); a drill passes
when the tally has no problems.
"""

from __future__ import annotations

import functools
from collections import Counter

from tests.drills.end_state import Tally, read_end_state
from tests.drills.harness import IDLE_SECONDS, Drill, MagpieProcess
from tests.drills.outages import outage_for

# What stopping may take beyond SHUTDOWN_GRACE_SECONDS on a loaded 2-core machine: closing the
# database and the HTTP session, with every core busy.
STOP_MARGIN_SECONDS = 15.0


def _waiting_chats(drill: Drill) -> dict[int, tuple[int, int]]:
    """Chats with messages still unanswered -> (messages Magpie has put there so far, how many
    new ones to wait for: two, or fewer if fewer are unanswered)."""
    answered = drill.answered_tokens()
    unanswered = Counter(a.chat_id for a in drill.asked if a.token not in answered)
    return {
        chat_id: (drill.bot_message_count(drill.chat(chat_id)), min(2, n))
        for chat_id, n in unanswered.items()
    }


async def _kill_after_answers(drill: Drill, run: MagpieProcess, extra: int) -> str:
    """kill -9 once every chat that was waiting has got two new messages from this run, and
    `extra` more have been sent. Per-chat order makes a chat's second new message wait for its
    first turn to be recorded, so whatever the previous kill cut short has been redone."""
    waiting = _waiting_chats(drill)
    needed = sum(n for _, n in waiting.values())
    unanswered = len(drill.asked) - len(drill.answered_tokens())
    answers = min(needed + extra, unanswered)
    sends = drill.sends()

    def behind() -> list[int]:
        return [
            chat_id
            for chat_id, (before, needed) in waiting.items()
            if drill.bot_message_count(drill.chat(chat_id)) < before + needed
        ]

    reached = await drill.until(
        lambda: drill.sends() - sends >= answers and not behind(),
        within=2 * drill.patience,
        idle=IDLE_SECONDS,
        watching=run,
    )
    await run.kill()
    if not reached:
        late = behind()
        return (
            f"{run.name}: killed idle, {drill.sends() - sends} sends, before the kill point: "
            f"{len(late)} chat(s) got no new message, e.g. {late[:5]}"
        )
    return f"{run.name}: killed after {drill.sends() - sends} sends (aimed at {answers})"


async def crash_loop(drill: Drill, *, users: int = 20, per_user: int = 10, kills: int = 4) -> Tally:
    """kill -9 at random points of a backlog (once right after start), then let it finish.

    Each kill but the one right after start comes only once whatever the previous kill cut
    short has been redone, so no update is cut short more than twice — fewer than the three
    attempts Magpie allows it. No message has a reason to fail: the right end state is every
    message answered exactly once and stored."""
    drill.backlog(drill.people(users), per_user)
    story = []
    for number in range(kills):
        run = await drill.start()
        if number == 1:  # right after start: recovery has just scheduled what was pending
            await drill.until(functools.partial(run.logged, "magpie.ready"), watching=run)
            await run.kill()
            ready = run.events("magpie.ready")[0]
            story.append(f"{run.name}: killed at magpie.ready (recovered {ready.get('recovered')})")
        else:
            story.append(await _kill_after_answers(drill, run, drill.rng.randint(0, users)))
    last = await drill.start()
    settled = await drill.finish(last)
    tally = await read_end_state(
        drill, scenario="kill -9 backlog", may_fail=False, may_resend=True, settled=settled
    )
    tally.notes += story
    tally.notes += _recovered(drill)
    return tally


def _recovered(drill: Drill) -> list[str]:
    notes = []
    for run in drill.runs:
        ready = run.events("magpie.ready")
        if ready:
            notes.append(f"{run.name}: magpie.ready recovered={ready[0].get('recovered')}")
    return notes


async def database_outage(
    drill: Drill,
    *,
    users: int = 12,
    per_user: tuple[int, int, int] = (5, 3, 2),
    words_per_second: float = 60.0,
) -> Tally:
    """The database refuses (PostgreSQL: connections; SQLite: writes) mid-traffic, with answers
    in flight, for longer than Magpie's retry interval; then it comes back. `per_user`: what
    each user sends before, during and after the outage."""
    people = drill.people(users)
    before, during, after = per_user
    story = []
    async with outage_for(drill) as outage:
        drill.backlog(people, before)
        run = await drill.start(offline_words_per_second=words_per_second)
        await drill.until(lambda: drill.sends() >= users, idle=IDLE_SECONDS, watching=run)
        records_failed = len(run.events("polling.record_failed"))
        async with outage.down():
            drill.backlog(people, during)
            lasted = await drill.until(
                lambda: (
                    len(run.events("polling.record_failed")) - records_failed
                    >= outage.failed_records_needed
                ),
                within=2 * drill.patience,
                watching=run,
            )
            story.append(
                f"outage ({outage.description}) ended after "
                f"{len(run.events('polling.record_failed')) - records_failed} refused batch(es)"
                + ("" if lasted else " (gave up waiting for more)")
            )
        drill.backlog(people, after)
        settled = await drill.finish(run)
    tally = await read_end_state(drill, scenario="database outage", settled=settled)
    tally.notes += story + _log_counts(
        drill,
        ("update.crashed", "update.failed", "polling.record_failed", "inbox.marks_not_written"),
    )
    return tally


def _log_counts(drill: Drill, events: tuple[str, ...]) -> list[str]:
    counts = {e: sum(len(run.events(e)) for run in drill.runs) for e in events}
    return [", ".join(f"{e} ×{n}" for e, n in counts.items())]


async def telegram_faults(
    drill: Drill,
    *,
    users: int = 10,
    per_user: int = 10,
    group_members: int = 4,
    per_member: int = 5,
    storm: int = 1,
) -> Tally:
    """sendMessage answers 5xx, resets the connection, hangs and answers 429 in storms, in
    three waves over the traffic (in private chats and in a group, where replies reply).
    `storm` multiplies every fault's count (for bigger traffic)."""
    people = drill.people(users)
    members = drill.people(group_members, prefix="G")
    group = drill.group("Drill group", members)
    drill.backlog(people, per_user)
    drill.backlog(members, per_member, where=group)
    total = len(drill.asked)

    def inject(times: int, **fault: object) -> None:
        drill.sandbox.inject("sendMessage", times=times * storm, **fault)

    inject(3, status=500)  # a few transient errors: retried away
    inject(2, kind="reset")
    inject(2, status=502)
    inject(2, kind="hang", hang_seconds=0.5)
    inject(3, status=429, retry_after=1)
    run = await drill.start()
    await drill.until(lambda: drill.sends() >= total // 3, idle=IDLE_SECONDS, watching=run)
    # Storms: more failures than the concurrent replies' retries can absorb, so some give up.
    inject(40, status=429, retry_after=1)
    inject(30, status=500)
    await drill.until(lambda: drill.sends() >= 2 * total // 3, idle=IDLE_SECONDS, watching=run)
    inject(20, kind="reset")
    inject(6, kind="hang", hang_seconds=0.5)
    settled = await drill.finish(run)
    tally = await read_end_state(drill, scenario="Telegram faults", settled=settled)
    left = drill.sandbox.world.faults.pending()
    tally.notes += _log_counts(
        drill,
        (
            "telegram.retrying",
            "telegram.undelivered",
            "reply.undelivered",
            "update.crashed",
            "update.failed",
        ),
    )
    if left:
        tally.notes.append(f"faults never triggered: {[(f.kind, f.status, f.times) for f in left]}")
    return tally


def _streaming(drill: Drill, since: float) -> int:
    """Answers being written right now: drafts updated since `since` (a finished answer's
    draft is gone)."""
    drafts = drill.sandbox.world.live_drafts(drill.account)
    return sum(d.updated_at > since for d in drafts)


async def _stop_mid_stream(
    drill: Drill, run: MagpieProcess, answers: int, grace: float
) -> tuple[bool, str]:
    """SIGTERM once `answers` replies are out and more are being written. Whether the run was
    gone within its grace and a margin (else it is killed), and what happened."""
    sends = drill.sends()
    since = 0.0
    story = ""
    if not await drill.until(
        lambda: drill.sends() - sends >= answers, idle=IDLE_SECONDS, watching=run
    ):
        story = f"fewer than {answers} answers; "
    else:
        since = drill.sandbox.world.clock.now()
        if not await drill.until(lambda: _streaming(drill, since), idle=IDLE_SECONDS, watching=run):
            story = "no answer streaming; "
    in_flight = _streaming(drill, since)
    exited = await run.terminate(within=grace + STOP_MARGIN_SECONDS)
    cut = run.events("magpie.shutdown_cut_short")
    return exited, (
        f"{run.name}: {story}SIGTERM after {drill.sends() - sends} sends with {in_flight} "
        f"answers streaming; exited={exited} code={run.returncode}; cut short: "
        f"{cut[0].get('still_running') if cut else 0}"
    )


async def sigterm_mid_stream(
    drill: Drill,
    *,
    users: int = 20,
    per_user: int = 3,
    stops: int = 2,
    words_per_second: float = 25.0,
    grace: float = 1.0,
) -> Tally:
    """SIGTERM while answers stream (drafts on screen); each run must exit within the grace
    (plus a margin for closing); the next start finishes what was cut short."""
    drill.backlog(drill.people(users), per_user)
    story: list[str] = []
    late: list[str] = []
    for _ in range(stops):
        run = await drill.start(
            offline_words_per_second=words_per_second, shutdown_grace_seconds=grace
        )
        exited, said = await _stop_mid_stream(drill, run, drill.rng.randint(1, users), grace)
        story.append(said)
        if not exited:
            stop = grace + STOP_MARGIN_SECONDS
            late.append(f"{run.name} still running {stop} s after SIGTERM (then killed)")
        elif run.returncode != 0:
            late.append(f"{run.name} exited with code {run.returncode} after SIGTERM")
    last = await drill.start()
    settled = await drill.finish(last)
    tally = await read_end_state(
        drill, scenario="SIGTERM mid-stream", may_fail=False, settled=settled
    )
    tally.notes += story
    tally.problems += late
    return tally
