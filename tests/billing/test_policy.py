"""The quota rules and prices on their own: who is admitted, who pays what (hypothesis)."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from magpie.billing import accounts
from magpie.billing.meter import Meter
from magpie.billing.money import show
from magpie.billing.policy import Limit, Payer, PoolMode, QuotaPolicy, Quotas, Standing
from magpie.billing.prices import Price, PriceTable, Usage, cost, parse_prices

credits = st.integers(min_value=0, max_value=10**7)
standings = st.builds(
    Standing,
    wallet=st.integers(min_value=-1000, max_value=10**6),
    pool=credits,
    spent_today=credits,
    free_used_today=credits,
    group_spent_today=credits,
    pool_mode=st.sampled_from(PoolMode),
    held_wallet=credits,
    held_pool=credits,
    held_free=credits,
)
payers = st.builds(
    Payer,
    user_id=st.just(1),
    chat_id=st.sampled_from([1, -100]),
    in_group=st.booleans(),
    exempt=st.booleans(),
)
quotas = st.builds(Quotas, free_daily=credits, user_daily_cap=credits, group_daily_cap=credits)


@given(quotas, payers, standings, st.integers(min_value=0, max_value=10**6))
def test_a_split_pays_exactly_the_amount_from_what_may_be_drawn(
    q: Quotas, payer: Payer, standing: Standing, amount: int
) -> None:
    policy = QuotaPolicy(q)
    parts = policy.split(payer, standing, amount)
    assert sum(parts.values()) == amount and all(n > 0 for n in parts.values())
    if payer.exempt:
        assert set(parts) <= {accounts.FREE}
        return
    assert parts.get(accounts.FREE, 0) <= policy.free_left(standing)
    if not payer.in_group:
        assert accounts.pool(payer.chat_id) not in parts
    if payer.in_group and standing.pool_mode is PoolMode.POOL_ONLY:
        assert accounts.wallet(payer.user_id) not in parts  # members never pay
    if policy.decide(payer, standing, amount).allowed:  # what was admitted is covered
        pool = accounts.pool(payer.chat_id)
        assert (
            parts.get(pool, 0) <= max(standing.pool - standing.held_pool, 0) or not payer.in_group
        )


@given(quotas, payers, standings, st.integers(min_value=1, max_value=10**6))
def test_exempt_people_are_never_refused_and_others_only_for_a_reason(
    q: Quotas, payer: Payer, standing: Standing, estimate: int
) -> None:
    decision = QuotaPolicy(q).decide(payer, standing, estimate)
    if payer.exempt:
        assert decision.allowed
    if not decision.allowed:
        assert decision.limit in set(Limit)
        if decision.limit is Limit.USER_CAP:
            assert q.user_daily_cap and standing.spent_today + estimate > q.user_daily_cap


@given(
    st.builds(Price, input=credits, cached_input=credits, output=credits, tool_call=credits),
    st.builds(
        Usage,
        model=st.just("m"),
        tokens_in=st.integers(0, 10**6),
        tokens_cached=st.integers(0, 10**6),
        tokens_out=st.integers(0, 10**6),
        tool_calls=st.integers(0, 50),
    ),
)
def test_a_cost_is_whole_credits_never_below_the_exact_price(price: Price, usage: Usage) -> None:
    charged = cost(price, usage)
    cached = min(usage.tokens_cached, usage.tokens_in)
    exact = (
        (usage.tokens_in - cached) * price.input
        + cached * price.cached_input
        + usage.tokens_out * price.output
    ) / 1_000_000 + usage.tool_calls * price.tool_call
    assert isinstance(charged, int) and exact <= charged < exact + 1


def test_prices_from_the_setting_and_by_provider() -> None:
    table = PriceTable.with_overrides('{"offline": {"output": 5}, "acme:*": {"input": 7}}')
    assert table.price("offline") == Price(output=5)
    assert table.price("acme:rocket") == Price(input=7)
    assert table.price("openai:gpt-4o-mini").output == 30_000
    assert not table.price("never:heard-of").free  # an unknown model is not given away
    for bad in ("[]", '{"m": {"inptu": 1}}', '{"m": {"input": -1}}', '{"m": {"input": 0.5}}', "{"):
        try:
            parse_prices(bad)
        except ValueError:
            continue
        raise AssertionError(f"{bad!r} was accepted")


@given(st.integers(min_value=-(10**9), max_value=10**9))
def test_amounts_show_as_stars_without_losing_a_credit(amount: int) -> None:
    shown = show(amount)
    assert round(float(shown) * 1000) == amount
    assert shown == show(amount)  # and the same way every time


class NoBooks:
    """Books that must not be read."""

    async def standing(self, payer: Payer, *, since: datetime) -> Standing:
        raise AssertionError("a free model must cost no database read")


async def test_a_free_model_is_admitted_without_reading_the_books() -> None:
    meter = Meter(
        prices=PriceTable({"offline": Price()}),
        policy=QuotaPolicy(Quotas()),
        books=NoBooks(),
        now=lambda: datetime(2026, 12, 2, tzinfo=UTC),
    )
    admission = await meter.admit(Payer(1, 1), model="offline", prompt_tokens=5000)
    assert admission.allowed and admission.hold == {}
    assert meter.charge(admission, Usage("offline", tokens_in=5000, tokens_out=500)) is None
