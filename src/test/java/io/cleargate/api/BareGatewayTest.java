package io.cleargate.api;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cleargate.pipeline.Pipeline;
import io.cleargate.pipeline.StageName;
import io.cleargate.testsupport.MockUpstream;
import io.cleargate.testsupport.MockUpstreamResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.http.ContentType;
import jakarta.inject.Inject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The gateway with every governance stage switched off (the bench's bare arm): no stage blocks, so
 * non-streamed completions are served on the event loop that read them (see
 * {@link Pipeline#executeOnEventLoop}); over real HTTP the client gets what the blocking path
 * gives, and streams, refusals and concurrent requests still work.
 */
@QuarkusTest
@TestProfile(BareGatewayTest.EveryStageOff.class)
@QuarkusTestResource(value = MockUpstreamResource.class, restrictToAnnotatedClass = true)
class BareGatewayTest {

    public static class EveryStageOff implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("cleargate.allow-disabled-stages", "true", "cleargate.disabled-stages",
                    "authenticate,resolve-tenant,policy,input-moderation,audit,output-moderation,model-refusal");
        }
    }

    private static final String HELLO = """
            {"model":"mock","messages":[{"role":"user","content":"hello"}]}""";

    @Inject
    Pipeline pipeline;

    @AfterEach
    void resetMock() {
        MockUpstreamResource.mock().fault(MockUpstream.Fault.NONE).reply(null).streaming(8, 0);
    }

    @Test
    void withEveryStageOffOnlyRoutingRunsAndNothingBlocks() {
        assertEquals(List.of(StageName.ROUTING), pipeline.activeStages());
        assertTrue(pipeline.neverBlocks());
    }

    @Test
    void aCompletionIsAnsweredInOpenAisShapeFromTheEventLoop() {
        given().contentType(ContentType.JSON).body(HELLO)
                .when().post("/v1/chat/completions")
                .then().statusCode(200)
                .header("x-cleargate-backend", "mock")
                .body("object", equalTo("chat.completion"))
                .body("choices[0].message.content", equalTo(MockUpstream.COMPLETION))
                .body("choices[0].finish_reason", equalTo("stop"));
    }

    @Test
    void aStreamedCompletionStillArrivesAsServerSentEvents() {
        String body = given().contentType(ContentType.JSON)
                .body("{\"model\":\"mock\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hello\"}]}")
                .when().post("/v1/chat/completions")
                .then().statusCode(200).contentType(org.hamcrest.Matchers.startsWith("text/event-stream"))
                .extract().asString();
        assertTrue(body.contains("chat.completion.chunk"), body);
        assertTrue(body.trim().endsWith("data: [DONE]"), body);
    }

    @Test
    void anUnknownModelIsA404AndABrokenBodyA400() {
        given().contentType(ContentType.JSON).body("{\"model\":\"nope\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}")
                .when().post("/v1/chat/completions")
                .then().statusCode(404).body("error.code", equalTo("model_not_found"));
        given().contentType(ContentType.JSON).body("{\"model\":")
                .when().post("/v1/chat/completions")
                .then().statusCode(400).body("error.type", equalTo("invalid_request_error"));
    }

    @Test
    void anUpstreamFailureIsA503InOpenAisShape() {
        MockUpstreamResource.mock().fault(MockUpstream.Fault.STATUS_500);
        given().contentType(ContentType.JSON).body(HELLO)
                .when().post("/v1/chat/completions")
                .then().statusCode(503).body("error.code", equalTo("no_eligible_backend"));
    }

    @Test
    void manyConcurrentCompletionsAreEachAnsweredWhole() throws Exception {
        List<Future<String>> answers = new ArrayList<>();
        try (var clients = Executors.newFixedThreadPool(16)) {
            for (int i = 0; i < 64; i++) {
                answers.add(clients.submit(() -> given().contentType(ContentType.JSON).body(HELLO)
                        .when().post("/v1/chat/completions")
                        .then().statusCode(200).extract().path("choices[0].message.content")));
            }
            for (Future<String> answer : answers) {
                assertEquals(MockUpstream.COMPLETION, answer.get());
            }
        }
    }
}
