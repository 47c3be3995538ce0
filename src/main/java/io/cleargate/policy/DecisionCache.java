package io.cleargate.policy;

import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * A short-lived memory of decisions, keyed on the complete input document (serialised with sorted
 * keys), so only a request identical in every input member reuses a decision. Every policy change
 * made through this gateway bumps the generation, which drops all entries at once; a decision
 * fetched before a change is never stored after it. A zero TTL turns caching off.
 */
public final class DecisionCache {

    private record Entry(PolicyDecision decision, long expiresAtNanos, long generation) {}

    private final long ttlNanos;
    private final int maxEntries;
    private final LongSupplier clock;
    private final Map<String, Entry> entries = new ConcurrentHashMap<>();
    private final AtomicLong generation = new AtomicLong();

    public DecisionCache(long ttlNanos, int maxEntries, LongSupplier clock) {
        this.ttlNanos = ttlNanos;
        this.maxEntries = maxEntries;
        this.clock = clock;
    }

    public boolean enabled() {
        return ttlNanos > 0 && maxEntries > 0;
    }

    /** The most entries it keeps. */
    public int maxEntries() {
        return maxEntries;
    }

    /** The generation to pass to {@link #put}; read it before asking OPA. */
    public long generation() {
        return generation.get();
    }

    public Optional<PolicyDecision> get(String key) {
        if (!enabled()) {
            return Optional.empty();
        }
        Entry entry = entries.get(key);
        if (entry == null) {
            return Optional.empty();
        }
        if (entry.generation() != generation.get() || clock.getAsLong() - entry.expiresAtNanos() >= 0) {
            entries.remove(key, entry);
            return Optional.empty();
        }
        return Optional.of(entry.decision());
    }

    /** Stores a decision fetched while {@code generationBefore} was current; skipped if a change happened since. */
    public void put(String key, PolicyDecision decision, long generationBefore) {
        put(key, decision, generationBefore, 0);
    }

    /**
     * As {@link #put(String, PolicyDecision, long)}, kept {@code laterNanos} longer than the TTL: a
     * decision asked ahead for a second that has not begun yet lasts the TTL from when it begins.
     */
    public void put(String key, PolicyDecision decision, long generationBefore, long laterNanos) {
        if (!enabled() || generationBefore != generation.get()) {
            return;
        }
        if (entries.size() >= maxEntries) {
            entries.clear(); // crude but bounded: a burst of distinct inputs only costs OPA calls
        }
        entries.put(key, new Entry(decision, clock.getAsLong() + ttlNanos + laterNanos, generationBefore));
        if (generationBefore != generation.get()) {
            entries.remove(key); // a change raced with this put
        }
    }

    /** Called on every policy activation or rollback. */
    public void invalidateAll() {
        generation.incrementAndGet();
        entries.clear();
    }

    int size() {
        return entries.size();
    }
}
