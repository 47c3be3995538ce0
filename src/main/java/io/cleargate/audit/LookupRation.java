package io.cleargate.audit;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * How many HMAC look-ups each caller (tenant and subject) has made in the last minute, so that a
 * compliance officer or auditor cannot turn {@code POST /audit/hmac} into a guessing machine
 * against hash-only content. Counted in this replica's memory, like the tenants' rate limits.
 */
@jakarta.enterprise.context.ApplicationScoped
public class LookupRation {

    private static final long MINUTE_NANOS = 60_000_000_000L;

    private final int perMinute;
    private final LongSupplier clock;
    private final Map<String, Deque<Long>> recent = new ConcurrentHashMap<>();

    @jakarta.inject.Inject
    public LookupRation(AuditConfig config) {
        this(config.hmacLookupsPerMinute(), System::nanoTime);
    }

    LookupRation(int perMinute, LongSupplier clock) {
        this.perMinute = perMinute;
        this.clock = clock;
    }

    /** Takes one look-up for {@code caller}; returns the seconds to wait, or 0 when it may proceed. */
    long take(String caller) {
        Deque<Long> times = recent.computeIfAbsent(caller, c -> new ArrayDeque<>());
        synchronized (times) {
            long now = clock.getAsLong();
            while (!times.isEmpty() && now - times.peekFirst() >= MINUTE_NANOS) {
                times.pollFirst();
            }
            if (times.size() >= perMinute) {
                return Math.max(1, (times.peekFirst() + MINUTE_NANOS - now + 999_999_999L) / 1_000_000_000L);
            }
            times.addLast(now);
            return 0;
        }
    }
}
