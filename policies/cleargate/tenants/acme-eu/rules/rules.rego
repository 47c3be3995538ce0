# METADATA
# title: acme-eu's own rules
# description: |
#   Extra denials for tenant acme-eu, maintained by acme-eu's policy admins. The
#   decision reads this package only for acme-eu's requests; the gateway accepts a
#   module here only if it declares this package and reads no data outside
#   data.cleargate.tenants["acme-eu"].
package cleargate.tenants["acme-eu"].rules

max_prompt_tokens := data.cleargate.tenants["acme-eu"].limits.max_prompt_tokens

# METADATA
# description: Each element {code, message} becomes a reason in the 403 body.
deny contains {"code": "prompt_too_long", "message": msg} if {
	input.request.estimated_prompt_tokens > max_prompt_tokens
	msg := sprintf("Prompts longer than %d tokens are not accepted.", [max_prompt_tokens])
}
