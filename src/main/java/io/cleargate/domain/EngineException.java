package io.cleargate.domain;

/**
 * An engine could not produce (the rest of) a completion. The kind tells the gateway how to
 * answer the client and whether another backend may be tried.
 */
public class EngineException extends Exception {

    public enum Kind {
        /** Could not connect, or the backend refused before sending anything: safe to fail over. */
        UNAVAILABLE,
        /** A connect, first-byte, between-chunk or total timeout expired. */
        TIMEOUT,
        /** The backend answered with an error status or a body we cannot parse. */
        BAD_RESPONSE,
        /** The request itself cannot be served (for example the prompt exceeds the context). */
        INVALID_REQUEST,
        /** The response exceeded the configured size cap. */
        TOO_LARGE
    }

    private final Kind kind;

    public EngineException(Kind kind, String message) {
        super(message);
        this.kind = kind;
    }

    public EngineException(Kind kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }
}
