package io.cleargate.policy;

/** The shared limit store did not answer (refused, timed out, or answered an error). */
public class LimitStoreUnavailableException extends RuntimeException {

    public LimitStoreUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
