"""The whole consented history: first sync, outages, widened ranges, backfill command."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from grdf_access import simulator
from grdf_access.models import Pce
from grdf_access.simulator import rights as sim_rights
from grdf_access.sync import chunks, sync_data
from hub.clock import PARIS
from tests.grdf_access.conftest import NOW, PCE_ID, TODAY, active_right, counters
from tests.grdf_access.test_sync_bounds import Recording

pytestmark = pytest.mark.django_db

DAY = dt.timedelta(days=1)


def sync(tenant, gateway, *, now: dt.datetime = NOW, **kwargs: Any):
    simulator.set_now(now)
    return sync_data(
        organisation=tenant.organisation,
        gateway=gateway,
        now=now,
        today=now.astimezone(PARIS).date(),
        **kwargs,
    )


def starts(recording: Recording, kind: str) -> list[tuple[dt.date, dt.date]]:
    return [(c[2], c[3]) for c in recording.calls if c[0] == kind]


def test_chunks_cover_the_range_without_overlap() -> None:
    pieces = chunks(dt.date(2024, 1, 1), dt.date(2026, 11, 2), 366)
    assert pieces[0][0] == dt.date(2024, 1, 1) and pieces[-1][1] == dt.date(2026, 11, 2)
    assert all(a[1] == b[0] for a, b in itertools.pairwise(pieces))
    assert all((end - start).days <= 366 for start, end in pieces)


def test_first_sync_fetches_the_whole_consented_history_in_chunks(tenant, gateway) -> None:
    """Reference grdf-adict.md §1.3: published data go back 5 years, informative 3; the
    first sync asks for every day the consent allows within them, informative data in
    chunks of at most a year, the calls rate-limited by the credential's limiter."""
    active_right(tenant, data_start=dt.date(2021, 1, 1), consent_start=dt.date(2021, 1, 1))
    recording = Recording(gateway)
    report = sync(tenant, recording)
    assert report.failed == 0, report.errors
    informative = starts(recording, "informative_daily")
    assert informative[0][0] == dt.date(2023, 11, 2)  # today - 3 years (§1.3)
    assert informative[-1][1] == TODAY and len(informative) == 3
    assert starts(recording, "published") == [(dt.date(2021, 11, 2), TODAY)]  # today - 5 years
    pce = Pce.objects.get()
    assert pce.informative_fetched_from == dt.date(2023, 11, 2)
    assert counters()["outside_consent"] == 0


def test_routine_syncs_look_back_and_an_outage_leaves_no_hole(tenant, gateway) -> None:
    active_right(tenant, data_start=dt.date(2026, 6, 1))
    sync(tenant, gateway)
    recording = Recording(gateway)
    sync(tenant, recording, now=NOW + DAY, types={"informatives_journalieres"})
    [(start, end)] = starts(recording, "informative_daily")
    assert (start, end) == (TODAY - dt.timedelta(days=35), TODAY + DAY)
    # Down for 60 days: the next sync goes back to before the last successful one.
    later = NOW + dt.timedelta(days=61)
    recording = Recording(gateway)
    sync(tenant, recording, now=later, types={"informatives_journalieres"})
    [(start, _)] = starts(recording, "informative_daily")
    assert start == TODAY + DAY - dt.timedelta(days=35)
    assert counters()["outside_consent"] == 0


def test_a_widened_range_is_fetched_back_to_its_new_start(tenant, gateway) -> None:
    right = active_right(tenant, data_start=dt.date(2026, 6, 1))
    sync(tenant, gateway)
    right.data_start = dt.date(2026, 1, 1)
    right.save()
    # Widened at GRDF too (RSF "Modification", or a new right imported from GRDF).
    stored = sim_rights.load(right.grdf_id, client_id=settings.GRDF_CLIENT_ID)
    assert stored is not None
    sim_rights.save({**stored, "perim_donnees_conso_debut": "2026-01-01"})
    recording = Recording(gateway)
    sync(tenant, recording, now=NOW + DAY, types={"informatives_journalieres"})
    [(start, _)] = starts(recording, "informative_daily")
    assert start == dt.date(2026, 1, 1)
    assert counters()["outside_consent"] == 0
    assert Pce.objects.get().informative_fetched_from == dt.date(2026, 1, 1)


def test_backfill_command(tenant, gateway, capsys) -> None:
    simulator.set_now(None)  # the command reads the wall clock: so does the simulator here
    active_right(tenant, data_start=dt.date(2026, 1, 1))
    call_command("grdf_backfill", "--org", tenant.organisation.slug, "--since", "2026-09-01")
    out = capsys.readouterr().out
    assert "0 failed" in out and " 0 points" not in out
    assert Pce.objects.get(metering_point__identifier=PCE_ID).informative_fetched_from == (
        dt.date(2026, 9, 1)
    )
    with pytest.raises(CommandError, match="--since"):
        call_command("grdf_backfill", "--since", "hier")
    assert counters()["outside_consent"] == 0
