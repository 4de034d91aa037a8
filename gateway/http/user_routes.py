"""Users and their tokens (admins only): list, disable, replace a token; each audited."""

from __future__ import annotations

import msgspec
from litestar import get, post

from gateway.domain.records import UserAccount
from gateway.http.auth import CurrentUser, Services, roles
from gateway.http.params import PathUser
from gateway.pipeline.accounts import Accounts
from gateway.runtime import Runtime


class RotatedOut(msgspec.Struct, frozen=True, kw_only=True):
    user: UserAccount
    token: str  # shown once; the previous token is refused from now on


def _accounts(runtime: Runtime) -> Accounts:
    return Accounts(runtime.db.pool)


@get(
    "/v1/users",
    summary="Every user: role, state, when their token was replaced (admin)",
    guards=[roles("admin")],
)
async def list_users(runtime: Services) -> list[UserAccount]:
    return await _accounts(runtime).list()


@post(
    "/v1/users/{name:str}/disable",
    status_code=200,
    summary="Disable a user: their token is refused from the next request on (admin)",
    guards=[roles("admin")],
)
async def disable_user(user: CurrentUser, runtime: Services, name: PathUser) -> UserAccount:
    return await _accounts(runtime).disable(name, actor=user.name)


@post(
    "/v1/users/{name:str}/rotate",
    status_code=200,
    summary="Give a user a new token (in the answer, once); the old one is refused (admin)",
    guards=[roles("admin")],
)
async def rotate_user_token(user: CurrentUser, runtime: Services, name: PathUser) -> RotatedOut:
    account, token = await _accounts(runtime).rotate(name, actor=user.name)
    return RotatedOut(user=account, token=token)


USER_ROUTES = [list_users, disable_user, rotate_user_token]
