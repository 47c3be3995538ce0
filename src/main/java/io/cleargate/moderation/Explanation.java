package io.cleargate.moderation;

import io.cleargate.moderation.Verdict.Direction;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Explain mode: every verdict with the detector, pattern, view (normalisation) and score behind it. */
final class Explanation {

    private Explanation() {}

    static Map<String, Object> of(RuleSet rules, String text, Direction direction) {
        NormalizedText normalized = NormalizedText.of(text);
        List<Finding> findings;
        String result;
        Finding blocked = null;
        if (direction == Direction.OUTPUT) {
            var stream = new StreamModerator(rules, new Placeholders());
            var step = stream.push(text, true);
            findings = stream.findings();
            blocked = step.blocked();
            result = step.text();
        } else {
            var input = ModerationService.moderateInput(rules, List.of(new io.cleargate.domain.ChatMessage(
                    io.cleargate.domain.ChatMessage.Role.USER, text)), new Placeholders());
            findings = input.findings();
            blocked = input.blocking().isEmpty() ? null : input.blocking().getFirst().finding();
            result = input.messages().getFirst().content();
        }
        var body = new LinkedHashMap<String, Object>();
        body.put("object", "moderation.explanation");
        body.put("profile", rules.profile());
        body.put("direction", ModerationSummary.lower(direction));
        var norm = new LinkedHashMap<String, Object>();
        norm.put("steps", List.of("remove zero-width, bidi-control, tag and other format characters", "NFKC per code point",
                "drop diacritics, ASCII digits", "UTS #39 confusable skeleton for non-ASCII lookalikes"));
        norm.put("removed_invisible", normalized.removedInvisible);
        norm.put("folded_code_points", normalized.foldedCodePoints);
        norm.put("normalized_length", normalized.clean.length());
        body.put("normalization", norm);
        List<Map<String, Object>> verdicts = new ArrayList<>();
        for (Finding f : findings) {
            var m = new LinkedHashMap<String, Object>();
            m.put("rule", f.rule().id());
            m.put("category", f.rule().category());
            m.put("action", ModerationSummary.lower(f.action()));
            m.put("start", f.start());
            m.put("end", f.end());
            m.put("detector", f.rule().detector().type());
            m.put("pattern", f.match().pattern());
            m.put("view", f.match().view());
            m.put("score", Math.round(f.match().score() * 1000) / 1000.0);
            m.put("threshold", f.rule().threshold());
            verdicts.add(m);
        }
        body.put("verdicts", verdicts);
        body.put("blocked", blocked != null);
        body.put("result", blocked != null && direction == Direction.INPUT ? null : result);
        return body;
    }
}
