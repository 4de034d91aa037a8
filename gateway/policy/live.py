"""The policy in force right now, swappable while the gateway runs.

``LivePolicy`` is a :class:`PolicyEngine` that forwards each decision to the engine of
the active revision. A decision takes the engine reference once, so it never mixes two
revisions; a swap replaces the reference atomically (one assignment on the event loop)
and closes the old engines after a grace period, once decisions under way are done.
"""

from __future__ import annotations

import asyncio

import structlog

from gateway.domain.decisions import Decision
from gateway.domain.policy_input import PolicyInput
from gateway.policy.engine import PolicyEngine

log = structlog.get_logger(__name__)


class LivePolicy:
    def __init__(
        self, active: PolicyEngine, shadow: PolicyEngine | None = None, *, grace_s: float = 10.0
    ) -> None:
        self._active = active
        self._shadow = shadow
        self._grace_s = grace_s
        self._retiring: dict[asyncio.Task[None], PolicyEngine] = {}

    @property
    def name(self) -> str:
        return self._active.name

    @property
    def revision(self) -> str:
        return self._active.revision

    @property
    def active(self) -> PolicyEngine:
        """The engine that enforces decisions now."""
        return self._active

    @property
    def shadow(self) -> PolicyEngine | None:
        return self._shadow

    async def ready(self) -> bool:
        """The enforcing engine can decide (an OPA server holds exactly this revision)."""
        check = getattr(self._active, "ready", None)
        return bool(await check()) if check is not None else True

    async def decide(self, policy_input: PolicyInput) -> Decision:
        engine = self._active  # one engine for the whole decision
        return await engine.decide(policy_input)

    def swap(self, active: PolicyEngine, shadow: PolicyEngine | None) -> None:
        old: list[PolicyEngine] = [e for e in (self._active, self._shadow) if e is not None]
        self._active, self._shadow = active, shadow
        keep = {id(active), id(shadow)}
        for engine in old:
            if id(engine) not in keep:
                task = asyncio.get_running_loop().create_task(self._retire(engine))
                self._retiring[task] = engine
                task.add_done_callback(lambda done: self._retiring.pop(done, None))
        log.info(
            "policy_swapped",
            policy_revision=active.revision,
            shadow_revision=shadow.revision if shadow else None,
        )

    async def _retire(self, engine: PolicyEngine) -> None:
        await asyncio.sleep(self._grace_s)
        await engine.close()

    async def close(self) -> None:
        retiring = list(self._retiring.items())
        for task, _engine in retiring:
            task.cancel()
        for _task, old in retiring:
            await old.close()
        for current in (self._active, self._shadow):
            if current is not None:
                await current.close()
