package io.cleargate.refusal;

import io.cleargate.pipeline.CompletionObserver;
import io.cleargate.pipeline.Exchange;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

/**
 * Counts every judged answer as {@code cleargate_model_answers_total{backend,kind,language}}: the
 * model's own refusals beside its answers, per backend. Labels are bounded: configured backend
 * ids, six kinds, seven language codes; never text.
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
        exchange.get(RefusalKeys.VERDICT).ifPresent(v -> registry.counter("cleargate.model.answers",
                "backend", exchange.get(Exchange.ROUTE).map(r -> r.backendId()).orElse("unknown"),
                "kind", v.kind().id(), "language", v.language()).increment());
    }
}
