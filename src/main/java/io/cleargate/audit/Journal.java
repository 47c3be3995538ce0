package io.cleargate.audit;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * The embedded store's write-ahead journal: two preallocated files used in turn. A batch of
 * finished records is one frame, appended after the last and forced with {@code fdatasync}
 * ({@link FileChannel#force(boolean) force(false)}); that is the point at which the records are
 * durable. The files are written full of zeros when created, so appending inside them changes no
 * file metadata and a force costs one data write.
 *
 * <p>A frame is {@code magic | length | lsn | crc32c(lsn, payload) | payload}. Log sequence
 * numbers (lsn) rise by one per frame and never repeat, across restarts included. A file's lap
 * starts at offset 0 and its frames follow each other; what lies after the last frame of the lap
 * is either zeros or an older lap's frames, whose lsn does not follow on, so reading stops there.
 * A frame whose checksum fails at the end of a lap is a batch being written when the process
 * died: nobody was told it was durable, and it is dropped. A bad frame followed by one that does
 * follow on is damage inside the log, never a torn write (a frame is written only after the one
 * before it was forced), and reading refuses it.
 *
 * <p>The writer switches files only once every record of the other file is in the database and
 * the database has been forced ({@link #lastLsnOfOther()}), so the journal holds everything since
 * the database's last force and nothing older needs keeping. Not thread-safe: one writer thread.
 */
final class Journal implements AutoCloseable {

    static final int MAGIC = 0x43474a31; // "CGJ1"
    static final int HEADER = 4 + 4 + 8 + 4;
    private static final int ZEROS = 1 << 20;

    /** A frame read back: its lsn and payload. */
    record Frame(long lsn, byte[] payload) {}

    /** A journal that cannot be trusted: a bad frame inside it, not at its end. */
    static final class DamagedException extends IOException {
        DamagedException(String message) {
            super(message);
        }
    }

    private final Path[] paths;
    private final FileChannel[] files = new FileChannel[2];
    private final long size;
    private int current;
    private long position;
    /**
     * Starts from the clock in microseconds, so a journal emptied at a clean stop does not hand out
     * lsns its files' older laps still hold: a frame takes a forced write, far longer than 1 µs.
     */
    private long nextLsn = System.currentTimeMillis() * 1000;
    /** The last lsn written to each file in its current lap; 0 when it holds none. */
    private final long[] lastLsn = new long[2];

    private Journal(Path directory, String name, long size) {
        this.paths = new Path[] {directory.resolve(name + "-0.log"), directory.resolve(name + "-1.log")};
        this.size = size;
    }

    /** Opens (creating and filling with zeros where missing or short) the two files of the journal. */
    static Journal open(Path directory, String name, long size) throws IOException {
        Files.createDirectories(directory);
        Journal journal = new Journal(directory, name, size);
        for (int i = 0; i < 2; i++) {
            journal.files[i] = FileChannel.open(journal.paths[i], StandardOpenOption.CREATE, StandardOpenOption.READ,
                    StandardOpenOption.WRITE);
            preallocate(journal.files[i], size);
        }
        return journal;
    }

    private static void preallocate(FileChannel file, long size) throws IOException {
        long at = file.size();
        if (at >= size) {
            return;
        }
        ByteBuffer zeros = ByteBuffer.allocate(ZEROS);
        while (at < size) {
            zeros.clear().limit((int) Math.min(ZEROS, size - at));
            at += file.write(zeros, at);
        }
        file.force(true);
    }

    /**
     * Every frame both files hold, in lsn order. Afterwards new frames get lsns above all of them.
     * Throws {@link DamagedException} when a file is damaged inside its log.
     */
    List<Frame> read() throws IOException {
        List<Frame> frames = new ArrayList<>();
        for (FileChannel file : files) {
            frames.addAll(read(file));
        }
        frames.sort(Comparator.comparingLong(Frame::lsn));
        for (int i = 1; i < frames.size(); i++) {
            if (frames.get(i).lsn() == frames.get(i - 1).lsn()) {
                throw new DamagedException("two frames with lsn " + frames.get(i).lsn());
            }
        }
        if (!frames.isEmpty()) {
            nextLsn = Math.max(nextLsn, frames.getLast().lsn() + 1);
        }
        return frames;
    }

    private static List<Frame> read(FileChannel file) throws IOException {
        List<Frame> frames = new ArrayList<>();
        long at = 0;
        long expected = -1;
        long end = file.size();
        while (true) {
            Frame frame = frameAt(file, at, end);
            if (frame == null || frame == BAD) {
                if (frame == BAD && followsOn(file, at, end, expected)) {
                    throw new DamagedException("bad frame at offset " + at + " inside the journal");
                }
                return frames;
            }
            if (expected >= 0 && frame.lsn() != expected) {
                return frames; // an older lap
            }
            frames.add(frame);
            expected = frame.lsn() + 1;
            at += HEADER + frame.payload().length;
        }
    }

    /** Marks a frame whose header is whole but whose checksum fails. */
    private static final Frame BAD = new Frame(-1, new byte[0]);

    /** The frame at {@code at}: null when none starts there, {@link #BAD} when its checksum fails. */
    private static Frame frameAt(FileChannel file, long at, long end) throws IOException {
        if (at + HEADER > end) {
            return null;
        }
        ByteBuffer header = ByteBuffer.allocate(HEADER);
        readFully(file, header, at);
        header.flip();
        if (header.getInt() != MAGIC) {
            return null;
        }
        int length = header.getInt();
        long lsn = header.getLong();
        int crc = header.getInt();
        if (length < 0 || at + HEADER + length > end) {
            return BAD;
        }
        ByteBuffer payload = ByteBuffer.allocate(length);
        readFully(file, payload, at + HEADER);
        byte[] bytes = payload.array();
        return checksum(lsn, bytes) == crc ? new Frame(lsn, bytes) : BAD;
    }

    /**
     * After a bad frame at {@code at}: true when a whole frame with the next lsn follows it, which a
     * torn write cannot produce.
     */
    private static boolean followsOn(FileChannel file, long at, long end, long expected) throws IOException {
        ByteBuffer header = ByteBuffer.allocate(HEADER);
        readFully(file, header, at);
        header.flip();
        header.getInt();
        int length = header.getInt();
        long lsn = header.getLong();
        if (length < 0 || at + HEADER + length > end) {
            return false;
        }
        Frame next = frameAt(file, at + HEADER + length, end);
        return next != null && next != BAD && next.lsn() == lsn + 1 && (expected < 0 || lsn == expected);
    }

    private static void readFully(FileChannel file, ByteBuffer into, long at) throws IOException {
        while (into.hasRemaining()) {
            int n = file.read(into, at + into.position());
            if (n < 0) {
                throw new IOException("journal file ends inside a frame");
            }
        }
    }

    static int checksum(long lsn, byte[] payload) {
        return checksum(lsn, payload, 0, payload.length);
    }

    private static int checksum(long lsn, byte[] bytes, int from, int length) {
        CRC32C crc = new CRC32C();
        crc.update(ByteBuffer.allocate(8).putLong(0, lsn));
        crc.update(bytes, from, length);
        return (int) crc.getValue();
    }

    /** True when a frame of this payload fits after the current file's last frame (a file's first frame always fits). */
    boolean fits(int payloadLength) {
        return position == 0 || position + HEADER + payloadLength <= size;
    }

    /** The last lsn in the other file, which must be in the forced database before {@link #rotate()}; 0 if none. */
    long lastLsnOfOther() {
        return lastLsn[1 - current];
    }

    /** Continues in the other file, from its start (overwriting its older lap). */
    void rotate() {
        current = 1 - current;
        position = 0;
        lastLsn[current] = 0;
    }

    /** Writes a frame and forces it to the disk; returns its lsn. On failure the journal must not be used again. */
    long append(byte[] payload) throws IOException {
        byte[] frame = new byte[HEADER + payload.length];
        System.arraycopy(payload, 0, frame, HEADER, payload.length);
        return append(frame, payload.length);
    }

    /**
     * The same for a frame built in place: {@code frame} holds {@link #HEADER} bytes of room for
     * the header (written here), then {@code payloadLength} bytes of payload.
     */
    long append(byte[] frame, int payloadLength) throws IOException {
        long lsn = nextLsn;
        ByteBuffer header = ByteBuffer.wrap(frame, 0, HEADER);
        header.putInt(MAGIC).putInt(payloadLength).putLong(lsn).putInt(checksum(lsn, frame, HEADER, payloadLength));
        return write(ByteBuffer.wrap(frame, 0, HEADER + payloadLength), lsn);
    }

    private long write(ByteBuffer frame, long lsn) throws IOException {
        FileChannel file = files[current];
        long at = position;
        while (frame.hasRemaining()) {
            at += file.write(frame, at);
        }
        file.force(false);
        position = at;
        lastLsn[current] = lsn;
        nextLsn = lsn + 1;
        return lsn;
    }

    /**
     * Empties the journal once everything in it is in the forced database: the start of each file
     * is zeroed and forced, so nothing reads as a frame, and writing starts again at file 0. Lsns
     * keep rising.
     */
    void clear() throws IOException {
        for (FileChannel file : files) {
            file.write(ByteBuffer.allocate(HEADER), 0);
            file.force(false);
        }
        current = 0;
        position = 0;
        lastLsn[0] = 0;
        lastLsn[1] = 0;
    }

    long nextLsn() {
        return nextLsn;
    }

    Path path(int file) {
        return paths[file];
    }

    @Override
    public void close() throws IOException {
        for (FileChannel file : files) {
            if (file != null) {
                file.close();
            }
        }
    }
}
