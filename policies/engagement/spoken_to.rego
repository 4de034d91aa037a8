# Spoken to (part of package engagement): the brand speaks only when spoken to.
# Customers talk about brands without wanting an answer; we reply only to mentions that
# address the brand (decided by the gateway's classifier: input.mention.addressed_brand).
package engagement

import rego.v1

# METADATA
# title: Deny - not addressed
# description: |
#   Deny (not_addressed) when the customer talked about the brand but not to it
#   (input.mention.addressed_brand is not true).
deny_reasons contains {
	"code": "not_addressed",
	"rule": "engagement.spoken_to.not_addressed",
	"message": "The customer did not address the brand; we only reply when spoken to.",
} if input.mention.addressed_brand != true
