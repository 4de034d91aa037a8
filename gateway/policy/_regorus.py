"""Building regorus engines from a bundle, and turning regorus errors into plain text.

Facts about regorus 0.13 (gordon-to-regorus) this module and its callers rely on:

- ``Engine`` is a pyo3 *unsendable* class: calling it, cloning it or dropping it on a
  thread other than the one that created it raises ``PanicException`` (or an
  unraisable ``RuntimeError`` on drop). Each thread must build its own engine.
- Evaluation holds the GIL: a slow policy stalls every Python thread, the event loop
  included, until it finishes.
- ``eval_rule`` turns Rego sets into Python sets and fails (``TypeError: unhashable``)
  on a set of objects, the usual way to collect reasons; ``eval_rule_as_json`` does
  not, and gives the JSON string ``"<undefined>"`` for an undefined rule.
- Errors are ``RuntimeError`` whose text holds ``--> file:line:col``, the source line,
  ``error: <message>`` and a Rust backtrace; panics raise ``PanicException``, which
  derives from ``BaseException``.
- ``print`` writes to stderr unless ``set_gather_prints(True)``; ``trace`` prints nothing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import msgspec
import regorus

from gateway.policy.bundle import DATA_FILE
from gateway.policy.errors import PolicyLoadError

ENTRYPOINT = "data.engagement.decision"
UNDEFINED_JSON = '"<undefined>"'

_LOCATION = re.compile(r"-->\s*(?P<file>.+?):(?P<line>\d+):(?P<column>\d+)")
_MESSAGE = re.compile(r"^error:\s*(?P<message>.+)$", re.MULTILINE)
_MAX_DETAIL = 500


def compile_engine(files: Mapping[str, str], data: Mapping[str, Any]) -> Any:
    """A new regorus engine holding ``files`` and ``data`` as ``data.engagement``.

    The engine belongs to the calling thread (see the module docstring). Raises
    :class:`PolicyLoadError` with the file and line regorus reports.
    """
    engine = regorus.Engine()
    # print would otherwise write policy output (possibly input text) to stderr.
    engine.set_gather_prints(True)
    error = _load_into(engine, files, data)
    if error is not None:
        # Raised here, outside any except block and after the engine is gone, so neither
        # the exception's context nor its traceback keeps the engine alive: it would be
        # dropped on whichever thread collects the exception, which regorus refuses.
        del engine
        raise error
    return engine


def _load_into(
    engine: Any, files: Mapping[str, str], data: Mapping[str, Any]
) -> PolicyLoadError | None:
    for path, text in files.items():
        try:
            engine.add_policy(path, text)
        except BaseException as exc:
            return load_error(exc, default_file=path)
    try:
        engine.add_data_json(msgspec.json.encode({"engagement": data}).decode("utf-8"))
    except BaseException as exc:
        return load_error(exc, default_file=DATA_FILE)
    return None


def load_error(exc: BaseException, *, default_file: str | None) -> PolicyLoadError:
    """Translate a regorus error raised while loading; re-raise anything else."""
    if not is_engine_error(exc):
        raise exc
    message, location = _parse(exc)
    if location is None:
        return PolicyLoadError(message, file=default_file)
    file, line, column = location
    return PolicyLoadError(message, file=file, line=line, column=column)


def is_engine_error(exc: BaseException) -> bool:
    """An ordinary exception or a Rust panic, not KeyboardInterrupt or SystemExit."""
    return isinstance(exc, Exception) or type(exc).__name__ == "PanicException"


def describe(exc: BaseException) -> str:
    """One line for a person: ``file:line:col: message``, without source or backtrace."""
    message, location = _parse(exc)
    if location is not None:
        message = "{}:{}:{}: {}".format(*location, message)
    return message


def _parse(exc: BaseException) -> tuple[str, tuple[str, int, int] | None]:
    # The source excerpt is dropped because it can be a whole (long) line of policy,
    # and the message is capped because regorus quotes values, which can come from input.
    text = str(exc).split("Stack backtrace:", 1)[0]
    found = _MESSAGE.search(text)
    message = found["message"].strip() if found else " ".join(text.split())
    message = message or type(exc).__name__
    if type(exc).__name__ == "PanicException":
        message = f"engine panicked: {message}"
    if len(message) > _MAX_DETAIL:
        message = message[: _MAX_DETAIL - 1] + "…"
    where = _LOCATION.search(text)
    if where is None:
        return message, None
    return message, (where["file"], int(where["line"]), int(where["column"]))
