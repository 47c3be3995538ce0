package io.cleargate.audit;

/** The audit store could not make a record durable. */
public class AuditUnavailableException extends RuntimeException {
    public AuditUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
