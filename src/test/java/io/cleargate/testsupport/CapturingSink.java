package io.cleargate.testsupport;

import io.cleargate.pipeline.ClientSink;
import io.cleargate.pipeline.GatewayError;
import io.cleargate.pipeline.ResponseChunk;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** A ClientSink that records what the client would have received, for pipeline-level tests. */
public final class CapturingSink implements ClientSink {

    public final List<ResponseChunk> chunks = new ArrayList<>();
    public final Map<String, String> headers = new LinkedHashMap<>();
    public GatewayError error;
    public boolean started;
    public boolean ended;
    public boolean errorMidStream;

    @Override
    public void start(Map<String, String> h) {
        started = true;
        headers.putAll(h);
    }

    @Override
    public boolean chunk(ResponseChunk chunk) {
        chunks.add(chunk);
        return true;
    }

    @Override
    public void end() {
        ended = true;
    }

    @Override
    public void fail(GatewayError e, Map<String, String> h, boolean alreadyStarted) {
        error = e;
        errorMidStream = alreadyStarted;
        headers.putAll(h);
    }

    @Override
    public boolean clientGone() {
        return false;
    }

    @Override
    public void onGone(Runnable action) {
        // this client never leaves
    }

    public String text() {
        var sb = new StringBuilder();
        chunks.forEach(c -> sb.append(c.text()));
        return sb.toString();
    }
}
