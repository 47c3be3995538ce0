# METADATA
# title: Decision helpers
# description: |
#   Reads the calling tenant's settings (data.cleargate.tenants) and answers the
#   questions data.cleargate.decision asks. Kept out of the decision package so
#   that the decision document holds only its documented members.
package cleargate.lib

# The roles each governed endpoint requires. An endpoint missing here is denied.
required_roles := {
	"/v1/chat/completions": "gateway-user",
	"/v1/embeddings": "gateway-user",
	"/v1/models": "gateway-user",
}

# METADATA
# description: The settings of the tenant named in the input; undefined for an unknown tenant.
settings := data.cleargate.tenants[input.tenant]

# METADATA
# description: True when a platform administrator suspended the tenant.
suspended if settings.suspended == true

# METADATA
# description: The role the requested endpoint needs; undefined for an ungoverned endpoint.
required_role := required_roles[input.request.endpoint]

# METADATA
# description: True when the subject holds the role the endpoint needs.
has_required_role if required_role in input.subject.roles

# METADATA
# description: Chat and embeddings name a model; listing models needs no model check.
names_model if input.request.endpoint in {"/v1/chat/completions", "/v1/embeddings"}

# METADATA
# description: The requested model, or an empty string when the request names none.
model := object.get(input.request, "model", "")

# METADATA
# scope: document
# description: True when the tenant may use the requested model ("*" allows every model).
model_allowed if "*" in settings.models

model_allowed if model in settings.models

# METADATA
# description: The max_tokens the request asks for (0 when it names none).
requested_max_tokens := object.get(input.request, "max_tokens", 0)

# METADATA
# description: True when the request asks for more tokens than the tenant allows.
over_max_tokens if requested_max_tokens > settings.limits.max_tokens

# METADATA
# description: True when the tenant refuses (rather than clamps) an oversized max_tokens.
rejects_over_max_tokens if settings.limits.max_tokens_action == "reject"

# METADATA
# description: |
#   The denials of the calling tenant's own rules (package cleargate.tenants[<id>].rules),
#   each {code, message}; a malformed element is ignored. Only the caller's tenant's
#   rules are read, so one tenant's rules never decide another tenant's requests.
tenant_denials contains {"code": d.code, "message": d.message} if {
	some d in data.cleargate.tenants[input.tenant].rules.deny
	is_string(d.code)
	is_string(d.message)
}

# METADATA
# scope: document
# description: |
#   Every tool the request names: the tools it offers the model and the tools
#   that assistant messages in the conversation called.
requested_tools contains name if some name in object.get(input.request, "tools", [])

requested_tools contains name if some name in object.get(input.request, "tool_calls", [])

# METADATA
# description: |
#   The tools the tenant may use ("*" allows every tool). A tenant without a
#   tools list may use none: tools are denied unless the policy names them.
allowed_tools := object.get(settings, "tools", [])

# METADATA
# description: The requested tools this tenant may not use, sorted.
denied_tools := sort([name |
	some name in requested_tools
	not tool_allowed(name)
])

tool_allowed(_) if "*" in allowed_tools

tool_allowed(name) if name in allowed_tools

# METADATA
# description: |
#   The price of the requested model for this tenant, per million prompt and
#   completion tokens: the tenant's own price (prices in its settings) when it
#   has one, else the platform's (data.cleargate.prices); undefined when neither
#   prices the model.
price := p if {
	names_model
	p := settings.prices[model]
} else := p if {
	names_model
	p := data.cleargate.prices.models[model]
}

# METADATA
# scope: document
# description: The currency every price and cost budget is stated in.
default currency := "USD"

currency := data.cleargate.prices.currency

# METADATA
# description: |
#   The tenant's monthly budgets, each {name, scope, tokens} or {name, scope, cost}:
#   scope "tenant" counts the whole tenant, "key" each API key or user on its own.
budgets := object.get(settings, "budgets", [])

# METADATA
# description: |
#   What the budget's scope spent this month (input.usage, filled in by the
#   gateway for tenants with budgets); nothing when the input carries no usage.
spent(scope) := object.get(object.get(input, "usage", {}), scope, {"tokens": 0, "cost": 0})

# METADATA
# description: The month the usage in the input counts ("this month" without one).
period := object.get(object.get(input, "usage", {}), "period", "this month")

scope_noun := {"tenant": "tenant", "key": "API key or user"}

# METADATA
# scope: document
# description: |
#   A message for every budget the request's scope has used up. Budgets apply to
#   requests for a model (chat, embeddings), never to listing models.
exceeded_budgets contains msg if {
	names_model
	some b in budgets
	is_number(b.tokens)
	used := spent(b.scope).tokens
	used >= b.tokens
	msg := sprintf(
		"The monthly token budget '%s' of this %s (%d tokens) is used up: %d tokens in %s.",
		[b.name, scope_noun[b.scope], b.tokens, used, period],
	)
}

exceeded_budgets contains msg if {
	names_model
	some b in budgets
	is_number(b.cost)
	used := spent(b.scope).cost
	used >= b.cost
	msg := sprintf(
		"The monthly spending budget '%s' of this %s (%.2f %s) is used up: %.2f %s in %s.",
		[b.name, scope_noun[b.scope], b.cost, currency, used, currency, period],
	)
}
