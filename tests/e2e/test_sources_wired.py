"""Sources as an admin runs them, through real processes: added with the CLI, a loopback
feed refused unless allowed, a local feed polled by the running gateway, and the signed
inbound webhook accepting a good delivery and refusing a bad one."""

from __future__ import annotations

import http.server
import json
import threading
import time
from pathlib import Path

from connectors.webhook import sign
from tests.e2e.server import Server, add_user, gateway_env, run_cli

FEED = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>
<item><guid>https://feed.test/1</guid><link>https://feed.test/1</link>
<title>@acme my order is late</title>
<description>@acme my order is late</description></item></channel></rss>"""


class Feed(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml")
        self.send_header("Content-Length", str(len(FEED)))
        self.end_headers()
        self.wfile.write(FEED)

    def log_message(self, *args: object) -> None:
        pass


def test_sources_end_to_end(fresh_db_url: str, tmp_path: Path) -> None:
    feed = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Feed)
    threading.Thread(target=feed.serve_forever, daemon=True).start()
    env = gateway_env(
        fresh_db_url,
        tmp_path,
        GATEWAY_SOURCE_REFRESH_S="0.2",
        GATEWAY_SOURCE_SECRET_CRM_SECRET="whsec-e2e",
    )
    admin = add_user(env, "root", "admin")
    env["GATEWAY_TOKEN"] = admin  # source changes act as this admin
    done = run_cli(
        env,
        "sources",
        "add",
        "local",
        "--kind",
        "rss",
        "--url",
        f"http://127.0.0.1:{feed.server_port}/feed",
        "--allow-private",
    )
    assert done.returncode == 0, done.stderr
    done = run_cli(
        env,
        "sources",
        "add",
        "local2",
        "--kind",
        "rss",
        "--url",
        f"http://127.0.0.1:{feed.server_port}/feed",
    )
    assert done.returncode == 1 and "loopback" in done.stderr, done.stderr
    done = run_cli(
        env,
        "sources",
        "add",
        "crm",
        "--kind",
        "webhook",
        "--secret",
        "env:GATEWAY_SOURCE_SECRET_CRM_SECRET",
    )
    assert done.returncode == 0, done.stderr
    server = Server(env, tmp_path / "server.log")
    try:
        with server.client(admin) as client:
            for _ in range(100):
                local = client.get("/v1/sources/local").json()
                if local["health"]["items_total"]:
                    break
                time.sleep(0.1)
            assert local["health"]["items_total"] == 1, local
            body = json.dumps(
                {
                    "mentions": [
                        {
                            "channel": "webhook",
                            "external_id": "t-1",
                            "url": "https://feed.test/1",
                            "author": {"handle": "dana"},
                            "text": "@acme my order is late",
                            "created_at": "2024-05-06T10:00:00Z",
                        }
                    ]
                }
            ).encode()
            ts = str(int(time.time()))
            answer = client.post(
                "/v1/webhooks/crm",
                content=body,
                headers={
                    "Content-Type": "application/json",
                    "X-Gateway-Timestamp": ts,
                    "X-Gateway-Signature": sign(b"whsec-e2e", ts, body),
                },
            )
            assert answer.status_code == 200 and answer.json()["duplicates"] == 1, answer.text
            bad = client.post(
                "/v1/webhooks/crm",
                content=body,
                headers={
                    "Content-Type": "application/json",
                    "X-Gateway-Timestamp": ts,
                    "X-Gateway-Signature": sign(b"nope", ts, body),
                },
            )
            assert bad.status_code == 401
        listed = run_cli(env, "sources", "list")
        assert "local" in listed.stdout and "1 items" in listed.stdout, listed.stdout
    finally:
        server.stop()
        feed.shutdown()
        feed.server_close()
    assert "source_polled" in server.logs()
