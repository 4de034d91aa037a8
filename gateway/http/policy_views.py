"""Wire Structs of the policy lifecycle API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, TypeVar

import msgspec
from litestar.exceptions import ValidationException
from msgspec import Meta

from gateway.domain.records import PolicyState, PolicyVersion
from gateway.http.params import NO_CONTROL, TEXT_CHARS, Revision, has_nul, instant

FileName = Annotated[str, Meta(min_length=1, max_length=500, pattern=NO_CONTROL)]
RegoSource = Annotated[str, Meta(max_length=1_000_000, pattern=TEXT_CHARS)]


class DraftIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    files: Annotated[dict[FileName, RegoSource], Meta(min_length=1, max_length=200)]
    data: dict[str, Any] = {}
    description: Annotated[str, Meta(max_length=2_000, pattern=TEXT_CHARS)] = ""
    parent: Revision | None = None

    def __post_init__(self) -> None:
        if has_nul(self.data):
            raise ValueError("`data` holds a NUL character (\\u0000) in a key or a string")


class ImpactIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    last: Annotated[int, Meta(ge=1, le=1_000_000)] | None = 1000
    since: datetime | None = None
    until: datetime | None = None

    def __post_init__(self) -> None:
        for key in ("since", "until"):
            try:
                instant(key, getattr(self, key))
            except ValidationException:
                raise ValueError(f"`{key}` is out of range once converted to UTC") from None


class RollbackIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    to: Annotated[str, Meta(min_length=1, max_length=200)] | None = None  # default: previous


class PolicySummary(msgspec.Struct, frozen=True, kw_only=True):
    revision: str
    state: str  # active, shadow, draft, retired
    author: str
    description: str
    parent: str | None
    created_at: datetime
    tests_passed: bool | None
    tested_at: datetime | None
    activated_at: datetime | None


class PolicyDetail(PolicySummary, frozen=True, kw_only=True):
    files: dict[str, str]
    data: dict[str, Any]
    tests: dict[str, Any] | None  # the last test report, coverage included


V = TypeVar("V", bound=PolicySummary)


class PolicyStateOut(msgspec.Struct, frozen=True, kw_only=True):
    active_revision: str | None
    previous_revision: str | None
    shadow_revision: str | None
    activated_by: str | None
    activated_at: datetime | None
    shadow_since: datetime | None
    enforced_here: str | None  # the revision this gateway instance enforces right now


def state_of(version: PolicyVersion, state: PolicyState) -> str:
    if version.revision == state.active_revision:
        return "active"
    if version.revision == state.shadow_revision:
        return "shadow"
    return "retired" if version.activated_at is not None else "draft"


def _view(cls: type[V], version: PolicyVersion, state: PolicyState) -> V:
    fields = {name: getattr(version, name) for name in cls.__struct_fields__ if name != "state"}
    return cls(state=state_of(version, state), **fields)


def summary(version: PolicyVersion, state: PolicyState) -> PolicySummary:
    return _view(PolicySummary, version, state)


def detail(version: PolicyVersion, state: PolicyState) -> PolicyDetail:
    return _view(PolicyDetail, version, state)


def state_out(state: PolicyState, enforced: str | None) -> PolicyStateOut:
    return PolicyStateOut(**msgspec.structs.asdict(state), enforced_here=enforced)
