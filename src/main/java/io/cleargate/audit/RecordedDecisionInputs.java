package io.cleargate.audit;

import io.cleargate.policy.DecisionInputs;
import io.quarkus.narayana.jta.QuarkusTransaction;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.persistence.EntityManager;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Reads the policy inputs recorded with a tenant's latest requests (metadata not yet purged). */
@ApplicationScoped
public class RecordedDecisionInputs implements DecisionInputs {

    private final EntityManager em;

    /** Readers wait for every acknowledged record to be in the database (see {@link AuditWriter#awaitStored()}). */
    @Inject
    AuditWriter writer;

    @Inject
    public RecordedDecisionInputs(EntityManager em) {
        this.em = em;
    }

    @Override
    @SuppressWarnings("unchecked")
    public List<Map<String, Object>> recentPolicyInputs(String tenant, int n) {
        stored();
        List<String> bodies = QuarkusTransaction.requiringNew().call(() -> em.createQuery(
                "select e.body from AuditEntry e where e.tenant = :t and e.kind in ('request', 'refusal')"
                        + " and e.decision <> 'none' and e.body is not null order by e.id desc", String.class)
                .setParameter("t", tenant).setMaxResults(Math.max(0, Math.min(n, 10_000))).getResultList());
        List<Map<String, Object>> inputs = new ArrayList<>(bodies.size());
        for (String body : bodies) {
            if (Canonical.parse(body).get("policy_input") instanceof Map<?, ?> input) {
                inputs.add((Map<String, Object>) input);
            }
        }
        return inputs;
    }
    private void stored() {
        if (writer != null) {
            writer.awaitStored();
        }
    }
}
