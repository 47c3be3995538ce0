package io.cleargate.probe;

import io.cleargate.identity.Authenticator;
import io.cleargate.identity.Roles;
import io.quarkus.scheduler.Scheduled;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.jboss.logging.Logger;

/**
 * Runs the probe suite every {@code cleargate.probes.every} with {@code cleargate.probes.credential},
 * authenticated and authorised like an on-demand run. Off unless both are set.
 */
@ApplicationScoped
public class ProbeSchedule {

    private static final Logger LOG = Logger.getLogger(ProbeSchedule.class);

    @Inject
    ProbeConfig config;

    @Inject
    ProbeRunner runner;

    @Inject
    Authenticator authenticator;

    @Scheduled(every = "${cleargate.probes.every:off}", concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    void scheduled() {
        config.credential().ifPresent(credential -> {
            String authorization = "Bearer " + credential;
            try {
                var caller = authenticator.authenticate(authorization);
                if (!caller.roles().contains(Roles.GATEWAY_ADMIN)) {
                    LOG.warn("scheduled probe run skipped: cleargate.probes.credential lacks gateway-admin");
                    return;
                }
                int reports = runner.run(authorization, caller, null).size();
                LOG.infof("scheduled probe run recorded %d report(s)", reports);
            } catch (RuntimeException e) {
                LOG.warnf("scheduled probe run failed: %s", e.getMessage());
            }
        });
    }
}
