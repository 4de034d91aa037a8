"""The console's session cookie is Secure when served over TLS, and only then.

A real uvicorn on loopback: with a self-signed certificate (TLS in the gateway's own
process), behind a proxy it trusts (``X-Forwarded-Proto: https`` from an address in
``--forwarded-allow-ips``), behind one it does not trust, and over plain HTTP.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import socket
import ssl
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from gateway.app import create_app
from gateway.runtime import Runtime
from tests.integration.console_support import PASSWORD, add_person, form_csrf, sign_in


def _self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, as PEM files in ``folder``."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@contextlib.asynccontextmanager
async def _gateway(runtime: Runtime, **options: Any) -> AsyncIterator[int]:
    """The whole app on a free loopback port with uvicorn ``options``; yields the port."""
    app = create_app(runtime.settings)
    app.state.runtime = runtime
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_config=None,
        access_log=False,
        lifespan="off",
        **options,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        for _ in range(200):
            if server.started:
                break
            await asyncio.sleep(0.02)
        assert server.started, "uvicorn did not start"
        yield port
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)


def _cookie(response: httpx.Response, name: str) -> list[str]:
    """The attributes of the Set-Cookie for ``name``, lower-cased, value left out."""
    for header in response.headers.get_list("set-cookie"):
        first, *attributes = (part.strip() for part in header.split(";"))
        if first.startswith(f"{name}="):
            return [a.lower() for a in attributes]
    raise AssertionError(f"no Set-Cookie for {name}: {response.headers.get_list('set-cookie')}")


def _assert_session_cookie(response: httpx.Response, *, secure: bool) -> None:
    assert response.status_code == 303, response.text  # signed in
    attributes = _cookie(response, "egw_session")
    assert "httponly" in attributes
    assert "samesite=lax" in attributes
    assert "path=/ui" in attributes
    assert ("secure" in attributes) is secure, attributes


async def test_over_tls_the_session_cookie_is_secure(runtime: Runtime, tmp_path: Path) -> None:
    await add_person(runtime, "alice", "agent")
    cert, key = _self_signed(tmp_path)
    trust = ssl.create_default_context(cafile=str(cert))
    async with (
        _gateway(runtime, ssl_certfile=str(cert), ssl_keyfile=str(key)) as port,
        httpx.AsyncClient(base_url=f"https://127.0.0.1:{port}", verify=trust) as client,
    ):
        form = await client.get("/ui/sign-in")
        assert "secure" in _cookie(form, "egw_signin")  # the sign-in form's CSRF cookie too
        done = await sign_in(client, "alice")
        _assert_session_cookie(done, secure=True)
        assert (await client.get("/ui/home")).status_code == 200  # the browser sends it back


async def test_over_plain_http_the_session_cookie_is_not_secure(runtime: Runtime) -> None:
    await add_person(runtime, "alice", "agent")
    async with (
        _gateway(runtime) as port,
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client,
    ):
        _assert_session_cookie(await sign_in(client, "alice"), secure=False)


async def _sign_in_through_a_proxy(client: httpx.AsyncClient) -> httpx.Response:
    """Sign in as the proxy would pass it on: the browser spoke HTTPS to the proxy, so it
    sends the sign-in form's Secure cookie back, though this hop is plain HTTP."""
    form = await client.get("/ui/sign-in")
    nonce = form.cookies["egw_signin"]
    return await client.post(
        "/ui/sign-in",
        data={"_csrf": form_csrf(form.text), "name": "alice", "password": PASSWORD},
        headers={"cookie": f"egw_signin={nonce}"},
    )


async def test_behind_a_trusted_tls_proxy_the_session_cookie_is_secure(runtime: Runtime) -> None:
    await add_person(runtime, "alice", "agent")
    proxied = {"x-forwarded-proto": "https"}
    async with (
        _gateway(runtime, proxy_headers=True, forwarded_allow_ips="127.0.0.1") as port,
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", headers=proxied) as client,
    ):
        _assert_session_cookie(await _sign_in_through_a_proxy(client), secure=True)


async def test_a_forwarded_proto_from_an_untrusted_address_is_ignored(runtime: Runtime) -> None:
    await add_person(runtime, "alice", "agent")
    proxied = {"x-forwarded-proto": "https"}
    async with (
        _gateway(runtime, proxy_headers=True, forwarded_allow_ips="192.0.2.1") as port,
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", headers=proxied) as client,
    ):
        _assert_session_cookie(await _sign_in_through_a_proxy(client), secure=False)
