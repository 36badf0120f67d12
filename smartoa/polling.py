"""Polling contracts: calls in parallel, results written in a few batched commits.

This is the only way a poll stores anything: beat's batches, "fetch now" (a batch of one) and
``manage.py smartoa_poll`` all run :func:`poll_contracts`, so each poll stores, audits, notifies
and delivers the same way (``smartoa.versions``).

Polling one contract at a time costs about eight commits per contract (a poll run opened and
closed, a version, its episodes, an audit event, the contract's timestamps), and in the common
case nothing changed at all. Here:

* the upstream calls run on ``threads`` threads sharing one ``httpx`` client (one connection
  pool), each taking the next contract as soon as its call is done; threads only do HTTP and
  validation, never the ORM;
* results are written as they complete, ``batch_size`` at a time, each batch in **one**
  transaction: one query finds the versions already known, new versions and their episodes are
  bulk-inserted, the poll runs are bulk-inserted, and the contracts' timestamps are two UPDATEs.
  An unchanged ``update_date`` (the common case) writes nothing but its poll run;
* a failed call or an invalid answer is that contract's failed poll run, nothing more; if a
  batch's transaction fails (another worker stored the same version meanwhile, a database
  error), the batch is rolled back and its contracts are written one by one, each in its own
  transaction, so one contract never takes the others down with it;
* once a batch is committed, its new versions are told of (notice, webhooks), and a contract
  refused by Smart OA (401/403) raises its access alert, closed at its next good poll;
* one poll run per contract is kept (not one per batch): the portal's "last poll" of a contract
  and an operator's view of what is stale are per contract, and a bulk insert makes the rows
  nearly free.
"""

from __future__ import annotations

import datetime as dt
import logging
import queue
import threading
from collections.abc import Generator, Sequence
from dataclasses import dataclass

from django.db import DatabaseError, transaction
from django.utils import timezone

from hub.models import PollOutcome
from hub.services import polling
from smartoa import notices, versions
from smartoa.client import Credentials, Schedule, SmartOAAccessError, SmartOAClient
from smartoa.models import Contract
from smartoa.services import POLL_SOURCE, PollResult, credentials_of

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Fetched:
    contract: Contract
    schedule: Schedule | None
    error: str = ""
    # Set when Smart OA refused the call itself (401/403): the token or the IP allow-list.
    refused: SmartOAAccessError | None = None


def _fetch_one(client: SmartOAClient, contract: Contract, credentials: Credentials) -> Fetched:
    try:
        schedule = client.fetch_schedule(credentials=credentials, contract_id=contract.contract_id)
    except SmartOAAccessError as exc:
        return Fetched(contract, None, f"{type(exc).__name__}: {exc}"[:2000], refused=exc)
    except Exception as exc:  # any fault of one contract stays that contract's failed poll
        return Fetched(contract, None, f"{type(exc).__name__}: {exc}"[:2000])
    return Fetched(contract, schedule)


def poll_contract(*, contract: Contract, now: dt.datetime, client: SmartOAClient) -> PollResult:
    """Poll one contract ("fetch now"): a batch of one, on the same path as beat's batches."""
    [result] = poll_contracts(contracts=[contract], now=now, client=client, threads=1)
    return result


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
        tell(fetched=pending, results=written, now=now)

    fetched = _fetch_all(client, contracts, threads=threads)
    try:
        for item in fetched:
            pending.append(item)
            if len(pending) >= max(batch_size, 1):
                flush()
                pending.clear()
    finally:
        fetched.close()  # a batch that failed to write stops the calls not started yet
    if pending:
        flush()
    return [results[contract.pk] for contract in contracts]


def _fetch_all(
    client: SmartOAClient, contracts: Sequence[Contract], *, threads: int
) -> Generator[Fetched, None, None]:
    """Each contract fetched, yielded as its call completes, ``threads`` calls at a time.

    A few long-lived threads draining one queue: no future, waiter or ``as_completed``
    bookkeeping per contract, of which a poll has 10,000.
    """
    # Credentials are read here, in this thread: the token is decrypted from the loaded row.
    jobs: queue.SimpleQueue[tuple[Contract, Credentials] | None] = queue.SimpleQueue()
    for contract in contracts:
        jobs.put((contract, credentials_of(contract)))
    count = min(max(threads, 1), len(contracts))
    for _ in range(count):
        jobs.put(None)  # one stop per thread, after every contract
    done: queue.SimpleQueue[Fetched | BaseException] = queue.SimpleQueue()

    def work() -> None:
        try:
            while (job := jobs.get()) is not None:
                done.put(_fetch_one(client, *job))
        except BaseException as exc:  # handed to the caller, which would otherwise wait forever
            done.put(exc)

    workers = [threading.Thread(target=work, name=f"smartoa-poll-{i}") for i in range(count)]
    for worker in workers:
        worker.start()
    try:
        for _ in contracts:
            item = done.get()
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        # On an error (or the caller stopping early), no call is started anymore: the threads
        # finish the one they are in and stop.
        try:
            while True:
                jobs.get_nowait()
        except queue.Empty:
            pass
        for _ in workers:
            jobs.put(None)
        for worker in workers:
            worker.join()


def tell(*, fetched: Sequence[Fetched], results: Sequence[PollResult], now: dt.datetime) -> None:
    """After a batch is committed: its new versions told of, its access alerts raised or closed."""
    versions.distribute_all(
        versions=[r.version for r in results if r.outcome == "new_version" and r.version],
        now=now,
    )
    try:
        for item in fetched:
            if item.refused is not None:
                notices.access_refused(contract=item.contract, error=item.refused, now=now)
        notices.access_restored(
            contracts=[f.contract for f in fetched if f.schedule is not None], now=now
        )
    except DatabaseError:
        logger.exception("smartoa access alerts failed")


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
    stored = versions.store(
        items=[versions.Incoming(f.contract, f.schedule) for f in fetched_ok if f.schedule],
        now=now,
    )
    results: dict[int, PollResult] = {}
    for item, outcome in zip(fetched_ok, stored, strict=True):
        results[item.contract.pk] = PollResult(
            item.contract.contract_id,
            "new_version" if outcome.created else "unchanged",
            outcome.version,
        )
    for item in fetched:
        if item.schedule is None:
            results[item.contract.pk] = PollResult(
                item.contract.contract_id, "failed", error=item.error
            )
    _record_runs(fetched, results, now)
    return [results[item.contract.pk] for item in fetched]


def _record_runs(
    fetched: Sequence[Fetched], results: dict[int, PollResult], now: dt.datetime
) -> None:
    polling.record_runs(
        source=POLL_SOURCE,
        results=[
            polling.RunResult(
                target=item.contract.contract_id,
                organisation_id=item.contract.organisation_id,
                outcome=(
                    PollOutcome.FAILED
                    if results[item.contract.pk].outcome == "failed"
                    else PollOutcome.SUCCESS
                ),
                items_received=0 if item.schedule is None else len(item.schedule.periods),
                items_stored=int(results[item.contract.pk].outcome == "new_version"),
                error=results[item.contract.pk].error,
            )
            for item in fetched
        ],
        started_at=now,
        finished_at=max(now, timezone.now()),
    )
    ok = [f.contract.pk for f in fetched if f.schedule is not None]
    failed = [f.contract.pk for f in fetched if f.schedule is None]
    if ok:
        Contract.objects.filter(pk__any=ok).update(last_polled_at=now, last_success_at=now)
    if failed:
        Contract.objects.filter(pk__any=failed).update(last_polled_at=now)


def _write_one(item: Fetched, now: dt.datetime) -> PollResult:
    """The slow path for one contract, in its own transaction."""
    contract = item.contract
    try:
        with transaction.atomic():
            return _write_batch([item], now)[0]
    except DatabaseError as exc:
        logger.exception("smartoa poll write failed", extra={"contract": contract.contract_id})
        return PollResult(contract.contract_id, "failed", error=f"{type(exc).__name__}: {exc}")
