"""Plain words for the agent pages: what each outcome and reason code means to an agent.

The policy's own message (``reason.message``) is shown under each title; these titles only
name the reason in a few words. A code not listed here is shown as the policy named it.
"""

from __future__ import annotations

OUTCOME_WORDS = {
    "allow": "Would be sent",
    "review": "Would go to a compliance officer first",
    "deny": "Would be refused",
}

STATUS_WORDS = {
    "pending_review": "Waiting for a compliance officer",
    "approved": "Approved, being sent",
    "released": "Sent to the channel",
    "denied": "Refused by the policy",
    "rejected": "Rejected by a compliance officer",
    "withdrawn": "Withdrawn: the policy stopped it before sending",
    "failed": "The channel did not accept it",
}

REASON_TITLES = {
    "opted_out": "The customer opted out of contact",
    "nobot": "The customer asked not to be answered by bots",
    "possible_opt_out": "The customer may have asked not to be answered",
    "author_is_bot": "The author is an automated account",
    "not_addressed": "The customer did not address the brand",
    "intent_not_eligible": "This kind of post is not answered",
    "intent_overridden": "An agent corrected the classifier",
    "frequency_cap": "Contact limit reached",
    "thread_cap": "Already answered in this thread",
    "blocked_term": "Blocked wording",
    "marketing_offer": "Unrequested marketing",
    "personal_data": "Personal data",
    "too_long": "Too long for the channel",
    "legal_language": "Legal language",
    "sensitive_topic": "Sensitive topic",
    "ai_generated": "Drafted by AI",
    "policy_error": "The policy could not decide",
}

WINDOW_WORDS = {"24h": "last 24 hours", "7d": "last 7 days", "30d": "last 30 days"}


STEP_STATE_WORDS = {
    "done": "done",
    "current": "now",
    "todo": "not yet",
    "skipped": "not needed",
    "stopped": "stopped here",
}


def reason_title(code: str) -> str:
    return REASON_TITLES.get(code, code.replace("_", " ").capitalize())


def steps(*, status: str, outcome: str, reviewed: bool) -> list[tuple[str, str]]:
    """The path of a reply as (step, state) pairs; state is done, current, todo, skipped
    (not needed) or stopped (the reply ended there)."""
    ended = status in ("denied", "rejected", "withdrawn", "failed")
    if outcome == "allow":
        review = "skipped"
    elif status == "pending_review":
        review = "current"
    elif reviewed and status in ("approved", "released", "failed"):
        review = "done"
    else:
        review = "stopped" if ended else "todo"
    approved = {"approved": "current", "released": "done", "failed": "done"}.get(status)
    if approved is None:
        approved = "stopped" if ended and review != "stopped" else "todo"
    released = {"released": "done", "failed": "stopped"}.get(status, "todo")
    return [("Review", review), ("Approved", approved), ("Released", released)]
