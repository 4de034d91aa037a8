"""The words a reason names, found in the reply as the policy matched them."""

from __future__ import annotations

from gateway.domain.decisions import Reason
from gateway.domain.highlights import Segment, Span, quoted_terms, reason_spans, segments


def blocked(*terms: str) -> Reason:
    quoted = ", ".join(f'"{t}"' for t in terms)
    return Reason(
        code="blocked_term",
        message=f"The reply contains blocked wording ({quoted}); rephrase it.",
        rule="engagement.content.blocked_term",
    )


def test_each_quoted_term_once_in_order() -> None:
    assert quoted_terms('found ("b", "a", "b") and "c d"') == ["b", "a", "c d"]
    assert quoted_terms("The customer has opted out of contact on this channel.") == []


def test_a_blocked_term_is_found_in_any_case_as_a_whole_word() -> None:
    text = "Calm down, IDIOT. Idiotic? no: idiot!"
    spans = reason_spans(blocked("idiot"), text)
    assert [(s.start, s.end, s.text) for s in spans] == [(11, 16, "IDIOT"), (31, 36, "idiot")]


def test_a_space_in_a_term_matches_any_punctuation_between_the_words() -> None:
    text = "Please shut-up and calm   down"
    spans = reason_spans(blocked("shut up", "calm down"), text)
    assert [s.text for s in spans] == ["shut-up", "calm   down"]


def test_a_term_inside_a_longer_word_is_not_highlighted() -> None:
    assert reason_spans(blocked("sue"), "We will pursue this issue") == []


def test_terms_the_text_does_not_hold_and_reasons_without_words_give_no_spans() -> None:
    opted_out = Reason(code="opted_out", message="The customer has opted out.", rule="r")
    assert reason_spans(opted_out, "anything at all") == []
    assert reason_spans(blocked("moron"), "a polite reply") == []


def test_marketing_words_as_found_with_symbols_and_links() -> None:
    message = (
        'The reply contains a marketing offer ("20% off", "https://shop.example/sale") '
        "and the customer did not ask for one."
    )
    reason = Reason(code="marketing_offer", message=message, rule="r")
    text = "Take 20% off today: https://shop.example/sale"
    assert [s.text for s in reason_spans(reason, text)] == ["20% off", "https://shop.example/sale"]


def test_overlapping_matches_merge_into_one_span() -> None:
    spans = reason_spans(blocked("your fault", "your own fault", "fault"), "it is your fault")
    assert spans == [Span(start=6, end=16, text="your fault")]


def test_segments_cut_the_text_at_every_span_and_name_the_reasons() -> None:
    text = "you idiot, legal action"
    pieces = segments(
        text,
        {
            "blocked_term": [Span(start=4, end=9, text="idiot")],
            "legal_language": [Span(start=11, end=23, text="legal action")],
        },
    )
    assert pieces == [
        Segment(text="you "),
        Segment(text="idiot", codes=("blocked_term",)),
        Segment(text=", "),
        Segment(text="legal action", codes=("legal_language",)),
    ]
    assert "".join(p.text for p in pieces) == text
    assert segments("", {}) == []
