"""The hub configured as a deployer would, against a GRDF simulator in another process.

No in-process shortcut: the simulator runs under gunicorn on a loopback port, the hub has
``HUB_SIMULATORS`` off and explicit ``GRDF_*`` URLs and credentials, every call goes over
HTTP (token in the form body, reference grdf-adict.md §1.2). A whole life cycle — declare,
the holder validates, sync, revoke, sync — makes no request outside the consent: the
simulator refuses such requests as GRDF does (§1.3 "date_fin ≤ today", §1.4 the right's data
window, §1.7 refusals for a revoked right) and counts them.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from grdf_access import simulator
from grdf_access.models import AccessRight, RightState
from hub.clock import local_day_of
from hub.http import clear_token_cache
from hub.models import Point

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
CLIENT_ID = "deployer-sas"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def grdf_server() -> Iterator[str]:
    """The simulator alone in a gunicorn process (same secret key and state store)."""
    port = _free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "HUB_SIMULATORS": "true",
    }
    database = settings.DATABASES["default"]
    if database["ENGINE"].endswith("postgresql"):
        env["DATABASE_URL"] = (
            f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/"
            f"{database['NAME']}"
        )
    server = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "--workers",
            "1",
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "hub.wsgi:application",
        ],
        cwd=ROOT,
        env=env,
    )
    root = f"http://127.0.0.1:{port}/sim/grdf"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("the GRDF simulator did not start") from None
                time.sleep(0.3)
        simulator.set_now(None)
        simulator.reset()
        clear_token_cache()
        yield root
    finally:
        server.terminate()
        server.wait(timeout=20)
        simulator.reset()
        clear_token_cache()


def test_declare_validate_sync_revoke_with_no_request_outside_consent(
    grdf_server: str, tenant, operator_client, settings, capsys
) -> None:
    settings.HUB_SIMULATORS = False
    settings.GRDF_ADICT_URL = f"{grdf_server}/adict/v2"
    settings.GRDF_TOKEN_URL = f"{grdf_server}/oauth2/token"
    settings.GRDF_CLIENT_ID = CLIENT_ID
    settings.GRDF_CLIENT_SECRET = simulator.secret_for(CLIENT_ID)
    settings.GRDF_REQUESTS_PER_SECOND = 1000
    today = local_day_of(timezone.now())
    # The data range ended before today while the consent runs on: the case of §1.4.
    declared = operator_client.post(
        "/api/v1/grdf/rights/",
        {
            "pce": "GI111111",
            "role": "autorise",
            "raison_sociale": "Acme SA",
            "courriel_titulaire": "energie@acme.example",
            "code_postal": "75015",
            "debut_consentement": today.isoformat(),
            "fin_consentement": (today + dt.timedelta(days=365)).isoformat(),
            "debut_donnees": (today - dt.timedelta(days=90)).isoformat(),
            "fin_donnees": (today - dt.timedelta(days=10)).isoformat(),
            "publiees": True,
            "informatives_journalieres": True,
        },
        format="json",
    )
    assert declared.status_code == 201, declared.content
    right = AccessRight.objects.get()
    assert right.state == RightState.TO_VALIDATE

    with httpx.Client(base_url=grdf_server) as grdf:
        # The holder accepts the request (GRDF's e-mail to the holder, §1.6).
        assert grdf.post(f"/_sim/droit_acces/{right.grdf_id}/valider").status_code == 200
        for _ in range(2):
            call_command("grdf_sync", "--org", tenant.organisation.slug)
        right.refresh_from_db()
        assert right.state == RightState.ACTIVE
        assert Point.objects.filter(series__metering_point__identifier="GI111111").exists()

        revoked = operator_client.post(f"/api/v1/grdf/rights/{right.pk}/revoke")
        assert revoked.status_code == 200, revoked.content
        before = grdf.get("/_sim/counters").json()["data_requests"]
        call_command("grdf_sync", "--org", tenant.organisation.slug)
        counters = grdf.get("/_sim/counters").json()

    assert counters["data_requests"] == before  # nothing asked after the revocation
    assert counters["token_requests"] >= 1
    assert counters["outside_consent"] == 0, counters["outside_consent_log"]
    out = capsys.readouterr().out
    assert " 0 failed" in out, out
