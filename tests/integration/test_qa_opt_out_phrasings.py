"""QA: opt-out phrasings written after the detector landed, none of them in tests/data.

End to end (ingest, store, real Rego policy):

- a customer asking why the brand went silent ("why did you stop replying to me? I need
  help") wants an answer: registering a permanent opt-out for them is the false positive the
  issue warns about, and it silences a customer who asked for help;
- formal requests that name consent or objection ("I withdraw my consent to be contacted",
  "I object to receiving messages from you", "add me to your do not contact list") are the
  words a customer who knows their rights uses: they must register an opt-out; so must
  "your bot replied to me again. I told you to stop".
"""

from __future__ import annotations

import pytest

from gateway.domain.records import User
from gateway.runtime import Runtime
from tests.integration.support import GOOD_REPLY, raw

ASKING_FOR_AN_ANSWER = [
    "@acme why did you stop replying to me? I need help",
    "@acme did you stop answering me? still no refund",
    "@acme why'd you stop messaging me back?",
    "@acme pourquoi avez-vous arrêté de me répondre ?",
    "@acme vous avez arrêté de me répondre, j'attends toujours mon colis",
]

FORMAL_REQUESTS = [
    "@acme I withdraw my consent to be contacted",
    "@acme I revoke my consent, do not process my data for marketing",
    "@acme I object to receiving messages from you",
    "@acme I do not consent to being contacted",
    "@acme add me to your do not contact list",
    "@acme put me on your do-not-contact list",
    # A bare "stop" after "I told you to", in a post about the bot's replies.
    "@acme your bot replied to me again. I told you to stop",
]


@pytest.mark.parametrize("text", ASKING_FOR_AN_ANSWER)
async def test_asking_why_replies_stopped_is_no_opt_out(
    runtime: Runtime, agent: User, text: str
) -> None:
    result = await runtime.ingestor.ingest([raw(text, handle="@ida@social.example")], actor="t")
    assert result.opt_outs == 0, text
    proposal = await runtime.decider.propose(mention_id=result.ids[0], text=GOOD_REPLY, user=agent)
    assert "opted_out" not in [r["code"] for r in proposal.reasons], text


@pytest.mark.parametrize("text", FORMAL_REQUESTS)
async def test_a_formal_objection_registers_an_opt_out(
    runtime: Runtime, agent: User, text: str
) -> None:
    result = await runtime.ingestor.ingest([raw(text, handle="@ola@social.example")], actor="t")
    assert result.opt_outs == 1, text
    proposal = await runtime.decider.propose(mention_id=result.ids[0], text=GOOD_REPLY, user=agent)
    assert proposal.status == "denied" and "opted_out" in [r["code"] for r in proposal.reasons]
