package io.cleargate.audit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class LingerTest {

    @Test
    void aLoneRequestsRecordIsNeverHeldBack() {
        var linger = new Linger();
        assertFalse(linger.shouldWait(1, 1));
        assertFalse(linger.shouldWait(1, 0), "an admin event with no request open");
    }

    @Test
    void aSmallBatchWaitsOnlyWhenEnoughOtherRequestsAreOpenToJoinIt() {
        var linger = new Linger();
        assertFalse(linger.shouldWait(2, 2 + Linger.SIBLINGS - 1));
        assertTrue(linger.shouldWait(2, 2 + Linger.SIBLINGS));
        assertTrue(linger.shouldWait(1, 64));
    }

    @Test
    void waitsThatGatherNothingAreSkippedForOneTwoFourBatchesAndSoOnUpToTheCap() {
        var linger = new Linger();
        List<Integer> skipped = new ArrayList<>();
        for (int round = 0; round < 9; round++) {
            assertTrue(linger.shouldWait(1, 64), "round " + round);
            linger.gathered(0);
            int skips = 0;
            while (!linger.shouldWait(1, 64)) {
                skips++;
            }
            skipped.add(skips);
        }
        assertEquals(List.of(1, 2, 4, 8, 16, 32, Linger.MAX_SKIP, Linger.MAX_SKIP, Linger.MAX_SKIP), skipped);
    }

    @Test
    void aWaitThatGatheredRecordsStartsTheBackOffAgainFromOne() {
        var linger = new Linger();
        for (int i = 0; i < 3; i++) {
            while (!linger.shouldWait(1, 64)) {
                // skipped
            }
            linger.gathered(0);
        }
        while (!linger.shouldWait(1, 64)) {
            // skipped
        }
        linger.gathered(3);
        assertTrue(linger.shouldWait(1, 64), "no skip after a wait that paid");
        linger.gathered(0);
        assertFalse(linger.shouldWait(1, 64), "one skip after the next empty wait");
        assertTrue(linger.shouldWait(1, 64));
    }
}
