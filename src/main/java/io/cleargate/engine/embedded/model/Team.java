package io.cleargate.engine.embedded.model;

import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * A fixed team of threads that runs the forward pass in parallel regions: the calling thread is
 * member 0 and {@code size - 1} daemon threads are the others. A region is a sequence of
 * {@link Step}s; every member runs every step with its own index and does its share of the work
 * (rows of a product and heads taken in {@link Chunks}, tokens split statically), and nobody starts
 * a step before everybody has finished the one before. One region replaces the dozens of fork/join dispatches a decoded token used to
 * make (each woke a parked worker and paid for it in latency).
 *
 * <p>Waiting members spin briefly ({@link Thread#onSpinWait}) and then park, so the team costs
 * nothing while no sequence runs: {@link #SPIN_NANOS} after the last region every thread is parked.
 *
 * <p>One caller at a time: a region started while the team is busy (another sequence, or a step
 * that itself starts a region) runs on the calling thread alone, member by member, which gives
 * the same results because no step's output depends on how the work is split.
 */
public final class Team implements AutoCloseable {

    /** One step of a region: member {@code member} of {@code members} does its share. */
    @FunctionalInterface
    public interface Step {
        void run(int member, int members);
    }

    /** How long a waiting member spins before it parks: longer than the serial gaps inside a token. */
    static final long SPIN_NANOS = 500_000;

    private static volatile Team shared;

    private final int size;
    private final Thread[] threads;
    private final boolean[] parked;
    private final AtomicBoolean busy = new AtomicBoolean();
    private final AtomicInteger arrived = new AtomicInteger();
    private volatile int phase;
    private volatile boolean closed;
    /** Steps of the current region; written by member 0 before the start barrier. */
    private List<Step> steps = List.of();
    private volatile Throwable failure;

    /** A team of {@code size} members: the caller plus {@code size - 1} new daemon threads. */
    public Team(int size) {
        if (size < 1) {
            throw new IllegalArgumentException("a team needs at least one member");
        }
        this.size = size;
        this.threads = new Thread[size];
        this.parked = new boolean[size];
        for (int m = 1; m < size; m++) {
            int member = m;
            threads[m] = Thread.ofPlatform().daemon().name("cleargate-engine-" + m).start(() -> work(member));
        }
    }

    /** The team of the engine: {@code -Dcleargate.engine.threads} members (default: all cores). */
    public static Team shared() {
        Team t = shared;
        if (t == null) {
            synchronized (Team.class) {
                if (shared == null) {
                    shared = new Team(Math.max(1, Integer.getInteger("cleargate.engine.threads",
                            Runtime.getRuntime().availableProcessors())));
                }
                t = shared;
            }
        }
        return t;
    }

    public int size() {
        return size;
    }

    /** Runs one step as a region of its own. */
    public void run(Step step) {
        run(List.of(step));
    }

    /**
     * Runs {@code region}: every member runs each step in order, with a barrier after each. Returns
     * when all members are done; rethrows the first failure of any member.
     */
    public void run(List<Step> region) {
        if (size == 1 || !busy.compareAndSet(false, true)) {
            alone(region);
            return;
        }
        try {
            threads[0] = Thread.currentThread();
            failure = null;
            steps = region;
            await(0); // start: the other members read the steps after this
            for (Step step : region) {
                guarded(step, 0);
                await(0);
            }
            Throwable f = failure;
            if (f != null) {
                failure = null;
                if (f instanceof RuntimeException r) {
                    throw r;
                }
                if (f instanceof Error e) {
                    throw e;
                }
                throw new IllegalStateException(f);
            }
        } finally {
            threads[0] = null;
            busy.set(false);
        }
    }

    /** The region on the calling thread: the same shares, one member after the other. */
    private void alone(List<Step> region) {
        for (Step step : region) {
            for (int m = 0; m < size; m++) {
                step.run(m, size);
            }
        }
    }

    private void work(int member) {
        while (true) {
            await(member);
            if (closed) {
                return;
            }
            for (Step step : steps) {
                guarded(step, member);
                await(member);
            }
        }
    }

    private void guarded(Step step, int member) {
        try {
            step.run(member, size);
        } catch (Throwable t) {
            if (failure == null) {
                failure = t;
            }
        }
    }

    /** Barrier: the last member to arrive opens the next phase and wakes the parked ones. */
    private void await(int member) {
        int p = phase;
        if (arrived.incrementAndGet() == size) {
            arrived.set(0);
            phase = p + 1;
            for (int m = 0; m < size; m++) {
                if (readParked(m)) {
                    LockSupport.unpark(threads[m]);
                }
            }
            return;
        }
        long deadline = 0;
        for (int spins = 0; phase == p; spins++) {
            if (spins < 64) {
                Thread.onSpinWait();
                continue;
            }
            long now = System.nanoTime();
            if (deadline == 0) {
                deadline = now + SPIN_NANOS;
            } else if (now > deadline) {
                setParked(member, true);
                if (phase == p) {
                    LockSupport.park(this);
                }
                setParked(member, false);
                continue;
            }
            spins = 0;
        }
    }

    // parked[] is read and written through VarHandle-free volatile semantics: a store-load fence
    // between publishing "parked" and re-reading the phase (and between the phase and the flag on
    // the releasing side) is what rules out a lost wake-up.
    private static final java.lang.invoke.VarHandle PARKED = java.lang.invoke.MethodHandles.arrayElementVarHandle(boolean[].class);

    private void setParked(int member, boolean value) {
        PARKED.setVolatile(parked, member, value);
    }

    private boolean readParked(int member) {
        return (boolean) PARKED.getVolatile(parked, member);
    }

    /** Whether every member but the caller is parked (the team is idle and burns no CPU). */
    public boolean idle() {
        for (int m = 1; m < size; m++) {
            if (!readParked(m)) {
                return false;
            }
        }
        return true;
    }

    /** CPU time the members other than the caller have used so far (for the idle check). */
    long workerCpuNanos() {
        var bean = java.lang.management.ManagementFactory.getThreadMXBean();
        long total = 0;
        for (int m = 1; m < size; m++) {
            total += Math.max(0, bean.getThreadCpuTime(threads[m].threadId()));
        }
        return total;
    }

    /**
     * Start of member {@code member}'s share of {@code count} items split into {@code members}
     * contiguous, balanced chunks whose boundaries are multiples of {@code align}.
     */
    public static int start(int count, int member, int members, int align) {
        if (member >= members) {
            return count;
        }
        int units = (count + align - 1) / align;
        return Math.min(count, (int) ((long) units * member / members) * align);
    }

    /** Stops the threads (not for the shared team, whose threads are daemons). */
    @Override
    public void close() {
        if (size == 1 || closed) {
            return;
        }
        while (!busy.compareAndSet(false, true)) {
            Thread.onSpinWait();
        }
        threads[0] = Thread.currentThread();
        closed = true;
        steps = List.of();
        await(0);
        threads[0] = null;
    }
}
