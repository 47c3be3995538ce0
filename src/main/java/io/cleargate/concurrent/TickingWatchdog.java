package io.cleargate.concurrent;

import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.concurrent.locks.LockSupport;

/**
 * One platform thread that enforces many deadlines without a timer per deadline.
 *
 * <p>Why: a virtual thread that waits with a timeout parks with a timeout, and every timed park
 * hands a task to the JDK's delay scheduler thread (and a cancellation when the wait ends first),
 * so a gateway at low load woke a sleeping thread several times per request for timeouts that
 * almost never fire. Instead the waits block without a timeout and register with their owner,
 * and this thread runs the owner's check every tick while the check says something is still
 * watched. When nothing is, it sleeps without a timer until the next registration calls
 * {@link #poke()}: an idle gateway runs no timer, a busy one wakes this thread once a tick. A
 * deadline is kept to within one tick.
 */
public final class TickingWatchdog {

    private final String name;
    private final long tickNanos;
    private final BooleanSupplier check;
    /** True until the first poke starts the thread, and while it sleeps. */
    private volatile boolean sleeping = true;
    private volatile Thread thread;

    /**
     * @param check acts on the deadlines that passed and answers whether anything is still watched;
     *              it runs on the watchdog thread only
     */
    public TickingWatchdog(String name, Duration tick, BooleanSupplier check) {
        this.name = name;
        this.tickNanos = tick.toNanos();
        this.check = check;
    }

    /** Call after registering something to watch: wakes the thread (starts it the first time) if it sleeps. */
    public void poke() {
        if (sleeping) {
            wake();
        }
    }

    /** The thread, once a poke has started it (for tests). */
    public Thread thread() {
        return thread;
    }

    private void wake() {
        Thread t = thread;
        if (t == null) {
            synchronized (this) {
                t = thread;
                if (t == null) {
                    thread = Thread.ofPlatform().daemon().name(name).start(this::run);
                    return;
                }
            }
        }
        LockSupport.unpark(t);
    }

    private void run() {
        // Started awake: until now every poke saw "sleeping" and would have unparked it each time.
        sleeping = false;
        while (true) {
            if (check.getAsBoolean()) {
                LockSupport.parkNanos(this, tickNanos);
                continue;
            }
            // Nothing watched: sleep until a poke sees this flag. Checking again after setting it
            // closes the race with a registration that looked at the flag just before.
            sleeping = true;
            if (!check.getAsBoolean()) {
                LockSupport.park(this);
            }
            sleeping = false;
        }
    }
}
