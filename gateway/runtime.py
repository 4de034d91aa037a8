"""The running gateway's parts, built once from Settings and shared by API and worker."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from typing import Any

import httpx
import structlog

from connectors.contract import Publisher
from gateway.audit.chain import VerifyResult
from gateway.audit.checkpointer import Checkpointer
from gateway.audit.checkpoints import load_or_create_signing_key, public_key_pem
from gateway.audit.suppression import SuppressionKeys, ensure_key_matches
from gateway.audit.verify import verify_stored_chain
from gateway.leases import Job, run_with_lease
from gateway.net_guard import OutboundClients
from gateway.net_lanes import LanedTransport
from gateway.pipeline.agent_desk import AgentDesk
from gateway.pipeline.classify import Classifier
from gateway.pipeline.consent import Claims, Consent
from gateway.pipeline.decide import Decider
from gateway.pipeline.ingest import Ingestor
from gateway.pipeline.intent_flags import IntentFlagging
from gateway.pipeline.policies import EngineFactory, PolicyService
from gateway.pipeline.policy_budget import ActivationBudget
from gateway.pipeline.release import ReleaseWorker, channel_limits
from gateway.pipeline.retention import run_retention
from gateway.pipeline.review import Reviewer
from gateway.policy import EmbeddedEngine, PolicyBundle, PolicyEngine, load_bundle
from gateway.policy.opa import OpaEngine
from gateway.policy.sandbox import Sandbox, SandboxLimits
from gateway.secrets import Secrets
from gateway.settings import Settings, audit_key_path, checkpoint_dir
from gateway.sources.build import Connectors, demo_source, settings_publishers
from gateway.sources.publishers import configured_publishers
from gateway.sources.scheduler import SourceScheduler, poll_built_in
from gateway.store.database import Database
from gateway.store.group_commit import GroupCommitter

log = structlog.get_logger(__name__)


@dataclass
class Runtime:
    settings: Settings
    db: Database
    engine: PolicyEngine
    http: httpx.AsyncClient
    publishers: dict[str, Publisher]
    classifier: Classifier
    ingestor: Ingestor
    decider: Decider
    reviewer: Reviewer
    consent: Consent
    claims: Claims
    intent_flags: IntentFlagging
    suppression_keys: SuppressionKeys
    policies: PolicyService | None = None  # None when an engine was given (tests)
    checkpointer: Checkpointer | None = None
    committer: GroupCommitter[Any, Any] | None = None  # the decision writer
    audit_public_pem: bytes | None = None
    outbound: OutboundClients | None = None  # guarded clients for configured sources
    secrets: Secrets | None = None
    connectors: Connectors | None = None
    desk: AgentDesk = field(init=False)  # built from the parts above
    _tasks: list[asyncio.Task[Any]] = field(default_factory=list)
    _stop: asyncio.Event = field(default_factory=asyncio.Event)

    @classmethod
    async def start(cls, settings: Settings, *, engine: PolicyEngine | None = None) -> Runtime:
        """Open the database and load the active policy (installing the bundle in
        ``policy_dir`` as the first version of a new database). ``engine`` pins one
        engine instead, bypassing the lifecycle (tests)."""
        initial = load_bundle(settings.policy_dir) if engine is None else None
        db = await Database.open(settings)
        secrets = Secrets(settings)
        suppression_keys = SuppressionKeys(secrets)
        try:  # fail closed before anything runs: erased customers must stay recognised
            async with db.pool.acquire() as conn:
                await ensure_key_matches(conn, suppression_keys)
        except BaseException:
            await db.close()
            raise
        policies: PolicyService | None = None
        if engine is None:
            assert initial is not None
            policies = policy_service(settings, db)
            try:
                engine = await policies.start(initial)
            except BaseException:
                await policies.close()  # no sandbox worker outlives a failed start
                await db.close()
                raise
        # The operator's publishers (GATEWAY_WEBHOOK_URL): trusted URLs, not guarded, but
        # over lanes like every outbound client (gateway/net_lanes.py).
        client = httpx.AsyncClient(
            transport=LanedTransport(), timeout=httpx.Timeout(10.0), follow_redirects=False
        )
        publishers = settings_publishers(settings, client)
        outbound = OutboundClients(
            allow_private_urls=settings.allow_private_urls,
            timeout_s=settings.outbound_timeout_s,
            max_bytes=settings.outbound_max_bytes,
        )
        connectors = Connectors(outbound.client, timeout_s=settings.outbound_timeout_s)
        configured = await configured_publishers(
            db.pool, outbound.client, secrets, connectors=connectors
        )
        for channel, publisher in configured.items():
            publishers.setdefault(channel, publisher)  # GATEWAY_WEBHOOK_URL's "webhook" wins
        classifier = Classifier(settings.brand_handles)
        decider = Decider(
            db.pool,
            engine,
            limits={name: channel_limits(p) for name, p in publishers.items()},
            group_commit=True,
            suppression_keys=suppression_keys,
            shadow_wait_s=settings.shadow_wait_s,
        )
        return cls(
            settings=settings,
            db=db,
            engine=engine,
            http=client,
            publishers=publishers,
            classifier=classifier,
            ingestor=Ingestor(
                db.pool,
                classifier,
                brand_handle=settings.brand_handles[0],
                classify_processes=settings.classify_processes,
            ),
            decider=decider,
            suppression_keys=suppression_keys,
            committer=decider.committer,
            reviewer=Reviewer(
                db.pool,
                engine=engine,
                keys=suppression_keys,
                limits={name: channel_limits(p) for name, p in publishers.items()},
            ),
            consent=Consent(db.pool),
            claims=Claims(db.pool, ttl_s=settings.claim_ttl_s),
            intent_flags=IntentFlagging(db.pool),
            policies=policies,
            outbound=outbound,
            secrets=secrets,
            connectors=connectors,
            **_audit_signing(settings, db),
        )

    def __post_init__(self) -> None:
        self.desk = AgentDesk(
            self.db.pool, decider=self.decider, engine=self.engine, keys=self.suppression_keys
        )

    def start_checkpointer(self) -> None:
        """Sign checkpoints every N events or T seconds (one writer across instances)."""
        if self.checkpointer is not None:
            self._tasks.append(
                asyncio.create_task(self.checkpointer.run(self._stop), name="checkpointer")
            )

    def _start_once_per_deployment(self, name: str, job: Job) -> None:
        """Run ``job`` while this process holds the lease ``name`` (gateway/leases.py)."""
        self._tasks.append(
            asyncio.create_task(
                run_with_lease(
                    self.db.dsn, name, job, self._stop, retry_s=self.settings.lease_retry_s
                ),
                name=name,
            )
        )

    def start_retention(self) -> None:
        """Purge mention texts older than ``retention_days``, hourly (once per deployment)."""
        days = self.settings.retention_days
        if days:
            self._start_once_per_deployment(
                "retention", lambda stop: run_retention(self.db.pool, days=days, stop=stop)
            )

    def start_policy_follower(self) -> None:
        """Switch to a newly activated revision within a second (LISTEN/NOTIFY)."""
        if self.policies is not None:
            self._tasks.append(
                asyncio.create_task(self.policies.follow(self._stop), name="policy-follower")
            )

    def start_worker(self) -> None:
        """Release approved replies (once per deployment)."""
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        worker = ReleaseWorker(
            self.db.pool,
            self.engine,
            self.publishers,
            self.settings,
            heartbeat=self.settings.data_dir / "worker.heartbeat",
            suppression_keys=self.suppression_keys,
        )
        self._start_once_per_deployment("release-worker", worker.run)

    def start_demo_source(self) -> None:
        """Poll the demo source (once per deployment)."""
        source = demo_source(self.settings)
        self._start_once_per_deployment(
            "demo-source",
            lambda stop: poll_built_in(
                self.db.pool,
                self.ingestor,
                "demo",
                source,
                interval_s=self.settings.demo_interval_s,
                stop=stop,
            ),
        )

    def start_sources(self) -> None:
        """Poll the configured sources, each on its interval (once per deployment; each
        source's poll lease also keeps two schedulers off one source)."""
        assert self.outbound is not None
        scheduler = SourceScheduler(
            self.db.pool,
            self.ingestor,
            self.outbound.client,
            self.settings,
            secrets=self.secrets,
            connectors=self.connectors,
        )
        self._start_once_per_deployment("source-scheduler", scheduler.run)

    async def verify_chain(self) -> VerifyResult:
        async with self.db.pool.acquire() as conn:
            return await verify_stored_chain(conn)

    async def close(self) -> None:
        self._stop.set()
        for task in self._tasks:
            with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(task, 10)
        if self.committer is not None:
            await self.committer.close()
        await self.ingestor.close()
        await self.http.aclose()
        if self.outbound is not None:
            await self.outbound.aclose()
        await self.engine.close()
        if self.policies is not None:
            await self.policies.close()
        await self.db.close()


def _audit_signing(settings: Settings, db: Database) -> dict[str, Any]:
    key = load_or_create_signing_key(audit_key_path(settings))
    return {
        "checkpointer": Checkpointer(
            db.pool,
            key,
            checkpoint_dir(settings),
            every_events=settings.checkpoint_every_events,
            every_s=settings.checkpoint_every_s,
        ),
        "audit_public_pem": public_key_pem(key),
    }


def policy_service(settings: Settings, db: Database) -> PolicyService:
    """The lifecycle, with its sandbox for policies not approved yet (not started here)."""
    sandbox = Sandbox(
        SandboxLimits(
            workers=settings.sandbox_workers,
            timeout_s=settings.sandbox_timeout_s,
            memory_mb=settings.sandbox_memory_mb,
        )
    )
    budget = ActivationBudget(
        inputs=settings.activation_inputs,
        p99_ms=settings.activation_p99_ms,
        worst_ms=settings.policy_timeout_s * 1000 / 2,
    )
    return PolicyService(
        db.pool,
        engine_factory(settings),
        sandbox,
        budget=budget,
        decision_timeout_s=settings.policy_timeout_s,
    )


def engine_factory(settings: Settings) -> EngineFactory:
    def make(bundle: PolicyBundle) -> PolicyEngine:
        if settings.policy_engine == "opa":
            return OpaEngine(bundle, url=settings.opa_url, timeout_s=settings.policy_timeout_s)
        return EmbeddedEngine(
            bundle, timeout_s=settings.policy_timeout_s, threads=settings.policy_threads
        )

    return make
