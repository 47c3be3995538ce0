package io.cleargate.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The watchdog that bounds the upstream client's reads, against a real loopback server that never answers. */
class ReadDeadlinesTest {

    private final ReadDeadlines deadlines = new ReadDeadlines(Duration.ofMillis(10));
    private ServerSocket server;
    private Socket client;
    private Socket accepted;

    @BeforeEach
    void connect() throws IOException {
        server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        client = new Socket(InetAddress.getLoopbackAddress(), server.getLocalPort());
        accepted = server.accept();
    }

    @AfterEach
    void close() throws IOException {
        client.close();
        accepted.close();
        server.close();
    }

    @Test
    void aReadStillBlockedAtItsDeadlineIsCutAndTheExchangeLearnsItExpired() throws Exception {
        var watch = deadlines.watch(client);
        long start = System.nanoTime();
        watch.arm(start + Duration.ofMillis(100).toNanos());
        assertThrows(IOException.class, () -> client.getInputStream().read()); // the server never writes
        long tookMillis = (System.nanoTime() - start) / 1_000_000;
        assertTrue(tookMillis >= 90 && tookMillis < 1000, "cut at the deadline, within a tick or so: " + tookMillis);
        assertTrue(watch.disarm(), "the exchange is told its deadline passed");
        assertFalse(watch.disarm(), "and told only once");
    }

    @Test
    void aDeadlineDisarmedInTimeNeverClosesTheSocket() throws Exception {
        var watch = deadlines.watch(client);
        watch.arm(System.nanoTime() + Duration.ofMillis(30).toNanos());
        assertFalse(watch.disarm());
        Thread.sleep(100);
        assertFalse(client.isClosed());
        accepted.getOutputStream().write(7);
        assertEquals(7, client.getInputStream().read());
    }

    @Test
    void anArmedReadLetsTheWatchdogSleepUntilItsDeadlineAndAnEarlierArmWakesIt() throws Exception {
        var distant = deadlines.watch(client);
        distant.arm(System.nanoTime() + Duration.ofSeconds(30).toNanos());
        Thread watchdog = deadlines.watchdog();
        awaitState(watchdog, Thread.State.TIMED_WAITING);
        long looks = deadlines.looks();
        Thread.sleep(100); // ten ticks of 10 ms
        assertTrue(deadlines.looks() - looks <= 1, "looked " + (deadlines.looks() - looks) + " times");

        var soon = deadlines.watch(client);
        long start = System.nanoTime();
        soon.arm(start + Duration.ofMillis(50).toNanos());
        assertThrows(IOException.class, () -> client.getInputStream().read()); // cut at 50 ms, not 30 s
        assertTrue(System.nanoTime() - start < Duration.ofSeconds(10).toNanos());
        assertTrue(soon.disarm());
    }

    @Test
    void withNothingArmedTheWatchdogSleepsWithoutATimerAndTheNextArmWakesIt() throws Exception {
        var watch = deadlines.watch(client);
        watch.arm(System.nanoTime() + Duration.ofMillis(20).toNanos());
        watch.disarm();
        Thread watchdog = deadlines.watchdog();
        awaitState(watchdog, Thread.State.WAITING); // parked without a timeout once it found nothing armed
        watch.arm(System.nanoTime() + Duration.ofMillis(50).toNanos());
        assertThrows(IOException.class, () -> client.getInputStream().read());
        assertTrue(watch.disarm());
    }

    private static void awaitState(Thread thread, Thread.State state) throws InterruptedException {
        long until = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (thread.getState() != state && System.nanoTime() < until) {
            Thread.sleep(5);
        }
        assertEquals(state, thread.getState());
    }

    @Test
    void aForgottenSocketIsNoLongerWatched() throws Exception {
        var watch = deadlines.watch(client);
        watch.arm(System.nanoTime() + Duration.ofMillis(20).toNanos());
        watch.forget();
        Thread.sleep(100);
        assertFalse(client.isClosed());
    }
}
