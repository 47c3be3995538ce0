package io.cleargate.policy;

import io.cleargate.identity.Principal;
import io.cleargate.pipeline.CompletionObserver;
import io.cleargate.pipeline.Exchange;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

/** Counts policy denials by reason code, and the ways a decision could not be had (OPA down, malformed...). */
@ApplicationScoped
public class PolicyMetrics implements CompletionObserver {

    private final MeterRegistry registry;

    @Inject
    public PolicyMetrics(MeterRegistry registry) {
        this.registry = registry;
    }

    @Override
    public void completed(Exchange exchange) {
        String tenant = exchange.get(Principal.KEY).map(Principal::tenant).orElse("unknown");
        exchange.get(PolicyDecision.KEY).filter(d -> !d.allow()).ifPresent(d -> d.reasons().forEach(r ->
                registry.counter("cleargate.policy.denials", "tenant", tenant, "reason", r.code()).increment()));
        var outcome = exchange.outcome();
        String code = outcome == null || outcome.error() == null ? null : outcome.error().code();
        if (code != null && code.startsWith("policy_") && !code.equals("policy_denied")) {
            registry.counter("cleargate.policy.errors", "kind", code.substring("policy_".length())).increment();
        }
    }
}
