package cleargate.decision_test

import data.cleargate.decision

chat(tenant, roles, model, max_tokens) := {
	"tenant": tenant,
	"subject": {"id": "u1", "roles": roles, "auth_method": "jwt"},
	"request": {
		"endpoint": "/v1/chat/completions",
		"model": model,
		"stream": false,
		"max_tokens": max_tokens,
		"estimated_prompt_tokens": 12,
	},
	"context": {"time": "2026-11-28T12:00:00Z"},
}

codes(reasons) := {r.code | some r in reasons}

test_dev_user_may_use_any_model if {
	d := decision with input as chat("dev", ["gateway-user"], "anything-at-all", 100)
	d.allow
	count(d.reasons) == 0
	d.regions == ["local"]
	d.moderation.profile == "default"
	d.limits.max_tokens == 8192
}

test_eu_tenant_is_allowed_a_listed_model_in_eu_regions if {
	d := decision with input as chat("acme-eu", ["gateway-user"], "deepseek-moe-16b-chat", 100)
	d.allow
	d.regions == ["eu-west", "eu-central"]
	d.jurisdiction == "EU"
	d.audit.content_mode == "redacted"
	d.moderation.overrides["pii-email"] == "redact"
}

test_unlisted_model_is_denied_with_reason if {
	d := decision with input as chat("globex-us", ["gateway-user"], "deepseek-v2-lite-chat", 100)
	not d.allow
	codes(d.reasons) == {"model_not_allowed"}
}

test_unknown_tenant_is_denied_with_reason if {
	d := decision with input as chat("initech", ["gateway-user"], "m", 100)
	not d.allow
	codes(d.reasons) == {"unknown_tenant"}
	d.regions == []
	d.audit.content_mode == "hash-only"
}

test_missing_tenant_is_denied if {
	inp := json.remove(chat("dev", ["gateway-user"], "m", 100), ["tenant"])
	d := decision with input as inp
	not d.allow
	"unknown_tenant" in codes(d.reasons)
}

test_chat_requires_gateway_user_role if {
	d := decision with input as chat("dev", ["policy-admin"], "m", 100)
	not d.allow
	codes(d.reasons) == {"missing_role"}
}

test_ungoverned_endpoint_is_denied if {
	inp := json.patch(
		chat("dev", ["gateway-user"], "m", 100),
		[{"op": "replace", "path": "/request/endpoint", "value": "/v1/files"}],
	)
	d := decision with input as inp
	not d.allow
	codes(d.reasons) == {"unknown_endpoint"}
}

test_listing_models_needs_no_model if {
	inp := json.patch(chat("globex-us", ["gateway-user"], "m", 100), [
		{"op": "replace", "path": "/request/endpoint", "value": "/v1/models"},
		{"op": "remove", "path": "/request/model"},
	])
	d := decision with input as inp
	d.allow
}

test_oversized_max_tokens_is_allowed_where_tenant_clamps if {
	d := decision with input as chat("acme-eu", ["gateway-user"], "deepseek-moe-16b-chat", 100000)
	d.allow
	d.limits.max_tokens == 2048
	d.limits.max_tokens_action == "clamp"
}

test_oversized_max_tokens_is_denied_where_tenant_rejects if {
	d := decision with input as chat("globex-us", ["gateway-user"], "deepseek-moe-16b-chat", 5000)
	not d.allow
	codes(d.reasons) == {"max_tokens_exceeded"}
}

test_several_failures_give_several_reasons if {
	d := decision with input as chat("globex-us", [], "other", 5000)
	not d.allow
	codes(d.reasons) == {"missing_role", "model_not_allowed", "max_tokens_exceeded"}
}

test_revision_comes_from_meta_data if {
	d := decision with input as chat("dev", ["gateway-user"], "m", 1) with data.cleargate.meta as {"revision": "abc"}
	d.revision == "abc"
}

test_revision_defaults_when_unset if {
	d := decision with input as chat("dev", ["gateway-user"], "m", 1) with data.cleargate.meta as {}
	d.revision == "unversioned"
}

test_every_tenant_has_complete_settings if {
	every name, t in data.cleargate.tenants {
		count(t.regions) > 0
		count(t.models) > 0
		t.limits.max_tokens > 0
		t.limits.requests_per_minute > 0
		t.limits.tokens_per_minute > 0
		t.limits.max_tokens_action in {"clamp", "reject"}
		t.audit.content_mode in {"encrypted", "redacted", "hash-only"}
		t.audit.content_retention_days <= t.audit.metadata_retention_days
		is_string(t.moderation.profile)
		is_string(name)
	}
}

with_tools(inp, offered, called) := json.patch(inp, [
	{"op": "add", "path": "/request/tools", "value": offered},
	{"op": "add", "path": "/request/tool_calls", "value": called},
])

test_listed_tools_are_allowed if {
	eu := chat("acme-eu", ["gateway-user"], "deepseek-moe-16b-chat", 100)
	inp := with_tools(eu, ["get_weather"], ["search_documents"])
	d := decision with input as inp
	d.allow
}

test_unlisted_offered_tool_is_denied_with_its_name if {
	eu := chat("acme-eu", ["gateway-user"], "deepseek-moe-16b-chat", 100)
	inp := with_tools(eu, ["get_weather", "run_shell"], [])
	d := decision with input as inp
	not d.allow
	codes(d.reasons) == {"tool_not_allowed"}
	some r in d.reasons
	contains(r.message, "run_shell")
	not contains(r.message, "get_weather")
}

test_tool_called_earlier_in_the_conversation_is_checked_too if {
	inp := with_tools(chat("acme-eu", ["gateway-user"], "deepseek-moe-16b-chat", 100), [], ["delete_files"])
	d := decision with input as inp
	codes(d.reasons) == {"tool_not_allowed"}
}

test_tenant_without_a_tools_list_may_use_no_tools if {
	inp := with_tools(chat("globex-us", ["gateway-user"], "deepseek-moe-16b-chat", 100), ["get_weather"], [])
	d := decision with input as inp
	codes(d.reasons) == {"tool_not_allowed"}
}

test_wildcard_tenant_may_use_any_tool if {
	inp := with_tools(chat("dev", ["gateway-user"], "m", 100), ["anything"], ["else"])
	d := decision with input as inp
	d.allow
}

test_request_without_tools_needs_no_tools_list if {
	d := decision with input as chat("globex-us", ["gateway-user"], "deepseek-moe-16b-chat", 100)
	d.allow
}

embeddings(tenant, model) := json.patch(chat(tenant, ["gateway-user"], model, 0), [
	{"op": "replace", "path": "/request/endpoint", "value": "/v1/embeddings"},
	{"op": "remove", "path": "/request/max_tokens"},
])

test_embeddings_are_governed_like_chat if {
	d := decision with input as embeddings("acme-eu", "deepseek-moe-16b-chat")
	d.allow
	d.regions == ["eu-west", "eu-central"]
}

test_embeddings_model_outside_the_allow_list_is_denied if {
	d := decision with input as embeddings("globex-us", "text-embedding-other")
	codes(d.reasons) == {"model_not_allowed"}
}

test_decision_lists_the_tenants_models if {
	d := decision with input as chat("globex-us", ["gateway-user"], "deepseek-moe-16b-chat", 1)
	d.models == ["deepseek-moe-16b-chat", "deepseek-v3"]
}

test_unknown_tenant_has_no_models if {
	d := decision with input as chat("initech", ["gateway-user"], "m", 1)
	d.models == []
}

test_every_moderation_override_names_a_rule_of_the_tenants_profile if {
	every t in data.cleargate.tenants {
		rules := {r.id | some r in data.cleargate.moderation.profiles[t.moderation.profile].rules}
		every key, _ in t.moderation.overrides {
			split(key, ":")[0] in rules
		}
	}
}

test_suspended_tenant_is_denied_with_reason if {
	d := decision with input as chat("dev", ["gateway-user"], "m", 1)
		with data.cleargate.tenants as {"dev": object.union(data.cleargate.tenants.dev, {"suspended": true})}
	not d.allow
	codes(d.reasons) == {"tenant_suspended"}
}

test_a_tenants_own_rule_adds_its_reason if {
	inp := json.patch(
		chat("acme-eu", ["gateway-user"], "deepseek-moe-16b-chat", 100),
		[{"op": "replace", "path": "/request/estimated_prompt_tokens", "value": 200000}],
	)
	d := decision with input as inp
	not d.allow
	codes(d.reasons) == {"prompt_too_long"}
}

test_a_tenants_own_rule_never_decides_another_tenant if {
	inp := json.patch(
		chat("globex-us", ["gateway-user"], "deepseek-moe-16b-chat", 100),
		[{"op": "replace", "path": "/request/estimated_prompt_tokens", "value": 200000}],
	)
	d := decision with input as inp
	d.allow
}

with_usage(inp, tenant_tokens, tenant_cost, key_tokens) := json.patch(inp, [{"op": "add", "path": "/usage", "value": {
	"period": "2026-11",
	"tenant": {"tokens": tenant_tokens, "cost": tenant_cost},
	"key": {"tokens": key_tokens, "cost": 0},
}}])

eu_chat := chat("acme-eu", ["gateway-user"], "deepseek-moe-16b-chat", 100)

test_a_tenant_within_its_budgets_is_allowed_and_told_its_budgets if {
	d := decision with input as with_usage(eu_chat, 1000, 1.5, 10)
	d.allow
	{b.name | some b in d.budgets} == {"eu-monthly-tokens", "eu-monthly-spend", "per-key-tokens"}
}

test_a_used_up_token_budget_denies_with_budget_exceeded_naming_it if {
	d := decision with input as with_usage(eu_chat, 500000000, 1.5, 10)
	not d.allow
	codes(d.reasons) == {"budget_exceeded"}
	some r in d.reasons
	contains(r.message, "'eu-monthly-tokens'")
	contains(r.message, "2026-11")
}

test_a_used_up_spending_budget_denies_with_the_amount_and_currency if {
	d := decision with input as with_usage(eu_chat, 1000, 5000.25, 10)
	codes(d.reasons) == {"budget_exceeded"}
	some r in d.reasons
	contains(r.message, "'eu-monthly-spend'")
	contains(r.message, "5000.25 USD")
}

test_a_keys_own_budget_counts_only_that_keys_usage if {
	d := decision with input as with_usage(eu_chat, 1000, 1, 50000000)
	codes(d.reasons) == {"budget_exceeded"}
	some r in d.reasons
	contains(r.message, "'per-key-tokens' of this API key or user")
}

test_budgets_never_deny_listing_models if {
	inp := json.patch(with_usage(eu_chat, 999999999999, 999999, 0), [
		{"op": "replace", "path": "/request/endpoint", "value": "/v1/models"},
		{"op": "remove", "path": "/request/model"},
	])
	d := decision with input as inp
	d.allow
}

test_a_tenant_without_budgets_has_none_and_is_never_over_one if {
	inp := with_usage(chat("dev", ["gateway-user"], "m", 1), 999999999999, 999999, 0)
	unbudgeted := json.remove(data.cleargate.tenants.dev, ["budgets"])
	d := decision with input as inp with data.cleargate.tenants.dev as unbudgeted
	d.allow
	d.budgets == []
}

test_the_price_is_the_platforms_unless_the_tenant_has_its_own if {
	platform := decision with input as eu_chat
	platform.price == {"currency": "USD", "prompt_per_million": 0.10, "completion_per_million": 0.20}
	own := decision with input as chat("acme-eu", ["gateway-user"], "deepseek-v2-lite-chat", 1)
	own.price == {"currency": "USD", "prompt_per_million": 0.04, "completion_per_million": 0.08}
}

test_an_unpriced_model_has_no_price if {
	d := decision with input as chat("dev", ["gateway-user"], "unpriced-model", 1)
	d.allow
	not d.price
}

test_every_budget_is_well_formed if {
	every t in data.cleargate.tenants {
		every b in object.get(t, "budgets", []) {
			is_string(b.name)
			b.scope in {"tenant", "key"}
			count({k | some k in ["tokens", "cost"]; is_number(b[k]); b[k] > 0}) == 1
		}
	}
}

test_every_price_is_a_pair_of_non_negative_numbers if {
	tenant_prices := [p | some t in data.cleargate.tenants; some p in object.get(t, "prices", {})]
	every p in array.concat([p | some p in data.cleargate.prices.models], tenant_prices) {
		p.prompt_per_million >= 0
		p.completion_per_million >= 0
	}
}

test_model_refusal_action_comes_from_the_tenant_settings if {
	d := decision with input as chat("acme-eu", ["gateway-user"], "deepseek-moe-16b-chat", 100)
	d.model_refusal.action == "flag"
}

test_model_refusal_is_observed_when_the_tenant_says_nothing if {
	d := decision with input as chat("globex-us", ["gateway-user"], "deepseek-moe-16b-chat", 100)
	d.model_refusal == {"action": "observe"}
}

dev_retrying := object.union(data.cleargate.tenants.dev, {"model_refusal": {"action": "retry"}})

test_model_refusal_retry_is_passed_through if {
	d := decision with input as chat("dev", ["gateway-user"], "m", 100) with data.cleargate.tenants.dev as dev_retrying
	d.model_refusal.action == "retry"
}

test_the_platform_tenant_probes_every_model_and_only_observes_refusals if {
	d := decision with input as chat("_platform", ["gateway-user"], "any-model", 100)
	d.allow
	"eu-west" in d.regions
	"us-east" in d.regions
	d.model_refusal.action == "observe"
}

test_every_tenant_names_a_known_model_refusal_action_or_none if {
	every t in data.cleargate.tenants {
		object.get(t, ["model_refusal", "action"], "observe") in {"observe", "flag", "retry"}
	}
}
