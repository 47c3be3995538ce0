# METADATA
# title: OPA API authorization
# description: |
#   OPA runs with --authentication=token --authorization=basic, so this policy
#   decides every call to OPA's own REST API. Only the gateway's token may query
#   the decision, and only the policy administration token may read or write
#   policies and Cleargate data. Tokens are compared by SHA-256 against
#   data.system.credentials, loaded per run from files outside the repository.
# entrypoint: true
package system.authz

default allow := false

# METADATA
# description: Health checks reveal nothing and are open so supervisors can poll OPA.
allow if {
	input.method == "GET"
	input.path == ["health"]
}

# METADATA
# description: The gateway may ask for the decision and nothing else.
allow if {
	caller_is("gateway")
	input.method == "POST"
	input.path == ["v1", "data", "cleargate", "decision"]
}

# METADATA
# description: Policy administration may read and replace policy modules, except this one.
allow if {
	caller_is("policy_admin")
	input.method in {"GET", "PUT", "DELETE"}
	input.path[0] == "v1"
	input.path[1] == "policies"
	not names_system_module
}

# METADATA
# description: |
#   Policy administration may write Cleargate's data documents, but not read them:
#   a read of data.cleargate.decision would be a query, which is the gateway's alone.
allow if {
	caller_is("policy_admin")
	input.method in {"PUT", "PATCH", "DELETE"}
	input.path[0] == "v1"
	input.path[1] == "data"
	input.path[2] == "cleargate"
}

caller_is(name) if {
	expected := data.system.credentials[name]
	is_string(expected)
	is_string(input.identity)
	crypto.sha256(input.identity) == expected
}

# A module id (its file path) that holds the system policies.
names_system_module if {
	some i
	input.path[i] == "system"
	input.path[i + 1] == "authz"
}
