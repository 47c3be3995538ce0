package io.cleargate.audit;

import io.micrometer.core.instrument.MeterRegistry;
import org.jboss.logging.Logger;

/**
 * Whether the audit store takes writes, as the last batch or probe found it (readiness reports it),
 * the disk reserve of an embedded database, and the failure counter. Shared by the writer, its
 * commit path and the readiness probe.
 */
final class StoreHealth {

    private static final Logger LOG = Logger.getLogger(StoreHealth.class);

    private volatile boolean healthy = true;
    private volatile MeterRegistry meters;
    private volatile StoreDisk disk;
    private volatile boolean lowOnSpace;

    /** Counts failures in {@code meters} from now on (null: counts nothing). */
    void countIn(MeterRegistry meters) {
        this.meters = meters;
    }

    /** The disk whose reserve {@link #spaceRunsOut()} checks. */
    void watch(StoreDisk disk) {
        this.disk = disk;
    }

    boolean healthy() {
        return healthy;
    }

    void set(boolean healthy) {
        this.healthy = healthy;
    }

    /** Counts a failed write by its reason (see k8s/README.md for the metric contract). */
    void failed(String reason) {
        MeterRegistry registry = meters;
        if (registry != null) {
            registry.counter("cleargate.audit.write.failures", "reason", reason).increment();
        }
    }

    /** True while the embedded database's disk is below its reserve; logs each change once. */
    boolean spaceRunsOut() {
        StoreDisk watched = disk;
        boolean low = watched != null && watched.low();
        if (low != lowOnSpace) {
            lowOnSpace = low;
            if (low) {
                LOG.errorf("audit store: less than %d bytes free for the database, refusing to write", watched.reserve());
            } else {
                LOG.infof("audit store: free space is back above %d bytes", watched.reserve());
            }
        }
        return low;
    }
}
