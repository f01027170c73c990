"""The Redis client the limits share (REDIS_URL): bounded, quick to give up, never retrying.

A burst of sends asks Redis once or twice per message, all at once: a pool of a few dozen
connections that callers queue for (not a connection per call, nor "Too many connections"), and
short timeouts, so a Redis that is away costs each call at most a second before the limits fall
back to memory.
"""

from __future__ import annotations

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

MAX_CONNECTIONS = 32


def connect(url: str) -> Redis:
    pool = BlockingConnectionPool.from_url(
        url,
        max_connections=MAX_CONNECTIONS,
        timeout=2.0,  # waiting for a free connection
        socket_timeout=1.0,
        socket_connect_timeout=1.0,
        retry=Retry(NoBackoff(), 0),
    )
    return Redis.from_pool(pool)
