package io.cleargate.audit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.time.YearMonth;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The embedded store's journal on real files: frames, torn and damaged frames, file reuse, the row format. */
class JournalTest {

    private static final long SIZE = 64 * 1024;

    @TempDir
    Path dir;

    private static byte[] payload(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    private Journal open() throws IOException {
        return Journal.open(dir, "store.journal", SIZE);
    }

    @Test
    void framesWrittenAreReadBackInOrderAfterReopening() throws IOException {
        long first;
        try (Journal journal = open()) {
            first = journal.append(payload("one"));
            journal.append(payload("two"));
            journal.append(payload("three"));
        }
        assertEquals(SIZE, Files.size(dir.resolve("store.journal-0.log")), "written full of zeros when created");
        try (Journal journal = open()) {
            List<Journal.Frame> frames = journal.read();
            assertEquals(3, frames.size());
            assertEquals(first, frames.getFirst().lsn());
            assertArrayEquals(payload("three"), frames.get(2).payload());
            assertTrue(journal.nextLsn() > frames.get(2).lsn(), "new frames come after every frame read");
        }
    }

    @Test
    void aTornLastFrameIsDroppedAndTheFramesBeforeItKept() throws IOException {
        try (Journal journal = open()) {
            journal.append(payload("acknowledged"));
            journal.append(payload("being written when the process died"));
        }
        long second = Journal.HEADER + "acknowledged".length();
        corrupt(dir.resolve("store.journal-0.log"), second + Journal.HEADER + 5); // inside the last payload
        try (Journal journal = open()) {
            List<Journal.Frame> frames = journal.read();
            assertEquals(1, frames.size());
            assertArrayEquals(payload("acknowledged"), frames.getFirst().payload());
        }
    }

    @Test
    void aFrameWrittenOnlyInPartIsDroppedToo() throws IOException {
        try (Journal journal = open()) {
            journal.append(payload("acknowledged"));
            journal.append(payload("x".repeat(1000)));
        }
        // The header made it to the disk, most of the payload did not (still zeros).
        long second = Journal.HEADER + "acknowledged".length();
        try (FileChannel file = FileChannel.open(dir.resolve("store.journal-0.log"), StandardOpenOption.WRITE)) {
            file.write(ByteBuffer.allocate(900), second + Journal.HEADER + 100);
        }
        try (Journal journal = open()) {
            assertEquals(1, journal.read().size());
        }
    }

    @Test
    void aBadFrameFollowedByAGoodOneIsDamageAndRefused() throws IOException {
        try (Journal journal = open()) {
            journal.append(payload("first"));
            journal.append(payload("second"));
            journal.append(payload("third"));
        }
        corrupt(dir.resolve("store.journal-0.log"), Journal.HEADER + "first".length() + Journal.HEADER + 2);
        try (Journal journal = open()) {
            var e = assertThrows(Journal.DamagedException.class, journal::read);
            assertTrue(e.getMessage().contains("inside the journal"), e.getMessage());
        }
    }

    @Test
    void anOlderLapAfterTheLastFrameIsNotReadAsNewFrames() throws IOException {
        try (Journal journal = open()) {
            journal.append(payload("old a"));
            journal.append(payload("old b"));
            journal.append(payload("old c"));
            journal.rotate();
            journal.append(payload("other file"));
            journal.rotate(); // back to file 0, over its older lap: a frame of the same length, so "old b" follows it
            journal.append(payload("new a"));
        }
        try (Journal journal = open()) {
            List<Journal.Frame> frames = journal.read();
            assertEquals(List.of("other file", "new a"), frames.stream().map(f -> new String(f.payload(), StandardCharsets.UTF_8)).toList(),
                    "the older lap's frames after the new one are left out");
        }
    }

    @Test
    void aFullFileMakesTheWriterAskForTheOtherAfterItsLastFrame() throws IOException {
        try (Journal journal = open()) {
            byte[] big = new byte[(int) (SIZE / 3)];
            long a = journal.append(big);
            journal.append(big);
            assertTrue(!journal.fits(big.length), "a third frame does not fit");
            assertEquals(0, journal.lastLsnOfOther(), "the other file holds nothing yet");
            journal.rotate();
            journal.append(big);
            assertEquals(a + 1, journal.lastLsnOfOther(), "the first file's frames must be in the forced database before its reuse");
            byte[] huge = new byte[(int) SIZE * 2];
            journal.rotate();
            assertTrue(journal.fits(huge.length), "a file's first frame always fits; the file grows for it");
            journal.append(huge);
        }
        try (Journal journal = open()) {
            List<Journal.Frame> frames = journal.read();
            assertEquals(List.of(SIZE / 3, SIZE * 2), frames.stream().map(f -> (long) f.payload().length).toList(),
                    "the second file's frame, then the huge one over the first file's older lap");
        }
    }

    @Test
    void clearingLeavesNothingToReplayAndLsnsKeepRising() throws IOException {
        long last;
        try (Journal journal = open()) {
            journal.append(payload("a"));
            last = journal.append(payload("b"));
            journal.clear();
        }
        try (Journal journal = open()) {
            assertTrue(journal.read().isEmpty());
            assertTrue(journal.append(payload("c")) > last);
        }
    }

    @Test
    void rowsReadBackExactlyAsJournaledWithNullsChargesAndLoneSurrogates() throws IOException {
        String odd = "al\u0000ice\ud800 " + "é".repeat(30_000);
        var draft = new Draft("tenant-a", "final", "req-1", Instant.ofEpochSecond(1_700_000_000L, 123_456_789),
                "tenant-a", odd, "model-x", null, "allow", "complete", 200, "|pii|", "{\"ignored\":true}", "c0nt3nt",
                Recorder.ENCRYPTED, Instant.parse("2027-01-01T00:00:00Z"), null, "user\udc00", null,
                new Charge("tenant-a", "api-key:1", "model-x", YearMonth.of(2026, 12), 10, 20, 30, "EUR", true));
        var bare = new Draft("_system", "admin", null, Instant.EPOCH, null, "s", null, null, "none",
                "complete", null, "|", "{}", null, Recorder.NONE, null, null);
        var rows = List.of(new JournalRows.Row(51, 7, "p".repeat(64), "h".repeat(64), "b".repeat(64), "z1:abc", draft),
                new JournalRows.Row(52, 1, Canonical.GENESIS, "e".repeat(64), "s".repeat(64), "{}", bare));
        List<JournalRows.Row> back = JournalRows.decode(JournalRows.encode(rows));
        assertEquals(2, back.size());
        // The plain body is not journaled (the stored form and its hash are).
        assertEquals(withoutBody(rows.get(0)), back.get(0));
        assertEquals(withoutBody(rows.get(1)), back.get(1));
        assertEquals(odd, back.getFirst().draft().subject());
    }

    /**
     * The writer's frames, encoded in place into a buffer it keeps, hold byte for byte the payload
     * {@code JournalRows.encode(rows)} writes, batch after batch (a small batch, a smaller one in
     * the same buffer, one too large to keep, then a small one again), and read back as those rows.
     */
    @Test
    void framesEncodedInPlaceInAKeptBufferAreTheSameBytesAndReadBackAsTheirRows() throws IOException {
        var big = new Draft("tenant-a", "final", "req-1", Instant.ofEpochSecond(1_700_000_000L, 5), "tenant-a",
                "s\ud800", "m", null, "allow", "complete", 200, "|", "{}", "x".repeat(8000), Recorder.ENCRYPTED,
                null, null, "u", null, new Charge("tenant-a", "k", "m", YearMonth.of(2026, 12), 1, 2, 3, "EUR", false));
        var small = new Draft("_system", "admin", null, Instant.EPOCH, null, "s", null, null, "none",
                "complete", null, "|", "{}", null, Recorder.NONE, null, null);
        java.util.function.IntFunction<List<JournalRows.Row>> batch = n -> java.util.stream.IntStream.range(0, n)
                .mapToObj(i -> new JournalRows.Row(i + 1, i + 1, "p".repeat(64), "h".repeat(64), "b".repeat(64),
                        "z1:" + i, i % 2 == 0 ? big : small)).toList();
        List<List<JournalRows.Row>> batches = List.of(batch.apply(20), batch.apply(1), batch.apply(400), batch.apply(3));
        var frames = new JournalRows.FrameEncoder();
        try (Journal journal = Journal.open(dir, "store.journal", 4 * 1024 * 1024)) {
            for (List<JournalRows.Row> rows : batches) {
                frames.encode(rows);
                assertEquals(JournalRows.encode(rows).length, frames.payloadLength());
                journal.append(frames.frame(), frames.payloadLength());
            }
        }
        // Read back through the checksums: each frame's payload is exactly what encode() writes.
        try (Journal journal = Journal.open(dir, "store.journal", 4 * 1024 * 1024)) {
            List<Journal.Frame> read = journal.read();
            assertEquals(batches.size(), read.size());
            for (int i = 0; i < batches.size(); i++) {
                assertArrayEquals(JournalRows.encode(batches.get(i)), read.get(i).payload());
                assertEquals(batches.get(i).stream().map(JournalTest::withoutBody).toList(),
                        JournalRows.decode(read.get(i).payload()));
            }
        }
    }

    @Test
    void aPayloadOfAnotherFormatIsRefused() {
        assertThrows(IOException.class, () -> JournalRows.decode(new byte[] {9, 0, 0, 0, 0}));
        byte[] good = JournalRows.encode(List.of());
        byte[] longer = java.util.Arrays.copyOf(good, good.length + 1);
        assertThrows(IOException.class, () -> JournalRows.decode(longer));
    }

    private static JournalRows.Row withoutBody(JournalRows.Row r) {
        Draft d = r.draft();
        return new JournalRows.Row(r.id(), r.seq(), r.prevHash(), r.entryHash(), r.bodySha256(), r.storedBody(),
                new Draft(d.chain(), d.kind(), d.requestId(), d.recordedAt(), d.tenant(), d.subject(), d.model(),
                        d.region(), d.decision(), d.state(), d.httpStatus(), d.tags(), null, d.content(), d.contentMode(),
                        d.contentExpiresAt(), d.metadataExpiresAt(), d.username(), d.email(), d.charge()));
    }

    private static void corrupt(Path file, long at) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer b = ByteBuffer.allocate(1);
            ch.read(b, at);
            b.put(0, (byte) (b.get(0) ^ 0x5a));
            ch.write(b.flip(), at);
        }
    }
}
