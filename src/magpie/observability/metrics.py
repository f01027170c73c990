"""Every Prometheus metric Magpie exports, in one place. Never a user id as a label."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from magpie.conversation.types import TurnRecord


class Metrics:
    """The metric families, registered on one registry (a fresh one per app keeps tests apart)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self.updates = Counter(
            "magpie_updates_total",
            "Updates received, by kind and outcome.",
            ["kind", "outcome"],
            registry=self.registry,
        )
        self.turns = Counter(
            "magpie_turns_total",
            "Assistant turns, by chat type and outcome.",
            ["chat_type", "outcome"],
            registry=self.registry,
        )
        self.turn_seconds = Histogram(
            "magpie_turn_seconds",
            "Wall time of one assistant turn, from trigger to final message.",
            ["chat_type"],
            registry=self.registry,
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120),
        )
        self.telegram_retries = Counter(
            "magpie_telegram_retries_total",
            "Telegram calls tried again, by method and reason (flood: 429; transient: 5xx, reset).",
            ["method", "reason"],
            registry=self.registry,
        )
        self.telegram_undelivered = Counter(
            "magpie_telegram_undelivered_total",
            "Telegram calls that still failed after every retry, by method and reason.",
            ["method", "reason"],
            registry=self.registry,
        )
        self.telegram_limiter_wait = Histogram(
            "magpie_telegram_limiter_wait_seconds",
            "How long messages waited for their turn in the outgoing limits (those that waited).",
            registry=self.registry,
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30),
        )
        self.telegram_shed = Counter(
            "magpie_telegram_previews_shed_total",
            "Previews (drafts, paced edits) skipped because the outgoing limits had no room.",
            ["method"],
            registry=self.registry,
        )
        self.telegram_paused = Counter(
            "magpie_telegram_paused_total",
            "429s that paused the outgoing limits, by scope (chat or the whole bot).",
            ["scope"],
            registry=self.registry,
        )
        self.user_limited = Counter(
            "magpie_user_limited_total",
            "Messages refused because their sender was over a per-user limit, by limit.",
            ["limit"],
            registry=self.registry,
        )
        self.loop_lag = Gauge(
            "magpie_event_loop_lag_seconds",
            "How late a 100 ms timer last woke: the process is busier than it can keep up with.",
            registry=self.registry,
        )
        self.llm_tokens = Counter(
            "magpie_llm_tokens_total",
            "Tokens sent to and received from models.",
            ["model", "direction"],
            registry=self.registry,
        )

        self.credits_charged = Counter(
            "magpie_credits_charged_total",
            "Credits turns cost (1,000 to a Star), by model.",
            ["model"],
            registry=self.registry,
        )
        self.payments = Counter(
            "magpie_payments_total",
            "Stars payments and refunds, by outcome (credited, duplicate, refunded, refused).",
            ["outcome"],
            registry=self.registry,
        )

    def observe_turn(self, record: TurnRecord, *, chat_type: str) -> None:
        """Count one finished turn: outcome, duration, tokens."""
        self.turns.labels(chat_type, record.outcome.value).inc()
        self.turn_seconds.labels(chat_type).observe(record.latency_ms / 1000)
        self.llm_tokens.labels(record.model, "in").inc(record.tokens_in)
        self.llm_tokens.labels(record.model, "out").inc(record.tokens_out)
        if record.cost:
            self.credits_charged.labels(record.model).inc(record.cost)

    def exposition(self) -> bytes:
        """The text format Prometheus scrapes."""
        return generate_latest(self.registry)
