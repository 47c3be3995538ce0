package io.cleargate.probe;

import io.cleargate.audit.ScheduledJobs;
import io.quarkus.scheduler.Scheduled;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.jboss.logging.Logger;

/**
 * Runs the probe suite every {@code cleargate.probes.every} as the platform, exactly like an
 * on-demand run; the run is recorded in the platform's chain with the actor {@value #ACTOR}. Off
 * unless {@code every} is set.
 */
@ApplicationScoped
public class ProbeSchedule {

    static final String ACTOR = "probe-schedule";
    private static final Logger LOG = Logger.getLogger(ProbeSchedule.class);

    @Inject
    ProbeRunner runner;

    @Inject
    ScheduledJobs jobs;

    @Scheduled(every = "${cleargate.probes.every:off}", concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    void scheduled() {
        jobs.run("scheduled probe run", () -> {
            int reports = runner.run(ACTOR, null, null).size();
            LOG.infof("scheduled probe run recorded %d report(s)", reports);
        });
    }
}
