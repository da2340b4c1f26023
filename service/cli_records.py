"""The CLI's record-keeping commands: keys, consent terms, the audit log, claims, evidence
packets and the offline `verify` of packets and receipts."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import click
from pydantic import ValidationError

from indexer import audit
from indexer.ids import check_creator_id
from indexer.keys import ROLES, KeyStore
from service import cli_common as common
from service.consent import Terms, effective, problems
from service.records import CreatedKey, check_label, claim_out, entry_out, key_out
from service.signing import signer, trusted_key

CLAIMS_PAGE = 500  # claims read per query by `claims list`
AUDIT_PAGE = 1000  # entries read per query by `audit list`


@click.command("verify")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--public-key",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="The service's public key (PEM: `styletrace signing-key`, or GET /signing-key.pem) "
    "to trust; default: the one the file carries.",
)
@click.option(
    "--rematch", is_flag=True, help="Evidence packets: re-run the match here and compare scores."
)
def verify_cmd(path: Path, public_key: Path | None, rematch: bool) -> None:
    """Check an evidence packet (.zip) or a removal receipt (JSON) offline: signature and
    hashes. Exit status 1 when it does not hold."""
    try:
        trusted = trusted_key(public_key.read_text(), str(public_key)) if public_key else None
    except UnicodeDecodeError as exc:
        raise ValueError(f"{public_key} is not a PEM public key (not text)") from exc
    data = path.read_bytes()
    if data[:2] == b"PK":
        report = _verify_packet(data, trusted, rematch)
    else:
        from service.evidence import part
        from service.verify import verify_receipt

        try:
            signed = json.loads(data)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValueError(f"{path} is neither an evidence packet nor a receipt") from exc
        unsigned: list[str] = []
        if isinstance(signed, dict) and "receipt" in signed:  # a removal's answer wraps it
            unsigned = sorted(k for k in signed if k != "receipt")
            signed = signed["receipt"]
        problems = verify_receipt(signed, trusted)
        signed = signed if isinstance(signed, dict) else {}
        report = {
            "ok": not problems,
            "kind": "receipt",
            "signer": signer(part(signed, "signature"), trusted),
            "signed": part(signed, "body"),
            "problems": problems,
        }
        if unsigned:  # what a person may read first, and nothing vouches for
            report["not_signed"] = {
                "fields": unsigned,
                "note": "only 'receipt' is signed; read the removal from 'signed' above",
            }
    click.echo(json.dumps(report, indent=1))
    if not report["ok"]:
        sys.exit(1)


def _verify_packet(data: bytes, trusted: str | None, rematch: bool) -> dict[str, object]:
    from models.images import load_image_bytes
    from service.evidence import (
        listed_work_ids,
        part,
        query_sha256,
        rematch_problems,
        removed_since,
        unreached,
        verify_packet,
    )

    checked = verify_packet(data, trusted)
    report: dict[str, object] = {
        "kind": "evidence packet",
        "signer": signer(checked.signature, trusted),
        "query_sha256": query_sha256(checked.body),
        "context": checked.body.get("context"),
        "models": checked.body.get("models"),
        "problems": checked.problems,
    }
    if rematch and not checked.problems:
        from service.settings import Settings

        settings = Settings()
        database = settings.data_dir / "catalog.sqlite"
        if not settings.database_url and not database.is_file():  # nothing to compare with
            raise ValueError(
                f"--rematch re-runs the match against the service's catalog, and there is "
                f"none at {database}: run it where the service's data is (STYLETRACE_DATA_DIR)"
            )
        runtime = common.runtime(settings)
        query = load_image_bytes(checked.query, runtime.settings.limits)
        claimant = part(checked.body, "context").get("creator_id")  # a claim's packet
        scope = claimant if isinstance(claimant, str) else None
        options = runtime.options(runtime.settings.max_top_k, scope)
        rerun = runtime.matcher.match([query], options)[0]
        differences = rematch_problems(checked, rerun) + unreached(runtime.library, checked, rerun)
        gone = removed_since(runtime.library, checked)
        rechecked = len(listed_work_ids(checked)) - len(gone)
        rematched: dict[str, object] = {
            "same_snapshot": rerun.models.index == part(checked.body, "models").get("index"),
            "rechecked": rechecked,
            "removed_since": gone,  # listed, no longer registered: not checked, not a fault
            "problems": differences,
        }
        if gone and not rechecked:  # `ok` then speaks for the signature alone
            rematched["note"] = (
                "every work the packet lists has been removed since: the re-run could check "
                "no score, only that the signature holds"
            )
        report["rematch"] = rematched
        checked.problems.extend(differences)
    report["ok"] = not checked.problems
    return report


@click.command("signing-key")
def signing_key_cmd() -> None:
    """Print the service's public signing key (PEM), for `verify --public-key`."""
    from service.settings import Settings
    from service.signing import Signer

    click.echo(Signer.load_or_create(Settings().signing_key_path).public_key, nl=False)


@click.command("evidence")
@click.argument("image", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--out", required=True, type=common.OutputFile())
def evidence_cmd(image: Path, out: Path) -> None:
    """Match IMAGE and write a signed evidence packet of the result to OUT (.zip)."""
    from models.images import load_image_bytes
    from service.evidence import build_packet

    runtime = common.runtime()
    data = image.read_bytes()
    query = load_image_bytes(data, runtime.settings.limits)
    result = runtime.matcher.match([query], runtime.options())[0]
    context = {"requested_by": common.CLI_ACTOR}
    packet = build_packet(runtime.library, runtime.signer, query, data, result, context)
    out.write_bytes(packet.data)
    click.echo(json.dumps({"packet": str(out), "sha256": packet.sha256}))


@click.command("claim")
@click.argument("image", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--kind", required=True, type=click.Choice(["revshare", "takedown"]))
@click.option("--creator", required=True, help="The creator whose works it copies or imitates.")
def claim_cmd(image: Path, kind: str, creator: str) -> None:
    """File a claim for CREATOR from IMAGE (it must match their works); prints the claim."""
    from models.images import load_image_bytes
    from service.claims import file_claim

    check_creator_id(creator)
    runtime = common.runtime()
    data = image.read_bytes()
    query = load_image_bytes(data, runtime.settings.limits)
    claim, _ = file_claim(runtime, query, data, kind, creator, common.CLI_ACTOR)  # type: ignore[arg-type]
    click.echo(claim_out(claim).model_dump_json())


@click.group()
def claims() -> None:
    """List claims, act on them, export decisions as labelled data."""


@claims.command("list")
@click.option(
    "--status", type=click.Choice(["open", "disputed", "upheld", "rejected", "withdrawn"])
)
@click.option("--creator", default=None, callback=common.creator_filter)
def claims_list(status: str | None, creator: str | None) -> None:
    """One JSON line per claim, newest first: every one, read a page at a time."""
    from indexer.claims import ClaimStore

    store, last = ClaimStore(common.catalog().engine), None
    while True:
        page = store.find(creator, status, limit=CLAIMS_PAGE, after=last)
        for claim in page:
            click.echo(claim_out(claim).model_dump_json())
        if len(page) < CLAIMS_PAGE:
            break
        last = page[-1].claim_id


@claims.command("act")
@click.argument("claim_id")
@click.argument("action", type=click.Choice(["dispute", "withdraw", "uphold", "reject"]))
@click.option("--reason", required=True)
def claims_act(claim_id: str, action: str, reason: str) -> None:
    """Move a claim, as an admin on the server's machine (the audit log names `cli`)."""
    from indexer.claims import ClaimStore
    from service.claims import move_claim

    store = ClaimStore(common.catalog().engine)
    moved = move_claim(store, store.get(claim_id), action, "admin", common.CLI_ACTOR, reason)
    click.echo(claim_out(moved).model_dump_json())


@claims.command("evidence")
@click.argument("claim_id")
@click.option("--out", required=True, type=common.OutputFile())
def claims_evidence(claim_id: str, out: Path) -> None:
    """Write CLAIM_ID's signed evidence packet (the one filed with it) to OUT."""
    from indexer.claims import ClaimStore
    from service.claims import stored_evidence
    from service.settings import Settings

    claim = ClaimStore(common.catalog().engine).get(claim_id)
    out.write_bytes(stored_evidence(Settings().data_dir, claim))
    click.echo(
        json.dumps({"claim_id": claim.claim_id, "packet": str(out), "sha256": claim.packet_sha256})
    )


@claims.command("labels")
@click.option("--out", required=True, type=common.OutputFile())
def claims_labels(out: Path) -> None:
    """Write upheld and rejected claims as labelled JSON lines for recalibration."""
    from indexer.claims import ClaimStore
    from service.claims import labelled

    rows = labelled(ClaimStore(common.catalog().engine).find(limit=1_000_000))
    out.write_text("".join(json.dumps(r) + "\n" for r in rows))
    click.echo(json.dumps({"labels": len(rows), "out": str(out)}))


@click.group()
def keys() -> None:
    """Create, list and revoke API keys (roles: admin, reviewer, platform, creator)."""


@keys.command("create")
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--creator", default=None, help="The creator a creator key belongs to.")
@click.option("--label", default="", help="What the key is for.")
def keys_create(role: str, creator: str | None, label: str) -> None:
    """Create a key; the secret is printed once and never stored."""
    check_label(label)
    key, secret = KeyStore(common.catalog().engine).create(role, creator, label, common.CLI_ACTOR)
    click.echo(CreatedKey(**key_out(key).model_dump(), key=secret).model_dump_json())


@keys.command("list")
@click.option("--creator", default=None, callback=common.creator_filter)
def keys_list(creator: str | None) -> None:
    """One JSON line per key (never the secret)."""
    for k in KeyStore(common.catalog().engine).list(creator):
        click.echo(key_out(k).model_dump_json())


@keys.command("revoke")
@click.argument("key_id")
def keys_revoke(key_id: str) -> None:
    """Revoke KEY_ID; it stops working at once."""
    key = KeyStore(common.catalog().engine).revoke(key_id, common.CLI_ACTOR)
    click.echo(key_out(key).model_dump_json())


@click.group()
def terms() -> None:
    """Show or set a creator's consent terms."""


@terms.command("show")
@click.argument("creator_id")
def terms_show(creator_id: str) -> None:
    """The terms in force for CREATOR_ID (defaults where none were set)."""
    check_creator_id(creator_id)
    stored, _ = common.catalog().terms_for([creator_id], [])
    click.echo(effective(stored[creator_id]).model_dump_json())


@terms.command("set")
@click.argument("creator_id")
@click.option("--policy", type=click.Choice(["track", "revshare", "takedown"]), default=None)
@click.option("--rate", type=float, default=None, help="Revenue share for --policy revshare.")
@click.option("--training/--no-training", default=None, help="Allow AI training (opt-in).")
@click.option("--licence", default=None)
@click.option("--licence-url", default=None)
@click.option("--credit", default=None)
def terms_set(
    creator_id: str,
    policy: str | None,
    rate: float | None,
    training: bool | None,
    licence: str | None,
    licence_url: str | None,
    credit: str | None,
) -> None:
    """Change some of CREATOR_ID's terms; the others keep their values."""
    check_creator_id(creator_id)
    catalog = common.catalog()
    current = effective(catalog.terms_for([creator_id], [])[0][creator_id]).model_dump()
    given: dict[str, object] = {
        "training_allowed": training,
        "licence": licence,
        "licence_url": licence_url,
        "credit": credit,
        "policy": policy,
        "revshare_rate": rate,
    }
    if rate is not None and (policy not in (None, "revshare") or not math.isfinite(rate)):
        common.fail("--rate takes a share between 0 and 1, and goes with --policy revshare only")
        return
    changes = {k: v for k, v in given.items() if v is not None}
    if policy is not None and policy != "revshare":
        changes["revshare_rate"] = None
    try:
        new = Terms.model_validate(current | changes)
    except ValidationError as exc:
        common.fail(f"invalid terms: {problems(exc)}")
        return
    catalog.set_creator_terms(creator_id, new.model_dump(), common.CLI_ACTOR)
    click.echo(new.model_dump_json())


@click.group("audit")
def audit_group() -> None:
    """Read and verify the hash-chained audit log."""


@audit_group.command("verify")
def audit_verify() -> None:
    """Recompute the chain; exit status 1 names the first edited or deleted entry."""
    check = audit.verify(common.catalog().engine)
    click.echo(json.dumps(check.__dict__))
    if not check.ok:
        sys.exit(1)


@audit_group.command("list")
@click.option("--after", type=click.IntRange(0), default=0, help="Entries after this seq.")
@click.option("--limit", type=click.IntRange(1), default=None, help="At most this many.")
@click.option("--subject", default=None)
def audit_list(after: int, limit: int | None, subject: str | None) -> None:
    """One JSON line per entry, in order: every one (read a page at a time), or --limit."""
    engine, shown = common.catalog().engine, 0
    while limit is None or shown < limit:
        want = AUDIT_PAGE if limit is None else min(AUDIT_PAGE, limit - shown)
        page = audit.entries(engine, subject, want, after)
        for e in page:
            click.echo(entry_out(e).model_dump_json())
        shown += len(page)
        if len(page) < want:
            break
        after = page[-1].seq


COMMANDS = (verify_cmd, signing_key_cmd, evidence_cmd, claim_cmd, claims, keys, terms, audit_group)
