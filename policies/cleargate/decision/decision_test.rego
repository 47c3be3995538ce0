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
