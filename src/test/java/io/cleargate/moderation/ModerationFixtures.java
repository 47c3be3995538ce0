package io.cleargate.moderation;

import io.cleargate.domain.ChatMessage;
import io.cleargate.domain.EngineEvent;
import io.cleargate.domain.EngineRequest;
import io.cleargate.domain.EngineStream;
import io.cleargate.moderation.Verdict.Direction;
import io.cleargate.pipeline.ClientSink;
import io.cleargate.pipeline.Dispatcher;
import io.cleargate.pipeline.Exchange;
import io.cleargate.pipeline.GatewayError;
import io.cleargate.pipeline.IncomingRequest;
import io.cleargate.pipeline.Pipeline;
import io.cleargate.pipeline.ResponseChunk;
import io.cleargate.pipeline.Stage;
import io.cleargate.policy.PolicyDecision;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Shared test support: the repository's profiles, scans, and a real Pipeline with a scripted engine. */
final class ModerationFixtures {

    static final Path PROFILES = Path.of("policies/cleargate/moderation/profiles/data.json");
    private static Map<String, Profile> profiles;

    private ModerationFixtures() {}

    static synchronized Map<String, Profile> profiles() {
        if (profiles == null) {
            try {
                profiles = ProfileParser.parse(Files.readString(PROFILES));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } catch (ProfileParser.InvalidProfilesException e) {
                throw new AssertionError("repository profiles are invalid: " + e.problems());
            }
        }
        return profiles;
    }

    static RuleSet rules(String profile) {
        return new RuleSet(profiles().get(profile), Map.of());
    }

    /** Rule ids that fire on the text, in order of position. */
    static List<String> hits(String profile, Direction direction, String text) {
        return findings(profile, direction, text).stream().map(f -> f.rule().id()).toList();
    }

    static List<Finding> findings(String profile, Direction direction, String text) {
        return rules(profile).scan(NormalizedText.of(text), direction).findings();
    }

    static ModerationService service() {
        return new ModerationService(new ProfileStore(PROFILES));
    }

    /** A pipeline of the two moderation stages in their declared order, ending in a scripted engine. */
    static Pipeline pipeline(ModerationService service, List<String> chunks) {
        List<Stage> stages = List.of(new InputModerationStage(service), new OutputModerationStage(service));
        Dispatcher dispatcher = exchange -> scripted(chunks);
        return new Pipeline(stages, dispatcher);
    }

    static EngineStream scripted(List<String> chunks) {
        Deque<EngineEvent> events = new ArrayDeque<>();
        chunks.forEach(c -> events.add(new EngineEvent.Delta(c)));
        events.add(new EngineEvent.Finish("stop", new EngineEvent.Usage(3, chunks.size())));
        return new EngineStream() {
            @Override
            public EngineEvent next() {
                return events.removeFirst();
            }

            @Override
            public void close() {
                events.clear();
            }
        };
    }

    static Exchange exchange(String prompt, PolicyDecision.ModerationSettings settings) {
        return exchange(prompt, settings, true);
    }

    /** @param stream whether the client asked for a stream (a non-streamed answer is moderated as whole text) */
    static Exchange exchange(String prompt, PolicyDecision.ModerationSettings settings, boolean stream) {
        var messages = List.of(new ChatMessage(ChatMessage.Role.USER, prompt));
        var incoming = new IncomingRequest("/v1/chat/completions", "127.0.0.1", Map.of(), "m", stream, Map.of());
        var exchange = new Exchange("req-1", incoming, new EngineRequest("m", messages, 64, null, null, null, null));
        if (settings != null) {
            exchange.put(PolicyDecision.KEY, new PolicyDecision(true, List.of(), List.of(), null, settings, null, "d1",
                    "r1", Map.of()));
        }
        return exchange;
    }

    /** Runs one request through the pipeline and returns what the client received. */
    static CapturingSink run(ModerationService service, String prompt, List<String> chunks,
            PolicyDecision.ModerationSettings settings) {
        return run(service, prompt, chunks, settings, true);
    }

    /** As {@link #run(ModerationService, String, List, PolicyDecision.ModerationSettings)}, streamed or not. */
    static CapturingSink run(ModerationService service, String prompt, List<String> chunks,
            PolicyDecision.ModerationSettings settings, boolean stream) {
        var sink = new CapturingSink();
        var exchange = exchange(prompt, settings, stream);
        pipeline(service, chunks).execute(exchange, sink);
        sink.exchange = exchange;
        return sink;
    }

    /** A ClientSink that records everything the client would have received. */
    static final class CapturingSink implements ClientSink {
        final List<ResponseChunk> chunks = new ArrayList<>();
        Map<String, String> headers;
        GatewayError error;
        boolean ended;
        Exchange exchange;

        @Override
        public void start(Map<String, String> headers) {
            this.headers = new LinkedHashMap<>(headers);
        }

        @Override
        public boolean chunk(ResponseChunk chunk) {
            chunks.add(chunk);
            return true;
        }

        @Override
        public void end() {
            ended = true;
        }

        @Override
        public void fail(GatewayError error, Map<String, String> headers, boolean started) {
            this.error = error;
            this.headers = new LinkedHashMap<>(headers);
        }

        @Override
        public boolean clientGone() {
            return false;
        }

        @Override
        public void onGone(Runnable action) {}

        String text() {
            var sb = new StringBuilder();
            chunks.forEach(c -> sb.append(c.text()));
            return sb.toString();
        }

        ResponseChunk last() {
            return chunks.getLast();
        }
    }
}
