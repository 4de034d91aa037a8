# AI-drafted replies (part of package engagement): a person reviews what a model wrote
# before it goes out under the brand's name.
package engagement

import rego.v1

# METADATA
# title: Review - AI generated
# description: |
#   Review (ai_generated) every reply drafted by a model (input.reply.ai_generated; absent
#   means false, any other value but false counts as AI-drafted).
review_reasons contains {
	"code": "ai_generated",
	"rule": "engagement.ai.ai_generated",
	"message": "The reply was drafted by an AI model; a person must check it before it is sent.",
} if object.get(input.reply, "ai_generated", false) != false
