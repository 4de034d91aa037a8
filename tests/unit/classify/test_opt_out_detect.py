"""The opt-out detector's building blocks: normalisation, offsets, negation, mood."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gateway.pipeline import opt_out_detect as module
from gateway.pipeline.opt_out_detect import detect_opt_out, normalize

DATA = Path(__file__).resolve().parents[2] / "data" / "opt_out_requests.jsonl"
ODD = [
    "", "   ", "!!!", "@acme", "ß straße", "\uff33\uff34\uff2f\uff30", "e\u0301te",
    "stooooop   it!!",
    "a||b", "#", "a #b", "\u200b", "\U0001f44d\U0001f3fd stop", "\u0130stanbul", "\ufb01ne",
    "x\ny\n\nz", "don\u2019t @ me", "https://x.example/stop?me=1 hi", "@a@b.example stop",
    "s t o p", "a b  c d", "s t | o p", "st0p 1t 4ll", "\u0405T\u041e\u0420", "x s t o p y",
]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "flat"),
    [
        ("@acme STOPPPP replying to me omg", "stop replying to me omg"),
        ("Stop. Messaging. Me.", "stop | messaging | me"),
        ("Laissez-moi TRANQUILLE!!", "laissez moi tranquille"),
        ("#OptOut @acme", "optout"),
        ("HÖRT AUF MICH ZU SPAMMEN", "hort auf mich zu spammen"),
        ("don\u2019t reply https://x.example/a?b", "don't reply"),
        ("\uff33\uff54\uff4f\uff50\u200b now", "stop now"),  # full-width, zero-width space
        ("STOPP", "stopp"),  # a letter written twice stays twice
        ("dejá de mandarme notificaciones", "deja de mandarme notificaciones"),
        ("quit @ing me", "quit @ing me"),  # "@ing" is a verb, not a mention
        # look-alike letters of other scripts read as Latin (Cyrillic \u0455, \u043e, \u0440)
        ("\u0455top messaging me", "stop messaging me"),
        ("ST\u041e\u0420 tagging me", "stop tagging me"),
        # a digit inside a word is a letter; at a word's edge it stays a digit
        ("st0p m3ssaging me", "stop messaging me"),
        ("b4 5 days mp3", "b4 5 days mp3"),
        # letters typed one at a time (three or more) are one word; two stay apart
        ("s t o p messaging me", "stop messaging me"),
        ("S-T-O-P", "stop"),
        ("no d m", "no d m"),
    ],
)
def test_normalisation(text: str, flat: str) -> None:
    assert normalize(text)[0] == flat


def test_fast_and_offset_normalisations_agree() -> None:
    texts = [json.loads(line)["text"] for line in DATA.read_text(encoding="utf-8").splitlines()]
    for text in texts + ODD:
        flat, where = normalize(text)
        assert module._flat(text) == flat, text
        assert len(where) == len(flat)
        assert where == sorted(where)


@pytest.mark.parametrize(
    ("text", "signal"),
    [
        # negation and mood: who is stopping what
        ("@acme your bot won't stop messaging me", "requested"),
        ("@acme please don't stop replying to me, you're so helpful", "none"),
        ("@acme I can't stop tagging you in memes", "none"),
        ("@acme su bot no para de responderme", "requested"),
        ("@acme no dejen de responderme", "none"),
        ("@acme votre bot n'arrête pas de me répondre", "requested"),
        ("@acme não parem de me responder, vocês são ótimos", "none"),
        ("@acme you never reply to my DMs", "none"),
        ("@acme why don't you message me back", "none"),
        ("@acme ihr antwortet mir nicht mehr", "none"),
        ("@acme antwortet mir nicht mehr", "requested"),
        ("@acme pourquoi vous ne me répondez plus ?", "none"),
        # a how-to question about a setting is not a request
        ("@acme how do I unsubscribe from the newsletter?", "none"),
        ("@acme how do I make your bot stop replying to me", "requested"),
        # a bare stop needs to be the whole post or sit next to talk of contact
        ("@acme stop!!! lol that ad is hilarious", "none"),
        ("@acme I didn't ask for your replies. stop.", "requested"),
        # talking to someone else turns a weak request into a possible one
        ("@acme leave me alone", "requested"),
        ("@acme leave me alone, I'm talking to my friend", "possible"),
        ("@acme stop replying to my posts, I was talking to my friend", "requested"),
    ],
)
def test_negation_mood_and_context(text: str, signal: str) -> None:
    assert detect_opt_out(text).signal == signal


def test_phrase_is_the_original_text_and_rule_is_named() -> None:
    found = detect_opt_out("@acme Stop. Messaging. Me!!!")
    assert (found.signal, found.phrase, found.rule) == (
        "requested",
        "Stop. Messaging. Me",
        "en:stop_contact",
    )
    assert detect_opt_out("@acme #OptOut").phrase == "#OptOut"
    assert detect_opt_out("@acme nice").phrase is None
    # the phrase quotes what was written, look-alikes and spacing included
    assert detect_opt_out("@acme s t o p messaging me").phrase == "s t o p messaging me"
    assert detect_opt_out("@acme \u0455t0p DMing me").phrase == "\u0455t0p DMing me"
