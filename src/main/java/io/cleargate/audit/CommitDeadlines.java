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
 * deadline order: the watchdog fails the expired waits at the head and sleeps until the deadline of
 * the first one still pending. Finished waits at the head are dropped by the next registration too,
 * so that between the watchdog's looks (a commit timeout apart) the queue holds only the waits that
 * are still pending and those behind them.
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
        dropFinished();
        waits.add(new Wait(done, deadlineNanos));
        watchdog.poke(deadlineNanos);
    }

    /** Drops the finished waits at the head. Removes each by itself: the watchdog may be dropping them too. */
    private void dropFinished() {
        Wait head;
        while ((head = waits.peek()) != null && head.done().isDone()) {
            waits.remove(head);
        }
    }

    /** Waits not yet dropped by the watchdog (for tests). */
    int watched() {
        return waits.size();
    }

    /** The watchdog thread, once a wait has started it (for tests). */
    Thread watchdog() {
        return watchdog.thread();
    }

    /** How many times the watchdog has looked at the waits (for tests). */
    long looks() {
        return watchdog.looks();
    }

    /** Drops finished waits, fails expired ones; answers the deadline of the first wait still pending. */
    private long check() {
        long now = System.nanoTime();
        Wait head;
        while ((head = waits.peek()) != null) {
            if (!head.done().isDone()) {
                if (now - head.deadline() < 0) {
                    return head.deadline();
                }
                head.done().completeExceptionally(new TimeoutException("no durable audit record by the commit timeout"));
            }
            waits.remove(head);
        }
        return TickingWatchdog.NOTHING;
    }
}
