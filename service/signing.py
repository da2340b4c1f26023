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
    try:
        public.verify(base64.b64decode(value), data)
    except (InvalidSignature, ValueError):
        return "the signature does not match the signed content"
    return ""
