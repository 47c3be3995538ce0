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
        var jobs = new ScheduledJobs(new ScheduledJobs.Gate());
        var runs = new AtomicInteger();
        assertEquals(ScheduledJobs.Outcome.RAN, jobs.run("count", runs::incrementAndGet));
        assertEquals(1, runs.get());
    }

    @Test
    void aFailingJobIsReportedAsFailedAndDoesNotThrow() {
        var jobs = new ScheduledJobs(new ScheduledJobs.Gate());
        assertEquals(ScheduledJobs.Outcome.FAILED, jobs.run("boom", () -> {
            throw new IllegalStateException("store gone");
        }));
    }

    @Test
    void noJobStartsOnceShutdownHasBegun() {
        var jobs = new ScheduledJobs(new ScheduledJobs.Gate());
        assertTrue(jobs.close(Duration.ofSeconds(1)));
        var ran = new AtomicBoolean();
        assertEquals(ScheduledJobs.Outcome.SKIPPED_SHUTTING_DOWN, jobs.run("late", () -> ran.set(true)));
        assertFalse(ran.get());
    }

    @Test
    void shutdownWaitsForTheJobAlreadyRunning() throws Exception {
        var jobs = new ScheduledJobs(new ScheduledJobs.Gate());
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
        var jobs = new ScheduledJobs(new ScheduledJobs.Gate());
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

    @Test
    void aFreshBeanInstanceSharesTheApplicationsClosedGateUntilTheNextStart() {
        // ArC may build a new instance through the client proxy after the application context is
        // gone; that instance must not let a late job in. A restarted application opens it again.
        var first = new ScheduledJobs();
        try {
            assertTrue(first.close(Duration.ofSeconds(1)));
            var ran = new AtomicBoolean();
            assertEquals(ScheduledJobs.Outcome.SKIPPED_SHUTTING_DOWN, new ScheduledJobs().run("late", () -> ran.set(true)));
            assertFalse(ran.get());
        } finally {
            new ScheduledJobs().start(null);
        }
        assertEquals(ScheduledJobs.Outcome.RAN, new ScheduledJobs().run("after restart", () -> { }));
    }

    @Test
    void aBackgroundJobRunsOnAThreadThreeNiceStepsBelowItsCaller() {
        var jobs = new ScheduledJobs(new ScheduledJobs.Gate());
        int callerNice = BackgroundThreads.ownNice();
        var thread = new java.util.concurrent.atomic.AtomicReference<String>();
        var nice = new AtomicInteger(Integer.MIN_VALUE);
        assertEquals(ScheduledJobs.Outcome.RAN, jobs.runInBackground("sign", () -> {
            thread.set(Thread.currentThread().getName());
            nice.set(BackgroundThreads.ownNice());
        }));
        assertTrue(thread.get().startsWith("audit-background-"), thread.get());
        assertEquals(Math.min(19, callerNice + BackgroundThreads.NICE), nice.get());
        assertEquals(callerNice, BackgroundThreads.ownNice(), "the caller's own priority is left alone");
    }

    @Test
    void aLoopStartedLoweredRunsOnItsOwnNamedThreadThreeNiceStepsBelowItsStarter() throws Exception {
        int starterNice = BackgroundThreads.ownNice();
        var nice = new AtomicInteger(Integer.MIN_VALUE);
        var name = new java.util.concurrent.atomic.AtomicReference<String>();
        Thread loop = BackgroundThreads.startLowered("audit-applier-test", () -> {
            name.set(Thread.currentThread().getName());
            nice.set(BackgroundThreads.ownNice());
        });
        loop.join();
        assertEquals("audit-applier-test", name.get());
        assertTrue(loop.isDaemon(), "it must not keep the JVM up");
        assertEquals(Math.min(19, starterNice + BackgroundThreads.NICE), nice.get());
        assertEquals(starterNice, BackgroundThreads.ownNice(), "the starter's own priority is left alone");
    }

    @Test
    void aFailingBackgroundJobIsReportedAsFailedOnItsCaller() {
        var jobs = new ScheduledJobs(new ScheduledJobs.Gate());
        assertEquals(ScheduledJobs.Outcome.FAILED, jobs.runInBackground("boom", () -> {
            throw new IllegalStateException("store gone");
        }));
    }

    @Test
    void shutdownWaitsForTheBackgroundJobAlreadyRunning() throws Exception {
        var jobs = new ScheduledJobs(new ScheduledJobs.Gate());
        var started = new CountDownLatch(1);
        var release = new CountDownLatch(1);
        var finished = new AtomicBoolean();
        Thread caller = Thread.ofPlatform().start(() -> jobs.runInBackground("slow signing", () -> {
            started.countDown();
            await(release);
            finished.set(true);
        }));
        assertTrue(started.await(5, TimeUnit.SECONDS));
        Thread.ofPlatform().start(() -> {
            sleep(200);
            release.countDown();
        });
        assertTrue(jobs.close(Duration.ofSeconds(5)), "shutdown should drain the running background job");
        assertTrue(finished.get(), "close returned before the background job finished");
        caller.join(5_000);
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
