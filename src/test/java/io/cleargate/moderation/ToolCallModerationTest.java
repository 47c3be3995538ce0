package io.cleargate.moderation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cleargate.domain.ChatMessage;
import io.cleargate.domain.EngineEvent.TokenLogprob;
import io.cleargate.domain.EngineEvent.ToolCallDelta;
import io.cleargate.domain.ToolCall;
import io.cleargate.moderation.Verdict.Action;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * Tool calls are moderated like text: their arguments, streamed in pieces, are held back until no
 * secret can still be forming in them, redacted or blocked by the same rules; tool results and
 * earlier calls' arguments in the conversation are scanned on input.
 */
class ToolCallModerationTest {

    private static final String AWS = "AKIAIOSFODNN7EXAMPLE";
    private static final String ARGS = "{\"city\":\"Paris\",\"token\":\"" + AWS + "\",\"units\":\"metric\"}";
    private static final String PEM = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gunVTLw\n-----END RSA PRIVATE KEY-----";

    /** What a client assembles from everything one response released. */
    private record Client(Map<Integer, StringBuilder> arguments, Map<Integer, String> names, StringBuilder text,
            List<TokenLogprob> logprobs, List<ResponseModeration.Released> steps) {
        Client() {
            this(new TreeMap<>(), new TreeMap<>(), new StringBuilder(), new ArrayList<>(), new ArrayList<>());
        }

        void take(ResponseModeration.Released step) {
            steps.add(step);
            text.append(step.text());
            logprobs.addAll(step.logprobs());
            for (ToolCallDelta d : step.toolCalls()) {
                if (d.name() != null) {
                    names.put(d.index(), d.name());
                }
                arguments.computeIfAbsent(d.index(), i -> new StringBuilder()).append(d.arguments());
            }
        }

        ResponseModeration.Released blocking() {
            return steps.stream().filter(s -> s.blocked() != null).findFirst().orElse(null);
        }
    }

    private static ResponseModeration response(String profile) {
        return new ResponseModeration(ModerationFixtures.rules(profile), new Placeholders());
    }

    private static Client stream(ResponseModeration moderation, List<String> pieces) {
        var client = new Client();
        client.take(moderation.push("", List.of(new ToolCallDelta(0, "call_1", "get_weather", "")), List.of(), false));
        for (String piece : pieces) {
            client.take(moderation.push("", List.of(new ToolCallDelta(0, null, null, piece)), List.of(), false));
        }
        client.take(moderation.push("", List.of(), List.of(), true));
        return client;
    }

    @Test
    void aCloudKeySplitAtEveryPointOfTheArgumentsIsRedactedIdentically() {
        String expected = ARGS.replace(AWS, "[SECRET_1]");
        for (int i = 0; i <= ARGS.length(); i++) {
            var client = stream(response("default"), List.of(ARGS.substring(0, i), ARGS.substring(i)));
            assertEquals(expected, client.arguments().get(0).toString(), "split at " + i);
            assertEquals("get_weather", client.names().get(0));
        }
    }

    @Test
    void argumentsStreamedCharacterByCharacterNeverReleaseAFragmentOfTheKey() {
        var moderation = response("default");
        var client = new Client();
        client.take(moderation.push("", List.of(new ToolCallDelta(0, "call_1", "get_weather", "")), List.of(), false));
        for (char c : ARGS.toCharArray()) {
            client.take(moderation.push("", List.of(new ToolCallDelta(0, null, null, String.valueOf(c))), List.of(), false));
            for (int len = 6; len <= AWS.length(); len++) {
                for (int at = 0; at + len <= AWS.length(); at++) {
                    assertFalse(client.arguments().get(0).toString().contains(AWS.substring(at, at + len)),
                            "a fragment of the key was released before the window closed");
                }
            }
        }
        client.take(moderation.push("", List.of(), List.of(), true));
        assertTrue(client.arguments().get(0).toString().contains("[SECRET_1]"));
    }

    @Test
    void theVerdictNamesTheToolCallArgumentsItFoundTheSecretIn() {
        var moderation = response("default");
        stream(moderation, List.of(ARGS));
        Verdict v = moderation.verdicts().getFirst();
        assertEquals("tool_calls[0].arguments", v.field());
        assertEquals(Action.REDACT, v.action());
        assertEquals(ARGS.indexOf(AWS), v.start());
        assertEquals(Verdict.Direction.OUTPUT, v.direction());
    }

    @Test
    void aPrivateKeyInTheArgumentsEndsTheResponseWithoutReleasingIt() {
        String args = "{\"key\":\"" + PEM.replace("\n", "\\n") + "\"}";
        for (int size : new int[] {1, 5, 40, args.length()}) {
            var pieces = new ArrayList<String>();
            for (int at = 0; at < args.length(); at += size) {
                pieces.add(args.substring(at, Math.min(args.length(), at + size)));
            }
            var client = stream(response("default"), pieces);
            var blocking = client.blocking();
            assertNotNull(blocking, "pieces of " + size + ": the response was blocked");
            assertEquals("tool_calls[0].arguments", blocking.blockedField());
            String released = client.arguments().getOrDefault(0, new StringBuilder()).toString();
            assertFalse(released.contains("PRIVATE KEY"), "pieces of " + size + ": " + released);
            assertFalse(released.contains("MIIEow"), "pieces of " + size);
        }
    }

    @Test
    void parallelCallsAreModeratedSeparatelyAndKeepTheirIndexes() {
        var moderation = response("default");
        var client = new Client();
        client.take(moderation.push("", List.of(new ToolCallDelta(0, "a", "first", ""), new ToolCallDelta(1, "b", "second", "")),
                List.of(), false));
        String clean = "{\"q\":\"nothing to see\"}";
        for (int at = 0; at < ARGS.length(); at += 3) {
            var pieces = new ArrayList<ToolCallDelta>();
            pieces.add(new ToolCallDelta(0, null, null, ARGS.substring(at, Math.min(ARGS.length(), at + 3))));
            if (at < clean.length()) {
                pieces.add(new ToolCallDelta(1, null, null, clean.substring(at, Math.min(clean.length(), at + 3))));
            }
            client.take(moderation.push("", pieces, List.of(), false));
        }
        client.take(moderation.push("", List.of(), List.of(), true));
        assertEquals(ARGS.replace(AWS, "[SECRET_1]"), client.arguments().get(0).toString());
        assertEquals(clean, client.arguments().get(1).toString());
        assertEquals(Map.of(0, "first", 1, "second"), client.names());
    }

    @Test
    void logprobsWaitForTheirTextAndAreMaskedWhereTheTextWasRedacted() {
        var moderation = response("default");
        var client = new Client();
        String text = "the key is " + AWS + " ok";
        List<String> tokens = List.of("the ", "key ", "is ", "AKIA", "IOSFODNN7", "EXAMPLE", " ok");
        for (String token : tokens) {
            client.take(moderation.push(token, List.of(), List.of(new TokenLogprob(token, -0.5, List.of(
                    new TokenLogprob(token + "?", -1.0, List.of())))), false));
            assertTrue(client.logprobs().size() <= 3,
                    "no log probability of the key's tokens goes out while the key is held back");
        }
        client.take(moderation.push("", List.of(), List.of(), true));
        assertEquals(text.replace(AWS, "[SECRET_1]"), client.text().toString());
        assertEquals(tokens.size(), client.logprobs().size());
        String tokensOut = String.join("", client.logprobs().stream().map(TokenLogprob::token).toList());
        assertFalse(tokensOut.contains("AKIA") || tokensOut.contains("EXAMPLE"), tokensOut);
        assertTrue(client.logprobs().get(3).top().isEmpty(), "a masked token carries no alternatives");
        assertEquals("the ", client.logprobs().getFirst().token());
        assertEquals(1, client.logprobs().getFirst().top().size());
    }

    @Test
    void textWithoutFindingsKeepsEveryLogprob() {
        var moderation = response("default");
        var client = new Client();
        for (String token : List.of("Hello", ", ", "world")) {
            client.take(moderation.push(token, List.of(), List.of(new TokenLogprob(token, -0.1, List.of())), false));
        }
        client.take(moderation.push("", List.of(), List.of(), true));
        assertEquals("Hello, world", String.join("", client.logprobs().stream().map(TokenLogprob::token).toList()));
        assertNull(client.blocking());
    }

    @Test
    void aSecretInAToolResultOrInEarlierCallArgumentsIsFoundOnInput() {
        var rules = ModerationFixtures.rules("default");
        var messages = List.of(
                new ChatMessage(ChatMessage.Role.USER, "deploy please"),
                new ChatMessage(ChatMessage.Role.ASSISTANT, "", List.of(new ToolCall("c1", "deploy", ARGS)), null),
                new ChatMessage(ChatMessage.Role.TOOL, "result: " + AWS, List.of(), "c1"));
        var result = ModerationService.moderateInput(rules, messages, new Placeholders());
        assertEquals(2, result.blocking().size(), "the key in the arguments and in the tool result both block");
        assertTrue(result.verdicts().stream().anyMatch(v -> "messages[1].tool_calls[0].arguments".equals(v.field())));
        assertTrue(result.verdicts().stream().anyMatch(v -> v.field() == null && v.start() > ARGS.length()),
                "the tool result's offset counts the arguments before it");
    }

    @Test
    void redactingRulesRewriteToolCallArgumentsOnInput() {
        var rules = ModerationFixtures.rules("strict");
        var messages = List.of(
                new ChatMessage(ChatMessage.Role.USER, "mail it"),
                new ChatMessage(ChatMessage.Role.ASSISTANT, "", List.of(new ToolCall("c1", "send",
                        "{\"to\":\"alice@example.com\"}")), null),
                new ChatMessage(ChatMessage.Role.TOOL, "sent to alice@example.com", List.of(), "c1"));
        var result = ModerationService.moderateInput(rules, messages, new Placeholders());
        assertTrue(result.rewritten());
        assertEquals("{\"to\":\"[EMAIL_1]\"}", result.messages().get(1).toolCalls().getFirst().arguments());
        assertEquals("sent to [EMAIL_1]", result.messages().get(2).content());
        assertEquals("c1", result.messages().get(2).toolCallId());
    }
}
