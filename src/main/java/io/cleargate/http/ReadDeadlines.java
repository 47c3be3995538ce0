package io.cleargate.http;

import io.cleargate.concurrent.TickingWatchdog;
import java.io.IOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.net.Socket;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Deadlines for {@link Http1Client}'s socket reads (upstreams, OPA), without a timer per read.
 *
 * <p>A virtual thread blocked in a socket read with {@code SO_TIMEOUT} parks with a timeout, which
 * wakes the JDK's delay scheduler thread twice per request (see {@link TickingWatchdog}). Here the
 * client's reads block without a timeout; each exchange arms its connection's deadline (a field
 * write) and a {@link TickingWatchdog} closes the socket of a read that passed its deadline, which
 * makes the blocked read fail at once; the exchange then reports a timeout. The watchdog sleeps
 * until the earliest armed deadline (an arm with an earlier one wakes it), or without a timer while
 * nothing is armed. A deadline is kept to within one {@link #TICK}.
 */
final class ReadDeadlines {

    /** The least the watchdog sleeps between looks: how late a timeout may fire. */
    static final Duration TICK = Duration.ofMillis(10);

    private static final long NONE = Long.MIN_VALUE;
    /** Marks a watch whose read the watchdog cut; only {@link Watch#disarm()} clears it. */
    private static final long EXPIRED = Long.MIN_VALUE + 1;
    private static final VarHandle DEADLINE;

    static {
        try {
            DEADLINE = MethodHandles.lookup().findVarHandle(Watch.class, "deadline", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    static final ReadDeadlines SHARED = new ReadDeadlines(TICK);

    private final Set<Watch> watches = ConcurrentHashMap.newKeySet();
    private final TickingWatchdog watchdog;

    ReadDeadlines(Duration tick) {
        this.watchdog = new TickingWatchdog("http-read-deadlines", tick, this::check);
    }

    /** Watches {@code socket} (closed when an armed deadline passes) until {@link Watch#forget()}. */
    Watch watch(Socket socket) {
        var watch = new Watch(socket);
        watches.add(watch);
        return watch;
    }

    /** The deadline of one socket's reads; armed by one exchange at a time. */
    final class Watch {
        private final Socket socket;
        @SuppressWarnings("unused") // through DEADLINE
        private volatile long deadline = NONE;

        private Watch(Socket socket) {
            this.socket = socket;
        }

        /** Reads on this socket from now on must end by {@code deadlineNanos} ({@link System#nanoTime()}). */
        void arm(long deadlineNanos) {
            long at = deadlineNanos == NONE || deadlineNanos == EXPIRED || deadlineNanos == TickingWatchdog.NOTHING
                    ? EXPIRED + 1 : deadlineNanos;
            deadline = at;
            watchdog.poke(at);
        }

        /** Ends the deadline; true when it had passed and the watchdog closed the socket. */
        boolean disarm() {
            return (long) DEADLINE.getAndSet(this, NONE) == EXPIRED;
        }

        /** Stops watching (the socket is being closed). */
        void forget() {
            deadline = NONE;
            watches.remove(this);
        }

        /**
         * Closes the socket if its armed deadline is at or before {@code now}; answers the deadline
         * still ahead, or {@link TickingWatchdog#NOTHING}.
         */
        private long check(long now) {
            long d = deadline;
            if (d == NONE || d == EXPIRED) {
                return TickingWatchdog.NOTHING;
            }
            if (now - d < 0) {
                return d;
            }
            if (DEADLINE.compareAndSet(this, d, EXPIRED)) {
                try {
                    socket.close(); // the blocked read fails at once; the exchange sees EXPIRED
                } catch (IOException ignored) {
                    // closing is all we wanted
                }
                return TickingWatchdog.NOTHING;
            }
            return check(now); // re-armed meanwhile: look at the new deadline
        }
    }

    /** The watchdog thread, once an arm has started it (for tests). */
    Thread watchdog() {
        return watchdog.thread();
    }

    /** How many times the watchdog has looked at the deadlines (for tests). */
    long looks() {
        return watchdog.looks();
    }

    /** Cuts the reads past their deadline; answers the earliest deadline still armed. */
    private long check() {
        long now = System.nanoTime();
        long earliest = TickingWatchdog.NOTHING;
        for (Watch w : watches) {
            earliest = TickingWatchdog.earliest(earliest, w.check(now));
        }
        return earliest;
    }
}
