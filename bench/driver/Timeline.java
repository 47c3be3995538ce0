import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * One client at concurrency 1 that writes down when each request started and how long it took,
 * so that the slow ones can be laid beside the gateway's flight recording (collector pauses,
 * scheduled jobs, policy questions): {@code bin/cleargate bench tail full}. wrk only reports
 * percentiles, which say how slow the tail is but not when it happened.
 *
 * <p>One keep-alive socket, the benchmark's chat request (the same body as bench/wrk/chat.lua),
 * answers read by their Content-Length. Writes "epoch_micros latency_micros status" lines.
 *
 * usage: java Timeline.java URL SECONDS OUT [header:value ...]
 */
public class Timeline {

    public static void main(String[] args) throws Exception {
        URI uri = URI.create(args[0]);
        long seconds = Long.parseLong(args[1]);
        Path out = Path.of(args[2]);
        List<String> headers = List.of(args).subList(3, args.length);
        byte[] body = ("{\"model\":\"mock\",\"max_tokens\":256,\"stream\":false,\"messages\":[{\"role\":\"user\","
                + "\"content\":\"Summarise the quarterly report in three sentences.\"}]}").getBytes(StandardCharsets.UTF_8);
        var head = new StringBuilder("POST ").append(uri.getRawPath()).append(" HTTP/1.1\r\nhost: ")
                .append(uri.getHost()).append(':').append(uri.getPort())
                .append("\r\ncontent-type: application/json\r\ncontent-length: ").append(body.length).append("\r\n");
        for (String h : headers) {
            int colon = h.indexOf(':');
            head.append(h, 0, colon).append(": ").append(h.substring(colon + 1)).append("\r\n");
        }
        head.append("\r\n");
        byte[] request = concat(head.toString().getBytes(StandardCharsets.US_ASCII), body);

        try (Socket socket = new Socket();
                PrintWriter lines = new PrintWriter(Files.newBufferedWriter(out))) {
            socket.setTcpNoDelay(true);
            socket.connect(new InetSocketAddress(uri.getHost(), uri.getPort()), 5000);
            OutputStream o = socket.getOutputStream();
            InputStream in = new BufferedInputStream(socket.getInputStream(), 1 << 16);
            // Epoch micros from one reading of the wall clock plus the monotonic clock's progress.
            long epochMicros0 = System.currentTimeMillis() * 1000;
            long nano0 = System.nanoTime();
            long end = nano0 + seconds * 1_000_000_000L;
            int n = 0;
            while (System.nanoTime() < end) {
                long t0 = System.nanoTime();
                o.write(request);
                o.flush();
                int status = readResponse(in);
                long t1 = System.nanoTime();
                lines.printf("%d %d %d%n", epochMicros0 + (t0 - nano0) / 1000, (t1 - t0) / 1000, status);
                n++;
            }
            System.out.println("{\"requests\":" + n + ",\"seconds\":" + seconds + "}");
        }
    }

    /** Reads one response (status line, headers, a Content-Length body); returns its status. */
    private static int readResponse(InputStream in) throws IOException {
        String status = line(in);
        int code = Integer.parseInt(status.split(" ")[1]);
        int length = 0;
        for (String h = line(in); !h.isEmpty(); h = line(in)) {
            int colon = h.indexOf(':');
            if (h.substring(0, colon).trim().equalsIgnoreCase("content-length")) {
                length = Integer.parseInt(h.substring(colon + 1).trim());
            }
        }
        in.skipNBytes(length);
        return code;
    }

    private static String line(InputStream in) throws IOException {
        var sb = new StringBuilder();
        int c;
        while ((c = in.read()) != '\n') {
            if (c < 0) {
                throw new IOException("connection closed");
            }
            if (c != '\r') {
                sb.append((char) c);
            }
        }
        return sb.toString();
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] r = new byte[a.length + b.length];
        System.arraycopy(a, 0, r, 0, a.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }
}
