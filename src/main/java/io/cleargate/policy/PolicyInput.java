package io.cleargate.policy;

import io.cleargate.domain.ChatMessage;
import io.cleargate.domain.EngineRequest;
import io.cleargate.identity.Principal;
import io.cleargate.pipeline.IncomingRequest;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Builds the input document for data.cleargate.decision (contract in policies/README.md). It holds
 * who is asking and the shape of the request, never prompt text: the prompt is reduced to an
 * estimated token count. The time is cut to whole seconds so identical requests within a second can
 * share a cached decision.
 */
public final class PolicyInput {

    private PolicyInput() {}

    public static Map<String, Object> of(Principal principal, IncomingRequest incoming, EngineRequest engine,
            Instant now) {
        Map<String, Object> subject = new LinkedHashMap<>();
        subject.put("id", principal.subject());
        subject.put("roles", principal.roles().stream().sorted().toList());
        subject.put("auth_method", principal.authMethod().name().toLowerCase(Locale.ROOT));

        Map<String, Object> request = new LinkedHashMap<>();
        request.put("endpoint", incoming.endpoint());
        if (incoming.model() != null) {
            request.put("model", incoming.model());
        }
        request.put("stream", incoming.stream());
        Long maxTokens = requestedMaxTokens(incoming, engine);
        if (maxTokens != null) {
            request.put("max_tokens", maxTokens);
        }
        request.put("estimated_prompt_tokens", engine == null ? 0 : estimatePromptTokens(engine.messages()));
        // Tool names, never their schemas or arguments: what the tenant's policy allows or denies.
        for (String name : List.of("tools", "tool_calls")) {
            if (incoming.parameters().get(name) instanceof List<?> names && !names.isEmpty()) {
                request.put(name, names);
            }
        }

        Map<String, Object> input = new LinkedHashMap<>();
        input.put("tenant", principal.tenant());
        input.put("subject", subject);
        input.put("request", request);
        input.put("context", Map.of("time", now.truncatedTo(ChronoUnit.SECONDS).toString()));
        return input;
    }

    /**
     * The same input as it will read in the next second ({@code context.time} one second later), when
     * {@code input}'s time is {@code second} (epoch seconds) and nothing else in it changes with time;
     * null otherwise (no time, another second, or month-to-date usage, which moves with every answer).
     */
    static Map<String, Object> atNextSecond(Map<String, Object> input, long second) {
        if (input.containsKey("usage") || !(input.get("context") instanceof Map<?, ?> context)
                || context.size() != 1 || !Instant.ofEpochSecond(second).toString().equals(context.get("time"))) {
            return null;
        }
        Map<String, Object> next = new LinkedHashMap<>(input);
        next.put("context", Map.of("time", Instant.ofEpochSecond(second + 1).toString()));
        return next;
    }

    /**
     * Adds the month-to-date usage of the tenant and of the caller (input.usage), which the
     * tenant's budgets are decided on.
     */
    public static void addUsage(Map<String, Object> input, Spending.MonthToDate usage) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("period", usage.month().toString());
        m.put("tenant", spent(usage.tenant()));
        m.put("key", spent(usage.key()));
        input.put("usage", m);
    }

    private static Map<String, Object> spent(Spending.Spent s) {
        return Map.of("tokens", s.tokens(), "cost", s.cost());
    }

    /** The client's own max_tokens (or max_completion_tokens) when given, else what the engine would use. */
    static Long requestedMaxTokens(IncomingRequest incoming, EngineRequest engine) {
        for (String name : List.of("max_tokens", "max_completion_tokens")) {
            if (incoming.parameters().get(name) instanceof Number n) {
                return n.longValue();
            }
        }
        return engine == null ? null : (long) engine.maxTokens();
    }

    /**
     * A deliberately simple estimate (four characters a token plus a few per message) that needs no
     * tokenizer; rate limits are reconciled against the engine's real usage afterwards.
     */
    public static long estimatePromptTokens(List<ChatMessage> messages) {
        long tokens = 0;
        for (ChatMessage m : messages) {
            int chars = m.content().length();
            for (var call : m.toolCalls()) {
                chars += call.name().length() + call.arguments().length();
            }
            tokens += (chars + 3) / 4 + 4;
        }
        return tokens;
    }
}
