"""Per-request context (request id, client address) that services read when they audit.

Set by ``core.middleware`` for web requests; management commands and tasks run without one,
and their audit events carry an empty request id and the command's name as the client.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass(frozen=True)
class RequestContext:
    request_id: str = ""
    client_ip: str = ""


_current: contextvars.ContextVar[RequestContext] = contextvars.ContextVar(
    "haopin_request_context",
    default=RequestContext(),  # noqa: B039 - immutable
)


def current() -> RequestContext:
    return _current.get()


@contextmanager
def bind(*, request_id: str = "", client_ip: str = "") -> Iterator[RequestContext]:
    ctx = RequestContext(request_id=request_id, client_ip=client_ip)
    token = _current.set(ctx)
    try:
        yield ctx
    finally:
        _current.reset(token)
