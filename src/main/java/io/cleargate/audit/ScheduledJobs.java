package io.cleargate.audit;

import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
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

    /**
     * One gate for the application, not one per bean instance: while ArC shuts down it destroys
     * the application context, and a job the scheduler dispatched just before then reaches the
     * bean through its client proxy, which builds a fresh instance whose own gate would be open.
     */
    private static final Gate APPLICATION = new Gate();

    private final Gate gate;

    public ScheduledJobs() {
        this(APPLICATION);
    }

    ScheduledJobs(Gate gate) {
        this.gate = gate;
    }

    /** Runs the job unless shutdown has begun; a failure is logged as a warning, quietly once closed. */
    public Outcome run(String name, Runnable job) {
        if (!gate.enter()) {
            return Outcome.SKIPPED_SHUTTING_DOWN;
        }
        try {
            job.run();
            return Outcome.RAN;
        } catch (RuntimeException e) {
            if (gate.closed) {
                LOG.debugf("%s interrupted by shutdown: %s", name, AuditWriter.describe(e));
            } else {
                LOG.warnf("%s failed: %s", name, AuditWriter.describe(e));
            }
            return Outcome.FAILED;
        } finally {
            gate.leave();
        }
    }

    /**
     * Runs the job as {@link #run} does, on a background thread below the request threads'
     * priority ({@link BackgroundThreads}), and waits for it: for work that can wait while requests
     * need the core (checkpoint signing, the readiness write probe: one small row of its own). Not
     * for retention purges: a bulk update slowed down while it holds the store's locks would hold up
     * the audit writer on PostgreSQL, and with it every request.
     */
    public Outcome runInBackground(String name, Runnable job) {
        return run(name, () -> BackgroundThreads.runAndWait(job));
    }

    // A restarted application (tests restart it in the same class loader) opens the gate again.
    void start(@Observes StartupEvent ignored) {
        gate.closed = false;
    }

    // Before the audit writer and the datasource stop: a job still running needs both.
    void stop(@Observes @Priority(1) ShutdownEvent ignored) {
        close(DRAIN);
    }

    /** Closes the gate and waits up to {@code drain} for running jobs; true when none is left. */
    boolean close(Duration drain) {
        boolean drained = gate.close(drain);
        if (!drained) {
            LOG.warnf("a scheduled store job was still running %d s into shutdown", drain.toSeconds());
        }
        return drained;
    }

    /** Counts the jobs inside; closing stops new ones and waits for those inside to leave. */
    static final class Gate {
        private final AtomicInteger inside = new AtomicInteger();
        volatile boolean closed;

        boolean enter() {
            inside.incrementAndGet(); // before the check, so that close() either sees us or we see it closed
            if (closed) {
                inside.decrementAndGet();
                return false;
            }
            return true;
        }

        void leave() {
            inside.decrementAndGet();
        }

        boolean close(Duration drain) {
            closed = true;
            long until = System.nanoTime() + drain.toNanos();
            while (inside.get() > 0) {
                if (System.nanoTime() - until >= 0) {
                    return false;
                }
                try {
                    Thread.sleep(10); // shutdown only: a short poll is simpler than a condition
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return false;
                }
            }
            return true;
        }
    }
}
