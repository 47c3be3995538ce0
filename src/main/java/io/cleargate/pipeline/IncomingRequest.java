package io.cleargate.pipeline;

import java.util.Map;
import java.util.Optional;

/**
 * What the client sent besides the conversation, as the stages may read it. Header names are
 * lower-case. The conversation itself travels once, in the exchange's
 * {@linkplain Exchange#sentRequest() request as sent} (stages rewrite a copy; the audit trail keeps
 * the raw text).
 *
 * @param endpoint      for example /v1/chat/completions
 * @param clientAddress the peer address
 * @param headers       request headers (lower-case names)
 * @param model         the model the client asked for
 * @param stream        whether the client asked for SSE
 * @param parameters    the request's options other than messages, for policy input and audit
 */
public record IncomingRequest(
        String endpoint, String clientAddress, Map<String, String> headers, String model, boolean stream,
        Map<String, Object> parameters) {

    public IncomingRequest {
        headers = Map.copyOf(headers);
        parameters = io.cleargate.domain.KeyOrder.copyOf(parameters); // in key order: written into both audit records
    }

    public Optional<String> header(String lowerCaseName) {
        return Optional.ofNullable(headers.get(lowerCaseName));
    }
}
