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
