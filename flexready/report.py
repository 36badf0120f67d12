"""A certification session's journal as a PDF (fpdf2): a summary, then every call."""

from __future__ import annotations

import datetime as dt

from fpdf import FPDF

from flexready import journal
from flexready.journal import summary
from flexready.models import CertificationSession

EXCERPT = 1200


def _latin1(text: str) -> str:
    # The PDF core fonts are Latin-1: anything else is shown as "?" rather than failing.
    return text.encode("latin-1", errors="replace").decode("latin-1")


def session_pdf(*, session: CertificationSession, now: dt.datetime) -> bytes:
    facts = summary(session)
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(
        0, 10, _latin1(f"Flex Ready - session {session.session_id}"), new_x="LMARGIN", new_y="NEXT"
    )
    pdf.set_font("Helvetica", size=10)
    lines = [
        f"Organisation: {session.organisation.name}",
        f"Created: {session.created_at.isoformat()} by {session.created_by or '-'}",
        f"Report generated: {now.isoformat()}",
        f"Calls: {facts['calls']}  by status: {facts['by_status']}",
        f"First call: {facts['first'] or '-'}   last call: {facts['last'] or '-'}",
        f"Flexibility requests by status: {facts['requests'] or '-'}",
    ]
    for line in lines:
        pdf.multi_cell(0, 5, _latin1(line), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("Helvetica", "B", 12)
    pdf.cell(0, 8, "Journal", new_x="LMARGIN", new_y="NEXT")
    for n, entry in enumerate(session.entries.all(), start=1):
        pdf.set_font("Helvetica", "B", 9)
        head = (
            f"{n}. {entry.at.isoformat()}  {entry.method} {entry.path}  -> {entry.status}"
            f"  ({entry.duration_ms:.1f} ms, {entry.caller})"
        )
        pdf.multi_cell(0, 4.5, _latin1(head), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Courier", size=7)
        # Masked again: entries stored before a header joined the secret words stay safe.
        headers = ", ".join(
            f"{k}: {journal.mask_header(k, v)}" for k, v in entry.request_headers.items()
        )
        for label, text in (
            ("headers", headers),
            ("request", entry.request_body),
            ("response", entry.response_body),
        ):
            if text:
                excerpt = text if len(text) <= EXCERPT else text[:EXCERPT] + " ..."
                pdf.multi_cell(
                    0, 3.5, _latin1(f"{label}: {excerpt}"), new_x="LMARGIN", new_y="NEXT"
                )
        pdf.ln(1.5)
    return bytes(pdf.output())
