package io.cleargate.pipeline;

/**
 * Told about every exchange once it has ended, after every stage's completion hook: the place for
 * per-request metrics. Each feature observes what it recorded itself, so nothing outside a
 * feature reads that feature's keys. Observers must be cheap and must not throw; they never
 * change the outcome.
 */
@FunctionalInterface
public interface CompletionObserver {

    void completed(Exchange exchange);
}
