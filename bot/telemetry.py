"""Telemetry for operators: the Prometheus counters behind `GET /metrics` (not marketing metrics).
Imported by the servers only, never by `smx ask`."""

from __future__ import annotations

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)

REGISTRY = CollectorRegistry(auto_describe=True)

REQUESTS = Counter(
    "smx_requests_total",
    "Queries answered, by surface and subcommand.",
    ["surface", "command"],
    registry=REGISTRY,
)
USER_ERRORS = Counter(
    "smx_user_errors_total",
    "Queries answered with a user error (bad input).",
    ["surface", "command"],
    registry=REGISTRY,
)
UNEXPECTED_ERRORS = Counter(
    "smx_unexpected_errors_total",
    "Queries that failed with an unexpected exception.",
    ["surface"],
    registry=REGISTRY,
)
DATABASE_ERRORS = Counter(
    "smx_database_errors_total",
    "Queries that failed because the database did (unreachable, or refused a statement): an "
    "outage to page on, kept apart from smx's own unexpected errors.",
    ["surface", "kind"],
    registry=REGISTRY,
)
ACK_SECONDS = Histogram(
    "smx_ack_seconds",
    "Time from a Slack request's arrival to its HTTP answer.",
    ["kind"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 3.0, 5.0),
    registry=REGISTRY,
)
DIGEST_RUNS = Counter(
    "smx_digest_runs_total", "Digest runs by outcome.", ["outcome"], registry=REGISTRY
)
CHARTS_SKIPPED = Counter(
    "smx_charts_skipped_total",
    "Answers sent without their chart because too many charts were waiting to be drawn.",
    registry=REGISTRY,
)
SLACK_API_ERRORS = Counter(
    "smx_slack_api_errors_total",
    "Slack Web API calls that failed, by method and error.",
    ["method", "error"],
    registry=REGISTRY,
)


# Each labelled child by its label values, looked up once: `Counter.labels()` takes a lock and
# builds its key on every call (~2 us), twice for every answered request. The label values are
# bounded (Slack's request kinds, surfaces, the router's command names), and nothing here ever
# removes a child, so the one kept is the one `labels()` would return.
_children: dict[tuple[object, tuple[str, ...]], object] = {}


def child(metric, *values: str):
    """`metric.labels(*values)`, remembered."""
    key = (metric, values)
    found = _children.get(key)
    if found is None:
        found = _children[key] = metric.labels(*values)
    return found


def count_failure(surface: str, err: BaseException | None) -> None:
    """Count a failed query: as the database's failure when the store raised, else as smx's own."""
    from bot.store.base import StoreError, StoreUnavailable

    if isinstance(err, StoreError):
        kind = "unavailable" if isinstance(err, StoreUnavailable) else "error"
        DATABASE_ERRORS.labels(surface, kind).inc()
    else:
        UNEXPECTED_ERRORS.labels(surface).inc()


def render() -> tuple[bytes, str]:
    """The exposition text and its content type."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
