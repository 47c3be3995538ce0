package io.cleargate.policy;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.cleargate.pipeline.GatewayError;
import io.cleargate.pipeline.GatewayException;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.jboss.logging.Logger;

/**
 * Asks OPA's Data API for the decision document. Fails closed: anything but a well-formed answer
 * within the timeout becomes a {@link GatewayException} carrying a 503, so no request proceeds
 * without a decision. The timeout bounds the whole exchange (connect, headers and body).
 */
public final class OpaClient {

    private static final Logger LOG = Logger.getLogger(OpaClient.class);

    private final HttpClient http;
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
        this.http = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(timeout)
                .followRedirects(HttpClient.Redirect.NEVER)
                .build();
    }

    /** Evaluates the decision for {@code input}; the answer's input member is {@code input}. */
    public PolicyDecision decide(Map<String, Object> input) {
        HttpResponse<String> response = post(input);
        if (response.statusCode() != 200) {
            LOG.warnf("OPA answered %d for the decision", response.statusCode());
            throw new GatewayException(GatewayError.unavailable("policy_unavailable",
                    "The policy service refused the decision request (status " + response.statusCode()
                            + "); the request is refused."));
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

    private HttpResponse<String> post(Map<String, Object> input) {
        HttpRequest.Builder request = HttpRequest.newBuilder(decisionUri)
                .timeout(timeout)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(toJson(Map.of("input", input))));
        if (token != null && !token.isBlank()) {
            request.header("Authorization", "Bearer " + token);
        }
        CompletableFuture<HttpResponse<String>> call =
                http.sendAsync(request.build(), HttpResponse.BodyHandlers.ofString());
        try {
            return call.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            call.cancel(true);
            throw unavailable("did not answer within " + timeout.toMillis() + " ms");
        } catch (ExecutionException e) {
            Throwable cause = e.getCause() == null ? e : e.getCause();
            throw unavailable("could not be reached (" + cause.getClass().getSimpleName() + ")");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            call.cancel(true);
            throw unavailable("call was interrupted");
        }
    }

    private static GatewayException unavailable(String why) {
        LOG.warnf("policy service %s", why);
        return new GatewayException(GatewayError.unavailable("policy_unavailable",
                "The policy service " + why + "; the request is refused."));
    }

    private String toJson(Object value) {
        try {
            return json.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("policy input is not serialisable", e);
        }
    }

    @SuppressWarnings("unchecked")
    private Map<String, Object> parse(String body) {
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
