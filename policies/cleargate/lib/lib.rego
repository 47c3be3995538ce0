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
