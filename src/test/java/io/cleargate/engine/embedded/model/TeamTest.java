package io.cleargate.engine.embedded.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class TeamTest {

    @Test
    void everyMemberRunsEveryStepAndNoStepStartsBeforeThePreviousOneHasFinished() {
        try (Team team = new Team(3)) {
            for (int round = 0; round < 200; round++) {
                int[] written = new int[3];
                int[] seen = new int[3];
                team.run(List.of(
                        (m, size) -> written[m] = m + 1,
                        (m, size) -> seen[m] = written[0] + written[1] + written[2]));
                assertArrayEquals(new int[] {1, 2, 3}, written);
                assertArrayEquals(new int[] {6, 6, 6}, seen, "round " + round);
            }
        }
    }

    @Test
    void sharesCoverEveryItemOnceInBalancedAlignedChunks() {
        for (int count : new int[] {0, 1, 7, 64, 1000, 1025}) {
            for (int members = 1; members <= 5; members++) {
                int covered = 0;
                for (int m = 0; m < members; m++) {
                    int from = Team.start(count, m, members, 2);
                    int to = Team.start(count, m + 1, members, 2);
                    assertEquals(covered, from, "chunks are contiguous");
                    assertTrue(from % 2 == 0 && (to % 2 == 0 || to == count), "boundaries are aligned");
                    assertTrue(to - from <= (count + 1) / members + 2, "chunks are balanced");
                    covered = to;
                }
                assertEquals(count, covered);
            }
        }
    }

    @Test
    void membersTakeEveryChunkOfAStepExactlyOnceInAlignedPieces() {
        try (Team team = new Team(3)) {
            for (int total : new int[] {1, 31, 1024, 8192}) {
                int[] taken = new int[total];
                Chunks chunks = Chunks.of(total, team.size(), 16);
                team.run((m, size) -> chunks.take((from, to) -> {
                    assertTrue(from % 16 == 0, "chunks start aligned");
                    for (int i = from; i < to; i++) {
                        taken[i]++;
                    }
                }));
                for (int i = 0; i < total; i++) {
                    assertEquals(1, taken[i], "item " + i + " of " + total);
                }
            }
        }
    }

    @Test
    void aFailingMemberFailsTheRegionAndTheTeamStaysUsable() {
        try (Team team = new Team(2)) {
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> team.run((m, size) -> {
                if (m == 1) {
                    throw new IllegalStateException("member 1 failed");
                }
            }));
            assertEquals("member 1 failed", e.getMessage());
            AtomicInteger runs = new AtomicInteger();
            team.run((m, size) -> runs.incrementAndGet());
            assertEquals(2, runs.get());
        }
    }

    @Test
    void aRegionStartedInsideAStepRunsOnTheCallingThreadWithTheSameShares() {
        try (Team team = new Team(2)) {
            int[] inner = new int[4];
            team.run((m, size) -> {
                if (m == 0) {
                    Thread caller = Thread.currentThread();
                    team.run((im, isize) -> inner[im] = Thread.currentThread() == caller ? im + 10 : -1);
                }
            });
            assertArrayEquals(new int[] {10, 11, 0, 0}, inner);
        }
    }

    @Test
    void theMembersParkWhenThereIsNothingToDoAndThenUseNoCpu() throws InterruptedException {
        try (Team team = new Team(2)) {
            for (int i = 0; i < 100; i++) {
                team.run((m, size) -> Thread.onSpinWait());
            }
            long deadline = System.nanoTime() + 5_000_000_000L;
            while (!team.idle() && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertTrue(team.idle(), "the worker parks after its bounded spin");
            long before = team.workerCpuNanos();
            Thread.sleep(300);
            long used = team.workerCpuNanos() - before;
            assertTrue(used < 20_000_000L, "an idle team burns no CPU: " + used / 1e6 + " ms in 300 ms");
            AtomicInteger runs = new AtomicInteger();
            team.run((m, size) -> runs.incrementAndGet());
            assertEquals(2, runs.get(), "and wakes up for the next region");
        }
    }
}
