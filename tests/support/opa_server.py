"""A local stand-in for an OPA server: OPA's REST API over OPA's own evaluator.

The subset of the REST API (https://www.openpolicyagent.org/docs/rest-api) that the
gateway's OPA engine and opa-python-client use, served on 127.0.0.1 by a threaded HTTP/1.1
server (keep-alive, as OPA), evaluating with the real OPA Go engine embedded by
opa-golib-python-bindings, so the Rego semantics are OPA's own:

- ``GET /health`` -> 200 ``{}``
- ``GET /v1/policies`` -> ``{"result": [{"id", "raw", "ast"}]}``; ``GET|PUT|DELETE
  /v1/policies/{id}`` (ids may hold ``/``). A PUT of the stored bytes is a no-op; any
  other PUT or DELETE recompiles every module and answers 400 ``{"code":
  "invalid_parameter" | "invalid_operation", "message", "errors": [{"code", "message",
  "location": {"file", "row", "col"}}]}`` when OPA refuses, keeping the old state.
- ``GET|POST /v1/data/{path}`` -> 200 ``{"result": ..., "decision_id": ...}``, without
  ``result`` when undefined, as OPA with decision logging on; evaluation errors -> 500
  ``{"code": "internal_error", "message"}``; malformed body -> 400.
- ``PUT /v1/data/{path}`` (create parents, replace) -> 204; a conflict with a rule -> 400.
  ``DELETE /v1/data/{path}`` -> 204, or 404 ``resource_not_found``.

Known differences from OPA, none of which the gateway relies on: the ``ast`` of a module
holds only its package path; error locations have ``col`` 0 (the bindings give the row
only); evaluation always uses strict builtin errors (the bindings' only mode, what the
gateway asks for with ``strict-builtin-errors=true``); other query parameters are ignored.

Tests can inject a :class:`Fault` into decision queries and read the decision log
(:attr:`OpaTestServer.decisions`) and the exact bytes each module was stored with.
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import threading
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from opa_bindings import OpaEngine, OpaError, OpaUndefinedError

_SEGMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_PACKAGE = re.compile(r"^package\s+([\w.]+)", re.MULTILINE)
# "x.rego:3: rego_type_error: undefined function f", possibly after a prefix.
_AST_ERROR = re.compile(r"(?P<file>[^\s:]+):(?P<row>\d+): (?P<code>rego_\w+): (?P<message>.+)$")
_COMPILE_ERROR = "error(s) occurred while compiling module(s)"


@dataclass(frozen=True)
class Fault:
    """How the server answers decision queries (``POST /v1/data/...``) while set.

    ``status`` None: after ``delay_s``, answer normally; otherwise answer ``status`` with
    ``body`` (bytes as given, so garbage is possible).
    """

    status: int | None = 500
    body: bytes = b'{"code": "internal_error", "message": "injected fault"}'
    delay_s: float = 0.0


@dataclass(frozen=True)
class LoggedDecision:
    decision_id: str
    path: str
    input: Any
    result: Any  # None when undefined or failed


@dataclass
class _State:
    modules: dict[str, bytes] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)


class _Refused(Exception):
    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(body.get("message", ""))
        self.status = status
        self.body = body


class OpaTestServer:
    """Start with :meth:`start` (or ``with OpaTestServer.start() as server``); ``url``
    is ``http://127.0.0.1:<port>``. :meth:`stop` also cuts open keep-alive connections,
    so a client sees OPA go away, not a lingering handler."""

    def __init__(self) -> None:
        self._state = _State()
        self._lock = threading.Lock()
        self._engine = self._compile(self._state)
        self.decisions: list[LoggedDecision] = []
        self.requests: list[tuple[str, str]] = []
        self.fault: Fault | None = None
        self._stopping = threading.Event()
        self._httpd = _Server(("127.0.0.1", 0), _Handler)
        self._httpd.opa = self
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        host, port = self._httpd.server_address[:2]
        self.url = f"http://{host!s}:{port}"

    @classmethod
    def start(cls) -> OpaTestServer:
        server = cls()
        server._thread.start()
        return server

    def stop(self) -> None:
        self._stopping.set()
        self._httpd.shutdown()
        self._httpd.close_connections()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> OpaTestServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def modules(self) -> dict[str, bytes]:
        """Module id -> the exact bytes OPA was given."""
        with self._lock:
            return dict(self._state.modules)

    @property
    def data(self) -> dict[str, Any]:
        with self._lock:
            return json.loads(json.dumps(self._state.data))  # type: ignore[no-any-return]

    # --- the API, called by the handler --------------------------------------------------

    def put_policy(self, module_id: str, raw: bytes) -> None:
        with self._lock:
            if self._state.modules.get(module_id) == raw:
                return
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise _Refused(400, _error("invalid_parameter", str(exc))) from None
            state = _State({**self._state.modules, module_id: raw}, self._state.data)
            self._commit(state, "invalid_parameter")

    def delete_policy(self, module_id: str) -> None:
        with self._lock:
            if module_id not in self._state.modules:
                raise _Refused(404, _not_found(f'policy id "{module_id}"'))
            modules = {k: v for k, v in self._state.modules.items() if k != module_id}
            self._commit(_State(modules, self._state.data), "invalid_operation")

    def put_data(self, path: list[str], value: Any) -> None:
        with self._lock:
            data = json.loads(json.dumps(self._state.data))
            if not path:
                if not isinstance(value, dict):
                    raise _Refused(400, _error("invalid_parameter", "root must be an object"))
                data = value
            else:
                node = data
                for segment in path[:-1]:
                    child = node.setdefault(segment, {})
                    if not isinstance(child, dict):
                        raise _Refused(404, _error("resource_conflict", "write conflict"))
                    node = child
                node[path[-1]] = value
            self._commit(_State(self._state.modules, data), "invalid_parameter")

    def delete_data(self, path: list[str]) -> None:
        with self._lock:
            data = json.loads(json.dumps(self._state.data))
            node = data
            for segment in path[:-1]:
                node = node.get(segment) if isinstance(node, dict) else None
            if not path or not isinstance(node, dict) or path[-1] not in node:
                where = "/" + "/".join(path)
                raise _Refused(404, _not_found(f"{where}: document does not exist"))
            del node[path[-1]]
            self._commit(_State(self._state.modules, data), "invalid_parameter")

    def list_policies(self) -> list[dict[str, Any]]:
        with self._lock:
            return [_policy(k, v) for k, v in self._state.modules.items()]

    def get_policy(self, module_id: str) -> dict[str, Any]:
        with self._lock:
            if module_id not in self._state.modules:
                raise _Refused(404, _not_found(f'policy id "{module_id}"'))
            return _policy(module_id, self._state.modules[module_id])

    def query(self, path: list[str], input_value: Any, *, with_input: bool) -> dict[str, Any]:
        engine = self._engine
        decision_id = str(uuid.uuid4())
        try:
            result = engine.eval_document(".".join(path), input_value if with_input else None)
        except OpaUndefinedError:
            result = None
            answer: dict[str, Any] = {"decision_id": decision_id}
        except OpaError as exc:
            raise _Refused(500, _error("internal_error", exc.message)) from None
        else:
            answer = {"decision_id": decision_id, "result": result}
        if not with_input:
            answer["warning"] = {
                "code": "api_usage_warning",
                "message": "'input' key missing from the request",
            }
        self.decisions.append(LoggedDecision(decision_id, "/".join(path), input_value, result))
        return answer

    # --- compiling -----------------------------------------------------------------------

    def _commit(self, state: _State, code: str) -> None:
        self._engine = self._compile(state, code=code)
        self._state = state

    @staticmethod
    def _compile(state: _State, *, code: str = "invalid_parameter") -> OpaEngine:
        """A fresh engine for ``state``; OPA compiles every module on every change."""
        engine = OpaEngine()
        engine.print_handler = lambda message, location: None
        try:
            for module_id, raw in state.modules.items():
                engine.add_policy(module_id, raw.decode("utf-8"))
            engine.add_data(state.data)
            engine.eval_query("true")  # the bindings compile (activate) on first use
        except OpaError as exc:
            engine.close()
            raise _Refused(400, _compile_error(code, exc.message)) from None
        return engine


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 128  # the default 5 drops SYNs when 50 clients connect at once
    opa: OpaTestServer

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()

    def track(self, connection: socket.socket, *, open_: bool) -> None:
        with self._connections_lock:
            if open_:
                self._connections.add(connection)
            else:
                self._connections.discard(connection)

    def close_connections(self) -> None:
        with self._connections_lock:
            for connection in self._connections:
                with contextlib.suppress(OSError):  # already closed by the client
                    connection.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that timed out and left is normal in the fault tests.
        pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server
    timeout = 30

    def setup(self) -> None:
        super().setup()
        # As Go's net/http: without it, headers and body sent apart meet delayed ACKs (40 ms).
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.track(self.connection, open_=True)

    def finish(self) -> None:
        self.server.track(self.connection, open_=False)
        super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def _dispatch(self, method: str) -> None:
        opa = self.server.opa
        path = self.path.split("?", 1)[0]
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        opa.requests.append((method, path))
        try:
            fault = opa.fault if method == "POST" and path.startswith("/v1/data") else None
            if fault is not None and self._faulted(fault, opa):
                return
            status, answer = self._route(opa, method, path, body)
        except _Refused as refused:
            status, answer = refused.status, refused.body
        if status == 404 and answer is None:
            self._send(404, b"404 page not found\n", "text/plain; charset=utf-8")
        elif answer is None:
            self._send(status, b"", None)
        else:
            self._send(status, json.dumps(answer).encode("utf-8"), "application/json")

    def _faulted(self, fault: Fault, opa: OpaTestServer) -> bool:
        if fault.delay_s and opa._stopping.wait(fault.delay_s):
            return True  # stopping: drop the request
        if fault.status is None:
            return False
        self._send(fault.status, fault.body, "application/json")
        return True

    def _route(
        self, opa: OpaTestServer, method: str, path: str, body: bytes
    ) -> tuple[int, dict[str, Any] | None]:
        if path == "/health" and method == "GET":
            return 200, {}
        if path in ("/v1/policies", "/v1/policies/") and method == "GET":
            return 200, {"result": opa.list_policies()}
        if path.startswith("/v1/policies/"):
            module_id = path.removeprefix("/v1/policies/")
            if method == "GET":
                return 200, {"result": opa.get_policy(module_id)}
            if method == "PUT":
                opa.put_policy(module_id, body)
                return 200, {}
            if method == "DELETE":
                opa.delete_policy(module_id)
                return 200, {}
        if path == "/v1/data" or path.startswith("/v1/data/"):
            segments = [s for s in path.removeprefix("/v1/data").split("/") if s]
            if not all(_SEGMENT.match(s) for s in segments):
                raise _Refused(400, _error("invalid_parameter", f"bad path: {path}"))
            return self._data(opa, method, segments, body)
        return 404, None

    @staticmethod
    def _data(
        opa: OpaTestServer, method: str, segments: list[str], body: bytes
    ) -> tuple[int, dict[str, Any] | None]:
        if method == "GET":
            return 200, opa.query(segments, None, with_input=False)
        if method == "POST":
            document = _json_body(body, "body contains malformed input document") if body else {}
            if not isinstance(document, dict):
                raise _Refused(400, _error("invalid_parameter", "body must be an object"))
            with_input = "input" in document
            return 200, opa.query(segments, document.get("input"), with_input=with_input)
        if method == "PUT":
            opa.put_data(segments, _json_body(body, "invalid JSON"))
            return 204, None
        if method == "DELETE":
            opa.delete_data(segments)
            return 204, None
        return 405, _error("invalid_parameter", "method not allowed")

    def _send(self, status: int, body: bytes, content_type: str | None) -> None:
        self.send_response(status)
        if content_type is not None:
            self.send_header("Content-Type", content_type)
        if status != 204:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if status != 204:
            self.wfile.write(body)


def _json_body(body: bytes, what: str) -> Any:
    try:
        return json.loads(body)
    except ValueError as exc:
        raise _Refused(400, _error("invalid_parameter", f"{what}: {exc}")) from None


def _policy(module_id: str, raw: bytes) -> dict[str, Any]:
    text = raw.decode("utf-8")
    found = _PACKAGE.search(text)
    names = found.group(1).split(".") if found else []
    path = [{"type": "var", "value": "data"}] + [{"type": "string", "value": n} for n in names]
    return {"id": module_id, "raw": text, "ast": {"package": {"path": path}}}


def _error(code: str, message: str) -> dict[str, Any]:
    return {"code": code, "message": message}


def _not_found(what: str) -> dict[str, Any]:
    return _error("resource_not_found", f"storage_not_found_error: {what}")


def _compile_error(code: str, message: str) -> dict[str, Any]:
    errors = []
    for line in message.splitlines():
        found = _AST_ERROR.search(line)
        if found is not None:
            errors.append(
                {
                    "code": found["code"],
                    "message": found["message"],
                    "location": {"file": found["file"], "row": int(found["row"]), "col": 0},
                }
            )
    if not errors:
        errors.append({"code": "rego_compile_error", "message": message})
    return {"code": code, "message": _COMPILE_ERROR, "errors": errors}
