"""create_app(settings) -> Litestar: lifespan, routes, exception handlers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import msgspec
from litestar import Litestar, Response, get
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin

from gateway.http.agent_routes import AGENT_ROUTES
from gateway.http.audit_log_routes import AUDIT_LOG_ROUTES
from gateway.http.audit_routes import AUDIT_ROUTES
from gateway.http.auth import DEPENDENCIES, PUBLIC, RuntimeIfStarted, authenticated
from gateway.http.bodies import MAX_BODY_BYTES, GatewayRequest
from gateway.http.compliance_routes import COMPLIANCE_ROUTES
from gateway.http.controllers import ROUTES
from gateway.http.intent_flag_routes import INTENT_FLAG_ROUTES
from gateway.http.openapi import document_answers
from gateway.http.policy_routes import POLICY_ROUTES
from gateway.http.problems import EXCEPTION_HANDLERS
from gateway.http.source_parts import source_parts
from gateway.http.source_routes import SOURCE_ROUTES
from gateway.http.user_routes import USER_ROUTES
from gateway.policy import PolicyEngine
from gateway.runtime import Runtime
from gateway.settings import Settings, demo_enabled
from gateway.web import STATIC_PATH, WEB_ROUTES, static_files, template_config
from gateway.web.errors import console_aware


class Health(msgspec.Struct, frozen=True, kw_only=True):
    status: str
    database: bool
    policy_ready: bool
    policy_revision: str | None
    engine: str | None
    writer_ready: bool = False  # the group-commit writer of decisions (down while restarting)


@get("/health", summary="200 once the database and the policy engine are ready", opt=PUBLIC)
async def health(runtime_if_started: RuntimeIfStarted) -> Response[Health]:
    runtime = runtime_if_started
    if runtime is None:
        body = Health(
            status="starting",
            database=False,
            policy_ready=False,
            policy_revision=None,
            engine=None,
        )
        return Response(body, status_code=503)
    db_ok = await runtime.db.ping()
    check = getattr(runtime.engine, "ready", None)
    engine_ok = bool(await check()) if check is not None else True
    writer_ok = runtime.committer is None or runtime.committer.ready
    ready = db_ok and engine_ok and writer_ok
    body = Health(
        status="ok" if ready else "degraded",
        database=db_ok,
        policy_ready=engine_ok,
        policy_revision=runtime.engine.revision,
        engine=runtime.engine.name,
        writer_ready=writer_ok,
    )
    return Response(body, status_code=200 if ready else 503)


def _api_docs() -> SwaggerRenderPlugin:
    """Swagger UI at /schema, its assets served by the gateway (vendored; no CDN)."""
    vendor = f"{STATIC_PATH}/vendor/swagger-ui"
    return SwaggerRenderPlugin(
        path="/",
        js_url=f"{vendor}/swagger-ui-bundle.js",
        css_url=f"{vendor}/swagger-ui.css",
        standalone_preset_js_url=f"{vendor}/swagger-ui-standalone-preset.js",
        favicon=f'<link rel="icon" type="image/png" href="{vendor}/favicon-32x32.png">',
    )


def app_from_environment() -> Litestar:
    """The app of one ``serve --workers N`` worker process (uvicorn's factory): settings
    from the environment the ``serve`` process prepared, background jobs included (each
    runs in the one process holding its lease)."""
    return _app_from_environment(worker=True)


def api_from_environment() -> Litestar:
    """As :func:`app_from_environment`, for ``serve --workers N --no-worker``."""
    return _app_from_environment(worker=False)


def _app_from_environment(*, worker: bool) -> Litestar:
    import os

    from gateway.logging import configure_logging
    from gateway.settings import load_settings

    settings = load_settings(os.environ)
    configure_logging(json=settings.log_json, level=settings.log_level)
    return create_app(settings, worker=worker)


def create_app(
    settings: Settings, *, worker: bool = True, engine: PolicyEngine | None = None
) -> Litestar:
    """The API; with ``worker`` the release worker (and demo source) run in-process."""

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        runtime = await Runtime.start(settings, engine=engine)
        runtime.start_policy_follower()
        runtime.start_checkpointer()
        if worker:
            runtime.start_worker()
            runtime.start_sources()
            runtime.start_retention()
        if demo_enabled(settings) and settings.demo_source and worker:
            runtime.start_demo_source()
        app.state.sources = source_parts(runtime, secrets=runtime.secrets)
        app.state.runtime = runtime
        try:
            yield
        finally:
            app.state.runtime = None
            await runtime.close()

    app = Litestar(
        route_handlers=[
            health,
            *ROUTES,
            *AGENT_ROUTES,
            *INTENT_FLAG_ROUTES,
            *POLICY_ROUTES,
            *AUDIT_ROUTES,
            *AUDIT_LOG_ROUTES,
            *SOURCE_ROUTES,
            *USER_ROUTES,
            *COMPLIANCE_ROUTES,
            *WEB_ROUTES,
            static_files(),
        ],
        lifespan=[lifespan],
        exception_handlers=console_aware(EXCEPTION_HANDLERS),
        # One way in (gateway/http/auth.py): the token or console session is checked before
        # any body or parameter is read; role guards on each route; services by injection.
        guards=[authenticated],
        dependencies=DEPENDENCIES,
        template_config=template_config(),
        request_class=GatewayRequest,
        request_max_body_size=MAX_BODY_BYTES,
        openapi_config=OpenAPIConfig(
            title="Engagement Gateway",
            version="0.1.0",
            path="/schema",
            description="Every proposed reply is evaluated against Rego policy and audited "
            "before release. Authenticate with 'Authorization: Bearer TOKEN'.",
            render_plugins=[_api_docs()],
        ),
        debug=False,
    )
    document_answers(app)
    return app
