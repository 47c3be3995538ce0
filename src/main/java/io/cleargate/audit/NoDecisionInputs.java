package io.cleargate.audit;

import io.quarkus.arc.DefaultBean;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.List;
import java.util.Map;

/** Stand-in until the audit feature serves recorded inputs: a what-if then has nothing to replay. */
@ApplicationScoped
@DefaultBean
public class NoDecisionInputs implements DecisionInputs {

    @Override
    public List<Map<String, Object>> recentPolicyInputs(String tenant, int n) {
        return List.of();
    }
}
