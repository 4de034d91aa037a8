"""Every CLI command explains each of its options; the top-level help names every group."""

from __future__ import annotations

import argparse
from collections.abc import Iterator

from gateway.__main__ import _parser


def _commands(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                yield from _commands(child, (*path, name))


def test_every_command_and_option_has_help_text() -> None:
    missing: list[str] = []
    commands = list(_commands(_parser()))
    assert len(commands) > 30  # the walk reached the nested commands
    for path, parser in commands:
        for action in parser._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            if isinstance(action, argparse._SubParsersAction):
                helps = {c.dest: c.help for c in action._choices_actions}
                missing += [f"{' '.join(path)} {n}" for n in action.choices if not helps.get(n)]
                continue
            if not (action.help or "").strip() or action.help == argparse.SUPPRESS:
                name = "/".join(action.option_strings) or action.dest
                missing.append(f"{' '.join(path) or '(top)'} {name}")
    assert missing == []


def test_options_with_a_default_or_variable_say_so() -> None:
    for path, parser in _commands(_parser()):
        for action in parser._actions:
            if not action.option_strings or isinstance(action, argparse._HelpAction):
                continue
            if action.dest == "person_token":
                assert "GATEWAY_TOKEN" in (action.help or ""), path
            if action.default not in (None, False, argparse.SUPPRESS) and not action.required:
                shown = str(action.default)
                assert shown in (action.help or ""), (path, action.dest, action.default)


def test_the_top_level_help_lists_every_command_group() -> None:
    parser = _parser()
    text = parser.format_help()
    description = parser.description or ""
    [groups] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    assert set(groups.choices) >= {"serve", "worker", "migrate", "users", "policy", "sources"}
    for name in groups.choices:
        assert name in description, name
        assert f"\n    {name} " in text, name
    assert "GATEWAY_TOKEN" in text and "DATABASE_URL" in text
