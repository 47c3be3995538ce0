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
# description: Only the chat endpoint names a model; listing models needs no model check.
names_model if input.request.endpoint == "/v1/chat/completions"

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
