package io.cleargate.pipeline;

/** Carries a {@link GatewayError} through code that cannot return it (for example a terminal dispatcher). */
public class GatewayException extends RuntimeException {

    private final transient GatewayError error;

    public GatewayException(GatewayError error) {
        super(error.message(), null, false, false);
        this.error = error;
    }

    public GatewayError error() {
        return error;
    }
}
