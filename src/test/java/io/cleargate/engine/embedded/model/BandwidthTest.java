package io.cleargate.engine.embedded.model;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * The read-bandwidth probe the bench divides decode by (bench/engine/README.md). Not a speed test: the
 * ceiling below is far above any memory system and only fails if the reads were optimised away or the
 * clock misread, which would make every "fraction of the bound" meaningless.
 */
class BandwidthTest {

    /** 1 TB/s: above the read bandwidth of any one machine's memory, let alone two cores. */
    private static final double IMPLAUSIBLE = 1e12;

    @Test
    void probeOnOneMemberAndOnATeamReportsAFinitePositiveRateBelowAnyRealMemorysBandwidth() {
        long bytes = 16L << 20;
        for (int size : new int[] {1, 2}) {
            try (Team team = new Team(size)) {
                double rate = Bandwidth.readBytesPerSecond(bytes, 3, team);
                assertTrue(Double.isFinite(rate) && rate > 0 && rate < IMPLAUSIBLE, size + " member(s): " + rate + " B/s");
            }
        }
    }

    @Test
    void bufferSmallerThanOneChunkIsStillReadAsAWholeChunk() {
        try (Team team = new Team(2)) {
            double rate = Bandwidth.readBytesPerSecond(1000, 2, team);
            assertTrue(Double.isFinite(rate) && rate > 0 && rate < IMPLAUSIBLE, rate + " B/s");
        }
    }
}
