"""The OPA engine: Rego evaluated by a real OPA server through its REST API.

``load`` pushes the bundle to OPA with opa-python-client: each policy module (not the
``*_test.rego`` files) byte for byte under the id ``gateway/<path>``, the data to
``data.engagement``, and last the revision to ``data.gateway_meta.revision``.
``rego_compat=False`` because with True the client, when OPA refuses a module as old
(v0) syntax, rewrites it and retries: OPA would then run text nobody approved. ``ready``
is true only while OPA holds exactly this bundle's modules (no other module at all) and
its revision, so the OPA server must be dedicated to the gateway.

``decide`` sends one ``POST /v1/data/engagement/decision`` per proposal through a pooled
``httpx.AsyncClient`` (opa-python-client is aiohttp-based and retries on 5xx, which
would stretch a decision past its time limit), with ``strict-builtin-errors`` so that a
failing builtin is an error, as in regorus, not an undefined rule that silently allows.
OPA's ``decision_id`` (sent when its decision logging is on) is kept in the Decision.

The bundle is checked at construction exactly like the embedded engine's (parses, has
``data.engagement.decision``, only deterministic builtins that regorus also has), so
that switching engines never changes which bundles can be activated.

Errors::

    __init__   PolicyLoadError   the bundle fails the embedded engine's checks
               ValueError        a bad url or timeout
    load       PolicyLoadError   OPA refused a module or the data (file and line)
               PolicyError       OPA could not be reached or answered out of protocol
    ready      never raises: False
    decide     never raises: policy_error deny (fail closed); cancellation propagates
"""

from __future__ import annotations

import asyncio
import time
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import httpx
import msgspec
import structlog
from opa_client import AsyncOpaClient  # type: ignore[import-untyped]
from opa_client import errors as opa_errors

from gateway.domain.decisions import Decision, Outcome, Reason, policy_error
from gateway.domain.policy_input import PolicyInput
from gateway.policy.bundle import DATA_FILE, PolicyBundle

# The embedded engine's bundle checks, shared so both engines accept the same bundles.
from gateway.policy.embedded import _validate as _validate_bundle
from gateway.policy.errors import PolicyError, PolicyLoadError

ENGINE_NAME = "opa"
MODULE_PREFIX = "gateway/"
META_PATH = "gateway_meta"
_DECISION_PATH = "/v1/data/engagement/decision?strict-builtin-errors=true"
_MAX_DETAIL = 500
# OPA error codes meaning "this content is refused" rather than "OPA is unwell".
_REFUSAL_CODES = frozenset({"invalid_parameter", "invalid_operation", "rego_parse_error"})

_log = structlog.get_logger(__name__)


class _StillUsed(PolicyError):
    """OPA refused to delete a module because the remaining ones use it."""


class _Query(msgspec.Struct, frozen=True):
    input: PolicyInput


class _Answer(msgspec.Struct, frozen=True, kw_only=True):
    # The policy contract; unknown keys are ignored (as in the embedded engine).
    outcome: Outcome
    reasons: list[Reason]


class _DataResponse(msgspec.Struct, frozen=True, kw_only=True):
    # OPA omits "result" when the document is undefined.
    result: _Answer | msgspec.UnsetType = msgspec.UNSET
    decision_id: str | None = None


class _AnyResult(msgspec.Struct, frozen=True, kw_only=True):
    result: Any = msgspec.UNSET


class _Module(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    raw: str


class _ModuleList(msgspec.Struct, frozen=True, kw_only=True):
    result: list[_Module]


class _OpaErrorBody(msgspec.Struct, frozen=True, kw_only=True):
    code: str = ""
    message: str = ""


_encode_query = msgspec.json.Encoder().encode
_decode_data = msgspec.json.Decoder(_DataResponse).decode
_decode_any = msgspec.json.Decoder(_AnyResult).decode
_decode_modules = msgspec.json.Decoder(_ModuleList).decode
_decode_error = msgspec.json.Decoder(_OpaErrorBody).decode


class OpaEngine:
    """:class:`~gateway.policy.engine.PolicyEngine` backed by an OPA server at ``url``.

    ``url`` is OPA's base address (``http://opa:8181``, no path). ``timeout_s`` bounds
    one decision, connection included; ``load_timeout_s`` one request while loading.
    ``client`` is used for decisions and ``ready`` (the caller closes it); without one
    the engine makes and closes its own. Call :meth:`load` before deciding.
    """

    name: str = ENGINE_NAME

    def __init__(
        self,
        bundle: PolicyBundle,
        *,
        url: str,
        timeout_s: float = 2.0,
        load_timeout_s: float = 10.0,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        if timeout_s <= 0 or load_timeout_s <= 0:
            raise ValueError("timeout_s and load_timeout_s must be positive")
        self._host, self._port, self._tls = _parse_url(url)
        _validate_bundle(bundle)
        self.revision: str = bundle.revision
        self._bundle = bundle
        self._url = url.rstrip("/")
        self._timeout_s = timeout_s
        self._load_timeout_s = load_timeout_s
        self._modules = {MODULE_PREFIX + path: text for path, text in bundle.policy_files.items()}
        self._owns_client = client is None
        self._http = client or httpx.AsyncClient(
            timeout=httpx.Timeout(timeout_s),
            limits=httpx.Limits(max_connections=100, max_keepalive_connections=100),
        )
        self._closed = False

    # --- loading -------------------------------------------------------------------------

    async def load(self) -> None:
        """Make OPA hold exactly this bundle; afterwards :meth:`ready` is true.

        Order: the revision marker is removed (``ready`` is false meanwhile), the data
        written, the modules put, gateway modules the bundle lacks deleted, and the marker
        written last. Repeating it is harmless: OPA skips a module whose text is unchanged.
        OPA has no transaction across modules: after a failed load it holds part of this
        bundle and part of the previous one, ``ready`` is false for both, and decisions may
        deny; load a bundle again (the previous one, once fixed) to recover.
        Raises :class:`PolicyLoadError` or :class:`PolicyError` (see the module docstring).
        """
        started = time.perf_counter()
        opa = AsyncOpaClient(
            host=self._host, port=self._port, ssl=self._tls, timeout=self._load_timeout_s
        )
        async with opa:
            await self._step(opa.delete_data(META_PATH), "remove the revision marker", ok=True)
            await self._step(
                opa.update_or_create_data(self._bundle.data, "engagement"),
                "write data.engagement",
                file=DATA_FILE,
            )
            held = await self._gateway_modules(opa)
            try:
                await self._put_modules(opa)
            except PolicyLoadError:
                if not held:
                    raise
                # The previous revision's modules can block the new ones (a function whose
                # signature changed is called by both): start from no gateway module.
                await self._delete_modules(opa, held)
                await self._put_modules(opa)
            await self._delete_modules(opa, await self._gateway_modules(opa) - set(self._modules))
            await self._step(
                opa.update_or_create_data({"revision": self.revision}, META_PATH),
                "write the revision marker",
            )
        _log.info(
            "opa_policy_loaded",
            engine=ENGINE_NAME,
            policy_revision=self.revision,
            modules=len(self._modules),
            duration_us=_elapsed_us(started),
        )

    async def _put_modules(self, opa: Any) -> None:
        """Put every module, retrying refused ones while others go in: OPA compiles all
        modules on each PUT, so a module calling a function of a file not yet there is
        refused. Raises the error of a module still refused when nothing else goes in."""
        pending = dict(self._modules)
        while pending:
            refused: PolicyLoadError | None = None
            before = len(pending)
            for module_id, text in list(pending.items()):
                try:
                    await self._step(
                        opa.update_policy_from_string(text, module_id, rego_compat=False),
                        "put a policy module",
                        file=module_id.removeprefix(MODULE_PREFIX),
                    )
                except PolicyLoadError as exc:
                    refused = refused or exc
                    continue
                del pending[module_id]
            if refused is not None and len(pending) == before:
                raise refused

    async def _delete_modules(self, opa: Any, module_ids: set[str]) -> None:
        """Delete modules, retrying refused ones: OPA refuses to delete a module whose
        functions the remaining ones call."""
        pending = sorted(module_ids)
        while pending:
            still: list[str] = []
            for module_id in pending:
                try:
                    await self._step(opa.delete_policy(module_id), "delete a module", ok=True)
                except _StillUsed:
                    still.append(module_id)
            if len(still) == len(pending):
                raise PolicyError(
                    f"OPA at {self._url} refused to delete the modules {', '.join(still)}, "
                    "which other modules still use"
                )
            pending = still

    async def _gateway_modules(self, opa: Any) -> set[str]:
        listed: list[str] = await self._step(opa.get_policies_list(), "list modules")
        return {module_id for module_id in listed if module_id.startswith(MODULE_PREFIX)}

    async def _step(
        self, call: Any, what: str, *, file: str | None = None, ok: bool = False
    ) -> Any:
        """Await one opa-python-client call, translating its errors at this boundary.

        ``ok``: a "not found" answer is fine (deleting what is already gone).
        """
        try:
            return await call
        except opa_errors.RegoParseError as exc:
            raise _refused(exc, what, file=file, url=self._url) from None
        except (opa_errors.DeleteDataError, opa_errors.DeletePolicyError) as exc:
            if ok and exc.expression == "resource_not_found":
                return None
            if exc.expression == "invalid_operation":  # the rest would not compile
                raise _StillUsed(f"OPA at {self._url} refused to {what}: {exc.message}") from None
            raise PolicyError(f"OPA at {self._url} refused to {what}: {exc.message}") from None
        except opa_errors.TypeException:
            raise PolicyLoadError("the module is empty", file=file) from None
        # ValueError: a body that claims to be JSON and is not.
        except (aiohttp.ClientError, TimeoutError, ValueError, opa_errors.ConnectionsError) as exc:
            raise PolicyError(
                f"could not {what} on OPA at {self._url}: {_short(repr(exc))}"
            ) from None

    async def ready(self) -> bool:
        """True when OPA holds exactly this bundle: the same module ids with byte-equal
        text, no other module, and this revision in ``data.gateway_meta.revision``."""
        if self._closed:
            return False
        try:
            listed = await self._http.get(f"{self._url}/v1/policies")
            marker = await self._http.get(f"{self._url}/v1/data/{META_PATH}/revision")
            if listed.status_code != 200 or marker.status_code != 200:
                return self._not_ready(f"OPA answered {listed.status_code}/{marker.status_code}")
            held = {module.id: module.raw for module in _decode_modules(listed.content).result}
            revision = _decode_any(marker.content).result
        # RuntimeError: an injected client that its owner closed.
        except (httpx.HTTPError, msgspec.DecodeError, RuntimeError) as exc:
            return self._not_ready(_short(repr(exc)))
        if held != self._modules:
            return self._not_ready("the modules differ from the bundle's")
        if revision != self.revision:
            return self._not_ready(f"OPA holds revision {revision!r}")
        return True

    def _not_ready(self, why: str) -> bool:
        _log.info(
            "opa_checked", engine=ENGINE_NAME, policy_revision=self.revision, ready=False, why=why
        )
        return False

    # --- deciding ------------------------------------------------------------------------

    async def decide(self, policy_input: PolicyInput) -> Decision:
        """OPA's decision for ``policy_input``; a ``policy_error`` deny on any failure."""
        started = time.perf_counter()
        if self._closed:
            return self._failed("the engine is closed", started)
        body = _encode_query(_Query(policy_input))
        try:
            async with asyncio.timeout(self._timeout_s):
                response = await self._http.post(
                    self._url + _DECISION_PATH,
                    content=body,
                    headers={"Content-Type": "application/json"},
                )
        except (TimeoutError, httpx.TimeoutException):
            return self._failed(f"no decision from OPA within {self._timeout_s:g} s", started)
        except httpx.HTTPError as exc:
            return self._failed(f"could not reach OPA at {self._url}: {exc!r}", started)
        except Exception as exc:  # e.g. the injected client was closed: fail closed
            return self._failed(f"could not query OPA: {exc!r}", started)
        return self._interpret(response, started)

    def _interpret(self, response: httpx.Response, started: float) -> Decision:
        if response.status_code != 200:
            return self._failed(_describe_error(response), started)
        try:
            answer = _decode_data(response.content)
        except msgspec.ValidationError as exc:
            return self._failed(f"malformed decision: {exc}", started)
        except msgspec.DecodeError as exc:
            return self._failed(f"unreadable answer from OPA: {exc}", started)
        if isinstance(answer.result, msgspec.UnsetType):
            detail = "data.engagement.decision is undefined for this input"
            return self._failed(detail, started, decision_id=answer.decision_id)
        decision = Decision(
            outcome=answer.result.outcome,
            reasons=answer.result.reasons,
            policy_revision=self.revision,
            engine=ENGINE_NAME,
            decision_id=answer.decision_id,
        )
        _log.debug(
            "policy_decided",
            engine=ENGINE_NAME,
            policy_revision=self.revision,
            decision_id=decision.decision_id,
            outcome=decision.outcome,
            reasons=[reason.code for reason in decision.reasons],
            duration_us=_elapsed_us(started),
        )
        return decision

    async def close(self) -> None:
        """Stop deciding; close the HTTP client if the engine made it."""
        self._closed = True
        if self._owns_client:
            await self._http.aclose()

    def _failed(self, detail: str, started: float, *, decision_id: str | None = None) -> Decision:
        _log.warning(
            "policy_failed",
            engine=ENGINE_NAME,
            policy_revision=self.revision,
            decision_id=decision_id,
            error=detail,
            duration_us=_elapsed_us(started),
        )
        decision = policy_error(self.revision, ENGINE_NAME, detail)
        return msgspec.structs.replace(decision, decision_id=decision_id)


def _parse_url(url: str) -> tuple[str, int, bool]:
    """(host, port, tls) of OPA's base URL; opa-python-client cannot take a path prefix."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"OPA url must be http(s)://host[:port], not {url!r}")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError(f"OPA url must have no path, query or fragment: {url!r}")
    tls = parts.scheme == "https"
    return parts.hostname, parts.port or (443 if tls else 80), tls


def _refused(exc: Any, what: str, *, file: str | None, url: str) -> PolicyError:
    """A RegoParseError (any non-success answer to a write) as a gateway error."""
    code = str(exc.expression or "")
    details: list[dict[str, Any]] = [e for e in exc.errors if isinstance(e, dict)]
    if code not in _REFUSAL_CODES and not details:
        return PolicyError(f"OPA at {url} could not {what}: {code}: {_short(str(exc.message))}")
    if not details:
        return PolicyLoadError(_short(f"OPA refused it: {exc.message}"), file=file)
    first_location = details[0].get("location") or {}
    message = "; ".join(str(e.get("message", "")) for e in details)
    file_in_opa = first_location.get("file")
    return PolicyLoadError(
        _short(f"OPA refused it: {message}"),
        file=file_in_opa.removeprefix(MODULE_PREFIX) if isinstance(file_in_opa, str) else file,
        line=first_location.get("row"),
        column=first_location.get("col") or None,  # 0: unknown
    )


def _describe_error(response: httpx.Response) -> str:
    try:
        body = _decode_error(response.content)
        said = f"{body.code}: {body.message}" if body.code else response.text
    except (msgspec.DecodeError, UnicodeDecodeError):
        said = "a body that is not OPA's error JSON"
    # Capped: OPA quotes values in errors, and they can come from input.
    return _short(f"OPA answered {response.status_code}: {said}")


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MAX_DETAIL else text[: _MAX_DETAIL - 1] + "…"


def _elapsed_us(started: float) -> int:
    return round((time.perf_counter() - started) * 1e6)
