"""Consent proofs for GRDF's security controls: at most 3 files of 4 MB, PDF, JPEG or PNG.

The limits are GRDF's (reference §1.3: "au maximum 3 preuves de 4Mo"; §1.6: allowed formats
only). The type is read from the file's first bytes, not from its name or the browser's word.
Files are kept (the proof must be kept by the third party) and sent to GRDF at once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils.translation import gettext as _

from grdf_access import client as adict
from grdf_access.adict_gateway import AdictGateway, GatewayError
from grdf_access.models import AccessRight, Proof, ProofStatus
from hub.actors import NOBODY, Actor
from hub.services import audit

MAX_FILES = 3
MAX_BYTES = 4 * 1024 * 1024
MAGIC = {
    b"%PDF-": "application/pdf",
    b"\xff\xd8\xff": "image/jpeg",
    b"\x89PNG\r\n\x1a\n": "image/png",
}


class ProofError(ValueError):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


@dataclass(frozen=True)
class Upload:
    filename: str
    content: bytes


def sniff(content: bytes) -> str | None:
    return next((t for magic, t in MAGIC.items() if content.startswith(magic)), None)


def check(uploads: Sequence[Upload], *, already: int = 0) -> list[str]:
    """The content types of ``uploads``; raises ProofError naming the first broken limit."""
    if not uploads:
        raise ProofError("preuves", _("au moins un fichier"))
    if already + len(uploads) > MAX_FILES:
        raise ProofError(
            "preuves",
            _("%(MAX_FILES)s fichiers au plus par droit d'accès") % {"MAX_FILES": MAX_FILES},
        )
    types = []
    for upload in uploads:
        if len(upload.content) > MAX_BYTES:
            raise ProofError(
                "preuves", _("« %(filename)s » dépasse 4 Mo") % {"filename": upload.filename}
            )
        kind = sniff(upload.content)
        if kind is None:
            raise ProofError(
                "preuves",
                _("« %(filename)s » n'est ni un PDF, ni un JPEG, ni un PNG")
                % {"filename": upload.filename},
            )
        types.append(kind)
    return types


def upload_proofs(
    *,
    right: AccessRight,
    uploads: Sequence[Upload],
    gateway: AdictGateway,
    now: dt.datetime,
    actor: Actor = NOBODY,
) -> list[Proof]:
    """Check, send to GRDF, then keep the files; the control moves to "en cours de vérification"."""
    if right.proof_status not in (ProofStatus.AWAITED, ProofStatus.KO):
        raise ProofError("preuves", _("GRDF ne demande pas de preuve pour ce droit d'accès"))
    if not right.grdf_id:
        raise ProofError("preuves", _("le droit n'est pas déclaré à GRDF"))
    types = check(uploads, already=right.proofs.count())
    try:
        gateway.send_proofs(
            grdf_id=right.grdf_id,
            files=[
                adict.ProofFile(u.filename, u.content, t)
                for u, t in zip(uploads, types, strict=True)
            ],
        )
    except GatewayError as exc:
        raise ProofError("preuves", exc.reason) from exc
    before = {"proof_status": right.proof_status}
    with transaction.atomic():
        proofs = []
        for upload, content_type in zip(uploads, types, strict=True):
            proof = Proof(
                right=right,
                filename=upload.filename[:200],
                content_type=content_type,
                size=len(upload.content),
                sha256=hashlib.sha256(upload.content).hexdigest(),
                uploaded_at=now,
                sent_at=now,
            )
            proof.file.save(upload.filename[-100:], ContentFile(upload.content), save=False)
            proof.save()
            proofs.append(proof)
        right.proof_status = ProofStatus.CHECKING
        right.save(update_fields=["proof_status", "updated_at"])
        audit.record(
            action="grdf.right.proofs_sent",
            actor=actor,
            organisation=right.organisation,
            target=right,
            before=before,
            after={
                "proof_status": right.proof_status,
                "files": [{"name": p.filename, "sha256": p.sha256, "size": p.size} for p in proofs],
            },
            at=now,
        )
    return proofs
