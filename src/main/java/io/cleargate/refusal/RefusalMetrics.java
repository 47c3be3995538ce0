package io.cleargate.refusal;

import io.cleargate.domain.Route;
import io.cleargate.pipeline.CompletionObserver;
import io.cleargate.refusal.detector.RefusalVerdict;
import io.cleargate.pipeline.Exchange;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

/**
 * Counts every judged answer as {@code cleargate_model_answers_total{backend,kind,language}}: the
 * model's own refusals beside its answers, per backend (answers discarded for a retry included),
 * and retries as {@code cleargate_model_refusal_retries_total{outcome}}. Labels are bounded:
 * configured backend ids, six kinds, seven language codes, three outcomes; never text.
 */
@ApplicationScoped
public class RefusalMetrics implements CompletionObserver {

    private final MeterRegistry registry;

    @Inject
    public RefusalMetrics(MeterRegistry registry) {
        this.registry = registry;
    }

    @Override
    public void completed(Exchange exchange) {
        exchange.get(RefusalKeys.VERDICT).ifPresent(v -> count(exchange.get(Exchange.ROUTE).orElse(null), v));
        exchange.get(RefusalKeys.HANDLING).ifPresent(h -> {
            // A discarded answer is still that backend's answer: it counts where it was given.
            h.earlier().forEach(a -> count(a.route(), a.verdict()));
            if (h.retry() != null) {
                registry.counter("cleargate.model.refusal.retries", "outcome", h.retry()).increment();
            }
        });
    }

    private void count(Route route, RefusalVerdict v) {
        registry.counter("cleargate.model.answers", "backend", route == null ? "unknown" : route.backendId(),
                "kind", v.kind().id(), "language", v.language()).increment();
    }
}
