# METADATA
# title: Engagement policy
# description: |
#   Decides whether a support agent's proposed public reply to a customer's mention may be
#   released (allow), must first be checked by a compliance officer (review), or must not be
#   sent (deny). The entry point is data.engagement.decision. Each rule family lives in its
#   own file (consent, spoken_to, intent, frequency, content, sensitive, ai) and adds reasons
#   to deny_reasons or review_reasons; this file only aggregates them. Tunables come from
#   data.engagement (data.json). Rules never read a clock: time and contact history arrive
#   in input, so a stored decision can be replayed exactly.
package engagement

import rego.v1

# METADATA
# title: Decision
# description: |
#   The policy's answer: {"outcome": "allow" | "review" | "deny", "reasons": [...]}.
#   reasons lists every triggered reason, deny and review ones alike, most final first
#   (see reasons below); it is [] for a clean allow. Undefined when input lacks a required
#   field, which the gateway treats as deny (fail closed).
decision := {"outcome": outcome, "reasons": reasons} if input_complete

# METADATA
# title: Outcome
# description: deny if any deny reason was triggered, else review if any review reason was, else allow.
outcome := "deny" if {
	deny_reasons != set()
} else := "review" if {
	review_reasons != set()
} else := "allow"

# METADATA
# title: Reasons
# description: |
#   Every triggered deny and review reason, most final first: deny reasons before review
#   reasons (the first reason always explains the outcome); within each, by the position
#   of the code in data.engagement.reason_order (consent, eligibility, caps, content,
#   review), codes not listed there last; ties by code, rule, then message.
reasons := [reason |
	some key in sort(array.concat(
		[[0, _reason_rank(r.code), r.code, r.rule, r.message] | some r in deny_reasons],
		[[1, _reason_rank(r.code), r.code, r.rule, r.message] | some r in review_reasons; not r in deny_reasons],
	))
	reason := {"code": key[2], "rule": key[3], "message": key[4]}
]

# The position of code in data.engagement.reason_order (the first, if listed twice), or
# the list's length for a code not listed (or no list), so unknown codes sort last.
_reason_rank(code) := min(ranks) if {
	ranks := [i | some i, listed in _reason_order; listed == code]
	count(ranks) > 0
} else := count(_reason_order)

# (Not object.get(data.engagement, ...): reading all of data.engagement would include
# this package's own rules, a recursion.)
default _reason_order := []

_reason_order := data.engagement.reason_order

# METADATA
# title: Input complete
# description: |
#   True when input carries every field the rules read. Fields with a default in
#   PolicyInput (display_name, ai_generated, max_length, action) may be absent. Without
#   this guard a missing field would leave a deny rule undefined, i.e. silently allow.
#   Types are not re-checked here (the gateway builds input from a typed PolicyInput); the
#   rules treat odd boolean values as the cautious choice.
input_complete if {
	object.get(input, "action", "reply") == "reply"
	input.now != null
	input.mention.author.handle != null
	input.mention.text != null
	input.mention.intent != null
	input.mention.addressed_brand != null
	input.reply.text != null
	input.reply.length != null
	input.reply.links != null
	input.customer.opted_out != null
	input.customer.contacts_24h != null
	input.customer.contacts_7d != null
	input.customer.contacts_30d != null
	input.customer.thread_replies != null
	input.customer.replied_since_last_contact != null
	input.channel.name != null
}
