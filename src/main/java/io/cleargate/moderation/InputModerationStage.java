package io.cleargate.moderation;

import io.cleargate.domain.EngineRequest;
import io.cleargate.pipeline.Exchange;
import io.cleargate.pipeline.GatewayError;
import io.cleargate.pipeline.ResponseChunk;
import io.cleargate.pipeline.Stage;
import io.cleargate.pipeline.StageName;
import io.cleargate.pipeline.StageResult;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Moderates the prompt. A blocking rule answers 400 with code content_filter and the rules hit
 * (never the matched text); redacting rules rewrite the engine request; flags pass. The verdicts
 * go on the exchange for audit and into the x-cleargate-moderation response header.
 */
@ApplicationScoped
public class InputModerationStage implements Stage {

    private final ModerationService moderation;

    @Inject
    public InputModerationStage(ModerationService moderation) {
        this.moderation = moderation;
    }

    @Override
    public StageName name() {
        return StageName.INPUT_MODERATION;
    }

    /** No response phase: chunks pass untouched, so serving them never waits on this stage. */
    @Override
    public boolean blocksOn(ResponseChunk chunk) {
        return false;
    }

    @Override
    public StageResult onRequest(Exchange exchange) {
        RuleSet rules = moderation.rulesFor(exchange);
        EngineRequest request = exchange.engineRequest();
        var result = ModerationService.moderateInput(rules, request.messages(), ModerationService.placeholders(exchange));
        exchange.put(ModerationKeys.VERDICTS, exchange.get(ModerationKeys.VERDICTS).orElse(VerdictList.empty())
                .plus(result.verdicts()));
        exchange.responseHeaders().put(ModerationSummary.HEADER, ModerationSummary.header(rules.profile(), result.verdicts()));
        if (!result.blocking().isEmpty()) {
            return StageResult.shortCircuit(blocked(rules.profile(), result.blocking()));
        }
        if (result.rewritten()) {
            return StageResult.forward(request.withMessages(result.messages()));
        }
        return StageResult.forward();
    }

    /**
     * The 400: every blocking rule with its span in the joined messages ({@code start}, {@code end})
     * and in message coordinates ({@code message}, {@code offset}, {@code end_message},
     * {@code end_offset}), so a match split across messages points at both.
     */
    static GatewayError blocked(String profile, List<ModerationService.Located> blocking) {
        List<Map<String, Object>> rules = blocking.stream().map(located -> {
            Finding f = located.finding();
            var m = new LinkedHashMap<String, Object>();
            m.put("rule", f.rule().id());
            m.put("category", f.rule().category());
            m.put("description", f.rule().description());
            m.put("direction", "input");
            m.put("start", f.start());
            m.put("end", f.end());
            m.put("message", located.start().message());
            m.put("offset", located.start().offset());
            m.put("end_message", located.end().message());
            m.put("end_offset", located.end().offset());
            return (Map<String, Object>) m;
        }).toList();
        String names = String.join(", ", blocking.stream().map(l -> l.finding().rule().id()).distinct().toList());
        return new GatewayError(400, "invalid_request_error", "content_filter", "messages",
                "The request was blocked by the content filter (profile " + profile + "): " + names + ".",
                Map.of("rules", rules, "profile", profile), null);
    }
}
