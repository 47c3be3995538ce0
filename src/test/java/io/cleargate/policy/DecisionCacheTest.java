package io.cleargate.policy;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class DecisionCacheTest {

    private final AtomicLong now = new AtomicLong();
    private final DecisionCache cache = new DecisionCache(1_000_000_000L, 10, now::get);
    private final PolicyDecision decision = new PolicyDecision(false, List.of(), List.of(), null, null, null, "id", "r",
            Map.of());

    @Test
    void entryExpiresAfterItsTtl() {
        cache.put("k", decision, cache.generation());
        assertTrue(cache.get("k").isPresent());
        now.addAndGet(1_000_000_000L);
        assertFalse(cache.get("k").isPresent());
    }

    @Test
    void policyChangeDropsEveryEntry() {
        cache.put("k", decision, cache.generation());
        cache.invalidateAll();
        assertFalse(cache.get("k").isPresent());
    }

    @Test
    void decisionFetchedBeforeAPolicyChangeIsNeverStoredAfterIt() {
        long before = cache.generation();
        cache.invalidateAll(); // the change lands while OPA was being asked
        cache.put("k", decision, before);
        assertFalse(cache.get("k").isPresent());
    }

    @Test
    void zeroTtlDisablesCaching() {
        var off = new DecisionCache(0, 10, now::get);
        off.put("k", decision, off.generation());
        assertFalse(off.get("k").isPresent());
    }
}
