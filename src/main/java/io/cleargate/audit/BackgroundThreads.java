package io.cleargate.audit;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.jboss.logging.Logger;

/**
 * Platform threads for the audit store's scheduled reading (checkpoint signing), each started
 * {@link #NICE} steps below the process's scheduling priority.
 *
 * <p>Why: the checkpoint signer re-reads and re-hashes every record written since its last run,
 * in one burst every 10 s. On a Quarkus worker thread it competed at equal weight with the one
 * carrier thread that runs every request, so each burst slowed whatever requests were in flight
 * (at concurrency 1, the audit checkpoint signer is the second cause of requests over the p99 in
 * {@code bin/cleargate bench tail full}). Three nice steps give it half a request thread's weight:
 * requests get two thirds of the core while both want it, and the signer catches up in the gaps
 * between them. Under full load it still gets a fifth of the core (weight 526 against two busy
 * threads of 1024, the carrier and the audit writer), half as much again as verifying a saturated
 * gateway's records costs (about 14% of the full arm's CPU at concurrency 64), so it keeps up and
 * each run still covers the interval's records. Five steps (a seventh) would leave no margin.
 *
 * <p>Linux only (a thread's nice value, set with {@code setpriority} on its thread id); elsewhere,
 * or if the call is refused, the threads keep the normal priority, which is how the work ran
 * before. What the jobs do is the same either way.
 */
final class BackgroundThreads {

    private static final Logger LOG = Logger.getLogger(BackgroundThreads.class);

    /** How many nice steps below the process the threads run. */
    static final int NICE = 3;

    private static final ExecutorService POOL = Executors.newCachedThreadPool(task -> Thread.ofPlatform()
            .name("audit-background-", 0).daemon(true).unstarted(() -> {
                lowerOwnPriority(NICE);
                task.run();
            }));

    private BackgroundThreads() {}

    /** Runs the job on a background thread and waits for it; its exception, if any, is thrown here. */
    static void runAndWait(Runnable job) {
        Future<?> done = POOL.submit(job);
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    done.get();
                    return;
                } catch (InterruptedException e) {
                    // The job keeps running; shutdown's drain counts it through this caller, so wait it out.
                    interrupted = true;
                } catch (ExecutionException e) {
                    if (e.getCause() instanceof RuntimeException r) {
                        throw r;
                    }
                    if (e.getCause() instanceof Error err) {
                        throw err;
                    }
                    throw new IllegalStateException(e.getCause());
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * Starts a long-lived platform thread {@link #NICE} steps below the process's priority: for
     * the journaled store's applier, which inserts the journal's records into H2 in bursts (up to
     * 2 s of records at a time at low load) off the requests' path. At equal weight each burst
     * held up the request in flight on the one core; below it, requests go first and the applier
     * runs in their gaps, and under full load it still gets about a fifth of the core where it
     * needs well under a tenth.
     */
    static Thread startLowered(String name, Runnable loop) {
        return Thread.ofPlatform().name(name).daemon(true).start(() -> {
            lowerOwnPriority(NICE);
            loop.run();
        });
    }

    /** Lowers the calling thread's priority by {@code steps} nice steps (at most to 19); false where that is not possible. */
    static boolean lowerOwnPriority(int steps) {
        if (!System.getProperty("os.name", "").startsWith("Linux")) {
            return false;
        }
        try {
            Native calls = Native.CALLS;
            int tid = (int) calls.gettid.invokeExact();
            int current = (int) calls.getpriority.invokeExact(PRIO_PROCESS, tid);
            int rc = (int) calls.setpriority.invokeExact(PRIO_PROCESS, tid, Math.min(19, current + steps));
            return rc == 0;
        } catch (Throwable e) {
            LOG.debugf("audit background thread keeps the normal priority: %s", e.toString());
            return false;
        }
    }

    /** The calling thread's nice value as the kernel reports it (Linux). */
    static int ownNice() {
        try {
            Native calls = Native.CALLS;
            return (int) calls.getpriority.invokeExact(PRIO_PROCESS, (int) calls.gettid.invokeExact());
        } catch (Throwable e) {
            throw new IllegalStateException("cannot read the thread's nice value", e);
        }
    }

    /** For {@code setpriority}: with a thread id, Linux applies it to that thread alone. */
    private static final int PRIO_PROCESS = 0;

    /** The C library calls, looked up when first used. */
    private record Native(MethodHandle gettid, MethodHandle getpriority, MethodHandle setpriority) {
        static final Native CALLS = lookUp();

        private static Native lookUp() {
            Linker linker = Linker.nativeLinker();
            var libc = linker.defaultLookup();
            return new Native(
                    linker.downcallHandle(libc.find("gettid").orElseThrow(), FunctionDescriptor.of(ValueLayout.JAVA_INT)),
                    linker.downcallHandle(libc.find("getpriority").orElseThrow(),
                            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT)),
                    linker.downcallHandle(libc.find("setpriority").orElseThrow(),
                            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
                                    ValueLayout.JAVA_INT)));
        }
    }
}
