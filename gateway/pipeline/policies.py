"""The policy lifecycle: draft → tests → impact analysis / shadow → activation by a
second person → every instance switches within a second (LISTEN/NOTIFY).

Every step is an audit event. Versions are immutable and named by their content hash
(the revision recorded on every decision). A draft can be activated only when its tests
pass, and never by its author. Every other change to what runs (a rollback to a revision
enforced before, starting a shadow policy) is a request proposed by one compliance officer
and carried out only when another confirms it (two-person rule).
"""

from __future__ import annotations

import asyncio
import contextlib
import difflib
import json
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import PurePosixPath
from typing import Any

import asyncpg
import msgspec
import structlog

from gateway.domain.records import AuditEvent, PolicyRequest, PolicyState, PolicyVersion, User
from gateway.pipeline.errors import CLI, Forbidden, InvalidInput, StateConflict
from gateway.pipeline.policy_budget import ActivationBudget, check_activation_budget
from gateway.pipeline.two_person import ensure_second_person
from gateway.policy import PolicyBundle, PolicyEngine, TestReport, build_bundle, run_policy_tests
from gateway.policy._sandbox_jobs import CheckJob, ReplayJob, ReplayResult, TestJob
from gateway.policy.bundle import content_of, verified_bundle
from gateway.policy.live import LivePolicy
from gateway.policy.replay import Replayed
from gateway.policy.sandbox import Sandbox
from gateway.policy.sandboxed import SandboxedEngine
from gateway.store import audit
from gateway.store import policies as store
from gateway.store import policy_requests as requests
from gateway.store.connection import Conn
from gateway.store.errors import LOOP_ERRORS

log = structlog.get_logger(__name__)

CHANNEL = "policy_changed"
MAX_FILES = 200
MAX_FILE_BYTES = 256 * 1024
EXAMPLES = 5
IMPACT_BATCH = 500  # inputs per replay job: one sandbox run, well inside its time limit

EngineFactory = Callable[[PolicyBundle], PolicyEngine]


class FileDiff(msgspec.Struct, frozen=True, kw_only=True):
    file: str
    change: str  # added, removed, modified
    diff: str  # unified diff


class ReasonImpact(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    gained: int  # decisions where the draft gives this reason and the active one does not
    lost: int
    examples: list[int]  # proposal ids


class ImpactReport(msgspec.Struct, frozen=True, kw_only=True):
    draft_revision: str
    active_revision: str
    evaluated: int
    changed: int
    transitions: dict[str, int]  # "allow->deny": n (only changed outcomes)
    examples: dict[str, list[int]]  # "allow->deny": proposal ids
    reasons: list[ReasonImpact]
    errors: int  # inputs on which the draft failed (policy_error)
    duration_ms: int


class ImpactExample(msgspec.Struct, frozen=True, kw_only=True):
    """One stored decision replayed: what it was, what the active policy and the draft
    decide for its input now."""

    proposal_id: int
    input: dict[str, Any]  # the stored policy input
    recorded: Replayed
    recorded_revision: str
    active: Replayed
    active_revision: str
    draft: Replayed
    draft_revision: str


class ShadowReport(msgspec.Struct, frozen=True, kw_only=True):
    revision: str
    compared: int
    agreed: int
    transitions: dict[str, int]
    examples: dict[str, list[int]]


def bundle_of(version: PolicyVersion) -> PolicyBundle:
    """The bundle a stored version enforces; its revision is the version's (checked)."""
    return verified_bundle(version.files, version.data, revision=version.revision)


def _check_files(files: dict[str, str]) -> None:
    if not files:
        raise InvalidInput("a policy needs at least one .rego file")
    if len(files) > MAX_FILES:
        raise InvalidInput(f"{len(files)} files; at most {MAX_FILES}")
    for path, text in files.items():
        pure = PurePosixPath(path)
        if pure.is_absolute() or ".." in pure.parts or not path.endswith(".rego"):
            raise InvalidInput(
                f"file name {path!r} must be a relative path ending in .rego (no '..')"
            )
        if len(text.encode("utf-8")) > MAX_FILE_BYTES:
            raise InvalidInput(f"{path} is larger than {MAX_FILE_BYTES} bytes")
        if "\x00" in text:
            raise InvalidInput(f"{path} contains a NUL character")


# Term lists the shipped rules match against lower-cased text (see policies/engagement/
# text.rego): a term with an upper-case letter can never match, so a draft is refused.
TERM_LISTS = ("blocked_terms", "legal_terms", "nobot_markers", "sensitive_topics")


def _check_terms(data: dict[str, Any]) -> None:
    for key in TERM_LISTS:
        value = data.get(key)
        groups = value.items() if isinstance(value, dict) else [("", value)]
        for group, terms in groups:
            if not isinstance(terms, list):
                continue
            for term in terms:
                if isinstance(term, str) and term != term.lower():
                    where = f"{key}.{group}" if group else key
                    raise InvalidInput(
                        f"data.json {where}: the term {term!r} has upper-case letters, but the "
                        f"policy matches lower-cased text, so it would never match; write it "
                        f"as {term.lower()!r}"
                    )


class PolicyService:
    """The lifecycle. Everything that evaluates a revision nobody approved yet (draft
    checks, tests, impact, shadow decisions, the activation budget) runs in ``sandbox``
    (worker processes with time and memory limits); see ``gateway.policy.sandbox``."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        make_engine: EngineFactory,
        sandbox: Sandbox | None = None,
        *,
        budget: ActivationBudget | None = None,
        decision_timeout_s: float = 2.0,
    ) -> None:
        self._pool = pool
        self._make_engine = make_engine
        self._sandbox = sandbox or Sandbox()
        self._budget = budget or ActivationBudget()
        self._decision_timeout_s = decision_timeout_s
        self.live: LivePolicy | None = None
        self._loaded: tuple[str | None, str | None] = (None, None)
        self._reload_lock = asyncio.Lock()

    # ---- start-up and switching --------------------------------------------------

    async def start(self, initial: PolicyBundle) -> LivePolicy:
        """Make the bundle on disk the first version of a new database, then load the
        active (and shadow) revision from the database."""
        async with self._pool.acquire() as conn:
            state = await store.get_state(conn)
            if state.active_revision is None:
                await self._install_initial(conn, initial)
        await self.reload()
        assert self.live is not None
        return self.live

    async def _install_initial(self, conn: Conn, bundle: PolicyBundle) -> None:
        report = await asyncio.to_thread(run_policy_tests, bundle, coverage=False)
        now = datetime.now(UTC)
        async with conn.transaction():
            state = await store.get_state(conn, lock=True)
            if state.active_revision is not None:
                return  # another instance got there first
            await store.insert_version(
                conn,
                revision=bundle.revision,
                content=content_of(bundle),
                files=bundle.files,
                data=bundle.data,
                author="system",
                description="the bundle shipped in policies/",
                parent=None,
            )
            await store.record_tests(
                conn, bundle.revision, report=msgspec.to_builtins(report), passed=report.ok, now=now
            )
            await store.set_active(conn, bundle.revision, by="system", now=now)
            await audit.append(
                conn,
                kind="policy_activated",
                actor="system",
                subject=f"policy:{bundle.revision}",
                payload={
                    "revision": bundle.revision,
                    "previous": None,
                    "initial": True,
                    "tests_passed": report.ok,
                },
                policy_revision=bundle.revision,
            )
        log.info("policy_installed", policy_revision=bundle.revision, tests_passed=report.ok)

    async def reload(self) -> bool:
        """Load the revisions policy_state names, if they changed; True when swapped."""
        async with self._reload_lock:
            async with self._pool.acquire() as conn:
                state = await store.get_state(conn)
                wanted = (state.active_revision, state.shadow_revision)
                if wanted == self._loaded and self.live is not None:
                    return False
                active_v = await store.get_version(conn, state.active_revision or "")
                shadow_v = (
                    await store.get_version(conn, state.shadow_revision)
                    if state.shadow_revision
                    else None
                )
            if self.live is not None and self._loaded[0] == state.active_revision:
                # Only the shadow changed: keep the enforcing engine. Building one compiles
                # the policy while holding the GIL, which would stall every request.
                active = self.live.active
            else:
                active = await asyncio.to_thread(self._make_engine, bundle_of(active_v))
                await _load(active)
            # The shadow is not approved: it decides in the sandbox, never in this process.
            shadow = (
                SandboxedEngine(
                    bundle_of(shadow_v), self._sandbox, timeout_s=self._decision_timeout_s
                )
                if shadow_v
                else None
            )
            if self.live is None:
                self.live = LivePolicy(active, shadow)
            else:
                self.live.swap(active, shadow)
            self._loaded = wanted
            return True

    async def follow(self, stop: asyncio.Event, *, poll_s: float = 2.0) -> None:
        """Reload on NOTIFY policy_changed (instant) and every ``poll_s`` (missed NOTIFYs)."""
        wake = asyncio.Event()

        def notified(*_: object) -> None:
            wake.set()

        conn = await self._pool.acquire()
        try:
            await conn.add_listener(CHANNEL, notified)
            while not stop.is_set():
                try:
                    await self.reload()
                except LOOP_ERRORS as exc:
                    log.warning("policy_reload_failed", error=str(exc))
                wake.clear()
                waiters = [asyncio.ensure_future(wake.wait()), asyncio.ensure_future(stop.wait())]
                try:
                    await asyncio.wait(waiters, timeout=poll_s, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    for waiter in waiters:
                        waiter.cancel()
        finally:
            with contextlib.suppress(OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
                await conn.remove_listener(CHANNEL, notified)
            await self._pool.release(conn)

    # ---- reading -----------------------------------------------------------------

    async def state(self) -> PolicyState:
        async with self._pool.acquire() as conn:
            return await store.get_state(conn)

    async def versions(self) -> list[PolicyVersion]:
        async with self._pool.acquire() as conn:
            return await store.list_versions(conn)

    async def version(self, revision: str) -> PolicyVersion:
        async with self._pool.acquire() as conn:
            return await store.get_version(conn, revision)

    async def history(self, *, limit: int = 200) -> list[AuditEvent]:
        """The latest lifecycle events (drafted, tested, proposed, activated, ...)."""
        async with self._pool.acquire() as conn:
            return await store.policy_events(conn, limit=limit)

    async def diff(self, old: str, new: str) -> list[FileDiff]:
        a, b = await self.version(old), await self.version(new)
        return diff_versions(a, b)

    # ---- the lifecycle -----------------------------------------------------------

    async def draft(
        self,
        *,
        files: dict[str, str],
        data: dict[str, Any],
        description: str,
        user: User,
        parent: str | None = None,
    ) -> tuple[PolicyVersion, bool]:
        """Store a new draft after checking it compiles (PolicyLoadError otherwise) and
        running its tests. The same content twice is the same version."""
        _check_files(files)
        _check_terms(data)
        bundle = build_bundle(files, data)
        content = content_of(bundle)  # refuses data that would not read back the same
        # Both in the sandbox: compiling refuses bad bundles (PolicyLoadError), and the
        # tests are the author's code (PolicyTimeout / PolicyMemory when over the limits).
        await self._sandbox.run(CheckJob(bundle=bundle), type(None), revision=bundle.revision)
        report = await self._run_tests(bundle)
        now = datetime.now(UTC)
        async with self._pool.acquire() as conn, conn.transaction():
            if parent is None:
                parent = (await store.get_state(conn)).active_revision
            version, created = await store.insert_version(
                conn,
                revision=bundle.revision,
                content=content,
                files=bundle.files,
                data=bundle.data,
                author=user.name,
                description=description,
                parent=parent,
            )
            if created:
                await store.record_tests(
                    conn,
                    bundle.revision,
                    report=msgspec.to_builtins(report),
                    passed=report.ok,
                    now=now,
                )
                await audit.append(
                    conn,
                    kind="policy_drafted",
                    actor=user.name,
                    subject=f"policy:{bundle.revision}",
                    payload={
                        "revision": bundle.revision,
                        "parent": parent,
                        "description": description,
                        "files": sorted(files),
                        "tests_passed": report.passed,
                        "tests_failed": report.failed,
                    },
                    policy_revision=bundle.revision,
                )
                version = await store.get_version(conn, bundle.revision)
        log.info(
            "policy_drafted", policy_revision=bundle.revision, created=created, author=user.name
        )
        return version, created

    async def test(self, revision: str, *, user: User) -> tuple[PolicyVersion, Any]:
        version = await self.version(revision)
        report = await self._run_tests(bundle_of(version))
        now = datetime.now(UTC)
        async with self._pool.acquire() as conn, conn.transaction():
            await store.record_tests(
                conn, revision, report=msgspec.to_builtins(report), passed=report.ok, now=now
            )
            await audit.append(
                conn,
                kind="policy_tested",
                actor=user.name,
                subject=f"policy:{revision}",
                payload={
                    "revision": revision,
                    "passed": report.passed,
                    "failed": report.failed,
                    "failures": [f"{r.package}.{r.name}" for r in report.results if not r.passed],
                },
                policy_revision=revision,
            )
            version = await store.get_version(conn, revision)
        return version, report

    async def impact(
        self,
        revision: str,
        *,
        limit: int | None = 1000,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> ImpactReport:
        """Replay stored inputs through the draft and the active policy; what changes.

        A decision recorded under the active revision is not evaluated again (same input,
        same revision, same result). Batches run in the sandbox workers, several at once;
        a batch over the time or memory limit ends the analysis (PolicyTimeout/Memory).
        """
        started = time.perf_counter()
        async with self._pool.acquire() as conn:
            state = await store.get_state(conn)
            draft = bundle_of(await store.get_version(conn, revision))
            active = bundle_of(await store.get_version(conn, state.active_revision or ""))
            tally = _ImpactTally()
            in_flight: list[tuple[list[Any], asyncio.Future[ReplayResult]]] = []
            try:
                async with conn.transaction(isolation="repeatable_read", readonly=True):
                    async for batch in store.recent_inputs(
                        conn, limit=limit, since=since, until=until, batch=IMPACT_BATCH
                    ):
                        recheck = [
                            row[4] != active.revision or "policy_error" in row[3] for row in batch
                        ]
                        job = ReplayJob(
                            draft=draft,
                            active=active,
                            inputs=[row[1] for row in batch],
                            recheck=recheck,
                        )
                        run = self._sandbox.run(job, ReplayResult, revision=revision)
                        in_flight.append((batch, asyncio.ensure_future(run)))
                        if len(in_flight) >= self._sandbox.limits.workers:
                            await _settle(in_flight.pop(0), tally)
                for pending in in_flight:
                    await _settle(pending, tally)
            finally:
                for _batch, future in in_flight:
                    future.cancel()
        return tally.report(revision, active.revision, int((time.perf_counter() - started) * 1000))

    async def impact_example(self, revision: str, proposal_id: int) -> ImpactExample:
        """One stored decision through the draft (and the active policy, when it was not
        recorded under it), in the sandbox as the impact analysis does."""
        async with self._pool.acquire() as conn:
            state = await store.get_state(conn)
            draft = bundle_of(await store.get_version(conn, revision))
            active = bundle_of(await store.get_version(conn, state.active_revision or ""))
            pid, text, outcome, codes, recorded_revision = await store.stored_input(
                conn, proposal_id
            )
        recheck = recorded_revision != active.revision or "policy_error" in codes
        job = ReplayJob(draft=draft, active=active, inputs=[text], recheck=[recheck])
        result = await self._sandbox.run(job, ReplayResult, revision=revision)
        recorded = msgspec.convert({"outcome": outcome, "codes": codes}, Replayed)
        return ImpactExample(
            proposal_id=pid,
            input=msgspec.json.decode(text),
            recorded=recorded,
            recorded_revision=recorded_revision,
            active=result.old[0] or recorded,
            active_revision=active.revision,
            draft=result.new[0],
            draft_revision=revision,
        )

    async def propose_shadow(self, revision: str, *, user: User) -> PolicyRequest:
        """Propose evaluating ``revision`` beside every live decision; it starts only when
        another compliance officer confirms (two-person rule, as for activation)."""
        async with self._pool.acquire() as conn, conn.transaction():
            state = await store.get_state(conn, lock=True)
            await store.get_version(conn, revision)
            if revision == state.active_revision:
                raise StateConflict(f"{revision} is the active policy; shadow a draft")
            if revision == state.shadow_revision:
                raise StateConflict(f"{revision} already runs in shadow")
            return await _propose(conn, "shadow", revision, state, user)

    async def stop_shadow(self, *, user: User) -> PolicyState:
        """Stop shadow evaluation (one person may: it only reduces what runs)."""
        async with self._pool.acquire() as conn, conn.transaction():
            state = await store.get_state(conn, lock=True)
            if state.shadow_revision is None:
                raise StateConflict("no policy runs in shadow")
            state = await _apply_shadow(conn, None, state, actor=user.name, extra={})
        await self.reload()
        return state

    async def shadow_report(self, revision: str) -> ShadowReport:
        async with self._pool.acquire() as conn:
            await store.get_version(conn, revision)
            pairs = await store.shadow_pairs(conn, revision)
        transitions: Counter[str] = Counter()
        examples: dict[str, list[int]] = {}
        agreed = 0
        for pid, outcome, shadow_outcome, codes, shadow_codes in pairs:
            if outcome == shadow_outcome and sorted(codes) == sorted(shadow_codes):
                agreed += 1
                continue
            key = f"{outcome}->{shadow_outcome}"
            transitions[key] += 1
            examples.setdefault(key, [])
            if len(examples[key]) < EXAMPLES:
                examples[key].append(pid)
        return ShadowReport(
            revision=revision,
            compared=len(pairs),
            agreed=agreed,
            transitions=dict(transitions),
            examples=examples,
        )

    async def activate(self, revision: str, *, user: User) -> PolicyState:
        """Enforce a draft never enforced before: its author proposed it, ``user`` (anyone
        but the author) confirms. Going back to an earlier revision is :meth:`rollback`."""
        await self._check_budget(revision, user)
        async with self._pool.acquire() as conn, conn.transaction():
            state = await store.get_state(conn, lock=True)
            version = await store.get_version(conn, revision)
            _check_activatable(version, state, user)
            extra = {"author": version.author, "proposed_by": version.author}
            state = await _enforce(conn, version, state, actor=user.name, extra=extra)
        await self.reload()
        return state

    async def request_activation(self, revision: str, *, user: User) -> PolicyRequest:
        """Ask another compliance officer to activate a draft (its tests must pass); it
        is enforced when someone who neither wrote it nor asked confirms the request."""
        async with self._pool.acquire() as conn, conn.transaction():
            state = await store.get_state(conn, lock=True)
            version = await store.get_version(conn, revision)
            _check_activatable(version, state, None)
            for pending in await requests.list_requests(conn, pending_only=True):
                if pending.action == "activate" and pending.revision == revision:
                    raise StateConflict(
                        f"activating {revision[:19]}… was already requested "
                        f"(request {pending.id} by {pending.proposed_by})"
                    )
            return await _propose(conn, "activate", revision, state, user)

    async def rollback(self, *, user: User, to: str | None = None) -> PolicyRequest:
        """Propose re-activating ``to`` (default: the previous revision), which was enforced
        before; it happens only when another compliance officer confirms."""
        async with self._pool.acquire() as conn, conn.transaction():
            state = await store.get_state(conn, lock=True)
            target = to or state.previous_revision
            if target is None:
                raise StateConflict("there is no previous policy to roll back to")
            version = await store.get_version(conn, target)
            if target == state.active_revision:
                raise StateConflict(f"{target} is already the active policy")
            if version.activated_at is None:
                raise StateConflict(
                    f"revision {target[:19]}… was never enforced, so it cannot be rolled back "
                    "to; a draft is activated by someone other than its author",
                    api_hint=f"POST /v1/policies/{target}/activate",
                    cli_hint=f"`{CLI} policy activate {target}`",
                )
            _check_tests(version)
            return await _propose(conn, "rollback", target, state, user)

    async def confirm(self, request_id: int, *, user: User) -> PolicyState:
        """Carry out a pending request proposed by someone else (two-person rule)."""
        now = datetime.now(UTC)
        async with self._pool.acquire() as conn:
            asked = await requests.get_request(conn, request_id)
        if asked.action == "activate":
            await self._check_budget(asked.revision, user)
        async with self._pool.acquire() as conn, conn.transaction():
            state = await store.get_state(conn, lock=True)
            request = await requests.get_request(conn, request_id, lock=True)
            if request.status != "pending":
                raise StateConflict(
                    f"request {request_id} was already {request.status} by {request.decided_by}"
                )
            if request.proposed_by == user.name:
                raise Forbidden(
                    f"you proposed request {request_id}, so you cannot confirm it; another "
                    "compliance officer must (two-person rule)",
                    api_hint=f"they call POST /v1/policies/requests/{request_id}/confirm",
                    cli_hint=f"they run `{CLI} policy confirm {request_id} --token THEIR_TOKEN`",
                )
            ensure_second_person(user, request.proposed_by, did=f"proposed request {request_id}")
            version = await store.get_version(conn, request.revision)
            extra = {"request_id": request_id, "proposed_by": request.proposed_by}
            if request.action == "activate":
                _check_activatable(version, state, user)
                extra["author"] = version.author
                await requests.decide_request(
                    conn, request_id, status="confirmed", by=user.name, now=now
                )
                state = await _enforce(conn, version, state, actor=user.name, extra=extra)
            elif request.action == "rollback":
                if state.active_revision != request.base_revision:
                    raise StateConflict(
                        f"the active policy changed since request {request_id} was proposed; "
                        "withdraw it and propose the rollback again",
                        api_hint=f"POST /v1/policies/requests/{request_id}/withdraw",
                        cli_hint=f"`{CLI} policy withdraw {request_id}`",
                    )
                _check_tests(version)
                extra["author"] = version.author
                await requests.decide_request(
                    conn, request_id, status="confirmed", by=user.name, now=now
                )
                state = await _enforce(
                    conn, version, state, actor=user.name, extra=extra, rollback=True
                )
            else:
                if request.revision == state.active_revision:
                    raise StateConflict(f"{request.revision} is the active policy now")
                await requests.decide_request(
                    conn, request_id, status="confirmed", by=user.name, now=now
                )
                state = await _apply_shadow(
                    conn, request.revision, state, actor=user.name, extra=extra
                )
        await self.reload()
        return state

    async def withdraw(self, request_id: int, *, user: User) -> PolicyRequest:
        """Withdraw (or, by another officer, turn down) a pending request; audited."""
        async with self._pool.acquire() as conn, conn.transaction():
            request = await requests.get_request(conn, request_id, lock=True)
            if request.status != "pending":
                raise StateConflict(
                    f"request {request_id} was already {request.status} by {request.decided_by}"
                )
            request = await requests.decide_request(
                conn, request_id, status="withdrawn", by=user.name, now=datetime.now(UTC)
            )
            await audit.append(
                conn,
                kind="policy_change_withdrawn",
                actor=user.name,
                subject=f"policy:{request.revision}",
                payload={
                    "request_id": request.id,
                    "action": request.action,
                    "revision": request.revision,
                    "proposed_by": request.proposed_by,
                },
                policy_revision=request.revision,
            )
        return request

    async def requests(self, *, pending_only: bool = True) -> list[PolicyRequest]:
        async with self._pool.acquire() as conn:
            return await requests.list_requests(conn, pending_only=pending_only)

    async def close(self) -> None:
        """Stop the sandbox workers (the live engines belong to ``live``)."""
        await self._sandbox.close()

    async def _run_tests(self, bundle: PolicyBundle) -> TestReport:
        return await self._sandbox.run(
            TestJob(bundle=bundle, coverage=True), TestReport, revision=bundle.revision
        )

    async def _check_budget(self, revision: str, user: User) -> None:
        """Time the revision in the sandbox before it may run live (see policy_budget).
        Skipped where activation refuses anyway, so those refusals stay quick."""
        async with self._pool.acquire() as conn:
            state = await store.get_state(conn)
            version = await store.get_version(conn, revision)
            if (
                revision == state.active_revision
                or version.activated_at is not None  # a rollback, refused here
                or version.author == user.name
                or version.tests_passed is not True
            ):
                return
            await check_activation_budget(conn, self._sandbox, bundle_of(version), self._budget)


def _check_activatable(version: PolicyVersion, state: PolicyState, user: User | None) -> None:
    """A draft ``user`` may enforce: never enforced, tests pass, not written by ``user``
    (nor by whoever issued ``user``'s token). ``user=None`` checks the draft only."""
    revision = version.revision
    if revision == state.active_revision:
        raise StateConflict(f"{revision} is already the active policy")
    if version.activated_at is not None:
        raise StateConflict(
            f"revision {revision[:19]}… was enforced before; going back to it is a "
            "rollback, which one officer proposes and another confirms",
            api_hint=f'propose it with POST /v1/policies/rollback {{"to": "{revision}"}}',
            cli_hint=f"propose it with `{CLI} policy rollback --to {revision}`",
        )
    if user is not None and version.author == user.name:
        raise Forbidden(
            f"you wrote revision {revision[:19]}…, so you cannot activate it; "
            "another compliance officer must (two-person rule)",
            api_hint=f"they call POST /v1/policies/{revision}/activate",
            cli_hint=f"they run `{CLI} policy activate {revision} --token THEIR_TOKEN`",
        )
    if user is not None:
        ensure_second_person(user, version.author, did="wrote this revision")
    _check_tests(version)


def _check_tests(version: PolicyVersion) -> None:
    if version.tests_passed is True:
        return
    revision = version.revision
    if version.tests_passed is False:
        raise StateConflict(
            f"revision {revision[:19]}… cannot be activated: its tests fail",
            api_hint=f"see which in GET /v1/policies/{revision}, fix them and POST a new draft",
            cli_hint=f"see which with `{CLI} policy show {revision}`, fix them in the bundle "
            f"folder and store a new draft with `{CLI} policy draft --dir DIR`",
        )
    raise StateConflict(
        f"revision {revision[:19]}… cannot be activated: its tests have not run",
        api_hint=f"run them with POST /v1/policies/{revision}/test",
        cli_hint=f"store its bundle folder as a draft with `{CLI} policy draft --dir DIR`, "
        "which runs them",
    )


async def _propose(
    conn: Conn, action: str, revision: str, state: PolicyState, user: User
) -> PolicyRequest:
    request = await requests.insert_request(
        conn,
        action=action,
        revision=revision,
        base_revision=state.active_revision,
        proposed_by=user.name,
    )
    await audit.append(
        conn,
        kind="policy_change_proposed",
        actor=user.name,
        subject=f"policy:{revision}",
        payload={
            "request_id": request.id,
            "action": action,
            "revision": revision,
            "active_revision": state.active_revision,
            "shadow_revision": state.shadow_revision,
        },
        policy_revision=revision,
    )
    log.info("policy_change_proposed", request_id=request.id, action=action, by=user.name)
    return request


async def _enforce(
    conn: Conn,
    version: PolicyVersion,
    state: PolicyState,
    *,
    actor: str,
    extra: dict[str, Any],
    rollback: bool = False,
) -> PolicyState:
    """Make ``version`` the active policy, audited, and tell every instance."""
    revision = version.revision
    await store.set_active(conn, revision, by=actor, now=datetime.now(UTC))
    await audit.append(
        conn,
        kind="policy_rolled_back" if rollback else "policy_activated",
        actor=actor,
        subject=f"policy:{revision}",
        payload={
            "revision": revision,
            "previous": state.active_revision,
            **extra,
            "confirmed_by": actor,
        },
        policy_revision=revision,
    )
    await conn.execute("SELECT pg_notify($1, $2)", CHANNEL, revision)
    log.info("policy_activated", policy_revision=revision, by=actor, rollback=rollback)
    return await store.get_state(conn)


async def _apply_shadow(
    conn: Conn, revision: str | None, state: PolicyState, *, actor: str, extra: dict[str, Any]
) -> PolicyState:
    await store.set_shadow(conn, revision, now=datetime.now(UTC))
    await audit.append(
        conn,
        kind="policy_shadow_started" if revision else "policy_shadow_stopped",
        actor=actor,
        subject=f"policy:{revision or state.shadow_revision}",
        payload={
            "revision": revision,
            "previous_shadow": state.shadow_revision,
            **extra,
            **({"confirmed_by": actor} if revision else {}),
        },
        policy_revision=revision,
    )
    await conn.execute("SELECT pg_notify($1, $2)", CHANNEL, revision or "")
    return await store.get_state(conn)


async def _load(engine: PolicyEngine) -> None:
    """Engines backed by a server (OPA) receive the version's modules and data here."""
    load = getattr(engine, "load", None)
    if load is not None:
        await load()


async def _settle(
    pending: tuple[list[Any], asyncio.Future[ReplayResult]], tally: _ImpactTally
) -> None:
    batch, future = pending
    result = await future
    for row, now_draft, now_active in zip(batch, result.new, result.old, strict=True):
        proposal_id, _text, outcome, codes, _revision = row
        recorded = now_active or Replayed(outcome=outcome, codes=codes)
        tally.add(proposal_id, recorded, now_draft)


class _ImpactTally:
    def __init__(self) -> None:
        self.evaluated = 0
        self.errors = 0
        self.transitions: Counter[str] = Counter()
        self.examples: dict[str, list[int]] = {}
        self.gained: Counter[str] = Counter()
        self.lost: Counter[str] = Counter()
        self.reason_examples: dict[str, list[int]] = {}

    def add(self, proposal_id: int, old: Replayed, new: Replayed) -> None:
        self.evaluated += 1
        if new.error:
            self.errors += 1
        changed = old.outcome != new.outcome or old.codes != new.codes
        if not changed:
            return
        key = f"{old.outcome}->{new.outcome}"
        self.transitions[key] += 1
        ids = self.examples.setdefault(key, [])
        if len(ids) < EXAMPLES:
            ids.append(proposal_id)
        for code in set(new.codes) - set(old.codes):
            self.gained[code] += 1
            self._example(code, proposal_id)
        for code in set(old.codes) - set(new.codes):
            self.lost[code] += 1
            self._example(code, proposal_id)

    def _example(self, code: str, proposal_id: int) -> None:
        ids = self.reason_examples.setdefault(code, [])
        if len(ids) < EXAMPLES:
            ids.append(proposal_id)

    def report(self, draft: str, active: str, duration_ms: int) -> ImpactReport:
        codes = sorted(set(self.gained) | set(self.lost))
        return ImpactReport(
            draft_revision=draft,
            active_revision=active,
            evaluated=self.evaluated,
            changed=sum(self.transitions.values()),
            transitions=dict(self.transitions),
            examples=self.examples,
            errors=self.errors,
            duration_ms=duration_ms,
            reasons=[
                ReasonImpact(
                    code=c,
                    gained=self.gained[c],
                    lost=self.lost[c],
                    examples=self.reason_examples.get(c, []),
                )
                for c in codes
            ],
        )


def diff_versions(old: PolicyVersion, new: PolicyVersion) -> list[FileDiff]:
    """A readable unified diff per changed file, data.json included."""
    old_files = {**old.files, "engagement/data.json": _pretty(old.data)}
    new_files = {**new.files, "engagement/data.json": _pretty(new.data)}
    diffs: list[FileDiff] = []
    for path in sorted(set(old_files) | set(new_files)):
        a, b = old_files.get(path), new_files.get(path)
        if a == b:
            continue
        change = "added" if a is None else "removed" if b is None else "modified"
        text = "".join(
            difflib.unified_diff(
                (a or "").splitlines(keepends=True),
                (b or "").splitlines(keepends=True),
                fromfile=f"{old.revision[:19]}/{path}",
                tofile=f"{new.revision[:19]}/{path}",
            )
        )
        diffs.append(FileDiff(file=path, change=change, diff=text))
    return diffs


def _pretty(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
