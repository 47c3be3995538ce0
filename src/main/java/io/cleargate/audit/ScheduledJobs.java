package io.cleargate.audit;

import io.quarkus.runtime.ShutdownEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.jboss.logging.Logger;

/**
 * The gate every scheduled store job (write probe, checkpoints, retention, probe runs) passes.
 * Quarkus does not wait for a scheduled job at shutdown: a purge or checkpoint still inside its
 * transaction when the container goes away failed with a NullPointerException from the
 * transaction manager, logged as an error although nothing was wrong. So shutdown closes the
 * gate first (no job starts after it) and then waits, bounded, for the jobs already running.
 */
@ApplicationScoped
public class ScheduledJobs {

    /** Why a job did or did not run. */
    public enum Outcome { RAN, FAILED, SKIPPED_SHUTTING_DOWN }

    private static final Logger LOG = Logger.getLogger(ScheduledJobs.class);
    static final Duration DRAIN = Duration.ofSeconds(10);

    // Jobs hold the read lock (they may overlap); shutdown takes the write lock to wait for them.
    private final ReentrantReadWriteLock running = new ReentrantReadWriteLock();
    private volatile boolean closed;

    /** Runs the job unless shutdown has begun; a failure is logged as a warning, quietly once closed. */
    public Outcome run(String name, Runnable job) {
        if (closed || !running.readLock().tryLock()) {
            return Outcome.SKIPPED_SHUTTING_DOWN;
        }
        try {
            if (closed) {
                return Outcome.SKIPPED_SHUTTING_DOWN;
            }
            job.run();
            return Outcome.RAN;
        } catch (RuntimeException e) {
            if (closed) {
                LOG.debugf("%s interrupted by shutdown: %s", name, AuditWriter.describe(e));
            } else {
                LOG.warnf("%s failed: %s", name, AuditWriter.describe(e));
            }
            return Outcome.FAILED;
        } finally {
            running.readLock().unlock();
        }
    }

    // Before the audit writer and the datasource stop: a job still running needs both.
    void stop(@Observes @Priority(1) ShutdownEvent ignored) {
        close(DRAIN);
    }

    /** Closes the gate and waits up to {@code drain} for running jobs; true when none is left. */
    boolean close(Duration drain) {
        closed = true;
        try {
            boolean drained = running.writeLock().tryLock(drain.toMillis(), TimeUnit.MILLISECONDS);
            if (!drained) {
                LOG.warnf("a scheduled store job was still running %d s into shutdown", drain.toSeconds());
            }
            return drained;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
