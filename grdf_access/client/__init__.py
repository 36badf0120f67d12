"""GRDF ADICT v2 API client, with the announced RSF operations as provisional methods.

Pure Python on the hub's HTTP factory (``hub.http.build_client``): OAuth2 client credentials,
retries with backoff on 429/5xx, one log line per attempt. No ORM: every method returns the typed
objects defined here. Facts come from GRDF's published ADICT v2 Swagger ("API B2B ADICT V2"),
its sandbox data set and the public clients built on it (cited as "ref §x.y": 1.2 authentication,
1.3-1.5 endpoints, bodies and answers, 1.6 statuses, 1.7 errors, 1.8 limits, 1.9 sandbox PCEs,
1.10 RSF, 3.x data semantics), and GRDF's RSF announcement to suppliers (December 2025).

What the client smooths over (ref §1.5, §1.6, §3.5):

* NDJSON answers mix data lines with processing-status lines (filtered), may be pretty-printed
  over several lines (accepted) or hold a broken object (reported in ``Records.problems``, the
  rest still returned) — see :mod:`grdf_access.ndjson`;
* functional errors arrive with HTTP 200 in ``statut_restitution``: they become the typed errors
  below; the retryable one ("veuillez retenter votre appel sur la période …") is asked again for
  its period, ``functional_retries`` times;
* "Vrai"/"Faux" booleans, accented or unaccented states, ``car``/``cja`` as number or object;
* local "YYYY-MM-DD HH:MM:SS" and offset timestamps become aware UTC datetimes.

RSF (Refonte des Services Fournisseurs, November 2026): no public contract exists yet (ref §1.10).
``modify_access``, ``terminate_access``, ``hourly_consumption``, the TJDC/PPH subscriptions and
``declare_access_bulk`` follow the seed's announced capabilities on paths of our own choosing,
which the simulator serves; they are provisional and will change when GRDF publishes the API.

Periods: the client takes gas days ``[start, end)`` and sends ``date_debut=start``,
``date_fin=end``.

Modules: ``wire`` (enumerations, spellings, scalar readers), ``errors`` (typed errors and how
answers map to them), ``records`` (result dataclasses and their builders), ``ratelimit`` (the
token bucket), ``adict`` (``AdictClient``). Import from this package.
"""

from grdf_access.client.adict import AdictClient, check_proof_limits
from grdf_access.client.errors import (
    AccessDeniedError,
    AdictError,
    AdictResponseError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    FunctionalError,
    NoDataError,
    NotFoundError,
    ProofLimitError,
    RetryableError,
    ScopeError,
    TechnicalError,
    error_for,
)
from grdf_access.client.ratelimit import RateLimitedTransport, RateLimiter, rate_limiter_for
from grdf_access.client.records import (
    AccessDeclaration,
    AccessModification,
    AccessRight,
    Address,
    BulkDeclarationItem,
    BulkDeclarationResult,
    Car,
    Cja,
    ConsumptionRecord,
    ContractualData,
    InjectionRecord,
    OperationResult,
    Profile,
    ProofFile,
    ProofUploadResult,
    Reading,
    Records,
    Subscription,
    TechnicalData,
)
from grdf_access.client.wire import (
    MAX_PCES_PER_CALL,
    MAX_PROOF_BYTES,
    MAX_PROOF_FILES,
    PROVIDER,
    SUCCESS_CODES,
    DataType,
    ProofStatus,
    RightState,
    Role,
    SubscriptionKind,
    normalise_proof_status,
    normalise_state,
    parse_bool,
    wire_bool,
)
from grdf_access.ndjson import LineProblem

__all__ = [
    "MAX_PCES_PER_CALL",
    "MAX_PROOF_BYTES",
    "MAX_PROOF_FILES",
    "PROVIDER",
    "SUCCESS_CODES",
    "AccessDeclaration",
    "AccessDeniedError",
    "AccessModification",
    "AccessRight",
    "Address",
    "AdictClient",
    "AdictError",
    "AdictResponseError",
    "AuthenticationError",
    "BadRequestError",
    "BulkDeclarationItem",
    "BulkDeclarationResult",
    "Car",
    "Cja",
    "ConflictError",
    "ConsumptionRecord",
    "ContractualData",
    "DataType",
    "FunctionalError",
    "InjectionRecord",
    "LineProblem",
    "NoDataError",
    "NotFoundError",
    "OperationResult",
    "Profile",
    "ProofFile",
    "ProofLimitError",
    "ProofStatus",
    "ProofUploadResult",
    "RateLimitedTransport",
    "RateLimiter",
    "Reading",
    "Records",
    "RetryableError",
    "RightState",
    "Role",
    "ScopeError",
    "Subscription",
    "SubscriptionKind",
    "TechnicalData",
    "TechnicalError",
    "check_proof_limits",
    "error_for",
    "normalise_proof_status",
    "normalise_state",
    "parse_bool",
    "rate_limiter_for",
    "wire_bool",
]
