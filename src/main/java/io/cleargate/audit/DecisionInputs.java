package io.cleargate.audit;

import java.util.List;
import java.util.Map;

/** The policy inputs of recently audited requests, newest first, for a policy what-if. */
public interface DecisionInputs {

    /**
     * @param tenant the tenant whose requests to return, or null for every tenant
     * @param n      at most this many inputs
     * @return the exact input documents the policy stage sent to OPA
     */
    List<Map<String, Object>> recentPolicyInputs(String tenant, int n);
}
