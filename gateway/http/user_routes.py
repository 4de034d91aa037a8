"""Users and their tokens (admins only): list, disable, replace a token; each audited."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, get, post

from gateway.domain.records import UserAccount
from gateway.http.auth import roles
from gateway.http.controllers import rt, user_with
from gateway.http.params import PathUser
from gateway.pipeline.accounts import Accounts


class RotatedOut(msgspec.Struct, frozen=True, kw_only=True):
    user: UserAccount
    token: str  # shown once; the previous token is refused from now on


def _accounts(request: Request[Any, Any, Any]) -> Accounts:
    return Accounts(rt(request).db.pool)


@get(
    "/v1/users",
    summary="Every user: role, state, when their token was replaced (admin)",
    guards=[roles("admin")],
)
async def list_users(request: Request[Any, Any, Any]) -> list[UserAccount]:
    await user_with(request, "admin")
    return await _accounts(request).list()


@post(
    "/v1/users/{name:str}/disable",
    status_code=200,
    summary="Disable a user: their token is refused from the next request on (admin)",
    guards=[roles("admin")],
)
async def disable_user(request: Request[Any, Any, Any], name: PathUser) -> UserAccount:
    admin = await user_with(request, "admin")
    return await _accounts(request).disable(name, actor=admin.name)


@post(
    "/v1/users/{name:str}/rotate",
    status_code=200,
    summary="Give a user a new token (in the answer, once); the old one is refused (admin)",
    guards=[roles("admin")],
)
async def rotate_user_token(request: Request[Any, Any, Any], name: PathUser) -> RotatedOut:
    admin = await user_with(request, "admin")
    account, token = await _accounts(request).rotate(name, actor=admin.name)
    return RotatedOut(user=account, token=token)


USER_ROUTES = [list_users, disable_user, rotate_user_token]
