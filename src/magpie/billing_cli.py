"""`magpie billing …`: balances, the ledger, grants and reconciliation, for operators.

Amounts given on the command line are Stars (decimals allowed: 0.5 is 500 credits); JSON
output carries credits (exact integers) next to Stars as text.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import AsyncIterator
from dataclasses import asdict
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from magpie.billing import accounts
from magpie.billing.money import CREDITS_PER_STAR, show
from magpie.config import ConfigError, Settings, load_settings
from magpie.conversation.clock import utc_now

if TYPE_CHECKING:  # the database and Telegram are imported only when a command runs
    from magpie.billing.service import Billing
    from magpie.billing.stars import Reconciliation
    from magpie.storage.ledger import SqlLedger


def stars_amount(text: str) -> int:
    """ "10" or "0.5" Stars as credits (argparse type)."""
    try:
        value = Decimal(text) * CREDITS_PER_STAR
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"expected Stars, e.g. 10 or 0.5, got {text!r}") from None
    if value != value.to_integral_value() or value == 0:
        raise argparse.ArgumentTypeError(f"{text!r}: at most 3 decimals, and not 0")
    return int(value)


def add_billing_commands(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="billing_command", required=True)
    balance = sub.add_parser("balance", help="a person's balance and free allowance left today")
    ledger = sub.add_parser("ledger", help="a person's ledger entries, newest first")
    for command in (balance, ledger):
        command.add_argument("--user", type=int, required=True, metavar="ID")
        command.add_argument("--json", action="store_true", help="machine-readable output")
    ledger.add_argument("--limit", type=int, default=50)
    grant = sub.add_parser("grant", help="credit a person's wallet (negative: debit)")
    grant.add_argument("--user", type=int, required=True, metavar="ID")
    grant.add_argument("--amount", type=stars_amount, required=True, metavar="STARS")
    grant.add_argument("--reason", required=True, metavar="TEXT")
    reconcile = sub.add_parser(
        "reconcile", help="compare recorded payments with Telegram's getStarTransactions"
    )
    reconcile.add_argument("--json", action="store_true", help="machine-readable output")


@contextlib.asynccontextmanager
async def _books(settings: Settings) -> AsyncIterator[SqlLedger]:
    from magpie.storage.database import Database, start_up_engine
    from magpie.storage.ledger import SqlLedger
    from magpie.storage.migrate import pending

    async with start_up_engine(
        settings.sqlalchemy_url, setting=settings.database_setting
    ) as engine:
        todo = await pending(engine)
        if todo:
            raise ConfigError(f"the database needs {len(todo)} migration(s): run `magpie migrate`")
        yield SqlLedger(Database(engine))


def _billing(ledger: SqlLedger, settings: Settings) -> Billing:
    from magpie.billing.policy import QuotaPolicy, Quotas
    from magpie.billing.service import Billing

    policy = QuotaPolicy(Quotas(free_daily=settings.billing_free_daily))
    return Billing(ledger, policy=policy, now=utc_now)


async def run_billing(args: argparse.Namespace) -> int:
    """One billing command; the exit status (1: reconciliation found differences)."""
    settings = load_settings()
    async with _books(settings) as ledger:
        billing = _billing(ledger, settings)
        command = args.billing_command
        if command == "balance":
            account = await billing.account(args.user, limit=0)
            shown = {
                "user_id": args.user,
                "balance": account.balance,
                "balance_stars": show(account.balance),
                "free_left_today": account.free_left_today,
            }
            _out(shown, args.json, f"user {args.user}: ⭐ {show(account.balance)}")
        elif command == "ledger":
            entries = await ledger.entries(accounts.wallet(args.user), limit=args.limit)
            rows = [asdict(e) | {"kind": e.kind.value, "at": e.at.isoformat()} for e in entries]
            lines = [
                f"{e.posting_id:>6} {e.at:%Y-%m-%d %H:%M} {e.kind.value:<8} {show(e.amount):>10}"
                f"  {e.model or e.memo}"
                for e in entries
            ]
            _out(rows, args.json, "\n".join(lines) or "no entries")
        elif command == "grant":
            posting_id = await billing.grant(args.user, amount=args.amount, reason=args.reason)
            balance = await ledger.balance(accounts.wallet(args.user))
            print(
                f"Granted ⭐ {show(args.amount)} (posting {posting_id}); "
                f"balance ⭐ {show(balance)}."
            )
        elif command == "reconcile":
            report = await _reconcile(ledger, settings)
            _out(_report_json(report), args.json, _report_text(report))
            return 0 if report.clean else 1
    return 0


async def _reconcile(ledger: SqlLedger, settings: Settings) -> Reconciliation:
    from magpie.billing.stars import Stars
    from magpie.telegram.bot import create_bot
    from magpie.telegram.stars import TelegramStars

    stars = Stars(ledger, packages=tuple(settings.billing_packages), refund_days=0, now=utc_now)
    bot = create_bot(settings)
    try:
        return await stars.reconcile(TelegramStars(bot))
    finally:
        await bot.session.close()


def _report_json(report: Reconciliation) -> dict[str, Any]:
    return {
        "checked": report.checked,
        "clean": report.clean,
        "missing": [p.charge_id for p in report.missing],
        "unknown": [t.id for t in report.unknown],
        "mismatched": [p.charge_id for p, _ in report.mismatched],
        "refunds_unmatched": report.refunds_unmatched,
    }


def _report_text(report: Reconciliation) -> str:
    if report.clean:
        return f"{report.checked} Telegram transactions checked: the books agree."
    lines = [f"{report.checked} Telegram transactions checked; differences (nothing was changed):"]
    lines += [
        f"  recorded, not at Telegram: {p.charge_id} ({p.stars} Stars)" for p in report.missing
    ]
    lines += [f"  at Telegram, not recorded: {t.id} ({t.amount} Stars)" for t in report.unknown]
    lines += [
        f"  amounts differ: {p.charge_id} ours {p.stars}, Telegram's {t.amount}"
        for p, t in report.mismatched
    ]
    lines += [f"  refund not matched: {text}" for text in report.refunds_unmatched]
    return "\n".join(lines)


def _out(data: object, as_json: bool, text: str) -> None:
    print(json.dumps(data, ensure_ascii=False) if as_json else text)
    sys.stdout.flush()
