package io.cleargate.pipeline;

import io.cleargate.domain.EngineException;

/** Maps engine failures to what the client is told. Messages never echo upstream bodies. */
public final class EngineErrors {

    private EngineErrors() {}

    public static GatewayError toGatewayError(EngineException e) {
        return switch (e.kind()) {
            case UNAVAILABLE -> GatewayError.upstream(502, "upstream_unavailable",
                    "The model backend is unavailable: " + e.getMessage());
            case TIMEOUT -> GatewayError.upstream(504, "upstream_timeout", "The model backend timed out: " + e.getMessage());
            case BAD_RESPONSE -> GatewayError.upstream(502, "upstream_error",
                    "The model backend returned an error: " + e.getMessage());
            case INVALID_REQUEST -> GatewayError.invalidRequest(null, e.getMessage());
            case TOO_LARGE -> GatewayError.upstream(502, "upstream_response_too_large", e.getMessage());
        };
    }
}
