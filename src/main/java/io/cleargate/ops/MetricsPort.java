package io.cleargate.ops;

import io.micrometer.prometheus.PrometheusMeterRegistry;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.ext.web.Router;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.util.concurrent.TimeUnit;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/**
 * Metrics on a port of their own ({@code cleargate.metrics.port}): the API port refuses
 * {@code /q/metrics} (404) and a small server on the metrics port answers it. Metrics name
 * tenants, backends and models; with their own port, who may read them is a network rule
 * (in Kubernetes: only the monitoring namespace) instead of "anyone who reaches the API".
 */
@ApplicationScoped
public class MetricsPort {

    private static final Logger LOG = Logger.getLogger(MetricsPort.class);
    static final String PATH = "/q/metrics";

    private final MetricsConfig config;
    private final String host;
    private final Vertx vertx;
    private final PrometheusMeterRegistry registry;
    private HttpServer server;

    @Inject
    public MetricsPort(MetricsConfig config, @ConfigProperty(name = "quarkus.http.host") String host, Vertx vertx,
            PrometheusMeterRegistry registry) {
        this.config = config;
        this.host = host;
        this.vertx = vertx;
        this.registry = registry;
    }

    /** With a metrics port, the API port answers 404 for metrics, before Quarkus' own handler. */
    void refuseOnTheApiPort(@Observes Router router) {
        if (config.port().isEmpty()) {
            return;
        }
        router.routeWithRegex("/q/metrics(/.*)?").order(Integer.MIN_VALUE + 1).handler(ctx -> ctx.response()
                .setStatusCode(404).putHeader("content-type", "application/json")
                .end("{\"error\":{\"message\":\"Metrics are served on the metrics port.\",\"type\":\"invalid_request_error\","
                        + "\"param\":null,\"code\":\"not_found\"}}"));
    }

    void start(@Observes StartupEvent event) throws Exception {
        if (config.port().isEmpty()) {
            return;
        }
        server = vertx.createHttpServer().requestHandler(request -> {
            if (request.method() == HttpMethod.GET && PATH.equals(request.path())) {
                request.response().putHeader("content-type", "text/plain; version=0.0.4; charset=utf-8").end(registry.scrape());
            } else {
                request.response().setStatusCode(404).end();
            }
        });
        server.listen(config.port().getAsInt(), host).toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        LOG.infof("metrics on http://%s:%d%s", host, server.actualPort(), PATH);
    }

    void stop(@Observes ShutdownEvent event) {
        if (server != null) {
            server.close();
        }
    }
}
