package io.cleargate.audit;

import io.cleargate.identity.AdminEvents;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.Map;

/** Admin events go into the same chains as requests (the tenant's chain, or _system). */
@ApplicationScoped
public class AuditAdminEvents implements AdminEvents {

    private final AuditWriter writer;
    private final Recorder recorder;

    @Inject
    public AuditAdminEvents(AuditWriter writer, Recorder recorder) {
        this.writer = writer;
        this.recorder = recorder;
    }

    @Override
    public void record(String tenant, String actor, String action, Map<String, Object> details) {
        writer.appendDurably(recorder.admin(tenant, actor, action, details));
    }
}
