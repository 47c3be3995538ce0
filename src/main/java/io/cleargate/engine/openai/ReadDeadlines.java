package io.cleargate.engine.openai;

import java.io.IOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.net.Socket;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.LockSupport;

/**
 * Deadlines for the upstream client's socket reads, without a timer per read.
 *
 * <p>A virtual thread blocked in a socket read with {@code SO_TIMEOUT} parks with a timeout, and
 * every timed park hands a task to the JDK's delay scheduler thread (and hands it a cancellation
 * when the answer comes first): at low load that wakes a sleeping thread twice per request, for a
 * timeout that almost never fires. Here the client's reads block without a timeout; each exchange
 * arms its connection's deadline (a field write) and one watchdog thread looks at the armed
 * deadlines every {@link #TICK} and closes the socket of a read that passed its deadline, which
 * makes the blocked read fail at once; the exchange then reports a timeout. While no exchange
 * has armed a deadline for a whole tick the watchdog sleeps until the next one does, so an idle
 * gateway has no timer running, and a busy one wakes the watchdog every tick, not per request.
 * A deadline is kept to within one tick.
 */
final class ReadDeadlines {

    /** How often the watchdog looks while reads are in flight: how late a timeout may fire. */
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

    private final long tickNanos;
    private final Set<Watch> watches = ConcurrentHashMap.newKeySet();
    /** Set by every arm; the watchdog sleeps only after a tick in which nothing was armed. */
    private volatile boolean armedSinceTick;
    /** True until the first arm starts the watchdog, and while it sleeps. */
    private volatile boolean sleeping = true;
    private volatile Thread watchdog;

    ReadDeadlines(Duration tick) {
        this.tickNanos = tick.toNanos();
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
            deadline = deadlineNanos == NONE || deadlineNanos == EXPIRED ? EXPIRED + 1 : deadlineNanos;
            armedSinceTick = true;
            if (sleeping) {
                wake();
            }
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

        /** Closes the socket if its armed deadline is at or before {@code now}; true if armed at all. */
        private boolean check(long now) {
            long d = deadline;
            if (d == NONE || d == EXPIRED) {
                return false;
            }
            if (now - d >= 0 && DEADLINE.compareAndSet(this, d, EXPIRED)) {
                try {
                    socket.close(); // the blocked read fails at once; the exchange sees EXPIRED
                } catch (IOException ignored) {
                    // closing is all we wanted
                }
            }
            return true;
        }
    }

    /** The watchdog thread, once an arm has started it (for tests). */
    Thread watchdog() {
        return watchdog;
    }

    private void wake() {
        Thread t = watchdog;
        if (t == null) {
            synchronized (this) {
                t = watchdog;
                if (t == null) {
                    watchdog = t = Thread.ofPlatform().daemon().name("upstream-read-deadlines").start(this::run);
                    return;
                }
            }
        }
        LockSupport.unpark(t);
    }

    private void run() {
        // Started awake: until now every arm saw "sleeping" and would have unparked it each time.
        sleeping = false;
        while (true) {
            boolean armed = checkAll();
            if (armed || armedSinceTick) {
                armedSinceTick = false;
                LockSupport.parkNanos(this, tickNanos);
                continue;
            }
            // Nothing armed for a whole tick: sleep until an arm sees this flag and wakes us.
            sleeping = true;
            if (!armedSinceTick && !checkAll()) {
                LockSupport.park(this);
            }
            sleeping = false;
        }
    }

    private boolean checkAll() {
        long now = System.nanoTime();
        boolean armed = false;
        for (Watch w : watches) {
            armed |= w.check(now);
        }
        return armed;
    }
}
