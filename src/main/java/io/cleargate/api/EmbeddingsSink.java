package io.cleargate.api;

import io.cleargate.domain.EngineEvent.Embedding;
import io.cleargate.domain.EngineEvent.Usage;
import io.cleargate.pipeline.ClientSink;
import io.cleargate.pipeline.GatewayError;
import io.cleargate.pipeline.ResponseChunk;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Answers an embeddings request with one JSON list, vectors as floats or, when asked, as base64 of
 * little-endian float32 (what OpenAI's SDKs request by default). Upstreams are always asked for
 * floats, so every backend can serve either encoding.
 */
final class EmbeddingsSink implements ClientSink {

    private final HttpResponder out;
    private final String model;
    private final boolean base64;
    private final List<Embedding> embeddings = new ArrayList<>();
    private Map<String, String> headers = Map.of();
    private Usage usage;
    private volatile boolean gone;

    EmbeddingsSink(HttpResponder out, String model, boolean base64) {
        this.out = out;
        this.model = model;
        this.base64 = base64;
        out.response().closeHandler(v -> gone = !out.response().ended());
    }

    @Override
    public void start(Map<String, String> liveHeaders) {
        headers = liveHeaders;
    }

    @Override
    public boolean chunk(ResponseChunk chunk) {
        embeddings.addAll(chunk.embeddings());
        if (chunk.endOfStream()) {
            usage = chunk.usage();
        }
        return !gone;
    }

    @Override
    public void end() {
        var data = embeddings.stream().sorted(Comparator.comparingInt(Embedding::index)).map(e -> {
            var item = new LinkedHashMap<String, Object>();
            item.put("object", "embedding");
            item.put("index", e.index());
            item.put("embedding", base64 ? encode(e.vector()) : e.vector());
            return item;
        }).toList();
        int prompt = usage == null ? 0 : Math.max(usage.promptTokens(), 0);
        var body = new LinkedHashMap<String, Object>();
        body.put("object", "list");
        body.put("data", data);
        body.put("model", model);
        body.put("usage", Map.of("prompt_tokens", prompt, "total_tokens", prompt));
        out.json(200, body, Map.copyOf(headers));
    }

    static String encode(float[] vector) {
        ByteBuffer bytes = ByteBuffer.allocate(vector.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : vector) {
            bytes.putFloat(f);
        }
        return Base64.getEncoder().encodeToString(bytes.array());
    }

    @Override
    public void fail(GatewayError error, Map<String, String> failHeaders, boolean started) {
        var merged = new LinkedHashMap<>(headers);
        merged.putAll(failHeaders);
        out.error(error, merged);
    }

    @Override
    public boolean clientGone() {
        return gone;
    }

    @Override
    public void onGone(Runnable action) {
        // One JSON answer at the end: nothing streams, so there is nothing to cancel early.
    }
}
