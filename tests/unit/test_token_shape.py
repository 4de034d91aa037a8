"""API tokens can be typed after --token: they never start with "-".

URL-safe base64 starts with "-" once in 64 tokens, and argparse then reads
``--token -Xy...`` as a missing value ("expected one argument"): one user in 64 could not
use the CLI's --token at all. Tokens carry a fixed prefix instead.
"""

from __future__ import annotations

from gateway.__main__ import _parser
from gateway.cli_auth import TOKEN_DEST
from gateway.pipeline.accounts import TOKEN_PREFIX, new_token


def test_tokens_carry_the_prefix_and_enough_randomness() -> None:
    tokens = {new_token() for _ in range(500)}
    assert len(tokens) == 500
    for token in tokens:
        assert token.startswith(TOKEN_PREFIX)
        assert len(token) - len(TOKEN_PREFIX) >= 43  # 256 bits, URL-safe base64


def test_every_token_is_accepted_after_token_on_the_command_line() -> None:
    parser = _parser()
    for _ in range(500):
        token = new_token()
        args = parser.parse_args(["policy", "activate", "sha256:abc", "--token", token])
        assert getattr(args, TOKEN_DEST) == token
