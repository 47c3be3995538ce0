package io.cleargate.routing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.cleargate.domain.ChatMessage;
import io.cleargate.domain.EngineEvent;
import io.cleargate.domain.EngineException;
import io.cleargate.domain.EngineRequest;
import io.cleargate.domain.EngineStream;
import io.cleargate.engine.Backend;
import io.cleargate.engine.Engine;
import io.cleargate.engine.EngineRegistry;
import io.cleargate.engine.openai.OpenAiUpstreamFactory;
import io.cleargate.engine.openai.UpstreamLimits;
import io.cleargate.identity.AdminEvents;
import io.cleargate.testsupport.MockUpstream;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Backends replaced from a watched file without a restart, against real HTTP upstreams on loopback. */
class BackendReloadTest {

    private static final UpstreamLimits LIMITS = new UpstreamLimits(Duration.ofMillis(1000), Duration.ofMillis(1500),
            Duration.ofMillis(1500), Duration.ofSeconds(10), 1 << 20);

    /** An engine that says when it was closed. */
    private static final class Recording implements Engine {
        final Engine delegate;
        volatile boolean closed;

        Recording(Engine delegate) {
            this.delegate = delegate;
        }

        @Override
        public EngineStream open(EngineRequest request) throws EngineException {
            return delegate.open(request);
        }

        @Override
        public boolean healthy() {
            return delegate.healthy();
        }

        @Override
        public void close() {
            closed = true;
            delegate.close();
        }
    }

    record Event(String tenant, String actor, String action, Map<String, Object> details) {}

    @TempDir
    Path dir;

    private final List<Event> events = new CopyOnWriteArrayList<>();
    private final List<Recording> made = new CopyOnWriteArrayList<>();
    private final Map<String, String> env = new LinkedHashMap<>();
    private MockUpstream west;
    private MockUpstream central;
    private Recording westEngine;
    private EngineRegistry registry;
    private BackendPool pool;
    private BackendReload reload;
    private Path file;

    @BeforeEach
    void start() throws Exception {
        west = MockUpstream.start("eu-west-1");
        central = MockUpstream.start("eu-central-1");
        env.put("WEST_URL", west.baseUrl());
        env.put("CENTRAL_URL", central.baseUrl());
        Backend westBackend = backend("eu-west-1", west.baseUrl(), "eu-west");
        westEngine = new Recording(OpenAiUpstreamFactory.create(westBackend, LIMITS, new ObjectMapper()));
        var engines = new LinkedHashMap<Backend, Engine>();
        engines.put(westBackend, westEngine);
        registry = new EngineRegistry(engines, b -> {
            var e = new Recording(OpenAiUpstreamFactory.create(b, LIMITS, new ObjectMapper()));
            made.add(e);
            return e;
        });
        pool = new BackendPool(registry, config(), null);
        file = dir.resolve("backends.properties");
        Files.writeString(file, declaration("eu-west-1", "${WEST_URL}", "eu-west"));
        AdminEvents recorder = (tenant, actor, action, details) -> events.add(new Event(tenant, actor, action, details));
        reload = new BackendReload(registry, pool, recorder, Optional.of(file), env::get);
    }

    @AfterEach
    void stop() {
        pool.close();
        west.close();
        central.close();
    }

    private static Backend backend(String id, String url, String region) {
        return new Backend(id, Backend.Kind.OPENAI, Optional.of(url), Optional.empty(), List.of("mock"), region, "EU", 1,
                64, Optional.empty());
    }

    private static String declaration(String id, String url, String region) {
        return "cleargate.backends." + id + ".kind=openai\n"
                + "cleargate.backends." + id + ".base-url=" + url + "\n"
                + "cleargate.backends." + id + ".models=mock\n"
                + "cleargate.backends." + id + ".region=" + region + "\n"
                + "cleargate.backends." + id + ".jurisdiction=EU\n";
    }

    @Test
    void anUnchangedFileReloadsNothing() {
        assertTrue(reload.reloadIfChanged().isEmpty());
        assertEquals(1, registry.snapshot().generation());
    }

    @Test
    void aBackendAddedToTheFileTakesTrafficAfterItAnsweredItsProbe() throws Exception {
        Files.writeString(file, declaration("eu-west-1", "${WEST_URL}", "eu-west")
                + declaration("eu-central-1", "${CENTRAL_URL}", "eu-central"));
        var result = reload.reloadIfChanged().orElseThrow();
        assertTrue(result.applied(), result.toString());
        assertEquals(List.of("eu-central-1"), result.added());
        assertEquals(2, registry.snapshot().generation());
        assertEquals(List.of("eu-west-1", "eu-central-1"), registry.servingModel("mock").stream().map(Backend::id).toList());
        assertTrue(central.modelListings() >= 1, "probed before it took traffic");
        assertTrue(pool.available("eu-central-1"));
        assertFalse(westEngine.closed, "an unchanged backend keeps its engine");
        var event = events.getLast();
        assertEquals("_system", event.tenant());
        assertEquals("backends.reload", event.action());
        assertEquals(List.of("eu-central-1"), event.details().get("added"));
        // and it serves
        var stream = registry.engine("eu-central-1").open(new EngineRequest("mock",
                List.of(new ChatMessage(ChatMessage.Role.USER, "hi")), 8, null, null, null, null));
        assertTrue(drain(stream));
    }

    @Test
    void aReloadReadsEmbeddingModelsAndServedNamesLikeConfigurationDoes() throws Exception {
        Files.writeString(file, declaration("eu-west-1", "${WEST_URL}", "eu-west")
                + "cleargate.backends.eu-west-1.embedding-models=embed-small, embed-large\n"
                + "cleargate.backends.eu-west-1.served-names.mock=org/Mock-7B\n");
        var result = reload.reloadIfChanged().orElseThrow();
        assertEquals(List.of("eu-west-1"), result.changed(), result.toString());
        Backend reloaded = registry.backend("eu-west-1").orElseThrow();
        assertEquals(List.of("embed-small", "embed-large"), reloaded.embeddingModels());
        assertEquals("org/Mock-7B", reloaded.servedName("mock"));
        assertTrue(westEngine.closed, "a changed backend gets a new engine; the old one closes, no request holds it");
    }

    @Test
    void aBackendThatDoesNotAnswerItsProbeIsNotInstalled() throws Exception {
        int closedPort;
        try (var s = new ServerSocket(0)) {
            closedPort = s.getLocalPort();
        }
        Files.writeString(file, declaration("eu-west-1", "${WEST_URL}", "eu-west")
                + declaration("eu-central-1", "http://127.0.0.1:" + closedPort + "/v1", "eu-central"));
        var result = reload.reloadIfChanged().orElseThrow();
        assertFalse(result.applied());
        assertTrue(result.problems().getFirst().contains("eu-central-1 did not answer its health probe"), result.toString());
        assertEquals(1, registry.snapshot().generation());
        assertEquals(List.of("eu-west-1"), registry.backends().stream().map(Backend::id).toList());
        assertTrue(made.getLast().closed, "the engine made for the refused set is closed");
        assertEquals("backends.reload.rejected", events.getLast().action());
    }

    @Test
    void anInvalidFileChangesNothingAndNamesEveryProblem() throws Exception {
        Files.writeString(file, """
                cleargate.backends.a.kind=grpc
                cleargate.backends.a.models=mock
                cleargate.backends.b.kind=openai
                cleargate.backends.b.base-url=http://127.0.0.1:1/v1
                cleargate.backends.c.kind=openai
                cleargate.backends.c.base-url=http://127.0.0.1:1/v1
                cleargate.backends.c.models=mock
                cleargate.backends.c.colour=red
                cleargate.backends.d.kind=openai
                cleargate.backends.d.base-url=${UNSET_URL}
                cleargate.backends.d.models=mock
                """);
        var result = reload.reloadIfChanged().orElseThrow();
        assertFalse(result.applied());
        String all = String.join("\n", result.problems());
        assertTrue(all.contains("cleargate.backends.a.kind: must be embedded or openai, was 'grpc'"), all);
        assertTrue(all.contains("cleargate.backends.b.models: at least one model (or embedding-models) is required"), all);
        assertTrue(all.contains("cleargate.backends.c.colour: unknown field"), all);
        assertTrue(all.contains("cleargate.backends.d.base-url: ${UNSET_URL} is not set"), all);
        assertEquals(1, registry.snapshot().generation());

        Files.writeString(file, declaration("metadata", "http://169.254.169.254/latest", "eu-west"));
        var metadata = reload.reloadIfChanged().orElseThrow();
        assertTrue(metadata.problems().getFirst().contains("link-local/metadata"), metadata.toString());
        assertEquals(List.of("eu-west-1"), registry.backends().stream().map(Backend::id).toList());
    }

    @Test
    void requestsInFlightFinishOnTheEnginesTheyStartedWith() throws Exception {
        EngineRegistry.Snapshot planned = registry.snapshot();
        planned.lease(); // as the dispatcher does for a request that is running
        Files.writeString(file, declaration("eu-central-1", "${CENTRAL_URL}", "eu-central"));
        var result = reload.reloadIfChanged().orElseThrow();
        assertEquals(List.of("eu-west-1"), result.removed());
        assertEquals(List.of("eu-central-1"), registry.backends().stream().map(Backend::id).toList());
        assertFalse(westEngine.closed, "the old engine stays open while a request holds its generation");
        var stream = planned.engine("eu-west-1").open(new EngineRequest("mock",
                List.of(new ChatMessage(ChatMessage.Role.USER, "still here?")), 8, null, null, null, null));
        assertTrue(drain(stream), "the running request finishes on the old backend");
        planned.release();
        assertTrue(westEngine.closed, "closed once the last request of its generation ended");
    }

    private static boolean drain(EngineStream stream) throws EngineException {
        try (stream) {
            for (int i = 0; i < 1000; i++) {
                if (stream.next() instanceof EngineEvent.Finish) {
                    return true;
                }
            }
            return false;
        }
    }

    private static RoutingConfig config() {
        return TestRoutingConfig.defaults().withHealthInterval(Duration.ofSeconds(30)).withFailureThreshold(2)
                .withOpenDuration(Duration.ofSeconds(1));
    }
}
