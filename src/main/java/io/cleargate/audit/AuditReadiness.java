package io.cleargate.audit;

import io.quarkus.scheduler.Scheduled;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

/** Not ready while the audit store cannot write (the last write or write probe failed): the gateway would refuse every request anyway. */
@Readiness
@ApplicationScoped
public class AuditReadiness implements HealthCheck {

    private final AuditWriter writer;
    private final ScheduledJobs jobs;

    @Inject
    public AuditReadiness(AuditWriter writer, ScheduledJobs jobs) {
        this.writer = writer;
        this.jobs = jobs;
    }

    @Override
    public HealthCheckResponse call() {
        return HealthCheckResponse.named("audit-store").status(writer.healthy()).build();
    }

    /**
     * Probe the store by writing, with or without traffic: readiness goes DOWN when the store
     * cannot write (disk full, database gone) even while no request fails, and UP again as soon
     * as it can, without a restart.
     */
    @Scheduled(every = "${cleargate.audit.probe-every:2s}", concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    void probe() {
        // Below the requests' priority: a 16 KB write and a commit every few seconds would otherwise
        // hold up the request in flight. Nothing on a request's path waits for the probe's locks: on
        // the embedded store requests wait for the journal only, on PostgreSQL it updates its own row.
        jobs.runInBackground("audit write probe", writer::probe);
    }
}
