package io.cleargate.policy;

import java.util.List;
import java.util.Map;

/**
 * The exact policy inputs recorded for a tenant's most recent requests, newest first: what a
 * what-if replays. The audit trail implements it.
 */
public interface DecisionInputs {
    List<Map<String, Object>> recentPolicyInputs(String tenant, int n);
}
