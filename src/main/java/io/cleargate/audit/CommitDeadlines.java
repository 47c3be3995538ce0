package io.cleargate.audit;

import io.cleargate.concurrent.TickingWatchdog;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeoutException;

/**
 * The commit timeout of requests waiting for their audit record, without a timer per wait.
 *
 * <p>Why: each request waits twice for a durable record (its request record, its final record),
 * and with {@code future.get(timeout)} each wait woke the JDK's delay scheduler thread (see
 * {@link TickingWatchdog}): about four wake-ups per request at concurrency 1. Here requests wait
 * without a timeout, and a {@link TickingWatchdog} fails the waits whose deadline passed with a
 * {@link TimeoutException}, which the waiter reports exactly as a timed-out wait. A timeout fires
 * up to one tick late.
 *
 * <p>Waits are watched in arrival order. The timeout is the same for every wait, so that is also
 * deadline order: the watchdog drops the finished waits at the head and stops at the first one
 * whose deadline is still ahead.
 */
final class CommitDeadlines {

    private final ConcurrentLinkedQueue<Wait> waits = new ConcurrentLinkedQueue<>();
    private final TickingWatchdog watchdog;

    private record Wait(CompletableFuture<?> done, long deadline) {}

    CommitDeadlines(Duration tick) {
        this.watchdog = new TickingWatchdog("audit-commit-deadlines", tick, this::check);
    }

    /** Fails {@code done} with a {@link TimeoutException} if it is still pending at {@code deadlineNanos} ({@link System#nanoTime()}). */
    void watch(CompletableFuture<?> done, long deadlineNanos) {
        waits.add(new Wait(done, deadlineNanos));
        watchdog.poke();
    }

    /** Waits not yet dropped by the watchdog (for tests). */
    int watched() {
        return waits.size();
    }

    /** The watchdog thread, once a wait has started it (for tests). */
    Thread watchdog() {
        return watchdog.thread();
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
