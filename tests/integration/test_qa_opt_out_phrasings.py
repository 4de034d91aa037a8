"""QA: opt-out phrasings written after the detector landed (the first pass is in none of
tests/data; the second pass has its neighbours in the `qa` split there).

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


# Second QA pass (tests/data/README.md, split ``qa``): requests the detector missed (a bare
# "no DMs", a polite conditional, the German formal imperative, legal words, look-alike
# letters, digits for letters, letters typed one at a time) ...
SECOND_PASS_REQUESTS = [
    "@acme no DMs",
    "@acme no DMs please",
    "@acme I'd appreciate it if you stopped messaging me",
    "@acme Hören Sie auf, mich anzuschreiben",
    "@acme cease and desist contacting me",
    "@acme \u0455top",  # a Cyrillic U+0455 for the s
    "@acme \u0455top messaging me",
    "@acme st0p messaging me",
    "@acme s t o p messaging me",
]
# ... and a complaint about an order that asks for a reply, which was registered as a
# permanent opt-out.
SECOND_PASS_COMPLAINTS = [
    "@acme please stop sending me the wrong size and reply to my DM",
]


@pytest.mark.parametrize("text", SECOND_PASS_REQUESTS)
async def test_second_pass_requests_register_an_opt_out(
    runtime: Runtime, agent: User, text: str
) -> None:
    result = await runtime.ingestor.ingest([raw(text, handle="@pia@social.example")], actor="t")
    assert result.opt_outs == 1, text
    proposal = await runtime.decider.propose(mention_id=result.ids[0], text=GOOD_REPLY, user=agent)
    assert proposal.status == "denied" and "opted_out" in [r["code"] for r in proposal.reasons]


@pytest.mark.parametrize("text", SECOND_PASS_COMPLAINTS)
async def test_a_complaint_asking_for_a_reply_registers_no_opt_out(
    runtime: Runtime, agent: User, text: str
) -> None:
    result = await runtime.ingestor.ingest([raw(text, handle="@quin@social.example")], actor="t")
    assert result.opt_outs == 0, text
    proposal = await runtime.decider.propose(mention_id=result.ids[0], text=GOOD_REPLY, user=agent)
    assert "opted_out" not in [r["code"] for r in proposal.reasons], text
    assert "possible_opt_out" not in [r["code"] for r in proposal.reasons], text
