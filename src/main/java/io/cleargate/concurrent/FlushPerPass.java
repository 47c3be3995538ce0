package io.cleargate.concurrent;

import io.netty.channel.ChannelPipeline;
import io.netty.handler.flush.FlushConsolidationHandler;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.impl.Http1xClientConnection;
import io.vertx.core.http.impl.Http1xServerConnection;
import io.vertx.core.net.impl.ConnectionBase;

/**
 * Makes an HTTP/1.x connection send what was written to it once per pass of its event loop, after
 * every connection that was ready in that pass has been read, instead of once per write.
 *
 * <p>Why: the gateway writes a request upstream as soon as it has parsed a client's request, and a
 * response to its client as soon as the upstream's answer is read. Under load one pass of the
 * event loop reads many of both, and sending each at once wakes the sleeping reader on the other
 * side (the upstream, the client) for that one message; on a virtual machine a sleep and a wake-up
 * cost more than serving the message (bench/results/speed.md, sections 20 and 25). Sent together
 * at the end of the pass, one wake-up serves many. A pass with one message in it (one client at a
 * time) sends it when the pass ends, a few microseconds later: nothing waits for a batch to fill.
 *
 * <p>Vert.x already defers a connection's flush while that same connection is being read (a write
 * made while handling its own input goes out when its read completes); this covers the writes made
 * while another connection is read, which are the proxy's: Netty's {@link FlushConsolidationHandler}
 * turns each such flush into one task run after the pass's reads, and flushes at once before a
 * close, when the connection stops being writable, or after 256 flushes in one pass.
 */
public final class FlushPerPass {

    static final String HANDLER = "cleargate-flush-per-pass";

    private FlushPerPass() {
    }

    /**
     * Installs the deferred flush on {@code connection} unless it has it already. Only HTTP/1.x
     * connections of Vert.x are changed (true when the connection now has it); anything else is left
     * alone (false). Call it on the connection's event loop, before its writes of interest.
     */
    public static boolean install(HttpConnection connection) {
        if (!(connection instanceof Http1xServerConnection) && !(connection instanceof Http1xClientConnection)) {
            return false;
        }
        ChannelPipeline pipeline = ((ConnectionBase) connection).channel().pipeline();
        if (pipeline.get(HANDLER) == null) {
            // First in the pipeline, so it sees every flush of the handlers after it (the HTTP codec, Vert.x's).
            pipeline.addFirst(HANDLER, new FlushConsolidationHandler(
                    FlushConsolidationHandler.DEFAULT_EXPLICIT_FLUSH_AFTER_FLUSHES, true));
        }
        return true;
    }

    /** Whether {@code connection} flushes once per pass. */
    public static boolean installed(HttpConnection connection) {
        return connection instanceof ConnectionBase base && base.channel().pipeline().get(HANDLER) != null;
    }
}
