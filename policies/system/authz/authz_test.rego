package system.authz_test

import data.system.authz

creds := {
	"gateway": crypto.sha256("gateway-secret"),
	"policy_admin": crypto.sha256("admin-secret"),
}

call(method, path, token) := {"method": method, "path": path, "identity": token}

decision_path := ["v1", "data", "cleargate", "decision"]

test_gateway_may_query_the_decision if {
	authz.allow with input as call("POST", decision_path, "gateway-secret") with data.system.credentials as creds
}

test_anonymous_caller_may_not_query_the_decision if {
	not authz.allow with input as {"method": "POST", "path": decision_path} with data.system.credentials as creds
}

test_wrong_token_may_not_query_the_decision if {
	not authz.allow with input as call("POST", decision_path, "guess") with data.system.credentials as creds
}

test_gateway_may_not_write_policies if {
	not authz.allow with input as call("PUT", ["v1", "policies", "x.rego"], "gateway-secret")
		with data.system.credentials as creds
}

test_gateway_may_not_read_other_data if {
	not authz.allow with input as call("GET", ["v1", "data", "cleargate", "tenants"], "gateway-secret")
		with data.system.credentials as creds
}

test_admin_may_replace_a_cleargate_module if {
	module := ["v1", "policies", "srv", "policies", "cleargate", "lib", "lib.rego"]
	authz.allow with input as call("PUT", module, "admin-secret")
		with data.system.credentials as creds
}

test_admin_may_not_replace_the_authz_module if {
	module := ["v1", "policies", "srv", "policies", "system", "authz", "authz.rego"]
	not authz.allow with input as call("PUT", module, "admin-secret")
		with data.system.credentials as creds
}

test_admin_may_write_cleargate_data if {
	authz.allow with input as call("PUT", ["v1", "data", "cleargate", "tenants"], "admin-secret")
		with data.system.credentials as creds
}

test_admin_may_not_write_credentials if {
	not authz.allow with input as call("PUT", ["v1", "data", "system", "credentials"], "admin-secret")
		with data.system.credentials as creds
}

test_health_is_open if {
	authz.allow with input as {"method": "GET", "path": ["health"]}
}

test_no_credentials_loaded_means_no_access if {
	not authz.allow with input as call("POST", decision_path, "gateway-secret") with data.system.credentials as {}
}

test_admin_may_not_query_the_decision if {
	not authz.allow with input as call("POST", decision_path, "admin-secret") with data.system.credentials as creds
	not authz.allow with input as call("GET", decision_path, "admin-secret") with data.system.credentials as creds
}
