"""``/ui/sources``: admins list the configured sources with their health, add, edit and
remove them, through ``SourceService`` (the API's own: checked, sealed, audited).

Secrets go in, never out: a secret field is always empty when a page is drawn (also when
a form comes back with an error), a page says only where a secret lives ("stored
encrypted", "environment variable X"), never the secret or anything of its length.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import FromQuery
from litestar.response import Redirect, Template

from gateway.domain.source_errors import InvalidSource
from gateway.domain.sources import SOURCE_KINDS, SourceRecord
from gateway.http.auth import CurrentUser, Services, roles
from gateway.http.params import PathSource
from gateway.pipeline.errors import InvalidInput
from gateway.secrets import Secrets
from gateway.sources.config import DEFAULT_INTERVAL_S, NAME_RULE, SECRET_NAME
from gateway.sources.service import SourcePatch, SourceService, SourceSpec
from gateway.store.errors import Conflict
from gateway.web.pages import page, redirect_with_flash

KIND_LABELS = {
    "rss": "RSS or Atom feed",
    "mastodon": "Mastodon account",
    "bluesky": "Bluesky account",
    "webhook": "Signed webhook",
}
SECRET_LABELS = {
    "mastodon": "Access token",
    "bluesky": "App password",
    "webhook": "Webhook signing secret",
}


class Field(msgspec.Struct, frozen=True, kw_only=True):
    """One config field of a kind's form: ``config.<key>`` in the form."""

    key: str
    label: str
    required: bool = False
    kind: str = "text"  # text, url, select
    choices: tuple[str, ...] = ()
    default: str = ""
    help: str = ""


CONFIG_FIELDS: dict[str, tuple[Field, ...]] = {
    "rss": (Field(key="url", label="Feed URL", required=True, kind="url"),),
    "mastodon": (
        Field(
            key="base_url",
            label="Instance URL",
            required=True,
            kind="url",
            help="e.g. https://mastodon.social",
        ),
        Field(
            key="brand_account_id",
            label="Brand account id",
            help="the numeric id of the brand's account (its notifications are read)",
        ),
        Field(key="hashtag", label="Hashtag", help="one tag, without #"),
        Field(key="query", label="Search query"),
        Field(
            key="publish",
            label="Replies go out through this account",
            kind="select",
            choices=("true", "false"),
            default="true",
        ),
        Field(
            key="max_visibility",
            label="Most public visibility of a reply",
            kind="select",
            choices=("unlisted", "public", "private", "direct"),
            default="unlisted",
        ),
    ),
    "bluesky": (
        Field(
            key="identifier", label="Account handle", required=True, help="e.g. acme.bsky.social"
        ),
        Field(key="service", label="Service URL", kind="url", default="https://bsky.social"),
        Field(key="query", label="Search query"),
        Field(
            key="publish",
            label="Replies go out through this account",
            kind="select",
            choices=("true", "false"),
            default="true",
        ),
    ),
    "webhook": (
        Field(
            key="reply_url",
            label="Reply URL",
            kind="url",
            help="where the channel's replies are delivered, signed (optional)",
        ),
    ),
}


def _service(runtime: Services) -> SourceService:
    secrets = runtime.secrets if runtime.secrets is not None else Secrets(runtime.settings)
    return SourceService(runtime.db.pool, secrets, runtime.settings)


def health_of(record: SourceRecord) -> tuple[str, str]:
    """(class, words) saying how a source is doing."""
    h = record.health
    if not record.enabled:
        return "idle", "disabled"
    if h.consecutive_failures:
        n = h.consecutive_failures
        return "failing", f"failing ({n} {'time' if n == 1 else 'times'} in a row)"
    if h.last_success_at is not None:
        return "ok", "healthy"
    if record.kind == "webhook":
        return "idle", "waiting for a first delivery"
    return "idle", "not polled yet"


def secret_words(record: SourceRecord) -> str:
    if record.secret is None:
        return "none"
    if record.secret.startswith("env:"):
        return f"from environment variable {record.secret.removeprefix('env:')}"
    return "stored, encrypted"


def _config(kind: str, form: dict[str, str]) -> dict[str, Any]:
    config: dict[str, Any] = {}
    for field in CONFIG_FIELDS[kind]:
        value = form.get(f"config.{field.key}", "").strip()
        if not value:
            continue
        config[field.key] = value == "true" if field.key == "publish" else value
    return config


def _interval(text: str) -> float | None:
    text = text.strip()
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        raise InvalidInput(f"the interval must be a number of seconds, not {text!r}") from None


async def _fields(request: Request[Any, Any, Any]) -> dict[str, str]:
    form = await request.form()
    return {key: str(form.get(key, "")) for key in form}


class SourcesController(Controller):
    path = "/ui/sources"
    guards = (roles("admin"),)
    include_in_schema = False

    @get("/")
    async def index(self, request: Request[Any, Any, Any], runtime: Services) -> Template:
        records = await _service(runtime).list()
        return page(
            request,
            "sources/list.html",
            rows=[{"r": r, "health": health_of(r), "secret": secret_words(r)} for r in records],
            kinds=KIND_LABELS,
        )

    @get("/new")
    async def new(self, request: Request[Any, Any, Any], kind: FromQuery[str] = "rss") -> Template:
        if kind not in SOURCE_KINDS:
            raise InvalidInput(f"kind {kind!r} is not one of {', '.join(SOURCE_KINDS)}")
        return self._new_form(request, kind, {})

    def _new_form(
        self,
        request: Request[Any, Any, Any],
        kind: str,
        values: dict[str, str],
        *,
        errors: list[str] | None = None,
        status_code: int = 200,
    ) -> Template:
        values = {k: v for k, v in values.items() if k != "secret"}  # never drawn again
        return page(
            request,
            "sources/new.html",
            status_code=status_code,
            kind=kind,
            kinds=KIND_LABELS,
            fields=CONFIG_FIELDS[kind],
            values=values,
            secret_label=SECRET_LABELS.get(kind),
            secret_needed=SECRET_NAME[kind] is not None,
            default_interval=DEFAULT_INTERVAL_S[kind],
            name_rule=NAME_RULE,
            errors=errors or [],
        )

    @post("/")
    async def add(
        self, request: Request[Any, Any, Any], user: CurrentUser, runtime: Services
    ) -> Template | Redirect:
        form = await _fields(request)
        kind = form.get("kind", "")
        if kind not in SOURCE_KINDS:
            raise InvalidInput(f"kind {kind!r} is not one of {', '.join(SOURCE_KINDS)}")
        try:
            spec = SourceSpec(
                name=form.get("name", "").strip(),
                kind=kind,
                config=_config(kind, form),
                channel=form.get("channel", "").strip() or None,
                secret=form.get("secret") or None,
                interval_s=_interval(form.get("interval_s", "")),
                enabled=form.get("enabled") == "true",
                allow_private=form.get("allow_private") == "true",
            )
            record = await _service(runtime).add(spec, actor=user.name)
        except (InvalidSource, InvalidInput, Conflict) as exc:
            return self._new_form(
                request,
                kind,
                form,
                errors=[f"The source was not added: {exc}. Enter the secret again, if any."],
                status_code=400 if not isinstance(exc, Conflict) else 409,
            )
        return redirect_with_flash(
            "/ui/sources", f"Source {record.name} added ({KIND_LABELS[record.kind]})."
        )

    @get("/{name:str}")
    async def edit(
        self, request: Request[Any, Any, Any], runtime: Services, name: PathSource
    ) -> Template:
        return await self._edit_form(request, runtime, name)

    async def _edit_form(
        self,
        request: Request[Any, Any, Any],
        runtime: Services,
        name: str,
        *,
        errors: list[str] | None = None,
        status_code: int = 200,
    ) -> Template:
        record = await _service(runtime).get(name)
        return page(
            request,
            "sources/edit.html",
            status_code=status_code,
            r=record,
            health=health_of(record),
            secret=secret_words(record),
            secret_label=SECRET_LABELS.get(record.kind),
            kinds=KIND_LABELS,
            errors=errors or [],
        )

    @post("/{name:str}")
    async def update(
        self,
        request: Request[Any, Any, Any],
        user: CurrentUser,
        runtime: Services,
        name: PathSource,
    ) -> Template | Redirect:
        form = await _fields(request)
        service = _service(runtime)
        current = await service.get(name)
        try:
            interval = _interval(form.get("interval_s", ""))
            enabled = form.get("enabled", "false") == "true"
            allow_private = form.get("allow_private", "false") == "true"
            patch = SourcePatch(
                enabled=enabled if enabled != current.enabled else None,
                interval_s=interval if interval != current.interval_s else None,
                allow_private=allow_private if allow_private != current.allow_private else None,
                secret=form.get("secret") or None,
            )
            if patch == SourcePatch():
                return redirect_with_flash(f"/ui/sources/{name}", "Nothing changed.")
            await service.update(name, patch, actor=user.name)
        except (InvalidSource, InvalidInput) as exc:
            return await self._edit_form(
                request,
                runtime,
                name,
                errors=[f"The source was not changed: {exc}."],
                status_code=400,
            )
        return redirect_with_flash(f"/ui/sources/{name}", f"Source {name} saved.")

    @post("/{name:str}/remove")
    async def remove(
        self,
        request: Request[Any, Any, Any],
        user: CurrentUser,
        runtime: Services,
        name: PathSource,
    ) -> Template | Redirect:
        form = await _fields(request)
        if form.get("confirm") != "yes":
            return await self._edit_form(
                request,
                runtime,
                name,
                errors=["Tick the box to confirm the removal; the source was not removed."],
                status_code=400,
            )
        await _service(runtime).remove(name, actor=user.name)
        return redirect_with_flash("/ui/sources", f"Source {name} removed, with its cursor.")
