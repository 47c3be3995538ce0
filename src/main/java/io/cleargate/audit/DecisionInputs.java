package io.cleargate.audit;

import java.util.List;
import java.util.Map;

/** The exact policy inputs recorded for a tenant's most recent requests, newest first (for policy what-if replays). */
public interface DecisionInputs {
    List<Map<String, Object>> recentPolicyInputs(String tenant, int n);
}
