"""The routes that take a form: each field is sent once, checked after the caller's key."""

from __future__ import annotations

from collections import Counter

from fastapi import Depends, Request
from fastapi.params import Depends as DependsParam

from service.api.auth import Caller
from service.api.errors import ApiError

FORMS = ("multipart/form-data", "application/x-www-form-urlencoded")


async def one_value_each(request: Request, _caller: Caller) -> None:
    """A form sends each field once: a second `image` or `top_k` is refused (422), not
    silently taken instead of the first. Runs after the key check, so a keyless call is 401."""
    if not request.headers.get("content-type", "").strip().lower().startswith(FORMS):
        return
    counts = Counter(name for name, _ in (await request.form()).multi_items())
    repeated = sorted(name for name, n in counts.items() if n > 1)
    if repeated:
        name = repeated[0]
        raise ApiError(
            422,
            "invalid_request",
            f"form field {name[:80]!r} was sent {counts[name]} times; send each field once",
        )


ONCE: list[DependsParam] = [Depends(one_value_each)]  # `dependencies=` of every form route
