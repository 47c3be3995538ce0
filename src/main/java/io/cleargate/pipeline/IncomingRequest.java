package io.cleargate.pipeline;

import io.cleargate.engine.ChatMessage;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What the client sent, as the stages may read it. Header names are lower-case. The API layer
 * has parsed and validated the body into {@code messages} and {@code parameters}; stages that
 * rewrite the prompt do so on the engine request, so these stay as the client sent them (the
 * audit trail keeps the raw text).
 *
 * @param endpoint      for example /v1/chat/completions
 * @param clientAddress the peer address
 * @param headers       request headers (lower-case names)
 * @param model         the model the client asked for
 * @param stream        whether the client asked for SSE
 * @param messages      the conversation exactly as sent (content parts joined)
 * @param parameters    the request's options other than messages, for policy input and audit
 */
public record IncomingRequest(
        String endpoint, String clientAddress, Map<String, String> headers, String model, boolean stream,
        List<ChatMessage> messages, Map<String, Object> parameters) {

    public IncomingRequest {
        headers = Map.copyOf(headers);
        messages = List.copyOf(messages);
        parameters = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(parameters));
    }

    public Optional<String> header(String lowerCaseName) {
        return Optional.ofNullable(headers.get(lowerCaseName));
    }
}
