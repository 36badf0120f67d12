"""Polling many contracts at once: calls in parallel, results written in a few batched commits.

Polling one contract at a time costs about eight commits per contract (a poll run opened and
closed, a version, its episodes, an audit event, the contract's timestamps), and in the common
case nothing changed at all. Here:

* the upstream calls run on a thread pool sharing one ``httpx`` client (one connection pool);
  threads only do HTTP and validation, never the ORM;
* results are written as they complete, ``batch_size`` at a time, each batch in **one**
  transaction: one query finds the versions already known, new versions and their episodes are
  bulk-inserted, the poll runs are bulk-inserted, and the contracts' timestamps are two UPDATEs.
  An unchanged ``update_date`` (the common case) writes nothing but its poll run;
* a failed call or an invalid answer is that contract's failed poll run, nothing more; if a
  batch's transaction fails (another worker stored the same version meanwhile, a database
  error), the batch is rolled back and its contracts are written one by one, each in its own
  transaction, so one contract never takes the others down with it;
* one poll run per contract is kept (not one per batch): the portal's "last poll" of a contract
  and an operator's view of what is stale are per contract, and a bulk insert makes the rows
  nearly free.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass

from django.db import DatabaseError, transaction
from django.utils import timezone

from hub.models import PollOutcome, PollRun
from hub.services import audit
from smartoa.client import Credentials, Schedule, SmartOAClient
from smartoa.models import Contract, ScheduleVersion, StopEpisode
from smartoa.schedule import Episode, diff_episodes
from smartoa.services import POLL_SOURCE, PollResult, credentials_of, record_schedule

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Fetched:
    contract: Contract
    schedule: Schedule | None
    error: str = ""


def _fetch_one(client: SmartOAClient, contract: Contract, credentials: Credentials) -> Fetched:
    try:
        schedule = client.fetch_schedule(credentials=credentials, contract_id=contract.contract_id)
    except Exception as exc:  # any fault of one contract stays that contract's failed poll
        return Fetched(contract, None, f"{type(exc).__name__}: {exc}"[:2000])
    return Fetched(contract, schedule)


def poll_contracts(
    *,
    contracts: Sequence[Contract],
    now: dt.datetime,
    client: SmartOAClient,
    threads: int = 16,
    batch_size: int = 200,
) -> list[PollResult]:
    """Poll ``contracts`` (with their organisation loaded); their results, in the same order."""
    results: dict[int, PollResult] = {}
    pending: list[Fetched] = []

    def flush() -> None:
        written = write_batch(fetched=pending, now=now)
        results.update(
            (item.contract.pk, result) for item, result in zip(pending, written, strict=True)
        )

    with ThreadPoolExecutor(max_workers=max(threads, 1)) as pool:
        # Credentials are read here, in this thread: the token is decrypted from the loaded row.
        futures = [
            pool.submit(_fetch_one, client, contract, credentials_of(contract))
            for contract in contracts
        ]
        for future in as_completed(futures):
            pending.append(future.result())
            if len(pending) >= batch_size:
                flush()
                pending.clear()
    if pending:
        flush()
    return [results[contract.pk] for contract in contracts]


def write_batch(*, fetched: Sequence[Fetched], now: dt.datetime) -> list[PollResult]:
    """Write a batch of fetched answers in one transaction; one by one if that fails."""
    try:
        with transaction.atomic():
            return _write_batch(fetched, now)
    except DatabaseError:
        logger.warning("smartoa batch write failed; writing contracts one by one", exc_info=True)
    return [_write_one(item, now) for item in fetched]


def _write_batch(fetched: Sequence[Fetched], now: dt.datetime) -> list[PollResult]:
    fetched_ok = [f for f in fetched if f.schedule is not None]
    known = _known_versions(fetched_ok)
    new: list[tuple[Fetched, ScheduleVersion, list[Episode]]] = []
    results: dict[int, PollResult] = {}
    previous_of: dict[int, int] = {}  # new version's contract pk -> previous version pk
    for item in fetched_ok:
        schedule = item.schedule
        assert schedule is not None
        versions = known.get((item.contract.pk, schedule.application_date), [])
        same = next((v for v in versions if v[1] == schedule.update_date), None)
        if same is not None:
            results[item.contract.pk] = PollResult(item.contract.contract_id, "unchanged")
            continue
        earlier = [v for v in versions if v[1] < schedule.update_date]
        if earlier:
            previous_of[item.contract.pk] = max(earlier, key=lambda v: v[1])[0]
        version = ScheduleVersion(
            contract=item.contract,
            application_date=schedule.application_date,
            update_date=schedule.update_date,
            fetched_at=now,
            raw_body=schedule.raw,
            periods=[p.as_json() for p in schedule.periods],
        )
        new.append((item, version, schedule.episodes))
    if new:
        _store_versions(new, previous_of, now)
        for item, version, _episodes in new:
            results[item.contract.pk] = PollResult(
                item.contract.contract_id, "new_version", version
            )
    for item in fetched:
        if item.schedule is None:
            results[item.contract.pk] = PollResult(
                item.contract.contract_id, "failed", error=item.error
            )
    _record_runs(fetched, results, now)
    return [results[item.contract.pk] for item in fetched]


def _known_versions(
    fetched: Sequence[Fetched],
) -> dict[tuple[int, dt.date], list[tuple[int, dt.datetime]]]:
    """(contract pk, day) -> [(version pk, update date)] for the days just fetched."""
    if not fetched:
        return {}
    days = {f.schedule.application_date for f in fetched if f.schedule is not None}
    rows = ScheduleVersion.objects.filter(
        contract_id__in=[f.contract.pk for f in fetched], application_date__in=days
    ).values_list("pk", "contract_id", "application_date", "update_date")
    known: dict[tuple[int, dt.date], list[tuple[int, dt.datetime]]] = {}
    for pk, contract_pk, day, update_date in rows:
        known.setdefault((contract_pk, day), []).append((pk, update_date))
    return known


def _store_versions(
    new: list[tuple[Fetched, ScheduleVersion, list[Episode]]],
    previous_of: dict[int, int],
    now: dt.datetime,
) -> None:
    previous_episodes: dict[int, list[Episode]] = {}
    for version_pk, start, end in StopEpisode.objects.filter(
        version_id__in=previous_of.values()
    ).values_list("version_id", "start", "end"):
        previous_episodes.setdefault(version_pk, []).append(Episode(start, end))
    for item, version, episodes in new:
        previous_pk = previous_of.get(item.contract.pk)
        if previous_pk is not None:
            before = sorted(previous_episodes.get(previous_pk, []))
            version.diff = diff_episodes(before, episodes).as_json()
    ScheduleVersion.objects.bulk_create([version for _item, version, _episodes in new])
    StopEpisode.objects.bulk_create(
        [
            StopEpisode(version=version, start=e.start, end=e.end)
            for _item, version, episodes in new
            for e in episodes
        ]
    )
    # One INSERT for the batch's audit events: these are the poller's publications, not a
    # person's change, and one row at a time was most of the cost of a first poll.
    audit.record_many(
        audit.build(
            at=now,
            actor_label="smartoa poller",
            organisation=item.contract.organisation,
            action="smartoa.schedule.published",
            target=version,
            after={
                "application_date": version.application_date,
                "update_date": version.update_date,
                "episodes": [e.as_json() for e in episodes],
                "diff": version.diff,
            },
        )
        for item, version, episodes in new
    )


def _record_runs(
    fetched: Sequence[Fetched], results: dict[int, PollResult], now: dt.datetime
) -> None:
    finished = max(now, timezone.now())
    runs = []
    for item in fetched:
        result = results[item.contract.pk]
        runs.append(
            PollRun(
                source=POLL_SOURCE,
                target=item.contract.contract_id,
                organisation_id=item.contract.organisation_id,
                started_at=now,
                finished_at=finished,
                outcome=(PollOutcome.FAILED if result.outcome == "failed" else PollOutcome.SUCCESS),
                items_received=0 if item.schedule is None else len(item.schedule.periods),
                items_stored=int(result.outcome == "new_version"),
                error=result.error,
            )
        )
    PollRun.objects.bulk_create(runs)
    ok = [f.contract.pk for f in fetched if f.schedule is not None]
    failed = [f.contract.pk for f in fetched if f.schedule is None]
    if ok:
        Contract.objects.filter(pk__in=ok).update(last_polled_at=now, last_success_at=now)
    if failed:
        Contract.objects.filter(pk__in=failed).update(last_polled_at=now)


def _write_one(item: Fetched, now: dt.datetime) -> PollResult:
    """The slow path for one contract, in its own transaction."""
    contract = item.contract
    try:
        with transaction.atomic():
            if item.schedule is None:
                result = PollResult(contract.contract_id, "failed", error=item.error)
            else:
                version, created = record_schedule(
                    contract=contract, schedule=item.schedule, fetched_at=now
                )
                outcome = "new_version" if created else "unchanged"
                result = PollResult(contract.contract_id, outcome, version)
            _record_runs([item], {contract.pk: result}, now)
            return result
    except DatabaseError as exc:
        logger.exception("smartoa poll write failed", extra={"contract": contract.contract_id})
        return PollResult(contract.contract_id, "failed", error=f"{type(exc).__name__}: {exc}")
