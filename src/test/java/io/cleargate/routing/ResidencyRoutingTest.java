package io.cleargate.routing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.cleargate.domain.ChatMessage;
import io.cleargate.domain.EngineRequest;
import io.cleargate.engine.Backend;
import io.cleargate.engine.Engine;
import io.cleargate.engine.EngineRegistry;
import io.cleargate.engine.openai.OpenAiUpstreamFactory;
import io.cleargate.engine.openai.UpstreamLimits;
import io.cleargate.pipeline.Exchange;
import io.cleargate.pipeline.IncomingRequest;
import io.cleargate.pipeline.Pipeline;
import io.cleargate.pipeline.Stage;
import io.cleargate.pipeline.StageName;
import io.cleargate.pipeline.StageResult;
import io.cleargate.policy.PolicyDecision;
import io.cleargate.testsupport.CapturingSink;
import io.cleargate.testsupport.MockUpstream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Residency routing over real HTTP backends on loopback (mock upstreams labelled with regions).
 * The policy decision is supplied by a stand-in stage so these tests isolate routing; the
 * end-to-end tests with OPA cover the decision itself.
 */
class ResidencyRoutingTest {

    private static final List<String> EU = List.of("eu-west", "eu-central");
    private static final List<String> US = List.of("us-east");

    private final Map<String, MockUpstream> mocks = new LinkedHashMap<>();
    private final Map<String, Integer> ports = new LinkedHashMap<>();
    private BackendPool pool;
    private Pipeline pipeline;

    @BeforeEach
    void startBackends() throws Exception {
        for (String id : List.of("eu-west-1", "eu-central-1", "us-east-1")) {
            MockUpstream mock = MockUpstream.start(id);
            mocks.put(id, mock);
            ports.put(id, mock.port());
        }
        var engines = new LinkedHashMap<Backend, Engine>();
        var limits = new UpstreamLimits(Duration.ofMillis(1000), Duration.ofMillis(1500), Duration.ofMillis(1500),
                Duration.ofSeconds(10), 1 << 20);
        for (var e : mocks.entrySet()) {
            String region = e.getKey().substring(0, e.getKey().lastIndexOf('-'));
            var backend = new Backend(e.getKey(), Backend.Kind.OPENAI, Optional.of(e.getValue().baseUrl()), Optional.empty(),
                    List.of("mock"), region, region.startsWith("eu") ? "EU" : "US", 1, 64, Optional.empty());
            engines.put(backend, OpenAiUpstreamFactory.create(backend, limits, new ObjectMapper()));
        }
        var registry = new EngineRegistry(engines);
        pool = new BackendPool(registry, config(Duration.ofMillis(150)), null);
        pipeline = new Pipeline(List.of(new DecisionStandIn(), new RoutingStage(registry)),
                new RegionDispatcher(pool, 3));
    }

    @AfterEach
    void stopBackends() {
        pool.close();
        mocks.values().forEach(MockUpstream::close);
    }

    @Test
    void euTenantIsServedInTheEuAndUsTenantInTheUs() {
        Exchange eu = run("acme-eu", EU, false);
        Exchange us = run("globex-us", US, false);
        assertTrue(eu.require(Exchange.ROUTE).region().startsWith("eu-"));
        assertEquals("us-east", us.require(Exchange.ROUTE).region());
        assertEquals(1, mocks.get("us-east-1").requests());
    }

    @Test
    void failoverStaysInsideTheAllowedRegions() {
        mocks.get("eu-west-1").fault(MockUpstream.Fault.STATUS_500);
        for (int i = 0; i < 6; i++) {
            Exchange ex = run("acme-eu", EU, false);
            assertEquals("eu-central-1", ex.require(Exchange.ROUTE).backendId());
        }
        assertEquals(0, mocks.get("us-east-1").requests(), "no EU request reached the US backend");
        assertEquals(6, mocks.get("eu-central-1").requestsContaining("tenant acme-eu"));
    }

    @Test
    void withEveryEuBackendDownTheRequestIsRefusedNamingTheRegions() {
        mocks.get("eu-west-1").close();
        mocks.get("eu-central-1").fault(MockUpstream.Fault.HANG);
        var sink = new CapturingSink();
        Exchange ex = exchange("acme-eu", EU, false);
        pipeline.execute(ex, sink);
        assertNotNull(sink.error, "refused");
        assertEquals(503, sink.error.status());
        assertEquals("no_eligible_backend", sink.error.code());
        assertEquals(EU, sink.error.details().get("allowed_regions"));
        assertTrue(sink.error.message().contains("eu-west"));
        assertEquals(0, mocks.get("us-east-1").requests(), "never crossed into the US");
    }

    @Test
    void aTenantWhoseRegionsHaveNoBackendGets503() {
        var sink = new CapturingSink();
        pipeline.execute(exchange("apac", List.of("ap-south"), false), sink);
        assertEquals(503, sink.error.status());
        assertEquals(0, mocks.values().stream().mapToInt(MockUpstream::requests).sum(), "no backend was called");
    }

    @Test
    void underLoadWithEuBackendsKilledInTurnNoEuRequestLeavesTheEu() throws Exception {
        var servedBy = new ConcurrentHashMap<String, AtomicInteger>();
        var refused = new AtomicInteger();
        var usRequests = new AtomicInteger();
        try (var workers = Executors.newFixedThreadPool(16)) {
            List<Future<?>> futures = new ArrayList<>();
            for (int i = 0; i < 240; i++) {
                final int n = i;
                futures.add(workers.submit(() -> {
                    boolean euTenant = n % 4 != 0;
                    if (!euTenant) {
                        usRequests.incrementAndGet();
                    }
                    var sink = new CapturingSink();
                    Exchange ex = exchange(euTenant ? "acme-eu" : "globex-us", euTenant ? EU : US, n % 2 == 0);
                    pipeline.execute(ex, sink);
                    if (sink.error != null && !sink.errorMidStream) {
                        assertEquals(503, sink.error.status(), sink.error.message());
                        refused.incrementAndGet();
                    } else {
                        String region = ex.require(Exchange.ROUTE).region();
                        assertTrue(euTenant ? EU.contains(region) : US.contains(region), region);
                        servedBy.computeIfAbsent(ex.require(Exchange.ROUTE).backendId(), k -> new AtomicInteger()).incrementAndGet();
                    }
                }));
                if (i == 60) {
                    mocks.get("eu-west-1").close(); // killed
                }
                if (i == 120) {
                    mocks.get("eu-central-1").fault(MockUpstream.Fault.HANG); // slowed to a stop
                }
                if (i == 160) {
                    mocks.put("eu-west-1", new MockUpstream("eu-west-1", ports.get("eu-west-1"), 8, 0)); // back
                }
                Thread.sleep(5);
            }
            for (Future<?> f : futures) {
                f.get();
            }
        }
        // Counted at the backends themselves: the US backend never saw an EU tenant's prompt, and
        // every request it saw was a US tenant's.
        MockUpstream us = mocks.get("us-east-1");
        assertEquals(0, us.requestsContaining("tenant acme-eu"), "EU prompts reaching the US backend");
        assertEquals(us.requests(), us.requestsContaining("tenant globex-us"));
        assertTrue(us.requests() > 0 && us.requests() <= usRequests.get());
        assertTrue(servedBy.getOrDefault("eu-central-1", new AtomicInteger()).get() > 0, "failover inside the EU happened");
        // Recovery: once eu-west-1 is back and its circuit half-opens, it serves again.
        mocks.get("eu-central-1").fault(MockUpstream.Fault.NONE);
        Thread.sleep(400);
        boolean westServed = false;
        for (int i = 0; i < 20 && !westServed; i++) {
            Exchange ex = run("acme-eu", EU, false);
            westServed = ex.require(Exchange.ROUTE).backendId().equals("eu-west-1");
        }
        assertTrue(westServed, "a recovered backend receives traffic again");
    }

    @Test
    void aFailureMidStreamEndsTheStreamWithAnErrorAndAnIncompleteOutcome() {
        mocks.get("us-east-1").fault(MockUpstream.Fault.DIE_MID_STREAM).streaming(8, 5);
        var sink = new CapturingSink();
        Exchange ex = exchange("globex-us", US, true);
        pipeline.execute(ex, sink);
        assertTrue(sink.started, "the stream had started");
        assertTrue(sink.errorMidStream, "ended with an error event");
        assertFalse(ex.outcome().complete(), "outcome marked incomplete");
    }

    @Test
    void linkLocalAndMetadataAddressesAreRefusedAsBackends() {
        for (String url : List.of("http://169.254.169.254/v1", "http://metadata.google.internal/v1", "http://[fe80::1]/v1")) {
            var backend = new Backend("meta", Backend.Kind.OPENAI, Optional.of(url), Optional.empty(), List.of("m"),
                    "eu-west", "EU", 1, 1, Optional.empty());
            assertThrows(IllegalStateException.class, () -> BackendPool.refuseDangerousAddress(backend, false), url);
        }
    }

    private Exchange run(String tenant, List<String> regions, boolean stream) {
        var sink = new CapturingSink();
        Exchange ex = exchange(tenant, regions, stream);
        pipeline.execute(ex, sink);
        assertTrue(sink.error == null, () -> "served: " + sink.error);
        assertTrue(sink.ended);
        return ex;
    }

    private static Exchange exchange(String tenant, List<String> regions, boolean stream) {
        var messages = List.of(new ChatMessage(ChatMessage.Role.USER, "hello from tenant " + tenant));
        var incoming = new IncomingRequest("/v1/chat/completions", "127.0.0.1", Map.of("x-test-tenant", tenant), "mock",
                stream, Map.of());
        var ex = new Exchange("req-" + System.nanoTime(), incoming, new EngineRequest("mock", messages, 16, null, null, null, null));
        ex.put(REGIONS, new Regions(regions));
        return ex;
    }

    record Regions(List<String> list) {}

    static final Exchange.Key<Regions> REGIONS = Exchange.Key.of("test-regions", Regions.class);

    /** Stands in for the policy stage: the decision's regions are what the test says. */
    static final class DecisionStandIn implements Stage {
        @Override
        public StageName name() {
            return StageName.POLICY;
        }

        @Override
        public StageResult onRequest(Exchange exchange) {
            var decision = new PolicyDecision(true, List.of(), exchange.require(REGIONS).list(),
                    new PolicyDecision.Limits(null, null, null), new PolicyDecision.ModerationSettings("default", Map.of()),
                    new PolicyDecision.AuditSettings("encrypted", 30, 365), "test", "test", Map.of());
            exchange.put(PolicyDecision.KEY, decision);
            return StageResult.forward();
        }
    }

    static RoutingConfig config(Duration open) {
        return TestRoutingConfig.defaults().withHealthInterval(Duration.ofMillis(200)).withFailureThreshold(2)
                .withOpenDuration(open);
    }
}
