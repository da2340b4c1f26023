"""The service's C2PA signing credentials: a certificate chain and its private key. Without
STYLETRACE_C2PA_CERT and STYLETRACE_C2PA_KEY, a development CA and a leaf certificate made
with `cryptography` are created under DATA_DIR/keys on first use: manifests they sign read
as signed but untrusted (no trust list holds a development CA). README says how to use a
certificate from a C2PA-trusted CA instead."""

from __future__ import annotations

import datetime
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from indexer.blobs import atomic_write

DEV_DAYS = 3650
ORG = "styletrace development (not a trusted C2PA signer)"


@dataclass(frozen=True)
class C2paCredentials:
    """PEM certificate chain (leaf first) and PEM private key."""

    chain: bytes
    private_key: bytes

    @property
    def algorithm(self) -> str:
        """The C2PA signing algorithm of the key: ES256/ES384/ES512, PS256 or Ed25519."""
        key = serialization.load_pem_private_key(self.private_key, password=None)
        if isinstance(key, ec.EllipticCurvePrivateKey):
            return {256: "ES256", 384: "ES384", 521: "ES512"}[key.curve.key_size]
        if isinstance(key, rsa.RSAPrivateKey):
            return "PS256"
        if isinstance(key, ed25519.Ed25519PrivateKey):
            return "Ed25519"
        raise ValueError("the C2PA private key is neither EC, RSA nor Ed25519")

    def signer(self) -> Any:
        """A c2pa-python Signer over these credentials."""
        import c2pa  # type: ignore[import-untyped]

        info = c2pa.C2paSignerInfo(
            alg=getattr(c2pa.C2paSigningAlg, self.algorithm.upper()),
            sign_cert=self.chain,
            private_key=self.private_key,
            ta_url=None,
        )
        return c2pa.Signer.from_info(info)


def _name(common: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORG),
        ]
    )


def _certificate(subject: str, public: Any, issuer_key: Any, ca: bool) -> x509.CertificateBuilder:
    start = datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=1)
    usage = x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )
    return (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name("styletrace development CA"))
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + datetime.timedelta(days=DEV_DAYS))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(usage, critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), False
        )
    )


def development_credentials() -> C2paCredentials:
    """A fresh development CA and a leaf certificate it issued (C2PA refuses self-signed
    leaves), both EC P-256."""
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    root = _certificate("styletrace development CA", ca_key.public_key(), ca_key, True)
    root_cert = root.sign(ca_key, hashes.SHA256())
    leaf = (
        _certificate("styletrace publisher", key.public_key(), ca_key, False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    chain = b"".join(c.public_bytes(serialization.Encoding.PEM) for c in (leaf, root_cert))
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return C2paCredentials(chain, private)


def load_or_create(cert: Path, key: Path, create: bool) -> C2paCredentials:
    """The credentials in `cert` and `key`; when `create` and they are missing, a development
    pair is written there (the key with mode 0600)."""
    if cert.is_file() and key.is_file():
        return C2paCredentials(cert.read_bytes(), key.read_bytes())
    if not create:
        raise FileNotFoundError(f"no C2PA certificate chain and key at {cert} and {key}")
    made = development_credentials()
    atomic_write(key, made.private_key)
    os.chmod(key, 0o600)
    atomic_write(cert, made.chain)
    return made
