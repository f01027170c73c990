"""The payments drill: people pay Stars invoices while Magpie is killed with SIGKILL, each time
right after Telegram (the sandbox) took a payment, before Magpie could credit it.

The end state is read from both sides: the sandbox's charges (what people paid) and Magpie's
books (`star_payments`, the ledger). Every charge is credited exactly once, to its payer, for
its amount; no credit exists without a charge; the books balance; nothing is left pending.
A payment whose pre-checkout query came while Magpie was down is refused by Telegram after
its wait (nobody confirmed it): it is not charged, and must not be credited.
"""

from __future__ import annotations

import asyncio
import functools
from collections import Counter
from dataclasses import dataclass, field

import aiohttp
from sqlalchemy import func, select
from tg_sandbox import Message, User

from magpie.billing import accounts
from magpie.billing.money import stars_to_credits
from magpie.billing.stars import CURRENCY, invoice_payload
from magpie.config import Settings
from magpie.storage.tables import LedgerLineRow, StarPaymentRow
from tests.drills.harness import TOKEN, Drill, MagpieProcess

PACKAGES: list[int] = Settings.model_fields["billing_packages"].default  # what /buy offers
PAY_WAIT_SECONDS = 5.0  # how long a payer's app waits for the bot's pre-checkout answer


@dataclass
class PaymentTally:
    database: str
    invoices: int = 0
    paid: int = 0  # charges the sandbox made
    refused: int = 0  # payments not confirmed (Magpie was down): no charge
    credited_once: int = 0
    credited_twice: int = 0
    not_credited: int = 0
    wrong_amount: int = 0
    unknown_credits: int = 0  # credits with no charge behind them
    ledger_sum: int = 0
    notes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def report(self) -> str:
        lines = [
            f"payments under kill -9 on {self.database}: invoices {self.invoices}, paid "
            f"{self.paid}, refused while down {self.refused}; credited once "
            f"{self.credited_once}, twice {self.credited_twice}, not credited "
            f"{self.not_credited}, wrong amount {self.wrong_amount}, credits without a "
            f"charge {self.unknown_credits}; ledger sum {self.ledger_sum}"
        ]
        lines += [f"  note: {note}" for note in self.notes]
        lines += [f"  PROBLEM: {problem}" for problem in self.problems]
        return "\n".join(lines)


async def send_invoices(
    drill: Drill, people: list[User], per_person: int
) -> list[tuple[User, Message]]:
    """Invoices as an earlier run of Magpie sent them (/buy, then a package), sent here as the
    bot over the Bot API so the drill controls when people pay."""
    invoices: list[tuple[User, Message]] = []
    for person in people:  # a bot cannot write first: each has pressed Start before
        drill.sandbox.people.send_text(person, drill.account, "/start")
    async with aiohttp.ClientSession() as http:
        for n in range(per_person):
            for person in people:
                stars = PACKAGES[n % len(PACKAGES)]
                body = {
                    "chat_id": person.id,
                    "title": f"{stars} Stars of credit",
                    "description": "Credit for Magpie's answers.",
                    "payload": invoice_payload(person.id, stars),
                    "currency": CURRENCY,
                    "prices": [{"label": "credit", "amount": stars}],
                }
                url = f"{drill.sandbox.url}/bot{TOKEN}/sendInvoice"
                async with http.post(url, json=body) as response:
                    answer = await response.json()
                assert answer.get("ok"), answer
                sent = answer["result"]
                chat = drill.sandbox.world.private_chat(drill.account, person)
                invoices.append((person, chat.messages[sent["message_id"]]))
    return invoices


async def ready(drill: Drill) -> MagpieProcess:
    """A new run, once it answers (its pre-checkout answers would come too late before)."""
    run = await drill.start()
    await drill.until(functools.partial(run.logged, "magpie.ready"), watching=run)
    return run


async def _pay_and_kill(
    drill: Drill, run: MagpieProcess, batch: list[tuple[User, Message]], kill_after: int
) -> tuple[int, str]:
    """Pay a batch at once; kill -9 right after the `kill_after`-th charge of this batch."""
    charges = len(drill.sandbox.world.charges)
    paying = asyncio.gather(
        *(
            drill.sandbox.people.pay(person, invoice, wait=PAY_WAIT_SECONDS)
            for person, invoice in batch
        )
    )
    reached = await drill.until(
        lambda: len(drill.sandbox.world.charges) - charges >= kill_after,
        within=6 * PAY_WAIT_SECONDS,
        watching=run,
    )
    await run.kill()
    async with drill.checking.connect() as connection:
        credited = await connection.scalar(select(func.count()).select_from(StarPaymentRow))
    outcomes = await paying
    why = Counter(o.error_message for o in outcomes if not o.paid)
    note = (
        f"{run.name}: killed after {len(drill.sandbox.world.charges) - charges} charge(s), "
        f"with {credited} of {len(drill.sandbox.world.charges)} charges credited so far"
    )
    return sum(why.values()), note + (
        "" if reached else " (never reached)"
    ) + f"; refused: {dict(why)}"


async def payments_under_kills(
    drill: Drill, *, people: int = 12, per_person: int = 4, kills: int = 3
) -> PaymentTally:
    tally = PaymentTally(drill.backend)
    payers = drill.people(people, prefix="P")
    invoices = await send_invoices(drill, payers, per_person)
    tally.invoices = len(invoices)
    queue = list(invoices)
    drill.rng.shuffle(queue)
    size = len(queue) // (kills + 1)
    for _ in range(kills):
        batch, queue = queue[:size], queue[size:]
        run = await ready(drill)
        refused, note = await _pay_and_kill(drill, run, batch, drill.rng.randint(1, size))
        tally.refused += refused
        tally.notes.append(note)
    last = await ready(drill)
    outcomes = await asyncio.gather(
        *(
            drill.sandbox.people.pay(person, invoice, wait=PAY_WAIT_SECONDS)
            for person, invoice in queue
        )
    )
    tally.refused += sum(1 for o in outcomes if not o.paid)
    settled = await drill.finish(last)
    if not settled:
        tally.problems.append("Magpie never settled: updates unacknowledged or still pending")
    await _read_books(drill, tally, payers)
    return tally


async def _read_books(drill: Drill, tally: PaymentTally, payers: list[User]) -> None:
    charges = {c.charge_id: c for c in drill.sandbox.world.charges.values()}
    tally.paid = len(charges)
    async with drill.checking.connect() as connection:
        rows = (await connection.execute(select(StarPaymentRow))).all()
        tally.ledger_sum = int(await connection.scalar(select(func.sum(LedgerLineRow.amount))) or 0)
        wallets = {
            person.id: int(
                await connection.scalar(
                    select(func.sum(LedgerLineRow.amount)).where(
                        LedgerLineRow.account == accounts.wallet(person.id)
                    )
                )
                or 0
            )
            for person in payers
        }
    credited = Counter(row.charge_id for row in rows)
    for charge_id, charge in charges.items():
        times = credited.get(charge_id, 0)
        if times == 1:
            tally.credited_once += 1
        elif times > 1:
            tally.credited_twice += 1
        else:
            tally.not_credited += 1
            tally.notes.append(f"not credited: {charge_id} ({charge.amount} Stars)")
    for row in rows:
        charge = charges.get(row.charge_id)
        if charge is None:
            tally.unknown_credits += 1
        elif (row.user_id, row.stars) != (charge.user_id, charge.amount):
            tally.wrong_amount += 1
    paid_by = Counter[int]()
    for charge in charges.values():
        paid_by[charge.user_id] += charge.amount
    for person in payers:
        if wallets[person.id] != stars_to_credits(paid_by[person.id]):
            tally.wrong_amount += 1
            tally.notes.append(
                f"wallet of {person.first_name}: {wallets[person.id]} credits for "
                f"{paid_by[person.id]} Stars paid"
            )
    checks = [
        (tally.credited_twice, "payment(s) credited more than once"),
        (tally.not_credited, "payment(s) charged but never credited"),
        (tally.wrong_amount, "credit(s) to the wrong person or of the wrong amount"),
        (tally.unknown_credits, "credit(s) with no charge behind them"),
        (abs(tally.ledger_sum), "credits: the ledger does not sum to zero"),
    ]
    tally.problems += [f"{n} {what}" for n, what in checks if n]
    if tally.paid < tally.invoices // 2:
        tally.problems.append(
            f"only {tally.paid} of {tally.invoices} paid: the drill proved little"
        )
