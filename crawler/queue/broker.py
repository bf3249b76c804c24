"""The Redis broker, the queues and the message names of queue mode.

Dramatiq (Redis broker) because its consumers ack late (a message leaves Redis only after its actor
returned), dead workers' messages are redelivered through heartbeats, retries back off and end in a dead
letter queue — what a kill -9 of a crawl or read worker needs. Messages are sent by actor name with
`broker.enqueue`, so a crawl child can send captures without importing the worker code.

Queues: `crawl` (portal jobs), `write` (captures, run closes, reports: consumed by the one writer only),
`read` (versions to read).
"""

from __future__ import annotations

import os
import time
from typing import Any

import dramatiq
from dramatiq.brokers.redis import RedisBroker

QUEUES = ("crawl", "write", "read")
NAMESPACE = "dramatiq"
# Actor name → queue.
ACTORS = {
    "crawl_portal": "crawl",
    "store_capture": "write",
    "close_run": "write",
    "store_report": "write",
    "read_version": "read",
}


def redis_url(url: str | None) -> str:
    found = url or os.environ.get("NIANBAO_REDIS_URL")
    if not found:
        raise ValueError("no Redis URL: give --redis URL or set NIANBAO_REDIS_URL")
    return found


def make_broker(url: str) -> RedisBroker:
    """A broker on `url`. NIANBAO_QUEUE_HEARTBEAT_MS: silence after which a worker counts as dead and its
    messages are redelivered (default 60 s; tests shorten it)."""
    heartbeat = int(os.environ.get("NIANBAO_QUEUE_HEARTBEAT_MS", "60000"))
    chance = int(os.environ.get("NIANBAO_QUEUE_MAINTENANCE_CHANCE", "10000"))  # per million commands
    broker = RedisBroker(url=url, namespace=NAMESPACE, heartbeat_timeout=heartbeat, maintenance_chance=chance)
    for queue in QUEUES:
        broker.declare_queue(queue)
    return broker


def send(broker: RedisBroker, actor: str, *args: Any, delay_ms: int | None = None, **options: Any) -> str:
    """Enqueue a message for `actor` by name; returns its message id."""
    message: dramatiq.Message[Any] = dramatiq.Message(
        queue_name=ACTORS[actor], actor_name=actor, args=args, kwargs={}, options=options
    )
    return broker.enqueue(message, delay=delay_ms).message_id


def pending(broker: RedisBroker, queues: tuple[str, ...] = QUEUES) -> dict[str, int]:
    """Messages not yet acked per queue (waiting, in progress or delayed for a retry), read atomically.

    In progress counts: a message leaves `<queue>.msgs` only when acked, after its actor has enqueued what
    follows it, so an all-zero snapshot means the whole pipeline is idle.
    """
    pipe = broker.client.pipeline(transaction=True)
    for q in queues:
        pipe.hlen(f"{NAMESPACE}:{q}.msgs")
        pipe.hlen(f"{NAMESPACE}:{q}.DQ.msgs")
    counts = pipe.execute()
    return {q: int(counts[2 * i]) + int(counts[2 * i + 1]) for i, q in enumerate(queues)}


def queue_depths(broker: RedisBroker) -> list[dict[str, Any]]:
    """Per queue: waiting or in progress, delayed, dead, and the age of the oldest waiting message."""
    out = []
    now = time.time()
    client = broker.client
    for q in QUEUES:
        oldest = None
        first = client.lindex(f"{NAMESPACE}:{q}", 0)
        if first is not None:
            data = client.hget(f"{NAMESPACE}:{q}.msgs", first)
            if data is not None:
                msg = dramatiq.Message.decode(data)
                oldest = round(now - msg.message_timestamp / 1000, 1)
        out.append(
            {
                "queue": q,
                "depth": int(client.hlen(f"{NAMESPACE}:{q}.msgs")),
                "delayed": int(client.hlen(f"{NAMESPACE}:{q}.DQ.msgs")),
                "dead": int(client.hlen(f"{NAMESPACE}:{q}.XQ.msgs")),
                "oldest_seconds": oldest,
            }
        )
    return out
