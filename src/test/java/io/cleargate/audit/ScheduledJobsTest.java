package io.cleargate.audit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class ScheduledJobsTest {

    @Test
    void aJobRunsWhileTheApplicationIsUp() {
        var jobs = new ScheduledJobs();
        var runs = new AtomicInteger();
        assertEquals(ScheduledJobs.Outcome.RAN, jobs.run("count", runs::incrementAndGet));
        assertEquals(1, runs.get());
    }

    @Test
    void aFailingJobIsReportedAsFailedAndDoesNotThrow() {
        var jobs = new ScheduledJobs();
        assertEquals(ScheduledJobs.Outcome.FAILED, jobs.run("boom", () -> {
            throw new IllegalStateException("store gone");
        }));
    }

    @Test
    void noJobStartsOnceShutdownHasBegun() {
        var jobs = new ScheduledJobs();
        assertTrue(jobs.close(Duration.ofSeconds(1)));
        var ran = new AtomicBoolean();
        assertEquals(ScheduledJobs.Outcome.SKIPPED_SHUTTING_DOWN, jobs.run("late", () -> ran.set(true)));
        assertFalse(ran.get());
    }

    @Test
    void shutdownWaitsForTheJobAlreadyRunning() throws Exception {
        var jobs = new ScheduledJobs();
        var started = new CountDownLatch(1);
        var release = new CountDownLatch(1);
        var finished = new AtomicBoolean();
        Thread job = Thread.ofPlatform().start(() -> jobs.run("slow purge", () -> {
            started.countDown();
            await(release);
            finished.set(true);
        }));
        assertTrue(started.await(5, TimeUnit.SECONDS));
        Thread.ofPlatform().start(() -> {
            sleep(200);
            release.countDown();
        });
        assertTrue(jobs.close(Duration.ofSeconds(5)), "shutdown should drain the running job");
        assertTrue(finished.get(), "close returned before the running job finished");
        job.join(5_000);
    }

    @Test
    void shutdownGivesUpOnAJobThatOutlivesTheDrainTime() throws Exception {
        var jobs = new ScheduledJobs();
        var started = new CountDownLatch(1);
        var release = new CountDownLatch(1);
        Thread job = Thread.ofPlatform().start(() -> jobs.run("stuck", () -> {
            started.countDown();
            await(release);
        }));
        assertTrue(started.await(5, TimeUnit.SECONDS));
        assertFalse(jobs.close(Duration.ofMillis(100)));
        release.countDown();
        job.join(5_000);
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
