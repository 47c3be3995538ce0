package io.cleargate.moderation;

import io.cleargate.domain.ChatMessage;
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

    /**
     * The result of moderating a prompt: verdicts, the blocking findings (with where each starts and
     * ends, as message index and offset) and the rewritten messages.
     */
    record InputResult(List<Verdict> verdicts, List<Finding> findings, List<Located> blocking,
            List<ChatMessage> messages, boolean rewritten) {}

    /** A finding in joined-prompt offsets, with its ends as (message, offset). */
    record Located(Finding finding, Conversation.Position start, Conversation.Position end) {}

    /**
     * Scans every message, and the conversation as the model sees it (messages joined, see
     * {@link Conversation}), so a match split across messages is found too. Offsets are reported in
     * the messages' contents joined with "\n"; blocking findings also name message and offset.
     */
    static InputResult moderateInput(RuleSet rules, List<ChatMessage> messages, Placeholders placeholders) {
        List<String> contents = messages.stream().map(ChatMessage::content).toList();
        List<Conversation.Spanning> spanning = Conversation.spanningFindings(rules, contents);
        List<List<Finding>> spanningParts = Conversation.partsByMessage(spanning, contents);
        List<Verdict> verdicts = new ArrayList<>();
        List<Finding> all = new ArrayList<>();
        List<Located> blocking = new ArrayList<>();
        List<ChatMessage> out = new ArrayList<>(messages.size());
        int[] bases = new int[messages.size()];
        boolean rewritten = false;
        int base = 0;
        for (int i = 0; i < messages.size(); i++) {
            ChatMessage message = messages.get(i);
            bases[i] = base;
            String content = message.content();
            List<Finding> findings = new ArrayList<>(rules.scan(NormalizedText.of(content), Direction.INPUT).findings());
            for (Finding f : findings) {
                verdicts.add(new Verdict(f.rule().id(), f.rule().category(), f.action(), Direction.INPUT,
                        base + f.start(), base + f.end(), f.match().score()));
                all.add(f.shifted(base));
                if (f.action() == Action.BLOCK) {
                    blocking.add(new Located(f.shifted(base), new Conversation.Position(i, f.start()),
                            new Conversation.Position(i, f.end())));
                }
            }
            findings.addAll(spanningParts.get(i)); // a split match is redacted in every message it touches
            String redacted = Redaction.apply(content, 0, content.length(), findings, placeholders);
            rewritten |= !redacted.equals(content);
            out.add(redacted.equals(content) ? message : new ChatMessage(message.role(), redacted));
            base += content.length() + 1;
        }
        for (Conversation.Spanning s : spanning) {
            Finding f = s.finding();
            int start = bases[s.start().message()] + s.start().offset();
            int end = bases[s.end().message()] + s.end().offset();
            verdicts.add(new Verdict(f.rule().id(), f.rule().category(), f.action(), Direction.INPUT, start, end,
                    f.match().score()));
            Finding joined = new Finding(f.rule(), f.action(), new Match(start, end, f.match().score(), f.match().view(),
                    f.match().pattern(), f.match().value()));
            all.add(joined);
            if (f.action() == Action.BLOCK) {
                blocking.add(new Located(joined, s.start(), s.end()));
            }
        }
        return new InputResult(verdicts, all, blocking, out, rewritten);
    }
}
