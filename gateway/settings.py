"""Settings: the only place the environment is read.

``load_settings(environ)`` is called once by the CLI; everything else receives a
``Settings`` value. Tests build ``Settings(...)`` directly.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import msgspec

_REPO_ROOT = Path(__file__).resolve().parent.parent


class SettingsError(Exception):
    """A setting has a value the gateway cannot use; the message names the variable."""


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    database_url: str | None = None  # None: start the embedded PostgreSQL in data_dir
    data_dir: Path = Path(".data")
    policy_dir: Path = _REPO_ROOT / "policies"
    brand_handles: tuple[str, ...] = ("@acme",)
    policy_engine: str = "embedded"  # or "opa": a real OPA server at opa_url (a sidecar)
    opa_url: str = "http://127.0.0.1:8181"
    policy_timeout_s: float = 2.0
    policy_threads: int = 2
    # Ingest classifies a large batch across this many worker processes; None: one per
    # core (at most 4, none on one core); 0: in a thread of the serving process.
    classify_processes: int | None = None
    # Untrusted policy runs (draft checks, tests, impact, shadow, activation budget) run
    # in worker processes; see docs/decisions/0006-untrusted-policy-evaluation.md.
    sandbox_workers: int = 2
    sandbox_timeout_s: float = 10.0  # wall clock per run; the worker is killed after it
    sandbox_memory_mb: int = 1024  # address space a run may add to a started worker
    shadow_wait_s: float = 0.25  # the most a shadow decision may delay a proposal
    activation_inputs: int = 500  # stored inputs replayed to time a revision at activation
    activation_p99_ms: float = 50.0  # activation refuses a revision slower than this (p99)
    claim_ttl_s: int = 900  # how long a claim on a mention holds
    release_poll_s: float = 0.5  # idle poll interval of the release worker
    release_lease_s: float = 60.0  # a release stuck in "releasing" longer is retried
    release_max_attempts: int = 5
    release_backoff_s: float = 2.0  # first retry delay; doubles each attempt
    release_batch_size: int = 64  # outbox rows claimed, checked and published together
    release_concurrency: int = 16  # publishes in flight per channel without its own budget
    # How often a process without a deployment-wide job's lease (release worker, source
    # scheduler, retention, demo source) tries to take it over (gateway/leases.py).
    lease_retry_s: float = 2.0
    # The demo source and demo publisher on channel "demo". None: on only with the
    # embedded database, so a production DATABASE_URL never gets fictional mentions;
    # read it through demo_enabled().
    demo: bool | None = None
    demo_source: bool = True  # with demo: poll the demo source (off: demo publisher only)
    demo_interval_s: float = 20.0  # how often the demo source is polled
    webhook_url: str | None = None  # signed-webhook publisher for channel "webhook"
    webhook_secret: str | None = None
    # Configured sources (see docs/connectors.md).
    secret_key: str | None = None  # base64 AES-256 key for stored secrets (GATEWAY_SECRET_KEY)
    secret_key_path: Path | None = None  # else this key file; default DATA_DIR/secrets.key
    # env:NAME source secrets may name GATEWAY_SOURCE_SECRET_* and these variables only
    # (GATEWAY_SOURCE_SECRET_ENV, comma-separated), never DATABASE_URL or the gateway's keys.
    source_secret_env: tuple[str, ...] = ()
    allow_private_urls: bool = False  # let every source reach private/loopback addresses
    source_refresh_s: float = 5.0  # how often the scheduler re-reads the configured sources
    source_poll_timeout_s: float = 120.0  # one poll (fetch + ingest) is abandoned after this
    source_max_backoff_s: float = 3600.0  # the longest wait after repeated failures
    source_min_interval_s: float = 30.0  # the shortest poll interval an admin may configure
    webhook_tolerance_s: float = 300.0  # inbound webhook timestamps this far off are refused
    outbound_timeout_s: float = 15.0  # per network operation, to user-supplied URLs
    outbound_max_bytes: int = 10 * 1024 * 1024  # the largest answer read from them
    audit_key_path: Path | None = (
        None  # Ed25519 signing key; default DATA_DIR/audit-signing-key.pem
    )
    checkpoint_dir: Path | None = None  # where checkpoint files go; default DATA_DIR/checkpoints
    checkpoint_every_events: int = 1000
    retention_days: int | None = 365  # mention texts older than this are purged; None: keep
    checkpoint_every_s: float = 60.0
    db_pool_min: int = 2
    db_pool_max: int = 10
    log_json: bool | None = None  # None: JSON when stderr is not a TTY
    log_level: str = "info"
    # Web console sign-in (docs/console.md, "Sessions and settings").
    console_idle_s: float = 3600.0  # a session unused this long ends
    console_absolute_s: float = 12 * 3600.0  # a session ends this long after sign-in
    console_cookie_secure: bool | None = None  # None: Secure when the request came over TLS
    sign_in_window_s: float = 900.0  # failed sign-ins are counted over this window
    sign_in_max_failures: int = 5  # per name in the window, then refused until it passes
    sign_in_max_failures_per_address: int = 20  # per client address in the window


def _bool(name: str, value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name} must be true or false, not {value!r}")


def _number(name: str, value: str, kind: type[int] | type[float]) -> float:
    try:
        number = kind(value)
    except ValueError:
        raise SettingsError(f"{name} must be a number, not {value!r}") from None
    if number < 0:
        raise SettingsError(f"{name} must not be negative")
    return number


def load_settings(environ: Mapping[str, str]) -> Settings:
    """Build Settings from environment variables (``DATABASE_URL`` and ``GATEWAY_*``)."""
    values: dict[str, object] = {}
    if environ.get("DATABASE_URL"):
        values["database_url"] = environ["DATABASE_URL"]
    paths = {
        "GATEWAY_DATA_DIR": "data_dir",
        "GATEWAY_POLICY_DIR": "policy_dir",
        "GATEWAY_AUDIT_KEY": "audit_key_path",
        "GATEWAY_CHECKPOINT_DIR": "checkpoint_dir",
    }
    for var, field in paths.items():
        if environ.get(var):
            values[field] = Path(environ[var])
    if environ.get("GATEWAY_BRAND_HANDLES"):
        handles = tuple(h.strip() for h in environ["GATEWAY_BRAND_HANDLES"].split(",") if h.strip())
        values["brand_handles"] = handles
    floats = {
        "GATEWAY_POLICY_TIMEOUT_S": "policy_timeout_s",
        "GATEWAY_RELEASE_POLL_S": "release_poll_s",
        "GATEWAY_RELEASE_LEASE_S": "release_lease_s",
        "GATEWAY_RELEASE_BACKOFF_S": "release_backoff_s",
        "GATEWAY_LEASE_RETRY_S": "lease_retry_s",
        "GATEWAY_DEMO_INTERVAL_S": "demo_interval_s",
        "GATEWAY_CHECKPOINT_EVERY_S": "checkpoint_every_s",
        "GATEWAY_SANDBOX_TIMEOUT_S": "sandbox_timeout_s",
        "GATEWAY_SHADOW_WAIT_S": "shadow_wait_s",
        "GATEWAY_ACTIVATION_P99_MS": "activation_p99_ms",
    }
    for var, field in floats.items():
        if environ.get(var):
            values[field] = _number(var, environ[var], float)
    ints = {
        "GATEWAY_CLAIM_TTL_S": "claim_ttl_s",
        "GATEWAY_RELEASE_MAX_ATTEMPTS": "release_max_attempts",
        "GATEWAY_RELEASE_BATCH_SIZE": "release_batch_size",
        "GATEWAY_RELEASE_CONCURRENCY": "release_concurrency",
        "GATEWAY_POLICY_THREADS": "policy_threads",
        "GATEWAY_DB_POOL_MAX": "db_pool_max",
        "GATEWAY_CHECKPOINT_EVERY_EVENTS": "checkpoint_every_events",
        "GATEWAY_SANDBOX_WORKERS": "sandbox_workers",
        "GATEWAY_SANDBOX_MEMORY_MB": "sandbox_memory_mb",
        "GATEWAY_ACTIVATION_INPUTS": "activation_inputs",
        "GATEWAY_CLASSIFY_PROCESSES": "classify_processes",
    }
    for var, field in ints.items():
        if environ.get(var):
            values[field] = int(_number(var, environ[var], int))
    if environ.get("GATEWAY_RETENTION_DAYS"):
        raw = environ["GATEWAY_RETENTION_DAYS"].strip().lower()
        values["retention_days"] = (
            None
            if raw in ("off", "none", "0")
            else int(_number("GATEWAY_RETENTION_DAYS", raw, int))
        )
    if environ.get("GATEWAY_POLICY_ENGINE"):
        engine = environ["GATEWAY_POLICY_ENGINE"].strip().lower()
        if engine not in ("embedded", "opa"):
            raise SettingsError(f"GATEWAY_POLICY_ENGINE must be embedded or opa, not {engine!r}")
        values["policy_engine"] = engine
    if environ.get("GATEWAY_OPA_URL"):
        values["opa_url"] = environ["GATEWAY_OPA_URL"]
    if environ.get("GATEWAY_DEMO"):
        values["demo"] = _bool("GATEWAY_DEMO", environ["GATEWAY_DEMO"])
    if environ.get("GATEWAY_DEMO_SOURCE"):
        values["demo_source"] = _bool("GATEWAY_DEMO_SOURCE", environ["GATEWAY_DEMO_SOURCE"])
    if environ.get("GATEWAY_LOG_JSON"):
        values["log_json"] = _bool("GATEWAY_LOG_JSON", environ["GATEWAY_LOG_JSON"])
    if environ.get("GATEWAY_LOG_LEVEL"):
        values["log_level"] = environ["GATEWAY_LOG_LEVEL"].lower()
    if environ.get("GATEWAY_WEBHOOK_URL"):
        values["webhook_url"] = environ["GATEWAY_WEBHOOK_URL"]
        secret = environ.get("GATEWAY_WEBHOOK_SECRET")
        if not secret:
            raise SettingsError("GATEWAY_WEBHOOK_URL is set but GATEWAY_WEBHOOK_SECRET is not")
        values["webhook_secret"] = secret
    values.update(_source_settings(environ))
    values.update(_console_settings(environ))
    _check_sandbox(values)
    return msgspec.convert(values, Settings, from_attributes=False, strict=False)


def _check_sandbox(values: Mapping[str, object]) -> None:
    positive = {
        "sandbox_workers": "GATEWAY_SANDBOX_WORKERS",
        "sandbox_timeout_s": "GATEWAY_SANDBOX_TIMEOUT_S",
        "activation_p99_ms": "GATEWAY_ACTIVATION_P99_MS",
    }
    for field, var in positive.items():
        if field in values and values[field] == 0:
            raise SettingsError(f"{var} must be greater than 0")


def _source_settings(environ: Mapping[str, str]) -> dict[str, object]:
    values: dict[str, object] = {}
    if environ.get("GATEWAY_SECRET_KEY"):
        values["secret_key"] = environ["GATEWAY_SECRET_KEY"].strip()
    if environ.get("GATEWAY_SOURCE_SECRET_ENV"):
        values["source_secret_env"] = _env_names(environ["GATEWAY_SOURCE_SECRET_ENV"])
    if environ.get("GATEWAY_SECRET_KEY_FILE"):
        values["secret_key_path"] = Path(environ["GATEWAY_SECRET_KEY_FILE"])
    if environ.get("GATEWAY_ALLOW_PRIVATE_URLS"):
        values["allow_private_urls"] = _bool(
            "GATEWAY_ALLOW_PRIVATE_URLS", environ["GATEWAY_ALLOW_PRIVATE_URLS"]
        )
    floats = {
        "GATEWAY_SOURCE_REFRESH_S": "source_refresh_s",
        "GATEWAY_SOURCE_POLL_TIMEOUT_S": "source_poll_timeout_s",
        "GATEWAY_SOURCE_MAX_BACKOFF_S": "source_max_backoff_s",
        "GATEWAY_SOURCE_MIN_INTERVAL_S": "source_min_interval_s",
        "GATEWAY_WEBHOOK_TOLERANCE_S": "webhook_tolerance_s",
        "GATEWAY_OUTBOUND_TIMEOUT_S": "outbound_timeout_s",
    }
    for var, field in floats.items():
        if environ.get(var):
            values[field] = _number(var, environ[var], float)
    if environ.get("GATEWAY_OUTBOUND_MAX_BYTES"):
        values["outbound_max_bytes"] = int(
            _number("GATEWAY_OUTBOUND_MAX_BYTES", environ["GATEWAY_OUTBOUND_MAX_BYTES"], int)
        )
    return values


SOURCE_SECRET_PREFIX = "GATEWAY_SOURCE_SECRET_"
# Never a source secret, even when listed: the database, the gateway's own keys and settings.
NEVER_SOURCE_SECRETS = ("DATABASE_URL", "GATEWAY_SECRET_KEY", "GATEWAY_SOURCE_SECRET_ENV")


def _env_names(raw: str) -> tuple[str, ...]:
    names = tuple(n.strip() for n in raw.split(",") if n.strip())
    for name in names:
        if not name.replace("_", "a").isalnum() or not name.isascii() or name[0].isdigit():
            raise SettingsError(f"GATEWAY_SOURCE_SECRET_ENV: {name!r} is not a variable name")
        if name in NEVER_SOURCE_SECRETS or (
            name.startswith("GATEWAY_") and not name.startswith(SOURCE_SECRET_PREFIX)
        ):
            raise SettingsError(
                f"GATEWAY_SOURCE_SECRET_ENV may not list {name}: it is not a source secret"
            )
    return names


def demo_enabled(settings: Settings) -> bool:
    """Whether the demo source and publisher run: as set (GATEWAY_DEMO), else only with
    the embedded database."""
    return settings.demo if settings.demo is not None else settings.database_url is None


def database_label(settings: Settings) -> str:
    """Which database, for logs: host, port and database name of DATABASE_URL (never the
    user or password), or the embedded database's data folder."""
    if settings.database_url is None:
        return f"embedded PostgreSQL in {settings.data_dir}"
    try:
        parts = urlsplit(settings.database_url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return "external PostgreSQL (DATABASE_URL not readable as a URL)"
    if not host:  # a Unix socket: postgresql://user@/db?host=/run/postgresql
        host = parse_qs(parts.query).get("host", [""])[0]
    where = f"{host}:{port}" if port else host
    return f"{where}/{parts.path.lstrip('/')}"


def audit_key_path(settings: Settings) -> Path:
    return settings.audit_key_path or settings.data_dir / "audit-signing-key.pem"


def checkpoint_dir(settings: Settings) -> Path:
    return settings.checkpoint_dir or settings.data_dir / "checkpoints"


def secret_key_path(settings: Settings) -> Path:
    return settings.secret_key_path or settings.data_dir / "secrets.key"


TOKEN_VARIABLE = "GATEWAY_TOKEN"


def cli_token(environ: Mapping[str, str]) -> str | None:
    """The API token a CLI user acting as a person set in ``GATEWAY_TOKEN`` (not a setting
    of the gateway itself, so not part of :class:`Settings`)."""
    token = environ.get(TOKEN_VARIABLE, "").strip()
    return token or None


def _console_settings(environ: Mapping[str, str]) -> dict[str, object]:
    values: dict[str, object] = {}
    numbers: dict[str, tuple[str, type[int] | type[float]]] = {
        "GATEWAY_CONSOLE_IDLE_S": ("console_idle_s", float),
        "GATEWAY_CONSOLE_ABSOLUTE_S": ("console_absolute_s", float),
        "GATEWAY_SIGN_IN_WINDOW_S": ("sign_in_window_s", float),
        "GATEWAY_SIGN_IN_MAX_FAILURES": ("sign_in_max_failures", int),
        "GATEWAY_SIGN_IN_MAX_FAILURES_PER_ADDRESS": ("sign_in_max_failures_per_address", int),
    }
    for var, (field, kind) in numbers.items():
        if environ.get(var):
            number = _number(var, environ[var], kind)
            if number == 0:
                raise SettingsError(f"{var} must be greater than 0")
            values[field] = kind(number)
    if environ.get("GATEWAY_CONSOLE_COOKIE_SECURE"):
        values["console_cookie_secure"] = _bool(
            "GATEWAY_CONSOLE_COOKIE_SECURE", environ["GATEWAY_CONSOLE_COOKIE_SECURE"]
        )
    return values
