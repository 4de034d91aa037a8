"""The default bundle means the same on regorus (embedded engine) and on OPA itself.

OPA runs in-process through opa-golib-python-bindings (the real Go evaluator, no HTTP),
so a difference here is a bug in one engine or a policy construct that is not portable
(for example a regex feature Go's RE2 and Rust's regex read differently). Generated
inputs come from a seeded generator that walks every rule family; on a difference the
failure message holds the input and both answers, ready to turn into a Rego test.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
from opa_bindings import OpaEngine as GolibEngine
from opa_bindings import OpaError

from connectors.bluesky import MAX_GRAPHEMES, MAX_UTF8_BYTES, grapheme_count
from gateway.domain.decisions import Decision
from gateway.domain.policy_input import (
    AgentInput,
    Author,
    ChannelInput,
    CustomerInput,
    Intent,
    IntentScore,
    MentionInput,
    PolicyInput,
    ReplyInput,
    Thread,
)
from gateway.policy import EmbeddedEngine, PolicyBundle, load_bundle, run_policy_tests
from gateway.policy.bundle import build_bundle
from gateway.policy.replay import _replay_fast, replay_batch

POLICY_DIR = Path(__file__).resolve().parents[2] / "policies"
CASES = 400
SEED = 20250301

# Every reason the default bundle can give, and every frequency rule: the generator must
# reach them all, or the comparison proves less than it claims.
EXPECTED_CODES = {
    "opted_out", "nobot", "not_addressed", "intent_not_eligible", "frequency_cap",
    "blocked_term", "marketing_offer", "personal_data", "too_long", "legal_language",
    "sensitive_topic", "ai_generated", "author_is_bot", "possible_opt_out",
    "language_unsupported", "intent_overridden",
}  # fmt: skip
EXPECTED_FREQUENCY_RULES = {
    f"engagement.frequency.{name}"
    for name in ("per_customer_24h", "per_customer_7d", "per_customer_30d", "per_thread_unanswered")
}
EXPECTED_LENGTH_RULES = {"engagement.content.too_long", "engagement.content.too_long_bytes"}
_FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466"  # 1 grapheme, 25 bytes


@pytest.fixture(scope="module")
def bundle() -> PolicyBundle:
    return load_bundle(POLICY_DIR)


def _golib(files: dict[str, str], data: dict[str, Any]) -> GolibEngine:
    engine = GolibEngine()
    engine.print_handler = lambda message, location: None
    for path, text in files.items():
        engine.add_policy(path, text)
    engine.add_data(data, "engagement")
    return engine


@pytest.fixture(scope="module")
def opa_policy(bundle: PolicyBundle) -> Iterator[GolibEngine]:
    engine = _golib(bundle.policy_files, bundle.data)
    yield engine
    engine.close()


# --- (a) the bundle's Rego tests pass on OPA ---------------------------------------------


def test_every_rego_test_passes_on_opa_as_on_regorus(bundle: PolicyBundle) -> None:
    on_regorus = run_policy_tests(bundle)
    assert on_regorus.ok, [r for r in on_regorus.results if not r.passed]
    tests: dict[str, set[str]] = {}
    for result in on_regorus.results:
        tests.setdefault(result.package, set()).add(result.name)

    engine = _golib(bundle.files, bundle.data)
    try:
        failed: dict[str, str] = {}
        for package, names in tests.items():
            failed.update(_failures_on_opa(engine, package, names))
    finally:
        engine.close()

    assert sum(len(names) for names in tests.values()) == on_regorus.passed
    assert not failed, f"Rego tests that pass on regorus but not on OPA: {failed}"


def _failures_on_opa(engine: GolibEngine, package: str, names: set[str]) -> dict[str, str]:
    """name -> why, for each test of ``package`` that is not exactly true on OPA.

    The package document is evaluated once (preparing a query costs OPA ~0.2 s, one per
    test would take ~20 s); a test is in it with value true only when it passed. On an
    evaluation error the tests are run one by one to name the culprit.
    """
    try:
        document = engine.eval_document(package)
    except OpaError:
        document = None
    failures: dict[str, str] = {}
    for name in sorted(names):
        if document is not None:
            value = document.get(name, "<undefined>")
        else:
            try:
                value = engine.eval_document(f"{package}.{name}")
            except OpaError as exc:
                value = f"error: {exc}"
        if value is not True:
            failures[f"{package}.{name}"] = json.dumps(value)[:300]
    extra = {k for k, v in (document or {}).items() if k.startswith("test_") and v is True}
    failures.update({f"{package}.{k}": "passes on OPA, unknown to regorus" for k in extra - names})
    return failures


# --- (b) generated inputs decide the same ------------------------------------------------


async def test_generated_inputs_decide_the_same_on_both_engines(
    bundle: PolicyBundle, opa_policy: GolibEngine
) -> None:
    rng = random.Random(SEED)
    inputs = [_generate(rng, bundle.data) for _ in range(CASES)]
    embedded = EmbeddedEngine(bundle)
    try:
        differences: list[str] = []
        decisions: list[Decision] = []
        for policy_input in inputs:
            ours = await embedded.decide(policy_input)
            assert ours.error is None, ours.error
            decisions.append(ours)
            theirs = opa_policy.eval_document(
                "engagement.decision", msgspec.to_builtins(policy_input)
            )
            if _comparable(ours) != _comparable_json(theirs):
                differences.append(_describe(policy_input, ours, theirs))
    finally:
        await embedded.close()

    assert not differences, f"{len(differences)} of {CASES} differ:\n" + "\n".join(differences[:5])
    seen_codes = {r.code for d in decisions for r in d.reasons}
    seen_rules = {r.rule for d in decisions for r in d.reasons}
    assert seen_codes >= EXPECTED_CODES, EXPECTED_CODES - seen_codes
    assert seen_rules >= EXPECTED_FREQUENCY_RULES, EXPECTED_FREQUENCY_RULES - seen_rules
    assert seen_rules >= EXPECTED_LENGTH_RULES, EXPECTED_LENGTH_RULES - seen_rules
    assert {d.outcome for d in decisions} == {"allow", "review", "deny"}
    assert sum(d.outcome == "allow" for d in decisions) >= CASES // 20


def _comparable(decision: Decision) -> tuple[str, list[tuple[str, str, str]]]:
    # The policy sorts reasons, so order is compared too (a difference would be a bug).
    return decision.outcome, [(r.code, r.rule, r.message) for r in decision.reasons]


def _comparable_json(answer: Any) -> tuple[str, list[tuple[str, str, str]]]:
    return answer["outcome"], [(r["code"], r["rule"], r["message"]) for r in answer["reasons"]]


def _describe(policy_input: PolicyInput, ours: Decision, theirs: Any) -> str:
    return (
        f"input: {msgspec.json.encode(policy_input).decode()}\n"
        f"  regorus: {ours.outcome} {[(r.code, r.message) for r in ours.reasons]}\n"
        f"  OPA:     {theirs['outcome']} {[(r['code'], r['message']) for r in theirs['reasons']]}"
    )


# --- (b2) replies to bots, with the tunable each way -------------------------------------


@pytest.mark.parametrize("action", ["deny", "review", "unknown"])
@pytest.mark.parametrize("bot", [True, False], ids=["bot", "person"])
async def test_bot_authors_decide_the_same_on_both_engines(
    bundle: PolicyBundle, action: str, bot: bool
) -> None:
    # "unknown": a tunable that is neither deny nor review must deny (fail closed).
    tuned = build_bundle(bundle.files, {**bundle.data, "bots": {"action": action}})
    policy_input = _clean_input(bot=bot)
    opa = _golib(tuned.policy_files, tuned.data)
    embedded = EmbeddedEngine(tuned)
    try:
        ours = await embedded.decide(policy_input)
        theirs = opa.eval_document("engagement.decision", msgspec.to_builtins(policy_input))
    finally:
        await embedded.close()
        opa.close()
    assert _comparable(ours) == _comparable_json(theirs)
    expected = "review" if action == "review" else "deny"
    assert ours.outcome == (expected if bot else "allow")
    assert [r.code for r in ours.reasons] == (["author_is_bot"] if bot else [])


# --- (c) known differences, reported and kept visible -------------------------------------

# Characters where Go's regexp / strings.ToLower and Rust's regex / to_lowercase disagree,
# so the default bundle decides differently on OPA. The generator above avoids them; each
# case here fails (xfail) until the policy is made portable, then passes and must be
# moved out of this list (strict).
# Found by this test and fixed in the policy (data.json spells out the no-break spaces,
# since \s is Unicode in regorus and ASCII in Go): now both engines must deny.
# Term lists are matched in folded text (accented Latin letters as ASCII, text.rego), so a
# term next to an accented letter reads the same on both engines: both must deny.
FIXED_DIFFERENCES = {
    "nbsp-before-percent": ({"reply": "Here is 20\u00a0% off."}, "marketing_offer"),
    "narrow-nbsp-before-percent": ({"reply": "Here is 20\u202f% off."}, "marketing_offer"),
    "term-before-accented-letter": ({"reply": "That was stupidé."}, "blocked_term"),
}

KNOWN_DIFFERENCES = {
    # \b is Unicode in regorus, ASCII in Go: a marker glued to a non-ASCII letter is a
    # whole word on OPA only (markers are not folded; terms are).
    "marker-before-accented-letter": {"display_name": "Zoë #nobotñ"},
    # lower("İ") is "i" + U+0307 in Rust, "i" in Go.
    "turkish-dotted-capital-i": {"reply": "İDİOT"},
}


@pytest.mark.parametrize("case", sorted(FIXED_DIFFERENCES))
async def test_fixed_difference(case: str, bundle: PolicyBundle, opa_policy: GolibEngine) -> None:
    change, code = FIXED_DIFFERENCES[case]
    ours, theirs = await _both(change, bundle, opa_policy)
    assert _comparable(ours) == _comparable_json(theirs)
    assert code in [reason.code for reason in ours.reasons]


@pytest.mark.parametrize("case", sorted(KNOWN_DIFFERENCES))
@pytest.mark.xfail(strict=True, raises=AssertionError, reason="not portable: see the case")
async def test_known_difference(case: str, bundle: PolicyBundle, opa_policy: GolibEngine) -> None:
    ours, theirs = await _both(KNOWN_DIFFERENCES[case], bundle, opa_policy)
    assert _comparable(ours) == _comparable_json(theirs), (ours, theirs)


# Reason order and byte limits: both engines list the same reasons in the order the policy
# promises (most final first: consent, eligibility, caps, content, then review reasons),
# and both refuse a Bluesky reply within 300 graphemes but over 3,000 bytes.
_BLUESKY = ChannelInput(
    name="bluesky", max_length=MAX_GRAPHEMES, length_unit="graphemes", max_bytes=MAX_UTF8_BYTES
)
NAMED_CASES: dict[str, tuple[dict[str, Any], list[str]]] = {
    "opted-out-before-intent": (
        {"opted_out": True, "intent": "praise"},
        ["opted_out", "intent_not_eligible"],
    ),
    "consent-caps-content-review": (
        {"opted_out": True, "contacts_24h": 3, "reply": "Calm down. 20% off!", "ai": True},
        ["opted_out", "frequency_cap", "blocked_term", "marketing_offer", "ai_generated"],
    ),
    "bluesky-125-graphemes-3029-bytes": (
        {"channel": _BLUESKY, "reply": "Yes " + _FAMILY * 121},
        ["too_long"],
    ),
    "bluesky-3000-bytes": ({"channel": _BLUESKY, "reply": "Yes " + _FAMILY * 119 + "." * 21}, []),
    "bluesky-bytes-from-data": (
        {
            "channel": ChannelInput(name="bluesky", length_unit="graphemes"),
            "reply": "Yes " + _FAMILY * 121,
        },
        ["too_long"],
    ),
}


@pytest.mark.parametrize("case", sorted(NAMED_CASES))
async def test_reason_order_and_byte_limits_agree(
    case: str, bundle: PolicyBundle, opa_policy: GolibEngine
) -> None:
    change, codes = NAMED_CASES[case]
    base = _clean_input()
    reply_text = change.get("reply", base.reply.text)
    channel = change.get("channel", base.channel)
    unit_length = (
        grapheme_count(reply_text) if channel.length_unit == "graphemes" else len(reply_text)
    )
    policy_input = msgspec.structs.replace(
        base,
        mention=msgspec.structs.replace(base.mention, intent=change.get("intent", "complaint")),
        reply=ReplyInput(
            text=reply_text,
            length=unit_length,
            links=[],
            ai_generated=change.get("ai", False),
            bytes=len(reply_text.encode()),
        ),
        customer=msgspec.structs.replace(
            base.customer,
            opted_out=change.get("opted_out", False),
            contacts_24h=change.get("contacts_24h", 0),
            contacts_7d=change.get("contacts_24h", 0),
            contacts_30d=change.get("contacts_24h", 0),
        ),
        channel=channel,
    )
    ours, theirs = await _decide_both(policy_input, bundle, opa_policy)
    assert _comparable(ours) == _comparable_json(theirs)
    assert [reason.code for reason in ours.reasons] == codes
    if case == "bluesky-125-graphemes-3029-bytes":
        assert (policy_input.reply.length, policy_input.reply.bytes) == (125, 3029)
        assert "3029 bytes (limit 3000)" in ours.reasons[0].message


async def _both(
    change: dict[str, str], bundle: PolicyBundle, opa_policy: GolibEngine
) -> tuple[Any, Any]:
    reply = change.get("reply", "Sorry about the wait, we are on it.")
    display_name = change.get("display_name", "Zoë")
    policy_input = _clean_input(reply=reply, display_name=display_name)
    return await _decide_both(policy_input, bundle, opa_policy)


async def _decide_both(
    policy_input: PolicyInput, bundle: PolicyBundle, opa_policy: GolibEngine
) -> tuple[Any, Any]:
    embedded = EmbeddedEngine(bundle)
    try:
        ours = await embedded.decide(policy_input)
    finally:
        await embedded.close()
    theirs = opa_policy.eval_document("engagement.decision", msgspec.to_builtins(policy_input))
    return ours, theirs


def _clean_input(
    *,
    reply: str = "Sorry about the wait, we are on it.",
    display_name: str = "Zoë",
    bot: bool = False,
    possible_opt_out: bool = False,
) -> PolicyInput:
    return PolicyInput(
        mention=MentionInput(
            id=1,
            channel="mastodon",
            author=Author(handle="@zoe@social.example", display_name=display_name, bot=bot),
            text="@acme my parcel is a week late",
            intent="complaint",
            sentiment=0.0,
            addressed_brand=True,
            thread=Thread(id="t1"),
            created_at="2025-03-01T10:00:00Z",
            possible_opt_out=possible_opt_out,
        ),
        reply=ReplyInput(text=reply, length=len(reply), links=[], bytes=len(reply.encode())),
        agent=AgentInput(id="agent-7", roles=["agent"]),
        customer=CustomerInput(
            opted_out=False, contacts_24h=0, contacts_7d=0, contacts_30d=0,
            last_contact_at=None, thread_replies=0, replied_since_last_contact=False,
        ),
        channel=ChannelInput(name="mastodon"),
        now="2025-03-01T10:05:00Z",
    )  # fmt: skip


@pytest.mark.parametrize("possible", [True, False], ids=["possible", "none"])
async def test_possible_opt_out_decides_the_same_on_both_engines(
    bundle: PolicyBundle, opa_policy: GolibEngine, possible: bool
) -> None:
    policy_input = _clean_input(possible_opt_out=possible)
    embedded = EmbeddedEngine(bundle)
    try:
        ours = await embedded.decide(policy_input)
    finally:
        await embedded.close()
    theirs = opa_policy.eval_document("engagement.decision", msgspec.to_builtins(policy_input))
    assert _comparable(ours) == _comparable_json(theirs)
    assert ours.outcome == ("review" if possible else "allow")
    assert [r.code for r in ours.reasons] == (["possible_opt_out"] if possible else [])


# --- the generator -----------------------------------------------------------------------

_MENTIONS: dict[Intent, list[str]] = {
    "complaint": [
        "@acme my order #4411 still hasn't arrived after three weeks, this is terrible",
        "@acme the app crashes every time I try to pay. Fix it!",
        "@Acme charged twice for one ticket and nobody answers the phone",
        "@acme this cost me 80 euros and broke in a week",
        "@acme your courier left the parcel in the rain 😡",
    ],
    "question": [
        "@acme when does the Leeds store open?",
        "@acme how much is shipping to Ireland?",
        "@acme do you have a discount for students?",
        "@acme is the sale still on this weekend?",
        "@acme how do I reset my router?",
        "@acme what does error code E42 mean?",
    ],
    "praise": [
        "@acme thanks, the new sofa is lovely!",
        "@acme great service in the Bath store today 🙂",
    ],
    "other": ["@acme lol", "saw an acme van on the motorway", "acme's new ad is everywhere"],
}
_REPLIES = [
    "Sorry about that, {name}. We are sending a replacement today.",
    "Thanks for telling us. Could you send us a DM with your order number?",
    "We have escalated this with the courier and will update you by Friday.",
    "Hold the reset button for 10 seconds, then wait for the green light.",
    "The Leeds store opens on 3 May at 9:00.",
    "Shipping to Ireland is 4.99 and takes two days.",
]
_INTENTS: tuple[Intent, ...] = ("complaint", "question", "praise", "other")
_NAMES = ["Dana", "Zoë", "José", "Ann", "Łukasz", "Siobhán", "Chen"]
_NOBOT = [
    ("#nobot", True), ("#NoBot!", True), ("(#NOAI)", True), ("#nobots", True),
    ("#nobotany", False), ("nobot", False), ("#noads", False),
]  # fmt: skip
_NEAR_MISSES = ["dumbbell", "scrap the old order", "in pursuit of", "the issue is", "courtesy"]
_MARKETING = [
    "Here is 20% off your next order.", "Use code SORRY10 at checkout.", "We sent you a COUPON.",
    "Our summer sale ends Sunday!", "Limited-time offer: buy now!", "Grab a promo code here.",
    "Take 15 percent off.", "Everything is on sale today.",
]  # fmt: skip
_LINKS = [
    ("https://shop.example.com/Summer-Sale/", True),
    ("https://shop.example.com/deals?ref=tw", True),
    ("https://acme.example/promo/spring", True),
    ("https://example.com/help/reset", False),
    ("https://acme.example/orders/4411", False),
]
_PII = {
    "email": ("dana.k@example.org", "Dana.K@Example.org"),
    "phone": ("555 123 4567", "(555) 123-4567"),
    "card": ("4111 1111 1111 1111", "4111-1111-1111-1111"),
    "iban": ("GB82WEST12345698765432", "GB82 WEST 1234 5698 7654 32"),
    "ssn": ("123-45-6789", "123-45-6789"),
}
_LEGAL = [
    "lawyer",
    "Cease-and-desist",
    "small claims court",
    "GDPR",
    "I will SUE",
    "ombudsman",
    "sued them",
    "my lawyers",
    "Abogados",
    "mi abogado",
    "mein Anwalt",
    "Rechtsanwältin",
    "un avocat",
    "porter plainte",
    "um advogado",
    "processo judicial",
    "LITIGATION",
]
_SENSITIVE = [
    "my doctor",
    "side effects",
    "bitcoin",
    "mortgage",
    "self harm",
    "allergic",
    "medically",
    "prescribed",
    "investing",
    "diagnosed",
    "médico",
    "Ärztin",
    "santé",
    "saúde",
    "medicamentos",
    "Schwangerschaft",
    "suicidal",
    "préstamos",
    "MEDICATION",
]
_FORM_NEAR_MISSES = ["comedic", "investigate", "pursue", "issue", "courtesy", "predicated"]
_CHANNELS = ["mastodon", "bluesky", "demo", "webhook", "rss", "email"]  # rss/email: default limit
_FILLER = " We will keep you posted on every step."


def _generate(rng: random.Random, data: dict[str, Any]) -> PolicyInput:
    intent = rng.choices(_INTENTS, weights=(4, 4, 1, 1))[0]
    name = rng.choice(_NAMES)
    mention = rng.choice(_MENTIONS[intent])
    reply = rng.choice(_REPLIES).format(name=name)
    display_name, description = name, rng.choice(["", "Cyclist.", "Gardener. Opinions mine."])
    links: list[str] = []

    def chance(p: float) -> bool:
        return rng.random() < p

    if chance(0.12):
        marker = rng.choice(_NOBOT)[0]
        where = rng.randrange(3)
        if where == 0:
            display_name = f"{name} {marker}"
        elif where == 1:
            description = f"{description} {marker}".strip()
        else:
            mention = f"{mention} {marker}"
    if chance(0.12):
        term = rng.choice(data["blocked_terms"])
        reply = f"{reply} {term.upper() if chance(0.3) else term.replace(' ', '-')}."
    if chance(0.1):
        reply = f"{reply} Try the {rng.choice(_NEAR_MISSES)}."
    if chance(0.15):
        reply = f"{reply} {rng.choice(_MARKETING)}"
    if chance(0.15):
        link, _ = rng.choice(_LINKS)
        links.append(link)
        reply = f"{reply} See {link}"
    if chance(0.15):
        shared, echoed = _PII[rng.choice(sorted(_PII))]
        if chance(0.5):
            mention = f"{mention} Reach me at {shared}"
        reply = f"{reply} We noted {echoed if chance(0.5) else shared}."
    if chance(0.1):
        text = rng.choice(_LEGAL)
        if chance(0.5):
            mention = f"{mention} {text}"
        else:
            reply = f"{reply} Our {text.lower()} team is aware."
    if chance(0.1):
        text = rng.choice(_SENSITIVE)
        if chance(0.5):
            mention = f"{mention}, {text}"
        else:
            reply = f"{reply} About {text}: please see a professional."

    channel = rng.choice(_CHANNELS)
    max_length = rng.choice([None, None, None, 280, 500, 1000])
    limits = data["channel_limits"]
    limit = max_length if max_length is not None else limits.get(channel, limits["default"])
    if chance(0.15):
        reply = _to_length(reply, limit + rng.choice([-1, 0, 1]))
    length_unit, max_bytes = "characters", None
    if chance(0.08):  # Bluesky as its publisher declares it: graphemes, and UTF-8 bytes
        channel, max_length, length_unit = "bluesky", MAX_GRAPHEMES, "graphemes"
        max_bytes = rng.choice([MAX_UTF8_BYTES, None])  # None: data's channel_byte_limits
        reply = _to_bytes(reply, MAX_UTF8_BYTES + rng.choice([-1, 0, 1, 29]))
    length = grapheme_count(reply) if length_unit == "graphemes" else len(reply)

    mention_id = rng.randrange(1, 10_000)
    return PolicyInput(
        mention=MentionInput(
            id=mention_id,
            channel=channel,
            author=Author(
                handle=f"@{name.lower()}@social.example",
                display_name=display_name,
                bot=chance(0.05),
                description=description,
            ),
            text=mention,
            sentiment=round(rng.uniform(-1, 1), 3),
            addressed_brand=chance(0.9),
            thread=Thread(id=f"t{rng.randrange(100)}", in_reply_to=rng.choice([None, "p1"])),
            created_at="2025-03-01T10:00:00Z",
            visibility=rng.choice([None, "public", "unlisted"]),
            is_direct=chance(0.05),
            # from a value already drawn, so adding it left every other draw unchanged
            possible_opt_out=mention_id % 13 == 0,
            # the same for the classifier's fields (issue 13)
            **_classified(intent, mention_id),
        ),
        reply=ReplyInput(
            text=reply,
            length=length,
            links=links,
            ai_generated=chance(0.15),
            bytes=len(reply.encode()),
        ),
        agent=AgentInput(id="agent-7", roles=["agent"]),
        customer=_customer(rng, data["caps"]),
        channel=ChannelInput(
            name=channel, max_length=max_length, length_unit=length_unit, max_bytes=max_bytes
        ),
        now="2025-03-01T10:05:00Z",
    )


def _classified(intent: Intent, mention_id: int) -> dict[str, Any]:
    """language, intents and flagged_intent from the intent and id already drawn."""
    fields: dict[str, Any] = {"language": "en", "intent": intent}
    if mention_id % 19 == 0:  # a language the classifier does not read
        fields.update(
            intent="unknown", language="it", intents=[IntentScore(intent="unknown", score=1.0)]
        )
        return fields
    intents = [IntentScore(intent=intent, score=0.8)]
    if mention_id % 5 == 0:  # a second intent, either side of min_intent_score
        second: Intent = "complaint" if intent != "complaint" else "question"
        intents.append(IntentScore(intent=second, score=0.4 if mention_id % 2 else 0.6))
    fields["intents"] = intents
    if mention_id % 17 == 0:
        fields["flagged_intent"] = "complaint" if intent != "complaint" else "other"
    return fields


def _customer(rng: random.Random, caps: dict[str, int]) -> CustomerInput:
    # Counts straddle each cap (cap - 1, cap, cap + 1) and stay consistent (24 h <= 7 d <= 30 d).
    def near(cap: str) -> list[int]:
        return [caps[cap] - 1, caps[cap], caps[cap] + 1]

    if rng.random() < 0.6:  # a customer we rarely answer
        c24, c7, c30, thread_replies = 0, rng.choice([0, 1]), rng.choice([1, 2]), 0
    else:
        c24 = rng.choice([0, 1, *near("per_customer_24h")])
        c7 = max(c24, rng.choice([0, c24, *near("per_customer_7d")]))
        c30 = max(c7, rng.choice([c7, c7, *near("per_customer_30d")]))
        thread_replies = rng.choice([0, *near("per_thread_unanswered")])
    return CustomerInput(
        opted_out=rng.random() < 0.08,
        contacts_24h=c24,
        contacts_7d=c7,
        contacts_30d=c30,
        last_contact_at="2025-02-28T09:00:00Z" if c30 or thread_replies else None,
        thread_replies=thread_replies,
        replied_since_last_contact=rng.random() < 0.5,
    )


def _to_length(text: str, length: int) -> str:
    while len(text) < length:
        text += _FILLER
    return text[:length]


def _to_bytes(text: str, size: int) -> str:
    """``text`` padded with emoji families, then dots, to exactly ``size`` UTF-8 bytes."""
    while len(text.encode()) + len(_FAMILY.encode()) <= size:
        text += _FAMILY
    return text + "." * (size - len(text.encode()))


async def test_bulk_replay_vm_agrees_with_the_live_interpreter(bundle: PolicyBundle) -> None:
    """Impact analysis replays with regorus's compiled VM for speed; on the generated
    inputs it must give exactly what the interpreter (the live engine) gives."""
    rng = random.Random(SEED + 1)
    inputs = [msgspec.json.encode(_generate(rng, bundle.data)).decode() for _ in range(CASES)]
    fast = _replay_fast(bundle, inputs)  # None would mean it fell back to the interpreter
    [slow] = replay_batch([bundle], inputs, fast=False)
    assert fast is not None and fast == slow
    assert {code for r in fast for code in r.codes} >= EXPECTED_CODES - {"policy_error"}


# --- (d) word forms and accents in the shipped term lists (issue 13) ----------------------

_FORMS: list[tuple[str, str | None]] = [
    *[(text, "legal_language") for text in _LEGAL],
    *[(text, "sensitive_topic") for text in _SENSITIVE],
    *[(text, None) for text in _FORM_NEAR_MISSES],
    ("Only IDIOTS say that", "blocked_term"),
    ("¡Qué estupidez!", "blocked_term"),
    ("Ça, c'est débile", "blocked_term"),
]


@pytest.mark.parametrize(("text", "code"), _FORMS, ids=[t for t, _ in _FORMS])
async def test_word_forms_decide_the_same_on_both_engines(
    bundle: PolicyBundle, opa_policy: GolibEngine, text: str, code: str | None
) -> None:
    policy_input = _clean_input(reply=f"Thanks for writing. {text}.")
    embedded = EmbeddedEngine(bundle)
    try:
        ours = await embedded.decide(policy_input)
    finally:
        await embedded.close()
    theirs = opa_policy.eval_document("engagement.decision", msgspec.to_builtins(policy_input))
    assert _comparable(ours) == _comparable_json(theirs), _describe(policy_input, ours, theirs)
    codes = [r.code for r in ours.reasons]
    assert codes == ([code] if code else []), codes
