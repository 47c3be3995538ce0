package io.cleargate.audit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;

class CommitDeadlinesTest {

    private final CommitDeadlines deadlines = new CommitDeadlines(Duration.ofMillis(5));

    @Test
    void aWaitStillPendingAtItsDeadlineFailsWithATimeout() {
        var done = new CompletableFuture<String>();
        deadlines.watch(done, System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(20));

        // The bound only keeps a broken watchdog from hanging the test.
        var failure = assertThrows(ExecutionException.class, () -> done.get(30, TimeUnit.SECONDS));
        assertInstanceOf(TimeoutException.class, failure.getCause());
    }

    @Test
    void aWaitFinishedBeforeItsDeadlineKeepsItsResultAndIsDropped() throws Exception {
        var done = new CompletableFuture<String>();
        deadlines.watch(done, System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(20));
        done.complete("durable");

        awaitTrue(() -> deadlines.watched() == 0);
        assertEquals("durable", done.get());
    }

    @Test
    void anExpiredWaitBehindAFinishedOneIsFailedAndTheFinishedOneKept() throws Exception {
        var first = new CompletableFuture<String>();
        var second = new CompletableFuture<String>();
        long now = System.nanoTime();
        deadlines.watch(first, now + TimeUnit.MILLISECONDS.toNanos(10));
        deadlines.watch(second, now + TimeUnit.MILLISECONDS.toNanos(20));
        first.complete("durable");

        var failure = assertThrows(ExecutionException.class, () -> second.get(30, TimeUnit.SECONDS));
        assertInstanceOf(TimeoutException.class, failure.getCause());
        assertEquals("durable", first.get());
    }

    @Test
    void aPendingWaitLetsTheWatchdogSleepUntilItsDeadlineInsteadOfLookingEveryTick() throws Exception {
        var done = new CompletableFuture<String>();
        deadlines.watch(done, System.nanoTime() + TimeUnit.HOURS.toNanos(1));
        awaitTrue(() -> deadlines.watchdog() != null && deadlines.watchdog().getState() == Thread.State.TIMED_WAITING);
        long looks = deadlines.looks();

        Thread.sleep(100); // twenty ticks of 5 ms

        assertTrue(deadlines.looks() - looks <= 1, "looked " + (deadlines.looks() - looks) + " times");
        assertEquals(Thread.State.TIMED_WAITING, deadlines.watchdog().getState());
    }

    @Test
    void aWaitWithAnEarlierDeadlineWakesTheSleepingWatchdogAndTheFinishedOneBeforeItIsDropped() throws Exception {
        var finished = new CompletableFuture<String>();
        deadlines.watch(finished, System.nanoTime() + TimeUnit.HOURS.toNanos(1));
        Thread watchdog = deadlines.watchdog();
        awaitTrue(() -> watchdog.getState() == Thread.State.TIMED_WAITING);
        finished.complete("durable");

        var next = new CompletableFuture<String>();
        deadlines.watch(next, System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(10));
        assertEquals(1, deadlines.watched(), "the registration dropped the finished wait");
        var failure = assertThrows(ExecutionException.class, () -> next.get(30, TimeUnit.SECONDS));
        assertInstanceOf(TimeoutException.class, failure.getCause());
        assertEquals("durable", finished.get());

        // Nothing left to watch: an untimed park (a watchdog on a timer would show TIMED_WAITING).
        awaitTrue(() -> deadlines.watched() == 0 && watchdog.getState() == Thread.State.WAITING);
        assertSame(watchdog, deadlines.watchdog(), "one watchdog for every wait");
    }

    private static void awaitTrue(BooleanSupplier condition) throws InterruptedException {
        long giveUp = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > giveUp) {
                throw new AssertionError("condition not reached");
            }
            Thread.sleep(2);
        }
    }
}
