package io.cleargate.audit;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

/** How much of its backlog the journal's applier writes into H2 at once, by the disk left above half the reserve. */
class JournalApplierRoomTest {

    private static JournalApplier.Journaled frame(long lsn, int bytes) {
        return new JournalApplier.Journaled(lsn, List.of(), new long[0], bytes);
    }

    private static final List<JournalApplier.Journaled> BACKLOG =
            List.of(frame(1, 100_000), frame(2, 100_000), frame(3, 100_000));

    @Test
    void farFromTheReserveEveryWaitingFrameGoesInOneTransaction() {
        assertEquals(3, JournalApplier.fitting(BACKLOG, Long.MAX_VALUE).size());
        assertEquals(3, JournalApplier.fitting(BACKLOG, 64L << 20).size());
    }

    @Test
    void nearItOnlyTheFramesExpectedToFitAreWrittenOldestFirst() {
        long room = JournalApplier.TRANSACTION_BYTES + 2L * JournalApplier.GROWTH * 100_000;
        List<JournalApplier.Journaled> fits = JournalApplier.fitting(BACKLOG, room);
        assertEquals(List.of(1L, 2L), fits.stream().map(JournalApplier.Journaled::lsn).toList());
    }

    @Test
    void whenNotEvenTheOldestFitsNothingIsWritten() {
        assertEquals(0, JournalApplier.fitting(BACKLOG, JournalApplier.TRANSACTION_BYTES + 100_000).size());
        assertEquals(0, JournalApplier.fitting(BACKLOG, 0).size());
    }
}
