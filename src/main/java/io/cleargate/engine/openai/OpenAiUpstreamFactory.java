package io.cleargate.engine.openai;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.cleargate.config.GatewayConfig;
import io.cleargate.engine.Backend;
import io.cleargate.engine.Engine;
import io.cleargate.engine.EngineFactory;
import io.vertx.core.Vertx;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

/** Creates clients for OpenAI-compatible servers (vLLM, SGLang, Ollama, llama.cpp server). */
@ApplicationScoped
public class OpenAiUpstreamFactory implements EngineFactory {

    private final GatewayConfig config;
    private final ObjectMapper json;
    private final Vertx vertx;

    @Inject
    public OpenAiUpstreamFactory(GatewayConfig config, ObjectMapper json, Vertx vertx) {
        this.config = config;
        this.json = json;
        this.vertx = vertx;
    }

    @Override
    public Backend.Kind kind() {
        return Backend.Kind.OPENAI;
    }

    @Override
    public Engine create(Backend backend) {
        var u = config.upstream();
        var timeouts = new UpstreamLimits(u.connectTimeout(), u.firstByteTimeout(), u.betweenChunkTimeout(),
                u.totalTimeout(), u.maxResponseBytes());
        boolean allowLinkLocal = org.eclipse.microprofile.config.ConfigProvider.getConfig()
                .getOptionalValue("cleargate.routing.allow-link-local", Boolean.class).orElse(false);
        return new OpenAiUpstream(backend, timeouts, json, new EgressGuard(allowLinkLocal), vertx);
    }

    /** Builds a client without CDI (tests, tools). */
    public static Engine create(Backend backend, UpstreamLimits limits, ObjectMapper json) {
        return new OpenAiUpstream(backend, limits, json);
    }

    /** As {@link #create(Backend, UpstreamLimits, ObjectMapper)}, able to call from {@code vertx}'s event loops. */
    public static Engine create(Backend backend, UpstreamLimits limits, ObjectMapper json, Vertx vertx) {
        return new OpenAiUpstream(backend, limits, json, new EgressGuard(false), vertx);
    }
}
