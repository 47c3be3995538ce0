package cleargate.tenants["acme-eu"].rules_test

import data.cleargate.tenants["acme-eu"].rules

chat(tokens) := {
	"tenant": "acme-eu",
	"request": {"endpoint": "/v1/chat/completions", "estimated_prompt_tokens": tokens},
}

test_a_prompt_over_the_limit_is_denied if {
	some d in rules.deny with input as chat(100001)
	d.code == "prompt_too_long"
}

test_a_prompt_within_the_limit_is_not_denied if {
	count(rules.deny) == 0 with input as chat(10)
}
