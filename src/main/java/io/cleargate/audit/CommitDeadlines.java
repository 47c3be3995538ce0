package io.cleargate.audit;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.LockSupport;

/**
 * The commit timeout of requests waiting for their audit record, without a timer per wait.
 *
 * <p>Why: a request's virtual thread that waits for its record with a timeout
 * ({@code future.get(timeout)}) parks with a timeout, and every timed park of a virtual thread
 * hands a task to the JDK's delay scheduler thread, and a cancellation when the record is durable
 * first. Each request waits twice (its request record, its final record), so at concurrency 1
 * that woke a sleeping thread about four times per request for a timeout that almost never
 * fires. Here requests wait without a timeout and one watchdog thread looks at the waits every
 * {@link #tick} and fails those whose deadline passed with a {@link TimeoutException}, which the
 * waiter reports exactly as a timed-out wait. While nothing waits the watchdog sleeps until the
 * next wait wakes it, so an idle gateway runs no timer; a busy one wakes it once a tick, not per
 * request. A timeout fires up to one tick late.
 *
 * <p>Waits are watched in arrival order. The timeout is the same for every wait, so that is also
 * deadline order: the watchdog drops the finished waits at the head and stops at the first one
 * whose deadline is still ahead.
 */
final class CommitDeadlines {

    private final long tickNanos;
    private final ConcurrentLinkedQueue<Wait> waits = new ConcurrentLinkedQueue<>();
    /** True until the first wait starts the watchdog, and while it sleeps. */
    private volatile boolean sleeping = true;
    private volatile Thread watchdog;

    private record Wait(CompletableFuture<?> done, long deadline) {}

    CommitDeadlines(Duration tick) {
        this.tickNanos = tick.toNanos();
    }

    /** Fails {@code done} with a {@link TimeoutException} if it is still pending at {@code deadlineNanos} ({@link System#nanoTime()}). */
    void watch(CompletableFuture<?> done, long deadlineNanos) {
        waits.add(new Wait(done, deadlineNanos));
        if (sleeping) {
            wake();
        }
    }

    /** Waits not yet dropped by the watchdog (for tests). */
    int watched() {
        return waits.size();
    }

    /** The watchdog thread, once a wait has started it (for tests). */
    Thread watchdog() {
        return watchdog;
    }

    private void wake() {
        Thread t = watchdog;
        if (t == null) {
            synchronized (this) {
                t = watchdog;
                if (t == null) {
                    watchdog = Thread.ofPlatform().daemon().name("audit-commit-deadlines").start(this::run);
                    return;
                }
            }
        }
        LockSupport.unpark(t);
    }

    private void run() {
        sleeping = false;
        while (true) {
            if (check()) {
                LockSupport.parkNanos(this, tickNanos);
                continue;
            }
            // Nothing left to watch: sleep until a wait sees this flag and wakes us.
            sleeping = true;
            if (!check()) {
                LockSupport.park(this);
            }
            sleeping = false;
        }
    }

    /** Drops finished waits, fails expired ones; true while some wait is still pending. */
    private boolean check() {
        long now = System.nanoTime();
        Wait head;
        while ((head = waits.peek()) != null) {
            if (!head.done().isDone()) {
                if (now - head.deadline() < 0) {
                    return true;
                }
                head.done().completeExceptionally(new TimeoutException("no durable audit record by the commit timeout"));
            }
            waits.poll();
        }
        return false;
    }
}
