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
    void withNothingArmedTheWatchdogSleepsWithoutATimerAndTheNextArmWakesIt() throws Exception {
        var watch = deadlines.watch(client);
        watch.arm(System.nanoTime() + Duration.ofSeconds(30).toNanos());
        watch.disarm();
        Thread watchdog = deadlines.watchdog();
        long until = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (watchdog.getState() != Thread.State.WAITING && System.nanoTime() < until) {
            Thread.sleep(5);
        }
        assertEquals(Thread.State.WAITING, watchdog.getState(), "parked without a timeout once idle");
        watch.arm(System.nanoTime() + Duration.ofMillis(50).toNanos());
        assertThrows(IOException.class, () -> client.getInputStream().read());
        assertTrue(watch.disarm());
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
