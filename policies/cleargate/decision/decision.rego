# METADATA
# title: Cleargate request decision
# description: |
#   The one decision the gateway asks for, POST /v1/data/cleargate/decision.
#   Input: tenant, subject {id, roles, auth_method}, request {endpoint, model,
#   stream, max_tokens, estimated_prompt_tokens, tools, tool_calls}, context
#   {time} and, for tenants with budgets, usage {period, tenant, key}; never
#   prompt text. Result: allow, reasons, regions, limits, moderation, audit,
#   jurisdiction, models, price, budgets and revision. See policies/README.md
#   for the contract.
# entrypoint: true
package cleargate.decision

import data.cleargate.lib

# Deny unless every check below passes.
default allow := false

# METADATA
# scope: document
# description: Allowed when the tenant is known and no reason to deny exists.
allow if {
	lib.settings
	count(reasons) == 0
}

# METADATA
# scope: document
# description: Why the request is denied; empty when it is allowed.
reasons contains reason("unknown_tenant", "The tenant is not configured in the gateway policy.") if {
	not lib.settings
}

reasons contains reason("tenant_suspended", "The tenant is suspended.") if {
	lib.suspended
}

reasons contains reason("unknown_endpoint", "The endpoint is not governed by the gateway policy.") if {
	not lib.required_role
}

reasons contains reason("missing_role", sprintf("The role %s is required for this endpoint.", [lib.required_role])) if {
	not lib.has_required_role
}

reasons contains reason("model_not_allowed", msg) if {
	lib.settings
	lib.names_model
	not lib.model_allowed
	msg := sprintf("The model '%s' is not allowed for this tenant.", [lib.model])
}

reasons contains reason(d.code, d.message) if {
	some d in lib.tenant_denials
}

reasons contains reason("max_tokens_exceeded", msg) if {
	lib.rejects_over_max_tokens
	lib.over_max_tokens
	msg := sprintf(
		"max_tokens %d exceeds this tenant's limit of %d.",
		[lib.requested_max_tokens, lib.settings.limits.max_tokens],
	)
}

reasons contains reason("budget_exceeded", msg) if {
	some msg in lib.exceeded_budgets
}

reasons contains reason("tool_not_allowed", msg) if {
	lib.settings
	count(lib.denied_tools) > 0
	msg := sprintf("The tools %s are not allowed for this tenant.", [concat(", ", lib.denied_tools)])
}

# METADATA
# scope: document
# description: Regions where the request may be processed (routing stays inside them).
default regions := []

regions := lib.settings.regions

# METADATA
# scope: document
# description: |
#   The models the tenant may use ("*" for every model the gateway serves); the
#   gateway lists only these at /v1/models.
default models := []

models := lib.settings.models

# METADATA
# scope: document
# description: Token and rate limits; the gateway clamps max_tokens to limits.max_tokens.
limits := lib.settings.limits

# METADATA
# scope: document
# description: The moderation profile and per-rule overrides for the tenant.
moderation := lib.settings.moderation

# METADATA
# scope: document
# description: |
#   How the audit trail keeps this request. An unknown tenant's denial is still
#   recorded, with the most private content mode.
default audit := {"content_mode": "hash-only", "content_retention_days": 0, "metadata_retention_days": 365}

audit := lib.settings.audit

# METADATA
# scope: document
# description: The tenant's jurisdiction (EU, US, LOCAL).
jurisdiction := lib.settings.jurisdiction

# METADATA
# scope: document
# description: |
#   The price of the requested model for this tenant: currency units per million
#   prompt and completion tokens. Absent when nothing prices the model (its cost
#   counts as zero).
price := object.union({"currency": lib.currency}, lib.price)

# METADATA
# scope: document
# description: |
#   The tenant's monthly budgets. When there are any, the gateway puts the
#   month-to-date usage of the tenant and of the caller's key in input.usage.
default budgets := []

budgets := lib.budgets

# METADATA
# scope: document
# description: The policy revision that decided; set by whoever loads or activates the policies.
default revision := "unversioned"

revision := data.cleargate.meta.revision

reason(code, message) := {"code": code, "message": message}
