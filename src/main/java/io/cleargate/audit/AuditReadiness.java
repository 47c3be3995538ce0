package io.cleargate.audit;

import io.quarkus.scheduler.Scheduled;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

/** Not ready while the audit store cannot write: the gateway would refuse every request anyway. */
@Readiness
@ApplicationScoped
public class AuditReadiness implements HealthCheck {

    private final AuditWriter writer;

    @Inject
    public AuditReadiness(AuditWriter writer) {
        this.writer = writer;
    }

    @Override
    public HealthCheckResponse call() {
        return HealthCheckResponse.named("audit-store").status(writer.healthy()).build();
    }

    /** While unhealthy, probe the store so readiness recovers without waiting for traffic. */
    @Scheduled(every = "2s", concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    void probeWhileUnhealthy() {
        if (!writer.healthy()) {
            writer.probe();
        }
    }
}
