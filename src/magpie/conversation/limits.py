"""What a person is told when a limit stops a turn: why, that it cost nothing, what next."""

from __future__ import annotations

from magpie.billing.meter import Admission
from magpie.billing.money import show
from magpie.billing.policy import Limit, PoolMode
from magpie.texts import Texts


def limit_reply(texts: Texts, admission: Admission) -> str:
    standing = admission.standing
    limit = admission.decision.limit
    if limit is Limit.USER_CAP:
        return texts.limit_user_cap
    if limit is Limit.GROUP_CAP:
        return texts.limit_group_cap
    if admission.payer.in_group and standing and standing.pool_mode is PoolMode.POOL_ONLY:
        return texts.limit_pool_only
    return texts.limit_no_credit.format(balance=show(standing.wallet if standing else 0))
