package io.cleargate.audit;

import io.cleargate.pipeline.Exchange;

/** Exchange attributes the audit stage owns. */
public final class AuditKeys {

    /** The audit stage's own per-request state. */
    static final Exchange.Key<AuditState> STATE = Exchange.Key.of("audit-state", AuditState.class);

    private AuditKeys() {}
}
