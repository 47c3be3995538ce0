package io.cleargate.routing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.cleargate.routing.BackendHealth.Admission;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class TenantShareTest {

    private static BackendHealth backend(int slots, double share) {
        return new BackendHealth(3, Duration.ofSeconds(10), slots, share);
    }

    @Test
    void aTenantHoldsAtMostItsShareWhileAnotherTenantStillGetsSlots() {
        BackendHealth health = backend(4, 0.5);
        assertEquals(Admission.ADMITTED, health.tryAcquire("a"));
        assertEquals(Admission.ADMITTED, health.tryAcquire("a"));
        assertEquals(Admission.TENANT_SHARE_USED, health.tryAcquire("a"));
        assertEquals(Admission.ADMITTED, health.tryAcquire("b"));
        assertEquals(Admission.ADMITTED, health.tryAcquire("b"));
        assertEquals(4, health.inFlight());
        assertEquals(Admission.UNAVAILABLE, health.tryAcquire("c"), "every slot is taken");
    }

    @Test
    void aReleasedSlotCanBeTakenAgainByTheSameTenant() {
        BackendHealth health = backend(4, 0.5);
        health.tryAcquire("a");
        health.tryAcquire("a");
        health.release("a");
        assertEquals(1, health.held("a"));
        assertEquals(Admission.ADMITTED, health.tryAcquire("a"));
        health.release("a");
        health.release("a");
        assertEquals(0, health.held("a"));
        assertEquals(0, health.inFlight());
    }

    @Test
    void everyTenantGetsAtLeastOneSlotAndAShareOfOneTurnsSharingOff() {
        assertEquals(1, BackendHealth.perTenant(1, 0.5));
        assertEquals(1, BackendHealth.perTenant(3, 0.25));
        assertEquals(32, BackendHealth.perTenant(64, 0.5));
        BackendHealth unshared = backend(3, 1.0);
        for (int i = 0; i < 3; i++) {
            assertEquals(Admission.ADMITTED, unshared.tryAcquire("a"));
        }
        assertEquals(Admission.UNAVAILABLE, unshared.tryAcquire("a"));
    }

    @Test
    void aShareOutsideZeroToOneIsRefusedAtStart() {
        assertThrows(IllegalArgumentException.class, () -> backend(4, 0));
        assertThrows(IllegalArgumentException.class, () -> backend(4, 1.5));
    }
}
