package io.cleargate.policy;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Alternative;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * What the audit trail will provide, for the what-if test: the exact inputs the policy stage sent
 * to OPA for requests the test really made. Enabled only by {@link PolicyAdminProfile}.
 */
@Alternative
@ApplicationScoped
public class RecordedDecisionInputs implements DecisionInputs {

    private final List<Map<String, Object>> recorded = new CopyOnWriteArrayList<>();

    void record(PolicyDecision decision) {
        recorded.addFirst(decision.input());
    }

    @Override
    public List<Map<String, Object>> recentPolicyInputs(String tenant, int n) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (Map<String, Object> input : recorded) {
            if (out.size() < n && (tenant == null || tenant.equals(input.get("tenant")))) {
                out.add(input);
            }
        }
        return out;
    }
}
