package io.cleargate.probe;

import io.cleargate.pipeline.ClientSink;
import io.cleargate.pipeline.GatewayError;
import io.cleargate.pipeline.ResponseChunk;
import java.util.Map;

/** The probe's own client: keeps only how the request ended, never the answer's text. */
final class ProbeSink implements ClientSink {

    GatewayError error;
    boolean ended;

    @Override
    public void start(Map<String, String> headers) {}

    @Override
    public boolean chunk(ResponseChunk chunk) {
        return true;
    }

    @Override
    public void end() {
        ended = true;
    }

    @Override
    public void fail(GatewayError error, Map<String, String> headers, boolean started) {
        this.error = error;
    }

    @Override
    public boolean clientGone() {
        return false;
    }

    @Override
    public void onGone(Runnable action) {}
}
