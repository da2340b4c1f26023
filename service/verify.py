"""Offline checks of what the service signed: a removal receipt (JSON) or an evidence packet
(zip). Each returns the problems found, in words; none means it holds."""

from __future__ import annotations

from typing import Any

from service.signing import canonical, check


def verify_receipt(signed: Any, trusted_pem: str | None = None) -> list[str]:
    """Problems with a signed receipt {"body": ..., "signature": ...}."""
    if not isinstance(signed, dict) or not all(
        isinstance(signed.get(k), dict) for k in ("body", "signature")
    ):
        return ["not a signed receipt: it needs 'body' and 'signature' objects"]
    problem = check(canonical(signed["body"]), signed["signature"], trusted_pem)
    return [problem] if problem else []
