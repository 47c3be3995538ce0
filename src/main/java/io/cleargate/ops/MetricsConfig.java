package io.cleargate.ops;

import io.smallrye.config.ConfigMapping;
import java.util.OptionalInt;

/** Where Prometheus scrapes the gateway, under {@code cleargate.metrics.}. */
@ConfigMapping(prefix = "cleargate.metrics")
public interface MetricsConfig {

    /**
     * A port of its own for {@code /q/metrics} (on the same host as the API). When set, the API
     * port answers 404 there, so a NetworkPolicy can admit the API port from anywhere and this
     * port only from the monitoring namespace. Unset: metrics on the API port, as Quarkus serves them.
     */
    OptionalInt port();
}
