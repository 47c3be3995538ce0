package io.cleargate.identity;

import java.util.Map;

/**
 * Records an administrative event (policy change, key creation or revocation, configuration
 * change, export, content view, erasure) in the tenant's audit trail. Durable when the call
 * returns; throws otherwise, so the caller can refuse the change. Declared beside the admin shell,
 * where its callers live; the audit feature implements it.
 */
public interface AdminEvents {
    void record(String tenant, String actor, String action, Map<String, Object> details);
}
