package io.cleargate.moderation;

import io.cleargate.domain.ChatMessage;
import io.cleargate.domain.ToolCall;
import io.cleargate.moderation.Verdict.Action;
import io.cleargate.moderation.Verdict.Direction;
import io.cleargate.pipeline.Exchange;
import io.cleargate.pipeline.GatewayError;
import io.cleargate.pipeline.GatewayException;
import io.cleargate.policy.PolicyDecision;
import io.quarkus.runtime.Startup;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Chooses the rules for a request and applies them to prompts. The policy decision names the
 * tenant's profile and overrides; without a decision the "default" profile applies, and a profile
 * the policy names but the store lacks refuses the request: filtering is never skipped.
 */
@ApplicationScoped
@Startup
public class ModerationService {

    static final String DEFAULT_PROFILE = "default";

    private final ProfileStore store;

    @Inject
    public ModerationService(ModerationConfig config) {
        this(new ProfileStore(Path.of(config.profilesPath())));
        store.watch(config.reloadInterval());
    }

    ModerationService(ProfileStore store) {
        this.store = store;
    }

    @PreDestroy
    void stop() {
        store.close();
    }

    ProfileStore store() {
        return store;
    }

    /** The rules in force for this exchange, resolved once and kept on the exchange. */
    RuleSet rulesFor(Exchange exchange) {
        return exchange.get(ModerationKeys.RULES).orElseGet(() -> {
            var settings = exchange.get(PolicyDecision.KEY).map(PolicyDecision::moderation).orElse(null);
            RuleSet rules = rulesFor(settings);
            exchange.put(ModerationKeys.RULES, rules);
            exchange.put(ModerationKeys.PROFILE, rules.profile());
            return rules;
        });
    }

    RuleSet rulesFor(PolicyDecision.ModerationSettings settings) {
        String name = settings == null || settings.profile() == null || settings.profile().isBlank()
                ? DEFAULT_PROFILE : settings.profile();
        Map<String, String> overrides = settings == null ? Map.of() : settings.overrides();
        Profile profile = store.profile(name).orElseThrow(() -> new GatewayException(GatewayError.unavailable(
                "moderation_profile_missing", "The moderation profile '" + name
                        + "' selected by policy is not available; the request was not processed.")));
        return new RuleSet(profile, overrides);
    }

    static Placeholders placeholders(Exchange exchange) {
        return exchange.get(ModerationKeys.PLACEHOLDERS).orElseGet(() -> {
            var p = new Placeholders();
            exchange.put(ModerationKeys.PLACEHOLDERS, p);
            return p;
        });
    }

    /** The result of moderating a prompt: verdicts, the blocking findings and the rewritten messages. */
    record InputResult(List<Verdict> verdicts, List<Finding> findings, List<Finding> blocking,
            List<ChatMessage> messages, boolean rewritten) {}

    /**
     * Scans every message separately (a match never spans two messages), and within an assistant
     * message each tool call's arguments separately from its text; tool results are the tool
     * messages' text. Offsets are reported in all these texts joined with "\n", in message order
     * (content first, then each call's arguments); a verdict on arguments also names its field.
     */
    static InputResult moderateInput(RuleSet rules, List<ChatMessage> messages, Placeholders placeholders) {
        var scan = new InputScan(rules, placeholders);
        List<ChatMessage> out = new ArrayList<>(messages.size());
        for (int i = 0; i < messages.size(); i++) {
            ChatMessage message = messages.get(i);
            String content = scan.text(message.content(), null);
            List<ToolCall> calls = new ArrayList<>(message.toolCalls().size());
            for (int j = 0; j < message.toolCalls().size(); j++) {
                ToolCall call = message.toolCalls().get(j);
                calls.add(call.withArguments(scan.text(call.arguments(),
                        "messages[" + i + "].tool_calls[" + j + "].arguments")));
            }
            boolean same = content.equals(message.content()) && calls.equals(message.toolCalls());
            out.add(same ? message : message.withContent(content).withToolCalls(calls));
        }
        return new InputResult(scan.verdicts, scan.all, scan.blocking, out, scan.rewritten);
    }

    /** Scans input texts one after another, keeping offsets in their "\n"-joined concatenation. */
    private static final class InputScan {
        private final RuleSet rules;
        private final Placeholders placeholders;
        final List<Verdict> verdicts = new ArrayList<>();
        final List<Finding> all = new ArrayList<>();
        final List<Finding> blocking = new ArrayList<>();
        boolean rewritten;
        private int base;

        InputScan(RuleSet rules, Placeholders placeholders) {
            this.rules = rules;
            this.placeholders = placeholders;
        }

        /** Returns the text as redacted. */
        String text(String content, String field) {
            List<Finding> findings = rules.scan(NormalizedText.of(content), Direction.INPUT).findings();
            for (Finding f : findings) {
                verdicts.add(new Verdict(f.rule().id(), f.rule().category(), f.action(), Direction.INPUT,
                        base + f.start(), base + f.end(), f.match().score(), field));
                all.add(f.shifted(base));
                if (f.action() == Action.BLOCK) {
                    blocking.add(f.shifted(base));
                }
            }
            String redacted = Redaction.apply(content, 0, content.length(), findings, placeholders);
            rewritten |= !redacted.equals(content);
            base += content.length() + 1;
            return redacted;
        }
    }
}
