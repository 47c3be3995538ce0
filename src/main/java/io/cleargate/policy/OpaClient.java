package io.cleargate.policy;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.cleargate.http.Http1Client;
import io.cleargate.pipeline.GatewayError;
import io.cleargate.pipeline.GatewayException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import org.jboss.logging.Logger;

/**
 * Asks OPA's Data API for the decision document. Fails closed: anything but a well-formed answer
 * within the timeout becomes a {@link GatewayException} carrying a 503, so no request proceeds
 * without a decision. An answer counts only if it is whole within the timeout of the call;
 * opening a connection and waiting for the answer's head are each cut off at the timeout too.
 *
 * <p>The question goes out on the calling (virtual) thread over a kept-alive connection
 * ({@link Http1Client}): a write and a read. The JDK's client handed each question to its selector
 * thread and the answer to a worker thread; asked once a second, that cold path took about 2 ms of
 * the core every stream's first token shares (bench/results/speed.md, section 48).
 */
public final class OpaClient {

    private static final Logger LOG = Logger.getLogger(OpaClient.class);
    /** A decision document is a few KB; anything past this is not one, and is not read further. */
    static final int MAX_ANSWER_BYTES = 1024 * 1024;

    private final Http1Client http;
    private final URI decisionUri;
    private final String token;
    private final Duration timeout;
    private final ObjectMapper json;

    public OpaClient(String baseUrl, String decisionPath, String token, Duration timeout, ObjectMapper json) {
        Objects.requireNonNull(baseUrl, "baseUrl");
        this.decisionUri = URI.create(stripSlash(baseUrl) + "/v1/data/" + stripLeadingSlash(decisionPath));
        this.token = token;
        this.timeout = Objects.requireNonNull(timeout, "timeout");
        this.json = Objects.requireNonNull(json, "json");
        this.http = new Http1Client(decisionUri, timeout);
    }

    /** The answer's status and its whole body. */
    private record Answer(int status, byte[] body) {}

    /** Evaluates the decision for {@code input}; the answer's input member is {@code input}. */
    public PolicyDecision decide(Map<String, Object> input) {
        Answer response = post(input);
        if (response.status() != 200) {
            LOG.warnf("OPA answered %d for the decision", response.status());
            throw new GatewayException(GatewayError.unavailable("policy_unavailable",
                    "The policy service refused the decision request (status " + response.status()
                            + "); the request is refused."));
        }
        if (response.body().length > MAX_ANSWER_BYTES) {
            throw new GatewayException(GatewayError.unavailable("policy_malformed",
                    "The policy service answered with more than " + MAX_ANSWER_BYTES
                            + " bytes; the request is refused."));
        }
        Map<String, Object> body = parse(response.body());
        Object result = body.get("result");
        if (result == null) {
            throw new GatewayException(GatewayError.unavailable("policy_undefined",
                    "The policy gave no decision for this request; the request is refused."));
        }
        String decisionId = body.get("decision_id") instanceof String id ? id : null;
        try {
            return DecisionParser.parse(result, decisionId, input);
        } catch (IllegalArgumentException e) {
            LOG.warnf("malformed policy decision: %s", e.getMessage());
            throw new GatewayException(GatewayError.unavailable("policy_malformed",
                    "The policy returned a malformed decision (" + e.getMessage() + "); the request is refused."));
        }
    }

    private Answer post(Map<String, Object> input) {
        var headers = new LinkedHashMap<String, String>(4);
        headers.put("content-type", "application/json");
        if (token != null && !token.isBlank()) {
            headers.put("authorization", "Bearer " + token);
        }
        byte[] question = toJson(Map.of("input", input));
        try {
            long sent = System.nanoTime();
            Http1Client.Response response = http.send("POST", decisionUri, headers, question, timeout);
            return new Answer(response.status(),
                    Http1Client.readAll(response.body(), MAX_ANSWER_BYTES, sent + timeout.toNanos()));
        } catch (SocketTimeoutException e) {
            throw unavailable("did not answer within " + timeout.toMillis() + " ms");
        } catch (InterruptedIOException e) {
            Thread.currentThread().interrupt();
            throw unavailable("call was interrupted");
        } catch (IOException e) {
            if (Thread.currentThread().isInterrupted()) {
                throw unavailable("call was interrupted");
            }
            throw unavailable("could not be reached (" + e.getClass().getSimpleName() + ")");
        }
    }

    private static GatewayException unavailable(String why) {
        LOG.warnf("policy service %s", why);
        return new GatewayException(GatewayError.unavailable("policy_unavailable",
                "The policy service " + why + "; the request is refused."));
    }

    private byte[] toJson(Object value) {
        try {
            return json.writeValueAsBytes(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("policy input is not serialisable", e);
        }
    }

    @SuppressWarnings("unchecked")
    private Map<String, Object> parse(byte[] body) {
        try {
            Object parsed = json.readValue(body, Object.class);
            if (parsed instanceof Map<?, ?> map) {
                return (Map<String, Object>) map;
            }
        } catch (IOException e) {
            // falls through to the refusal below
        }
        throw new GatewayException(GatewayError.unavailable("policy_malformed",
                "The policy service answered with a body that is not a JSON object; the request is refused."));
    }

    private static String stripSlash(String s) {
        return s.endsWith("/") ? s.substring(0, s.length() - 1) : s;
    }

    private static String stripLeadingSlash(String s) {
        return s.startsWith("/") ? s.substring(1) : s;
    }

    /** For diagnostics and tests. */
    public URI decisionUri() {
        return decisionUri;
    }

}
