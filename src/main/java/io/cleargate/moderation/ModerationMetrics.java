package io.cleargate.moderation;

import io.cleargate.identity.Principal;
import io.cleargate.pipeline.CompletionObserver;
import io.cleargate.pipeline.Exchange;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.Locale;

/** Counts the content filter's actions per tenant, direction, category and action. */
@ApplicationScoped
public class ModerationMetrics implements CompletionObserver {

    private final MeterRegistry registry;

    @Inject
    public ModerationMetrics(MeterRegistry registry) {
        this.registry = registry;
    }

    @Override
    public void completed(Exchange exchange) {
        var verdicts = exchange.get(ModerationKeys.VERDICTS);
        if (verdicts.isEmpty()) {
            return;
        }
        String tenant = exchange.get(Principal.KEY).map(Principal::tenant).orElse("unknown");
        verdicts.get().verdicts().forEach(v -> registry.counter("cleargate.moderation.actions", "tenant", tenant,
                "direction", lower(v.direction().name()), "category", v.category(), "action", lower(v.action().name()))
                .increment());
    }

    private static String lower(String s) {
        return s.toLowerCase(Locale.ROOT);
    }
}
