"""The ledger on SQL: postings and their lines, appended and never changed; Stars payments
keyed by their charge id; each group's pool setting.

A balance is the sum of an account's lines (indexed by account). `write_postings` is what the
conversation store calls inside its own (group-committed) transaction, so a turn and its
charge are committed together.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, bindparam, func, literal, select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import BindParameter, ColumnElement
from sqlalchemy.sql.selectable import ScalarSelect

from magpie.billing import accounts
from magpie.billing.ledger import Entry, Kind, Line, Posting
from magpie.billing.policy import Payer, PoolMode, Standing
from magpie.billing.service import ModelUsage
from magpie.billing.stars import StarPayment
from magpie.storage.database import Database
from magpie.storage.tables import (
    GroupPoolRow,
    LedgerLineRow,
    PostingRow,
    StarPaymentRow,
    table,
)

POSTINGS, LINES = table(PostingRow), table(LedgerLineRow)
PAYMENTS, POOLS = table(StarPaymentRow), table(GroupPoolRow)

_NEW_PLAIN = POSTINGS.insert().returning(POSTINGS.c.id, sort_by_parameter_order=True)
_NEW_LINES = LINES.insert()


def _sum(account: str | BindParameter[str]) -> ScalarSelect[int]:
    return (
        select(func.coalesce(func.sum(LINES.c.amount), 0))
        .where(LINES.c.account == account)
        .scalar_subquery()
    )


def _spent(
    *, account: str, who: ColumnElement[bool], since: BindParameter[datetime]
) -> ScalarSelect[int]:
    """Credits booked to `account` by usage postings of `who` (a posting column) since then."""
    return (
        select(func.coalesce(func.sum(LINES.c.amount), 0))
        .select_from(LINES.join(POSTINGS, POSTINGS.c.id == LINES.c.posting_id))
        .where(
            POSTINGS.c.kind == Kind.USAGE.value,
            who,
            POSTINGS.c.at >= since,
            LINES.c.account == account,
        )
        .scalar_subquery()
    )


_SINCE: BindParameter[datetime] = bindparam("since")
_STANDING = select(
    _sum(bindparam("wallet")).label("wallet"),
    _sum(bindparam("pool")).label("pool"),
    _spent(
        account=accounts.REVENUE, who=POSTINGS.c.user_id == bindparam("user_id"), since=_SINCE
    ).label("spent_today"),
    _spent(
        account=accounts.FREE, who=POSTINGS.c.user_id == bindparam("user_id"), since=_SINCE
    ).label("free_used"),
    _spent(
        account=accounts.REVENUE, who=POSTINGS.c.chat_id == bindparam("chat_id"), since=_SINCE
    ).label("group_spent"),
    select(POOLS.c.mode)
    .where(POOLS.c.chat_id == bindparam("chat_id"))
    .scalar_subquery()
    .label("mode"),
)


def _posting_row(posting: Posting) -> dict[str, object]:
    return {
        "kind": posting.kind.value,
        "at": posting.at,
        "memo": posting.memo,
        "user_id": posting.user_id,
        "chat_id": posting.chat_id,
        "model": posting.model,
        "reference": posting.reference,
        "reverses": posting.reverses,
    }


def _line_rows(posting_id: int, lines: Sequence[Line]) -> list[dict[str, object]]:
    return [
        {"posting_id": posting_id, "account": line.account, "amount": line.amount} for line in lines
    ]


async def write_postings(
    connection: AsyncConnection, db: Database, postings: Sequence[Posting]
) -> list[int | None]:
    """Append postings on an open transaction; per posting its id, or None when its reference
    (or the posting it reverses) is already there."""
    ids: list[int | None] = []
    plain = [p for p in postings if p.reference is None and p.reverses is None]
    if plain:
        result = await connection.execute(_NEW_PLAIN, [_posting_row(p) for p in plain])
        plain_ids = list(result.scalars())
    plain_at = iter(plain_ids if plain else [])
    lines: list[dict[str, object]] = []
    for posting in postings:
        if posting.reference is None and posting.reverses is None:
            posting_id: int | None = next(plain_at)
        else:
            statement = (
                db.insert(POSTINGS)
                .values(_posting_row(posting))
                .on_conflict_do_nothing()
                .returning(POSTINGS.c.id)
            )
            posting_id = (await connection.execute(statement)).scalar()
        ids.append(posting_id)
        if posting_id is not None:
            lines.extend(_line_rows(posting_id, posting.lines))
    if lines:
        await connection.execute(_NEW_LINES, lines)
    return ids


class SqlLedger:
    """The Ledger and Books ports, plus what payments and views need."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def post(self, posting: Posting) -> int | None:
        async with self.db.write() as connection:
            return (await write_postings(connection, self.db, [posting]))[0]

    async def balance(self, account: str) -> int:
        async with self.db.read() as connection:
            return int(await connection.scalar(select(_sum(account))) or 0)

    async def entries(self, account: str, *, limit: int = 20) -> list[Entry]:
        query = (
            select(
                POSTINGS.c.id,
                POSTINGS.c.kind,
                POSTINGS.c.at,
                POSTINGS.c.memo,
                POSTINGS.c.model,
                POSTINGS.c.reference,
                POSTINGS.c.reverses,
                func.sum(LINES.c.amount).label("amount"),
            )
            .select_from(LINES.join(POSTINGS, POSTINGS.c.id == LINES.c.posting_id))
            .where(LINES.c.account == account)
            .group_by(POSTINGS.c.id)
            .order_by(POSTINGS.c.id.desc())
            .limit(limit)
        )
        async with self.db.read() as connection:
            rows = (await connection.execute(query)).all()
        return [
            Entry(
                posting_id=row.id,
                kind=Kind(row.kind),
                amount=int(row.amount),
                at=row.at,
                memo=row.memo,
                model=row.model,
                reference=row.reference,
                reverses=row.reverses,
            )
            for row in rows
        ]

    async def get(self, posting_id: int) -> Posting | None:
        async with self.db.read() as connection:
            row = (
                await connection.execute(select(POSTINGS).where(POSTINGS.c.id == posting_id))
            ).first()
            if row is None:
                return None
            lines = (
                await connection.execute(
                    select(LINES.c.account, LINES.c.amount)
                    .where(LINES.c.posting_id == posting_id)
                    .order_by(LINES.c.id)
                )
            ).all()
        return Posting(
            Kind(row.kind),
            tuple(Line(line.account, int(line.amount)) for line in lines),
            row.at,
            memo=row.memo,
            user_id=row.user_id,
            chat_id=row.chat_id,
            model=row.model,
            reference=row.reference,
            reverses=row.reverses,
        )

    async def standing(self, payer: Payer, *, since: datetime) -> Standing:
        """One SELECT: wallet, pool, today's spending and free allowance used, the pool mode."""
        params = {
            "wallet": accounts.wallet(payer.user_id),
            "pool": accounts.pool(payer.chat_id),
            "user_id": payer.user_id,
            "chat_id": payer.chat_id,
            "since": since,
        }
        async with self.db.read() as connection:
            row = (await connection.execute(_STANDING, params)).one()
        return Standing(
            wallet=int(row.wallet),
            pool=int(row.pool),
            spent_today=int(row.spent_today),
            free_used_today=-int(row.free_used),
            group_spent_today=int(row.group_spent) if payer.in_group else 0,
            pool_mode=PoolMode(row.mode) if row.mode else PoolMode.POOL_THEN_WALLET,
        )

    async def usage(self, user_id: int, *, since: datetime) -> list[ModelUsage]:
        """What a person's turns cost since then, by model (most expensive first)."""
        query = (
            select(
                POSTINGS.c.model,
                func.count(func.distinct(POSTINGS.c.id)).label("turns"),
                func.sum(LINES.c.amount).label("credits"),
            )
            .select_from(LINES.join(POSTINGS, POSTINGS.c.id == LINES.c.posting_id))
            .where(
                POSTINGS.c.kind == Kind.USAGE.value,
                POSTINGS.c.user_id == user_id,
                POSTINGS.c.at >= since,
                LINES.c.account == accounts.REVENUE,
            )
            .group_by(POSTINGS.c.model)
            .order_by(func.sum(LINES.c.amount).desc())
        )
        async with self.db.read() as connection:
            rows = (await connection.execute(query)).all()
        return [ModelUsage(row.model or "?", int(row.turns), int(row.credits)) for row in rows]

    async def balances(self) -> dict[str, int]:
        """Every account's balance (operators, reconciliation, tests)."""
        query = select(LINES.c.account, func.sum(LINES.c.amount)).group_by(LINES.c.account)
        async with self.db.read() as connection:
            return {account: int(total) for account, total in (await connection.execute(query))}

    # --- Stars payments ------------------------------------------------------------------------

    async def record_payment(self, payment: StarPayment, posting: Posting) -> bool:
        """The payment and its credit in one transaction; False when this charge id was
        already recorded (nothing is written then)."""
        async with self.db.write() as connection:
            (posting_id,) = await write_postings(connection, self.db, [posting])
            if posting_id is None:
                return False
            await connection.execute(
                PAYMENTS.insert().values(
                    charge_id=payment.charge_id,
                    user_id=payment.user_id,
                    stars=payment.stars,
                    payload=payment.payload,
                    posting_id=posting_id,
                    paid_at=payment.paid_at,
                )
            )
            return True

    async def payment(self, charge_id: str) -> StarPayment | None:
        found = await self.payments(charge_id=charge_id)
        return found[0] if found else None

    async def payments(self, *, charge_id: str | None = None) -> list[StarPayment]:
        refund = POSTINGS.alias("refund")
        query = select(PAYMENTS, (refund.c.id.is_not(None)).label("refunded")).outerjoin(
            refund,
            and_(
                refund.c.reference == literal("refund:") + PAYMENTS.c.charge_id,
                refund.c.kind == Kind.REFUND.value,
            ),
        )
        if charge_id is not None:
            query = query.where(PAYMENTS.c.charge_id == charge_id)
        async with self.db.read() as connection:
            rows = (await connection.execute(query.order_by(PAYMENTS.c.paid_at))).all()
        return [
            StarPayment(
                charge_id=row.charge_id,
                user_id=row.user_id,
                stars=row.stars,
                payload=row.payload,
                paid_at=row.paid_at,
                refunded=bool(row.refunded),
            )
            for row in rows
        ]

    # --- group pools ---------------------------------------------------------------------------

    async def set_pool_mode(self, chat_id: int, mode: PoolMode) -> None:
        async with self.db.write() as connection:
            await connection.execute(
                self.db.insert(POOLS)
                .values(chat_id=chat_id, mode=mode.value)
                .on_conflict_do_update(index_elements=["chat_id"], set_={"mode": mode.value})
            )

    async def pool_mode(self, chat_id: int) -> PoolMode:
        async with self.db.read() as connection:
            mode = await connection.scalar(select(POOLS.c.mode).where(POOLS.c.chat_id == chat_id))
        return PoolMode(mode) if mode else PoolMode.POOL_THEN_WALLET
