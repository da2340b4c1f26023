"""API keys: only a hash is stored, wrong or revoked keys fail, roles are checked."""

from pathlib import Path

import pytest

from indexer.catalog import Catalog
from indexer.errors import InvalidId
from indexer.keys import KeyNotFound, KeyStore


@pytest.fixture
def keys(tmp_path: Path) -> KeyStore:
    return KeyStore(Catalog(f"sqlite:///{tmp_path / 'c.sqlite'}").engine)


def test_a_key_checks_and_its_secret_is_not_stored(keys: KeyStore, tmp_path: Path) -> None:
    key, secret = keys.create("creator", "alice", "laptop")
    found = keys.check(secret)
    assert found is not None and (found.role, found.creator_id) == ("creator", "alice")
    stored = b"".join(p.read_bytes() for p in tmp_path.glob("c.sqlite*"))  # with the WAL
    assert key.key_id.encode() in stored  # the files do hold the key's record...
    # ...never its secret (the part after `st_<key id>_`, which may itself hold "_")
    assert secret.split("_", 2)[2].encode() not in stored


def test_wrong_malformed_and_revoked_keys_fail(keys: KeyStore) -> None:
    key, secret = keys.create("platform", None)
    for bad in ("", "st_", secret[:-1] + "x", secret + "x", "Bearer " + secret, "st_nope_x"):
        assert keys.check(bad) is None
    keys.revoke(key.key_id)
    assert keys.check(secret) is None
    assert keys.revoke(key.key_id).revoked_at is not None  # twice is a no-op
    with pytest.raises(KeyNotFound):
        keys.revoke("unknown")


@pytest.mark.parametrize(
    ("role", "creator"), [("creator", None), ("platform", "alice"), ("root", None)]
)
def test_role_and_creator_must_agree(keys: KeyStore, role: str, creator: str | None) -> None:
    with pytest.raises(InvalidId):
        keys.create(role, creator)


def test_list_filters_by_creator(keys: KeyStore) -> None:
    keys.create("creator", "alice")
    keys.create("creator", "bob")
    keys.create("reviewer", None)
    assert [k.creator_id for k in keys.list("alice")] == ["alice"]
    assert len(keys.list()) == 3
