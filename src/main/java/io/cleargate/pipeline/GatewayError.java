package io.cleargate.pipeline;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * An error answered to the client in OpenAI's shape:
 * {@code {"error":{"message","type","param","code", ...details}}}.
 *
 * @param status  HTTP status
 * @param type    OpenAI error type (invalid_request_error, authentication_error, ...)
 * @param code    machine-readable code (model_not_found, content_filter, policy_denied, ...), may be null
 * @param param   the request field at fault, may be null
 * @param message a human-readable explanation; never contains prompt text or credentials
 * @param details extra members merged into the error object (for example policy reasons or rules hit)
 * @param headers extra response headers (for example Retry-After)
 */
public record GatewayError(
        int status, String type, String code, String param, String message,
        Map<String, Object> details, Map<String, String> headers) {

    public GatewayError {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(message, "message");
        details = details == null ? Map.of() : Map.copyOf(details);
        headers = headers == null ? Map.of() : Map.copyOf(headers);
    }

    public static GatewayError invalidRequest(String param, String message) {
        return new GatewayError(400, "invalid_request_error", "invalid_value", param, message, null, null);
    }

    public static GatewayError unsupported(String param, String message) {
        return new GatewayError(400, "invalid_request_error", "unsupported_parameter", param, message, null, null);
    }

    public static GatewayError malformedJson(String message) {
        return new GatewayError(400, "invalid_request_error", "invalid_json", null, message, null, null);
    }

    public static GatewayError unauthenticated(String message) {
        return new GatewayError(401, "authentication_error", "invalid_api_key", null, message, null,
                Map.of("WWW-Authenticate", "Bearer"));
    }

    public static GatewayError forbidden(String code, String message) {
        return new GatewayError(403, "permission_error", code, null, message, null, null);
    }

    public static GatewayError modelNotFound(String model) {
        return new GatewayError(404, "invalid_request_error", "model_not_found", "model",
                "The model '" + model + "' does not exist or you do not have access to it.", null, null);
    }

    public static GatewayError notFound(String message) {
        return new GatewayError(404, "invalid_request_error", "not_found", null, message, null, null);
    }

    public static GatewayError tooLarge(long limit) {
        return new GatewayError(413, "invalid_request_error", "request_too_large", null,
                "Request body exceeds the limit of " + limit + " bytes.", null, null);
    }

    public static GatewayError rateLimited(String message, long retryAfterSeconds) {
        return new GatewayError(429, "rate_limit_error", "rate_limit_exceeded", null, message, null,
                Map.of("Retry-After", Long.toString(retryAfterSeconds)));
    }

    public static GatewayError unavailable(String code, String message) {
        return new GatewayError(503, "service_unavailable", code, null, message, null, null);
    }

    public static GatewayError upstream(int status, String code, String message) {
        return new GatewayError(status, "upstream_error", code, null, message, null, null);
    }

    public static GatewayError internal(String message) {
        return new GatewayError(500, "server_error", "internal_error", null, message, null, null);
    }

    /** A copy with one more member in the error object. */
    public GatewayError withDetail(String name, Object value) {
        var merged = new LinkedHashMap<>(details);
        merged.put(name, value);
        return new GatewayError(status, type, code, param, message, merged, headers);
    }

    /** The JSON body as a map ready for serialisation. */
    public Map<String, Object> toBody() {
        var error = new LinkedHashMap<String, Object>();
        error.put("message", message);
        error.put("type", type);
        error.put("param", param);
        error.put("code", code);
        error.putAll(details);
        return Map.of("error", error);
    }
}
