package engagement

decision := {"outcome": "allow", "reasons": []} if {
	input.reply.text != ""
	count(input.reply.links) >
}
