package io.cleargate.audit;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.time.YearMonth;
import java.util.ArrayList;
import java.util.List;

/**
 * The payload of a journal frame: the finished rows of one batch, each as it will be inserted
 * (id, place in its chain, hashes, stored body, every column, and what it charges). The draft's
 * plain body is left out: the row stores its encoded form and the hash of the plain one.
 * Strings are written as modified UTF-8 in pieces, so any Java string (lone surrogates included)
 * reads back exactly as it was.
 */
final class JournalRows {

    private static final int VERSION = 1;
    /** Characters per modified-UTF-8 piece: at most 3 bytes each, under writeUTF's 65,535-byte limit. */
    private static final int PIECE = 20_000;

    /** A row as journaled. */
    record Row(long id, long seq, String prevHash, String entryHash, String bodySha256, String storedBody,
            Draft draft) {}

    private JournalRows() {}

    static byte[] encode(List<Row> rows) {
        var bytes = new ByteArrayOutputStream(256 + rows.size() * 2048);
        try (var out = new DataOutputStream(bytes)) {
            write(out, rows);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    private static void write(DataOutputStream out, List<Row> rows) throws IOException {
        out.writeByte(VERSION);
        out.writeInt(rows.size());
        for (Row row : rows) {
            write(out, row);
        }
    }

    /**
     * Encodes the writer's batches into one buffer it keeps between them: room for the frame's
     * header ({@link Journal#HEADER} bytes), then the payload, exactly as {@link #encode(List)}
     * writes it. A batch allocated its payload three times over (the stream's buffer grown, the
     * copy out of it, the frame around it); now the buffer grows to the largest batch and stays,
     * unless that was larger than {@link #KEPT}. Writer thread only.
     */
    static final class FrameEncoder {
        private static final int KEPT = 1 << 20;
        private static final byte[] BLANK_HEADER = new byte[Journal.HEADER];

        /** A byte stream whose array is read in place. */
        private static final class Bytes extends ByteArrayOutputStream {
            Bytes() {
                super(64 * 1024);
            }

            byte[] array() {
                return buf;
            }
        }

        private Bytes bytes = new Bytes();
        private DataOutputStream out = new DataOutputStream(bytes);

        /** Encodes the rows after a blank header; the frame is {@link #frame()}'s first {@link #length()} bytes. */
        void encode(List<Row> rows) {
            if (bytes.array().length > KEPT) {
                bytes = new Bytes();
                out = new DataOutputStream(bytes);
            }
            bytes.reset();
            try {
                out.write(BLANK_HEADER);
                write(out, rows);
                out.flush();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        byte[] frame() {
            return bytes.array();
        }

        int length() {
            return bytes.size();
        }

        int payloadLength() {
            return bytes.size() - Journal.HEADER;
        }
    }

    /** The rows of a payload; throws {@link IOException} when it is not one this version wrote. */
    static List<Row> decode(byte[] payload) throws IOException {
        try (var in = new DataInputStream(new ByteArrayInputStream(payload))) {
            if (in.readByte() != VERSION) {
                throw new IOException("unknown journal payload version");
            }
            int count = in.readInt();
            if (count < 0 || count > payload.length) {
                throw new IOException("bad row count in a journal frame");
            }
            List<Row> rows = new ArrayList<>(count);
            for (int i = 0; i < count; i++) {
                rows.add(read(in));
            }
            if (in.read() != -1) {
                throw new IOException("bytes after the last row of a journal frame");
            }
            return rows;
        }
    }

    private static void write(DataOutputStream out, Row row) throws IOException {
        Draft d = row.draft();
        out.writeLong(row.id());
        out.writeLong(row.seq());
        string(out, row.prevHash());
        string(out, row.entryHash());
        string(out, row.bodySha256());
        string(out, row.storedBody());
        string(out, d.chain());
        string(out, d.kind());
        string(out, d.requestId());
        instant(out, d.recordedAt());
        string(out, d.tenant());
        string(out, d.subject());
        string(out, d.model());
        string(out, d.region());
        string(out, d.decision());
        string(out, d.state());
        out.writeBoolean(d.httpStatus() != null);
        out.writeInt(d.httpStatus() == null ? 0 : d.httpStatus());
        string(out, d.tags());
        string(out, d.content());
        string(out, d.contentMode());
        instant(out, d.contentExpiresAt());
        instant(out, d.metadataExpiresAt());
        string(out, d.username());
        string(out, d.email());
        Charge c = d.charge();
        out.writeBoolean(c != null);
        if (c != null) {
            string(out, c.tenant());
            string(out, c.subject());
            string(out, c.model());
            string(out, c.month().toString());
            out.writeLong(c.promptTokens());
            out.writeLong(c.completionTokens());
            out.writeLong(c.costNanos());
            string(out, c.currency());
            out.writeBoolean(c.estimated());
        }
    }

    private static Row read(DataInputStream in) throws IOException {
        long id = in.readLong();
        long seq = in.readLong();
        String prev = string(in);
        String hash = string(in);
        String bodySha = string(in);
        String stored = string(in);
        String chain = string(in);
        String kind = string(in);
        String requestId = string(in);
        Instant recordedAt = instant(in);
        String tenant = string(in);
        String subject = string(in);
        String model = string(in);
        String region = string(in);
        String decision = string(in);
        String state = string(in);
        boolean hasStatus = in.readBoolean();
        int status = in.readInt();
        String tags = string(in);
        String content = string(in);
        String contentMode = string(in);
        Instant contentExpiresAt = instant(in);
        Instant metadataExpiresAt = instant(in);
        String username = string(in);
        String email = string(in);
        Charge charge = null;
        if (in.readBoolean()) {
            charge = new Charge(string(in), string(in), string(in), YearMonth.parse(string(in)), in.readLong(),
                    in.readLong(), in.readLong(), string(in), in.readBoolean());
        }
        var draft = new Draft(chain, kind, requestId, recordedAt, tenant, subject, model, region, decision,
                state, hasStatus ? status : null, tags, null, content, contentMode, contentExpiresAt, metadataExpiresAt,
                username, email, charge);
        return new Row(id, seq, prev, hash, bodySha, stored, draft);
    }

    private static void string(DataOutputStream out, String s) throws IOException {
        if (s == null) {
            out.writeInt(-1);
            return;
        }
        out.writeInt(s.length());
        for (int at = 0; at < s.length(); at += PIECE) {
            out.writeUTF(s.substring(at, Math.min(s.length(), at + PIECE)));
        }
    }

    private static String string(DataInputStream in) throws IOException {
        int length = in.readInt();
        if (length < 0) {
            return null;
        }
        var sb = new StringBuilder(Math.min(length, PIECE));
        while (sb.length() < length) {
            sb.append(in.readUTF());
        }
        if (sb.length() != length) {
            throw new IOException("a journaled string has the wrong length");
        }
        return sb.toString();
    }

    private static void instant(DataOutputStream out, Instant t) throws IOException {
        out.writeBoolean(t != null);
        out.writeLong(t == null ? 0 : t.getEpochSecond());
        out.writeInt(t == null ? 0 : t.getNano());
    }

    private static Instant instant(DataInputStream in) throws IOException {
        boolean present = in.readBoolean();
        long seconds = in.readLong();
        int nanos = in.readInt();
        return present ? Instant.ofEpochSecond(seconds, nanos) : null;
    }
}
