package io.cleargate.audit;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.util.RawValue;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class CanonicalTest {

    /** A body around {@code input} as the recorder builds one: a sorted map with members on both sides of it. */
    private static Map<String, Object> body(Object input) {
        Map<String, Object> body = new TreeMap<>();
        body.put("kind", "request");
        body.put("parameters", Map.of("max_tokens", 256, "temperature", 0.5));
        body.put("policy", null);
        body.put("policy_input", input);
        body.put("verdicts", List.of());
        body.put("v", 1);
        return body;
    }

    @Test
    void aPolicyInputWrittenAheadReadsInTheBodyAsTheInputWrittenInPlace() {
        Random random = new Random(20261202);
        List<Map<String, Object>> inputs = new ArrayList<>();
        inputs.add(Map.of());
        inputs.add(policyInput());
        for (int i = 0; i < 2_000; i++) {
            inputs.add(randomMap(random, 0));
        }
        for (Map<String, Object> input : inputs) {
            String inPlace = Canonical.json(body(input));
            String ahead = Canonical.json(body(new RawValue(Canonical.json(input))));
            assertEquals(inPlace, ahead);
            assertEquals(Canonical.sha256(inPlace), Canonical.sha256(ahead));
        }
    }

    /** The shape PolicyInput builds: insertion-ordered maps, an immutable one, a list, usage. */
    private static Map<String, Object> policyInput() {
        Map<String, Object> subject = new LinkedHashMap<>();
        subject.put("id", "key:0be0c4a7");
        subject.put("roles", List.of("gateway-user"));
        subject.put("auth_method", "api_key");
        Map<String, Object> request = new LinkedHashMap<>();
        request.put("endpoint", "chat.completions");
        request.put("model", "mock");
        request.put("stream", false);
        request.put("max_tokens", 256L);
        request.put("estimated_prompt_tokens", 16L);
        request.put("tools", List.of("lookup", "Grüße \"quoted\""));
        Map<String, Object> usage = new LinkedHashMap<>();
        usage.put("period", "2026-12");
        usage.put("tenant", Map.of("tokens", 223456L, "cost", 0L));
        usage.put("key", Map.of("tokens", 123456L, "cost", 0L));
        Map<String, Object> input = new LinkedHashMap<>();
        input.put("tenant", "dev");
        input.put("subject", subject);
        input.put("request", request);
        input.put("context", Map.of("time", "2026-12-02T13:01:11Z"));
        input.put("usage", usage);
        return input;
    }

    private static Map<String, Object> randomMap(Random random, int depth) {
        Map<String, Object> m = switch (random.nextInt(3)) {
            case 0 -> new LinkedHashMap<>();
            case 1 -> new TreeMap<>();
            default -> new java.util.HashMap<>();
        };
        int members = random.nextInt(6);
        for (int i = 0; i < members; i++) {
            m.put(randomText(random), randomValue(random, depth + 1));
        }
        return random.nextBoolean() ? m : java.util.Collections.unmodifiableMap(m);
    }

    private static Object randomValue(Random random, int depth) {
        return switch (random.nextInt(depth < 4 ? 9 : 7)) {
            case 0 -> randomText(random);
            case 1 -> random.nextInt();
            case 2 -> random.nextLong();
            case 3 -> random.nextDouble() * 1e6;
            case 4 -> random.nextBoolean();
            case 5 -> null;
            case 6 -> "";
            case 7 -> randomMap(random, depth);
            default -> {
                List<Object> list = new ArrayList<>();
                for (int i = random.nextInt(4); i > 0; i--) {
                    list.add(randomValue(random, depth + 1));
                }
                yield list;
            }
        };
    }

    /** Text with ASCII, controls, quotes and backslashes, Latin-1, other BMP chars and surrogates (paired or not). */
    private static String randomText(Random random) {
        StringBuilder sb = new StringBuilder();
        for (int i = random.nextInt(12); i > 0; i--) {
            sb.append(switch (random.nextInt(6)) {
                case 0 -> (char) random.nextInt(0x20);
                case 1 -> "\"\\/".charAt(random.nextInt(3));
                case 2 -> (char) (0x80 + random.nextInt(0x80));
                case 3 -> (char) (0x100 + random.nextInt(0xD700));
                case 4 -> (char) (0xD800 + random.nextInt(0x800));
                default -> (char) (0x20 + random.nextInt(0x5F));
            });
        }
        return sb.toString();
    }
}
