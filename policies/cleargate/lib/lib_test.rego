package cleargate.lib_test

import data.cleargate.lib

test_settings_are_the_named_tenants if {
	s := lib.settings with input as {"tenant": "acme-eu"}
	s.jurisdiction == "EU"
}

test_settings_are_undefined_for_unknown_tenant if {
	not lib.settings with input as {"tenant": "nobody"}
}

test_wildcard_allows_every_model if {
	lib.model_allowed with input as {"tenant": "dev", "request": {"model": "x"}}
}

test_listed_model_is_allowed if {
	lib.model_allowed with input as {"tenant": "globex-us", "request": {"model": "deepseek-moe-16b-chat"}}
}

test_missing_model_is_not_allowed_for_listing_tenant if {
	not lib.model_allowed with input as {"tenant": "globex-us", "request": {}}
}

test_max_tokens_defaults_to_zero if {
	lib.requested_max_tokens == 0 with input as {"request": {}}
	not lib.over_max_tokens with input as {"tenant": "globex-us", "request": {}}
}

test_malformed_tenant_denials_are_ignored if {
	bad := {"deny": [{"code": 1, "message": "m"}, {"code": "ok", "message": "fine"}]}
	ds := lib.tenant_denials with input as {"tenant": "dev"} with data.cleargate.tenants as {"dev": {"rules": bad}}
	ds == {{"code": "ok", "message": "fine"}}
}

test_requested_tools_join_offered_and_called_tools if {
	tools := lib.requested_tools with input as {"request": {"tools": ["a", "b"], "tool_calls": ["b", "c"]}}
	tools == {"a", "b", "c"}
}

test_denied_tools_are_sorted_and_exclude_allowed_ones if {
	inp := {"tenant": "acme-eu", "request": {"tools": ["z_tool", "get_weather", "a_tool"]}}
	denied := lib.denied_tools with input as inp
	denied == ["a_tool", "z_tool"]
}

test_spent_is_zero_without_usage_in_the_input if {
	s := lib.spent("tenant") with input as {"tenant": "acme-eu"}
	s == {"tokens": 0, "cost": 0}
}

test_a_budget_of_an_unknown_scope_never_matches if {
	bad := {"acme-eu": {"budgets": [{"name": "b", "scope": "planet", "tokens": 1}]}}
	inp := {"tenant": "acme-eu", "request": {"endpoint": "/v1/chat/completions"}, "usage": {"planet": {"tokens": 5}}}
	count(lib.exceeded_budgets) == 0 with input as inp with data.cleargate.tenants as bad
}
