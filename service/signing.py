"""The service's Ed25519 signing key: signs removal receipts and evidence packets so anyone
holding the public key can check them offline. Created on first use under the data dir
(mode 0600) unless STYLETRACE_SIGNING_KEY names a PEM file."""

from __future__ import annotations

import base64
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from indexer.blobs import atomic_write


def canonical(body: Any) -> bytes:
    """The bytes that get signed: sorted keys, no spaces, ASCII."""
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def key_id_of(public: Ed25519PublicKey) -> str:
    """First 16 hex digits of the sha256 of the raw public key."""
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def public_pem(public: Ed25519PublicKey) -> str:
    return public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


@dataclass(frozen=True)
class Signer:
    """Signs canonical JSON bodies; `signed(body)` is what receipts and packets carry."""

    private: Ed25519PrivateKey

    @classmethod
    def load_or_create(cls, path: Path) -> Signer:
        if path.is_file():
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
            if not isinstance(key, Ed25519PrivateKey):
                raise ValueError(f"{path} is not an Ed25519 private key")
            return cls(key)
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, pem)
        os.chmod(path, 0o600)
        return cls(key)

    @property
    def key_id(self) -> str:
        return key_id_of(self.private.public_key())

    @property
    def public_key(self) -> str:
        return public_pem(self.private.public_key())

    def sign(self, data: bytes) -> str:
        return base64.b64encode(self.private.sign(data)).decode()

    def signed(self, body: dict[str, Any]) -> dict[str, Any]:
        """{"body": body, "signature": {"alg", "key_id", "public_key", "value"}}."""
        return {
            "body": body,
            "signature": {
                "alg": "Ed25519",
                "key_id": self.key_id,
                "public_key": self.public_key,
                "value": self.sign(canonical(body)),
            },
        }


def trusted_key(pem: str, source: str) -> str:
    """`pem` if it is an Ed25519 public key in PEM (what `styletrace signing-key` prints);
    else a ValueError naming `source` and what it holds instead."""
    try:
        public = serialization.load_pem_public_key(pem.encode())
    except ValueError:
        found = "a private key" if "PRIVATE KEY" in pem else "no PEM public key"
        raise ValueError(
            f"{source} holds {found}; give the service's public key "
            "(`styletrace signing-key`, or GET /signing-key.pem)"
        ) from None
    if not isinstance(public, Ed25519PublicKey):
        raise ValueError(
            f"{source} holds a public key of another kind than Ed25519, which the service "
            "signs with (`styletrace signing-key`)"
        )
    return pem


def signer(signature: dict[str, Any], trusted_pem: str | None) -> dict[str, object]:
    """Who signed, as `verify` reports it: the id of the key the signature was checked with,
    and whether that was the key given as trusted or only the one the file carries (which
    proves the file unaltered since signing, not who signed it)."""
    pem = trusted_pem or signature.get("public_key", "")
    try:
        public = serialization.load_pem_public_key(pem.encode()) if isinstance(pem, str) else None
    except ValueError:
        public = None
    key = key_id_of(public) if isinstance(public, Ed25519PublicKey) else None
    if trusted_pem:
        return {"key_id": key, "checked_against": "the trusted public key given"}
    return {
        "key_id": key,
        "checked_against": "only the public key the file carries: this shows the file is "
        "unaltered since it was signed, not who signed it; give the service's key "
        "(--public-key, from `styletrace signing-key` or GET /signing-key.pem) for that",
    }


def check(data: bytes, signature: dict[str, Any], trusted_pem: str | None = None) -> str:
    """'' when `signature` signs `data` (and, when given, with the trusted public key); else
    what is wrong, in words."""
    pem, value = trusted_pem or signature.get("public_key", ""), signature.get("value", "")
    whose = "trusted" if trusted_pem else "signature's"
    if not isinstance(pem, str) or not isinstance(value, str):
        return "the signature's public key and value must be text"
    try:
        public = serialization.load_pem_public_key(pem.encode())
    except ValueError:
        return f"the {whose} public key is not a PEM public key"
    if not isinstance(public, Ed25519PublicKey):
        return f"the {whose} public key is not an Ed25519 key"
    if trusted_pem and key_id_of(public) != signature.get("key_id"):
        return "signed with another key than the trusted one"
    if key_id_of(public) != signature.get("key_id"):  # a key id borrowed from another key
        return (
            f"the signature names key {str(signature.get('key_id'))[:40]!r}, but its public "
            f"key is {key_id_of(public)!r}"
        )
    try:
        public.verify(base64.b64decode(value), data)
    except (InvalidSignature, ValueError):
        return "the signature does not match the signed content"
    return ""
