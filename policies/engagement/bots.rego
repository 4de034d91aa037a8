# Bots (part of package engagement): never answer an automated account.
# Two automated accounts answering each other is the classic reply loop, and a bot cannot
# be a customer with a complaint. The channel says whether the author is automated
# (input.mention.author.bot: Mastodon's account "bot" flag, a Bluesky "bot" label or
# self-label, a webhook's author.bot field); data.engagement.bots.action decides what
# happens to a reply to one: "deny" (the default) or "review" (a person decides).
package engagement

import rego.v1

# METADATA
# title: Deny - author is a bot
# description: |
#   Deny (author_is_bot) a reply to an author the channel marks as automated
#   (input.mention.author.bot; absent means false, any other value but false counts as a
#   bot), unless data.engagement.bots.action is "review". Any other action, or none,
#   denies: an unreadable tunable fails closed.
deny_reasons contains {
	"code": "author_is_bot",
	"rule": "engagement.bots.author_is_bot",
	"message": "The author's account is marked as automated (a bot); replies to bots are not sent, so two bots never answer each other.",
} if {
	_author_is_bot
	_bot_action != "review"
}

# METADATA
# title: Review - author is a bot
# description: |
#   Review (author_is_bot) a reply to an author the channel marks as automated when
#   data.engagement.bots.action is "review": a person decides whether to answer it.
review_reasons contains {
	"code": "author_is_bot",
	"rule": "engagement.bots.author_is_bot_review",
	"message": "The author's account is marked as automated (a bot); a person must decide whether to answer it.",
} if {
	_author_is_bot
	_bot_action == "review"
}

_author_is_bot if object.get(input.mention.author, "bot", false) != false

# What to do with a reply to a bot; without data.engagement.bots.action, deny.
default _bot_action := "deny"

_bot_action := data.engagement.bots.action
