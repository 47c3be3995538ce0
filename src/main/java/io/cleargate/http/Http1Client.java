package io.cleargate.http;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;

/**
 * A keep-alive HTTP/1.1 client for one upstream origin, written for virtual threads: the calling
 * thread writes the request and reads the answer on a plain blocking socket (a virtual thread
 * parks while it waits), so a call costs a write and a read or two, not the JDK client's selector
 * thread, executor tasks and futures. Idle connections are pooled; a body read to its end hands
 * its connection back, a body closed early closes it (that is how a stream is aborted).
 *
 * <p>A pooled connection the server closed while it was idle fails before any byte of an answer
 * arrives; such a request is sent once more on a new connection. A server only closes a
 * keep-alive connection it is not reading a request from, so this never sends a request the
 * server has already begun to process.
 *
 * <p>Shared by the engine's OpenAI-compatible upstream client and the policy's OPA client, which
 * asks one question a second on a request's (or the ask-ahead's) virtual thread: through the JDK
 * client that question woke its selector and worker threads, on the one core that serves every
 * stream's first token (bench/results/speed.md, section 48).
 */
public final class Http1Client implements AutoCloseable {

    /** Headers longer than this are not an answer from an OpenAI-compatible server. */
    private static final int MAX_HEADER_BYTES = 64 * 1024;
    /** A pooled connection idle for longer is closed rather than reused. */
    private static final long MAX_IDLE_NANOS = Duration.ofSeconds(30).toNanos();
    private static final int MAX_IDLE_CONNECTIONS = 256;

    private final String host;
    private final int port;
    private final boolean tls;
    private final String hostHeader;
    private final int connectTimeoutMillis;
    private final ConcurrentLinkedDeque<Connection> idle = new ConcurrentLinkedDeque<>();
    private final ReadDeadlines deadlines = ReadDeadlines.SHARED;
    private final AtomicInteger idleCount = new AtomicInteger();
    private volatile boolean closed;

    public Http1Client(URI origin, Duration connectTimeout) {
        String scheme = origin.getScheme() == null ? "" : origin.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https")) {
            throw new IllegalArgumentException("an upstream URL must be http or https: " + origin);
        }
        this.tls = scheme.equals("https");
        this.host = origin.getHost();
        this.port = origin.getPort() > 0 ? origin.getPort() : tls ? 443 : 80;
        this.hostHeader = origin.getPort() > 0 ? origin.getRawAuthority() : host;
        this.connectTimeoutMillis = (int) Math.max(1, Math.min(Integer.MAX_VALUE, connectTimeout.toMillis()));
    }

    /** Status, lower-cased headers and the body of an answer; close the body when done with it. */
    public record Response(int status, Map<String, String> headers, InputStream body) {}

    /**
     * Sends {@code method} to {@code uri} (of this client's origin) and returns once the status line
     * and headers have arrived, within {@code firstByte} after the request was written.
     *
     * @throws SocketTimeoutException when connecting or the answer's headers took too long
     * @throws IOException when the server cannot be reached or broke the exchange
     */
    public Response send(String method, URI uri, Map<String, String> headers, byte[] body, Duration firstByte)
            throws IOException {
        byte[] request = encode(method, uri, headers, body);
        while (true) {
            Connection connection = pooled();
            boolean reused = connection != null;
            if (!reused) {
                connection = open();
            }
            connection.received = 0;
            connection.deadline.arm(System.nanoTime() + firstByte.toNanos());
            try {
                try {
                    connection.out.write(request);
                    connection.out.flush();
                } catch (IOException e) {
                    throw reused ? new StaleConnectionException() : e; // reset while idle: nothing was read
                }
                return connection.readResponse(method); // disarms once the head is in
            } catch (IOException e) {
                boolean timedOut = connection.deadline.disarm();
                connection.close();
                if (timedOut) {
                    throw new SocketTimeoutException("no answer within the first-byte timeout");
                }
                if (!(e instanceof StaleConnectionException)) {
                    throw e;
                }
                if (!reused) {
                    throw new IOException("the server closed the connection without answering", e);
                }
                // the server had closed this idle connection: try a new one
            } catch (RuntimeException e) {
                connection.deadline.disarm();
                connection.close();
                throw e;
            }
        }
    }

    private Connection pooled() {
        Connection c;
        while ((c = idle.pollFirst()) != null) {
            idleCount.decrementAndGet();
            if (System.nanoTime() - c.idleSince < MAX_IDLE_NANOS && !c.socket.isClosed()) {
                return c;
            }
            c.close();
        }
        return null;
    }

    private void release(Connection c) {
        if (closed || idleCount.incrementAndGet() > MAX_IDLE_CONNECTIONS) {
            idleCount.decrementAndGet();
            c.close();
            return;
        }
        c.deadline.disarm();
        c.idleSince = System.nanoTime();
        idle.addFirst(c);
        if (closed && idle.remove(c)) {
            c.close();
        }
    }

    private Connection open() throws IOException {
        Socket plain = new Socket();
        try {
            plain.setTcpNoDelay(true);
            plain.connect(new InetSocketAddress(host, port), connectTimeoutMillis);
            if (!tls) {
                return new Connection(plain, plain);
            }
            // Layered on the connected socket with the host name, so SNI and the certificate check use it.
            var ssl = (SSLSocket) ((SSLSocketFactory) SSLSocketFactory.getDefault()).createSocket(plain, host, port, true);
            SSLParameters parameters = ssl.getSSLParameters();
            parameters.setEndpointIdentificationAlgorithm("HTTPS");
            ssl.setSSLParameters(parameters);
            ssl.setSoTimeout(connectTimeoutMillis);
            ssl.startHandshake();
            ssl.setSoTimeout(0); // from here on the read deadlines bound every read
            return new Connection(ssl, plain);
        } catch (IOException | RuntimeException e) {
            plain.close();
            throw e;
        }
    }

    private byte[] encode(String method, URI uri, Map<String, String> headers, byte[] body) {
        var head = new StringBuilder(256);
        String path = uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath();
        head.append(method).append(' ').append(path);
        if (uri.getRawQuery() != null) {
            head.append('?').append(uri.getRawQuery());
        }
        head.append(" HTTP/1.1\r\nhost: ").append(hostHeader).append("\r\n");
        headers.forEach((name, value) -> {
            if (name.indexOf('\r') >= 0 || name.indexOf('\n') >= 0 || value.indexOf('\r') >= 0 || value.indexOf('\n') >= 0) {
                throw new IllegalArgumentException("header " + name + " holds a line break");
            }
            head.append(name).append(": ").append(value).append("\r\n");
        });
        if (body != null) {
            head.append("content-length: ").append(body.length).append("\r\n");
        }
        head.append("\r\n");
        byte[] h = head.toString().getBytes(StandardCharsets.ISO_8859_1);
        if (body == null || body.length == 0) {
            return h;
        }
        byte[] all = new byte[h.length + body.length];
        System.arraycopy(h, 0, all, 0, h.length);
        System.arraycopy(body, 0, all, h.length, body.length);
        return all;
    }

    @Override
    public void close() {
        closed = true;
        Connection c;
        while ((c = idle.pollFirst()) != null) {
            c.close();
        }
    }

    /** Thrown when a connection ends before the first byte of an answer. */
    private static final class StaleConnectionException extends IOException {
        StaleConnectionException() {
            super("connection closed before the answer began");
        }
    }

    /** One socket with a read buffer; owned by one exchange at a time. */
    private final class Connection {
        final Socket socket;
        final InputStream in;
        final OutputStream out;
        /** Bounds this connection's reads; cutting the TCP socket also ends a TLS read. */
        final ReadDeadlines.Watch deadline;
        final byte[] buffer = new byte[16 * 1024];
        int position;
        int limit;
        long idleSince;
        /** Bytes read from the socket since this exchange began: none means the server never answered. */
        long received;

        Connection(Socket socket, Socket tcp) throws IOException {
            this.socket = socket;
            this.in = socket.getInputStream();
            this.out = socket.getOutputStream();
            this.deadline = deadlines.watch(tcp);
        }

        void close() {
            deadline.forget();
            try {
                socket.close();
            } catch (IOException ignored) {
                // nothing to do for a socket we are dropping
            }
        }

        /** Fills the buffer if it is empty; false at end of stream. */
        boolean fill() throws IOException {
            if (position < limit) {
                return true;
            }
            int n = in.read(buffer, 0, buffer.length);
            if (n <= 0) {
                return false;
            }
            received += n;
            position = 0;
            limit = n;
            return true;
        }

        int readByte() throws IOException {
            return fill() ? buffer[position++] & 0xff : -1;
        }

        /** A CRLF- (or LF-) terminated line in ISO-8859-1, without its end; null at end of stream. */
        String readLine(int max) throws IOException {
            var line = new StringBuilder(64);
            while (true) {
                int b = readByte();
                if (b < 0) {
                    return line.isEmpty() ? null : line.toString();
                }
                if (b == '\n') {
                    int end = line.length();
                    if (end > 0 && line.charAt(end - 1) == '\r') {
                        line.setLength(end - 1);
                    }
                    return line.toString();
                }
                if (line.length() >= max) {
                    throw new IOException("a line of the answer's head is longer than " + max + " bytes");
                }
                line.append((char) b);
            }
        }

        Response readResponse(String method) throws IOException {
            int status;
            Map<String, String> headers;
            String statusLine;
            do {
                try {
                    statusLine = readLine(MAX_HEADER_BYTES);
                } catch (SocketTimeoutException e) {
                    throw e;
                } catch (IOException e) {
                    if (received == 0) {
                        throw new StaleConnectionException(); // reset before any answer
                    }
                    throw e;
                }
                if (statusLine == null) {
                    if (received == 0) {
                        throw new StaleConnectionException();
                    }
                    throw new EOFException("the connection ended inside the answer's head");
                }
                status = parseStatus(statusLine);
                headers = readHeaders();
            } while (status >= 100 && status < 200); // interim answers carry no body
            // The head is in: the first-byte deadline ends here, before a body can hand the
            // connection back to the pool (from then on another exchange may arm it).
            if (deadline.disarm()) {
                throw new SocketTimeoutException("the answer's head came as the first-byte timeout passed");
            }
            String connectionHeader = headers.getOrDefault("connection", "").toLowerCase(Locale.ROOT);
            boolean keepAlive = statusLine.startsWith("HTTP/1.0") ? connectionHeader.contains("keep-alive")
                    : !connectionHeader.contains("close");
            InputStream body;
            String transfer = headers.get("transfer-encoding");
            String length = headers.get("content-length");
            if (method.equals("HEAD") || status == 204 || status == 304) {
                body = new FixedBody(this, 0, keepAlive);
            } else if (transfer != null && transfer.toLowerCase(Locale.ROOT).contains("chunked")) {
                body = new ChunkedBody(this, keepAlive);
            } else if (length != null) {
                long n;
                try {
                    n = Long.parseLong(length.trim());
                } catch (NumberFormatException e) {
                    throw new IOException("unreadable content-length");
                }
                if (n < 0) {
                    throw new IOException("negative content-length");
                }
                body = new FixedBody(this, n, keepAlive);
            } else {
                body = new UntilCloseBody(this);
            }
            return new Response(status, headers, body);
        }

        private int parseStatus(String line) throws IOException {
            // HTTP/1.1 200 OK
            if (!line.startsWith("HTTP/1.") || line.length() < 12 || line.charAt(8) != ' ') {
                throw new IOException("not an HTTP/1.x status line");
            }
            try {
                return Integer.parseInt(line.substring(9, 12));
            } catch (NumberFormatException e) {
                throw new IOException("not an HTTP/1.x status line");
            }
        }

        private Map<String, String> readHeaders() throws IOException {
            var headers = new java.util.HashMap<String, String>();
            int total = 0;
            while (true) {
                String line = readLine(MAX_HEADER_BYTES);
                if (line == null) {
                    throw new EOFException("the connection ended inside the answer's head");
                }
                if (line.isEmpty()) {
                    return headers;
                }
                total += line.length();
                if (total > MAX_HEADER_BYTES) {
                    throw new IOException("the answer's head is longer than " + MAX_HEADER_BYTES + " bytes");
                }
                int colon = line.indexOf(':');
                if (colon <= 0) {
                    continue;
                }
                String name = line.substring(0, colon).trim().toLowerCase(Locale.ROOT);
                String value = line.substring(colon + 1).trim();
                headers.merge(name, value, (a, b) -> a + ", " + b);
            }
        }

        /** Reads up to len bytes of the connection's stream (buffered bytes first); -1 at its end. */
        int read(byte[] b, int off, int len) throws IOException {
            if (position < limit) {
                int n = Math.min(len, limit - position);
                System.arraycopy(buffer, position, b, off, n);
                position += n;
                return n;
            }
            if (len >= buffer.length) {
                int n = in.read(b, off, len);
                received += Math.max(n, 0);
                return n;
            }
            if (!fill()) {
                return -1;
            }
            return read(b, off, len);
        }
    }

    /** Common end-of-body handling: a body read to its end may give its connection back. */
    private abstract class Body extends InputStream {
        final Connection connection;
        final boolean keepAlive;
        boolean done;
        /**
         * Set once, by whichever comes first: the end of the body (the connection goes back to the
         * pool) or close (it is closed). A stream's reader thread reaches the end while its consumer
         * may close it: the connection must never be closed after another exchange took it.
         */
        private final AtomicBoolean settled = new AtomicBoolean();

        Body(Connection connection, boolean keepAlive) {
            this.connection = connection;
            this.keepAlive = keepAlive;
        }

        boolean closedBody() {
            return settled.get() && !done;
        }

        /** Marks the end of the body: the connection goes back to the pool when it may. */
        void finished() {
            if (done) {
                return;
            }
            done = true;
            if (settled.compareAndSet(false, true)) {
                if (keepAlive) {
                    release(connection);
                } else {
                    connection.close();
                }
            }
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            int n = read(one, 0, 1);
            return n < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public void close() {
            // A body given back before its end leaves bytes on the wire: the connection cannot be reused.
            if (settled.compareAndSet(false, true)) {
                connection.close();
            }
        }
    }

    private final class FixedBody extends Body {
        private long remaining;

        FixedBody(Connection connection, long length, boolean keepAlive) {
            super(connection, keepAlive);
            this.remaining = length;
            if (length == 0) {
                finished();
            }
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (remaining == 0) {
                finished();
                return -1;
            }
            if (closedBody()) {
                throw new IOException("body closed");
            }
            int n = connection.read(b, off, (int) Math.min(len, remaining));
            if (n < 0) {
                throw new EOFException("the connection ended " + remaining + " bytes before the body did");
            }
            remaining -= n;
            if (remaining == 0) {
                finished();
            }
            return n;
        }

        @Override
        public int available() {
            return (int) Math.min(remaining, connection.limit - connection.position);
        }
    }

    private final class ChunkedBody extends Body {
        private long chunkLeft = -1; // -1: a chunk-size line comes next

        ChunkedBody(Connection connection, boolean keepAlive) {
            super(connection, keepAlive);
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (done) {
                return -1;
            }
            if (closedBody()) {
                throw new IOException("body closed");
            }
            if (chunkLeft <= 0) {
                if (chunkLeft == 0) {
                    expectLineEnd();
                }
                String sizeLine = connection.readLine(1024);
                if (sizeLine == null) {
                    throw new EOFException("the connection ended inside a chunked body");
                }
                int semicolon = sizeLine.indexOf(';');
                String hex = (semicolon >= 0 ? sizeLine.substring(0, semicolon) : sizeLine).trim();
                try {
                    chunkLeft = Long.parseLong(hex, 16);
                } catch (NumberFormatException e) {
                    throw new IOException("unreadable chunk size");
                }
                if (chunkLeft < 0) {
                    throw new IOException("unreadable chunk size");
                }
                if (chunkLeft == 0) {
                    // trailers, then the empty line
                    String line;
                    do {
                        line = connection.readLine(MAX_HEADER_BYTES);
                        if (line == null) {
                            throw new EOFException("the connection ended inside a chunked body's trailer");
                        }
                    } while (!line.isEmpty());
                    finished();
                    return -1;
                }
            }
            int n = connection.read(b, off, (int) Math.min(len, chunkLeft));
            if (n < 0) {
                throw new EOFException("the connection ended inside a chunk");
            }
            chunkLeft -= n;
            return n;
        }

        private void expectLineEnd() throws IOException {
            String rest = connection.readLine(2);
            if (rest == null || !rest.isEmpty()) {
                throw new IOException("a chunk did not end with CRLF");
            }
        }

        @Override
        public int available() {
            return (int) Math.max(0, Math.min(chunkLeft, connection.limit - connection.position));
        }
    }

    /** A body without length or chunking ends when the server closes the connection. */
    private final class UntilCloseBody extends Body {
        UntilCloseBody(Connection connection) {
            super(connection, false);
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (done) {
                return -1;
            }
            if (closedBody()) {
                throw new IOException("body closed");
            }
            int n = connection.read(b, off, len);
            if (n < 0) {
                finished(); // not keep-alive: closes the connection
            }
            return n;
        }
    }

    /**
     * Reads a whole body of this client (up to {@code cap + 1} bytes, so the caller can tell it went
     * over) by {@code deadlineNanos} ({@link System#nanoTime()}); a body not read to its end is closed.
     *
     * @throws SocketTimeoutException when the deadline passed first
     */
    public static byte[] readAll(InputStream body, long cap, long deadlineNanos) throws IOException {
        Body b = (Body) body;
        try {
            return armed(b, deadlineNanos, () -> readAllArmed(b, cap));
        } finally {
            if (!b.done) {
                b.close(); // not read to its end: its connection cannot serve another request
            }
        }
    }

    /**
     * As {@link InputStream#read(byte[], int, int)} on a body of this client, on the calling thread,
     * with the connection's read deadline armed at {@code deadlineNanos} ({@link System#nanoTime()})
     * for this call: a read still blocked then fails. A streamed answer is read this way by its
     * consumer, with no reader thread between the socket and the pipeline.
     *
     * @throws SocketTimeoutException when the deadline passed first (the connection is then closed)
     */
    public static int readBy(InputStream body, byte[] buffer, int off, int len, long deadlineNanos) throws IOException {
        Body b = (Body) body;
        if (b.done) {
            return -1;
        }
        return armed(b, deadlineNanos, () -> b.read(buffer, off, len));
    }

    /** A read of a body, which may block. */
    @FunctionalInterface
    private interface BodyRead<T> {
        T read() throws IOException;
    }

    /**
     * Runs {@code read} with the body's connection deadline armed at {@code deadlineNanos}; a read the
     * deadline cut fails with {@link SocketTimeoutException}, as does a deadline already past (the
     * body is then closed).
     */
    private static <T> T armed(Body b, long deadlineNanos, BodyRead<T> read) throws IOException {
        if (deadlineNanos - System.nanoTime() <= 0) {
            b.close();
            throw new SocketTimeoutException("deadline passed");
        }
        b.connection.deadline.arm(deadlineNanos);
        try {
            return read.read();
        } catch (IOException e) {
            if (!b.done && b.connection.deadline.disarm()) {
                throw new SocketTimeoutException("deadline passed");
            }
            throw e;
        } finally {
            // Once the body is done its connection is back in the pool (disarmed there) or closed, and
            // is no longer this exchange's to disarm.
            if (!b.done) {
                b.connection.deadline.disarm();
            }
        }
    }

    private static byte[] readAllArmed(Body b, long cap) throws IOException {
        if (b instanceof FixedBody fixed && fixed.remaining <= cap) {
            // The length is known: read straight into an array of that size, no copies.
            byte[] out = new byte[(int) fixed.remaining];
            int filled = 0;
            while (filled < out.length) {
                filled += b.read(out, filled, out.length - filled); // EOFException if it ends early
            }
            b.finished();
            return out;
        }
        var out = new ByteArrayOutputStream(4096);
        byte[] chunk = new byte[4096];
        long max = cap + 1;
        while (out.size() < max) {
            int n = b.read(chunk, 0, (int) Math.min(chunk.length, max - out.size()));
            if (n < 0) {
                break;
            }
            out.write(chunk, 0, n);
        }
        return out.toByteArray();
    }

    /**
     * How many connections wait in the pool for the next request (public for the stream readers'
     * tests, which check that a stream read to its end hands its connection back).
     */
    public int idleConnections() {
        return idleCount.get();
    }
}
