package io.cleargate.audit;

import java.util.Map;

/**
 * Records an administrative event (policy change, key creation or revocation, configuration
 * change, export, content view, erasure) in the audit trail. Durable when the call returns;
 * throws {@link AuditUnavailableException} otherwise, so the caller can refuse the change.
 */
public interface AdminEvents {
    void record(String tenant, String actor, String action, Map<String, Object> details);
}
