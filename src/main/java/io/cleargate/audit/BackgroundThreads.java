package io.cleargate.audit;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.jboss.logging.Logger;

/**
 * Platform threads for the audit store's background work (checkpoint signing, the readiness write
 * probe, the journal's applier), each started {@link #NICE} steps below the process's scheduling
 * priority and, while it keeps up, in Linux's idle scheduling class.
 *
 * <p>Why lower: the checkpoint signer re-reads and re-hashes every record written since its last
 * run, in one burst every 10 s, and the applier inserts a quarter of a second's records at a time.
 * At equal weight with the one carrier thread that runs every request, each burst slowed whatever
 * requests were in flight.
 *
 * <p>Why the idle class: a nice value alone changes a thread's share, not who runs first. Linux's
 * EEVDF scheduler lets the running thread finish its slice (about 1.5 ms on two cores) before a
 * thread that wakes up takes the core, and a request wakes up about ten times on the gateway's core
 * (event loop, carrier, audit writer, upstream reads), so a request that overlapped a burst of the
 * applier's waited up to a slice at each of them: at concurrency 1, the applier was the first cause
 * of requests over the p99 ({@code bin/cleargate bench tail full}, 32 of 90 in a 15 s window). A
 * thread in the idle class ({@code SCHED_IDLE}) is preempted as soon as any normal thread wakes, so
 * background work runs only in the gaps between requests.
 *
 * <p>The idle class has a weight of 3 against a normal thread's 1024, so on a saturated core it
 * would starve; background work may wait, but not forever (the signer's interval, readers waiting
 * for records to be inserted, the writer waiting for room in the journal). So a thread leaves the
 * idle class while anything waits for it ({@link Yielding#hurry()}: a job's caller after
 * {@link #LATE}, the applier's barriers, the applier itself when its oldest frame is late) and runs
 * in the normal class at its lowered nice value, which is how all of it ran before: three nice steps
 * give it half a request thread's weight, about a fifth of a fully loaded core (weight 526 against
 * the carrier's and the writer's 1024), half as much again as the signer needs at concurrency 64
 * (about 14%). Five steps (a seventh) would leave no margin.
 *
 * <p>Linux only (a thread's nice value set with {@code setpriority}, its class with
 * {@code sched_setscheduler}, both on its thread id; an unprivileged thread may leave the idle class
 * for the normal one as long as its nice value is not raised); elsewhere, or if a call is refused,
 * the threads keep what they have, at worst the normal priority, which is how the work ran before.
 * What the jobs do is the same either way.
 */
final class BackgroundThreads {

    private static final Logger LOG = Logger.getLogger(BackgroundThreads.class);

    /** How many nice steps below the process the threads run. */
    static final int NICE = 3;

    /** A job its caller has waited this long for leaves the idle class (see {@link Yielding}). */
    static final Duration LATE = Duration.ofSeconds(1);

    private static final ExecutorService POOL = Executors.newCachedThreadPool(task -> Thread.ofPlatform()
            .name("audit-background-", 0).daemon(true).unstarted(() -> {
                lowerOwnPriority(NICE);
                task.run();
            }));

    private BackgroundThreads() {}

    /**
     * Runs the job on a background thread in the idle class and waits for it; after {@link #LATE}
     * the thread is hurried into the normal class. The job's exception, if any, is thrown here.
     */
    static void runAndWait(Runnable job) {
        runAndWait(job, LATE);
    }

    static void runAndWait(Runnable job, Duration late) {
        Yielding place = new Yielding();
        Future<?> done = POOL.submit(() -> {
            place.enter();
            try {
                job.run();
            } finally {
                place.leave();
            }
        });
        boolean interrupted = false;
        boolean hurried = false;
        try {
            while (true) {
                try {
                    if (hurried) {
                        done.get();
                    } else {
                        try {
                            done.get(late.toNanos(), TimeUnit.NANOSECONDS);
                        } catch (TimeoutException e) {
                            place.hurry();
                            hurried = true;
                            continue;
                        }
                    }
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
     * the journaled store's applier, which inserts the journal's records into H2 in bursts (a
     * quarter of a second's records at a time) off the requests' path. At equal weight each burst
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

    /**
     * As {@link #startLowered}, and the thread enters the idle class at once through {@code place},
     * which the loop and whoever waits for it use to hurry it and let it yield again.
     */
    static Thread startYielding(String name, Yielding place, Runnable loop) {
        return startLowered(name, () -> {
            place.enter();
            loop.run();
        });
    }

    /**
     * One background thread's scheduling class: idle while it keeps up, normal (at its lowered nice
     * value) while something waits for it. {@link #enter()} and {@link #relax()} are called by the
     * thread itself, {@link #hurry()} by any thread; each changes the class only when it differs,
     * one system call.
     */
    static final class Yielding {
        /** The thread's Linux id while it is entered; 0 before and after. */
        private int tid;
        private boolean hurried;

        /** On the background thread: from now on this thread is the one hurried, and it yields. */
        synchronized void enter() {
            tid = ownTid();
            hurried = false;
            schedule(tid, SCHED_IDLE);
        }

        /** On the background thread, when its work is done: nobody can hurry it any more. */
        synchronized void leave() {
            tid = 0;
        }

        /** From any thread: something waits for this thread's work, so it leaves the idle class. */
        synchronized void hurry() {
            if (tid != 0 && !hurried) {
                hurried = true;
                schedule(tid, SCHED_OTHER);
            }
        }

        /** On the background thread, once nothing waits for it: back to the idle class. */
        synchronized void relax() {
            if (tid != 0 && hurried) {
                hurried = false;
                schedule(tid, SCHED_IDLE);
            }
        }

        /** Whether the thread is out of the idle class (it was hurried and has not relaxed since). */
        synchronized boolean hurried() {
            return hurried;
        }
    }

    /** Linux's scheduling policies: the normal one, and the one that runs only when nothing else wants the core. */
    static final int SCHED_OTHER = 0;
    static final int SCHED_IDLE = 5;

    /** Puts thread {@code tid} in scheduling class {@code policy}, its nice value kept; false where not possible. */
    static boolean schedule(int tid, int policy) {
        if (tid <= 0 || !LINUX) {
            return false;
        }
        try {
            return (int) Native.CALLS.setScheduler.invokeExact(tid, policy, Native.NO_PRIORITY) == 0;
        } catch (Throwable e) {
            LOG.debugf("audit background thread keeps its scheduling class: %s", e.toString());
            return false;
        }
    }

    /** The calling thread's scheduling policy as the kernel reports it (Linux). */
    static int ownPolicy() {
        try {
            return (int) Native.CALLS.getScheduler.invokeExact(ownTid());
        } catch (Throwable e) {
            throw new IllegalStateException("cannot read the thread's scheduling policy", e);
        }
    }

    /** The calling thread's Linux id; 0 elsewhere or when it cannot be read. */
    static int ownTid() {
        if (!LINUX) {
            return 0;
        }
        try {
            return (int) Native.CALLS.gettid.invokeExact();
        } catch (Throwable e) {
            return 0;
        }
    }

    private static final boolean LINUX = System.getProperty("os.name", "").startsWith("Linux");

    /** Lowers the calling thread's priority by {@code steps} nice steps (at most to 19); false where that is not possible. */
    static boolean lowerOwnPriority(int steps) {
        if (!LINUX) {
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
    private record Native(MethodHandle gettid, MethodHandle getpriority, MethodHandle setpriority,
            MethodHandle setScheduler, MethodHandle getScheduler) {
        static final Native CALLS = lookUp();
        /** A {@code struct sched_param} with priority 0, the only one the normal and idle classes take; never written. */
        static final MemorySegment NO_PRIORITY = Arena.global().allocate(ValueLayout.JAVA_INT);

        private static Native lookUp() {
            Linker linker = Linker.nativeLinker();
            var libc = linker.defaultLookup();
            return new Native(
                    linker.downcallHandle(libc.find("gettid").orElseThrow(), FunctionDescriptor.of(ValueLayout.JAVA_INT)),
                    linker.downcallHandle(libc.find("getpriority").orElseThrow(),
                            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT)),
                    linker.downcallHandle(libc.find("setpriority").orElseThrow(),
                            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
                                    ValueLayout.JAVA_INT)),
                    linker.downcallHandle(libc.find("sched_setscheduler").orElseThrow(),
                            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
                                    ValueLayout.ADDRESS)),
                    linker.downcallHandle(libc.find("sched_getscheduler").orElseThrow(),
                            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT)));
        }
    }
}
