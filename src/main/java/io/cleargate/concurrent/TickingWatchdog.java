package io.cleargate.concurrent;

import java.time.Duration;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongSupplier;

/**
 * One platform thread that enforces many deadlines without a timer per deadline.
 *
 * <p>Why: a virtual thread that waits with a timeout parks with a timeout, and every timed park
 * hands a task to the JDK's delay scheduler thread (and a cancellation when the wait ends first),
 * so a gateway at low load woke a sleeping thread several times per request for timeouts that
 * almost never fire. Instead the waits block without a timeout and register with their owner,
 * and this thread runs the owner's check, which acts on the deadlines that passed and answers the
 * earliest one still watched. The thread sleeps until that deadline, or without a timer when
 * nothing is watched; a registration whose deadline comes before the thread's next look wakes it
 * ({@link #poke(long)}). The deadlines the gateway watches are seconds long and almost always
 * outlived by what they guard, so a busy gateway wakes this thread about once per timeout, not
 * once per tick: looking every tick woke it 100 times a second at concurrency 1, an eighth of a
 * sleep per request (bench/results/speed.md section 57). A deadline is kept to within one tick:
 * the thread never sleeps for less, so deadlines close together are acted on in one look.
 */
public final class TickingWatchdog {

    /** What a check answers when nothing is watched; never a deadline. */
    public static final long NOTHING = Long.MAX_VALUE;

    private final String name;
    private final long tickNanos;
    private final LongSupplier check;
    /**
     * When the thread looks next ({@link System#nanoTime()}), or {@link #NOTHING} while it sleeps
     * without a timer (and until it first runs).
     */
    private volatile long nextLook = NOTHING;
    private volatile Thread thread;
    /** How many times the check ran (for tests). */
    private volatile long looks;

    /**
     * @param check acts on the deadlines that passed and answers the earliest deadline still
     *              watched ({@link System#nanoTime()}), or {@link #NOTHING}; it runs on the watchdog
     *              thread only
     */
    public TickingWatchdog(String name, Duration tick, LongSupplier check) {
        this.name = name;
        this.tickNanos = tick.toNanos();
        this.check = check;
    }

    /**
     * Call after registering a deadline: wakes the thread (starts it the first time) if it would
     * otherwise look later than {@code deadlineNanos}.
     */
    public void poke(long deadlineNanos) {
        long at = nextLook;
        if (at == NOTHING || deadlineNanos - at < 0) {
            wake();
        }
    }

    /** The thread, once a poke has started it (for tests). */
    public Thread thread() {
        return thread;
    }

    /** How many times the thread has looked at its deadlines (for tests). */
    public long looks() {
        return looks;
    }

    private void wake() {
        Thread t = thread;
        if (t == null) {
            synchronized (this) {
                t = thread;
                if (t == null) {
                    thread = Thread.ofPlatform().daemon().name(name).start(this::run);
                    return;
                }
            }
        }
        LockSupport.unpark(t);
    }

    private void run() {
        while (true) {
            long next = look();
            nextLook = next;
            // A registration that read the previous nextLook may have left this thread asleep: its
            // deadline is seen by looking once more after publishing the new one.
            long again = look();
            if (earlier(again, next)) {
                continue;
            }
            if (next == NOTHING) {
                LockSupport.park(this);
            } else {
                LockSupport.parkNanos(this, Math.max(next - System.nanoTime(), tickNanos));
            }
        }
    }

    private long look() {
        looks++; // this thread only
        return check.getAsLong();
    }

    /** True when deadline {@code a} comes before {@code b} ({@link #NOTHING} comes after every deadline). */
    private static boolean earlier(long a, long b) {
        return a != NOTHING && (b == NOTHING || a - b < 0);
    }

    /** The earlier of two deadlines, either of which may be {@link #NOTHING}. */
    public static long earliest(long a, long b) {
        return earlier(a, b) ? a : b;
    }
}
