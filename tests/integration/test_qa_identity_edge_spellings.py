"""QA: spellings of one Mastodon identity that the first identity tests did not try.

A host written as a fully qualified name (``social.example.``) or in its Unicode form
(``bücher.example``, which Mastodon stores as the punycode ``xn--bcher-kva.example``) is the
same instance: an opt-out registered in one spelling must stop a reply to the other, over
HTTP against the real database and the default Rego policy.
"""

from __future__ import annotations

import pytest

from tests.integration.test_identity_api import (  # the same server, users and helpers
    Api,
    decision_codes,
    ingest,
    mention,
    opt_out,
)
from tests.integration.test_identity_api import api as api  # the fixture

SPELLINGS = [
    ("@zed@social.example.", "@zed@social.example"),  # trailing dot: the FQDN
    ("@zed@social.example", "zed@SOCIAL.EXAMPLE."),
    ("@ulla@bücher.example", "@ulla@xn--bcher-kva.example"),  # Unicode host vs punycode
    ("@ulla@xn--bcher-kva.example", "ULLA@BÜCHER.example"),
]


@pytest.mark.parametrize(("registered", "written"), SPELLINGS)
async def test_an_opt_out_holds_for_another_spelling_of_the_instance(
    api: Api,
    registered: str,
    written: str,
) -> None:
    answer = await opt_out(api, registered)
    assert answer.status_code == 201, answer.text
    [mention_id] = await ingest(api, mention(written))
    outcome, codes = await decision_codes(api, mention_id)
    assert (outcome, "opted_out" in codes) == ("deny", True), (registered, written, codes)


async def test_the_canonical_instance_has_no_trailing_dot_and_is_ascii(
    api: Api,
) -> None:
    assert (await opt_out(api, "@zed@Social.Example.")).json()["handle"] == "zed@social.example"
    answer = await opt_out(api, "@ulla@Bücher.example")
    assert answer.json()["handle"] == "ulla@xn--bcher-kva.example"
