package io.cleargate.audit;

import java.util.Map;

/**
 * Receives every administrative change (policy activation, rollback, key creation, ...) so that it
 * lands in the audit trail. The audit feature provides the recording implementation.
 */
public interface AdminEvents {

    /**
     * @param tenant  the tenant the actor acted for
     * @param actor   the subject who made the change
     * @param action  what was done, for example policy.activate
     * @param details what changed; never secrets, prompts or outputs
     */
    void record(String tenant, String actor, String action, Map<String, Object> details);
}
