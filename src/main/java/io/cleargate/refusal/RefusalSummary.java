package io.cleargate.refusal;

import io.cleargate.refusal.detector.RefusalVerdict;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * How a verdict is shown to the caller: the {@value #HEADER} header (non-streamed responses, and
 * streams held back under a retry policy; a stream's headers otherwise leave before the answer
 * exists) and the {@value #EXTENSION} member of the body or final chunk, next to
 * cleargate_moderation. Kind, score, language, span, cue id and what the tenant's policy did; never text.
 */
public final class RefusalSummary {

    public static final String HEADER = "x-cleargate-model-refusal";
    public static final String EXTENSION = "cleargate_model_refusal";

    private RefusalSummary() {}

    /** e.g. {@code kind=deflection; score=0.95; language=en; span=0-38; cue=en.canned} */
    public static String header(RefusalVerdict v) {
        return String.format(Locale.ROOT, "kind=%s; score=%.2f; language=%s; span=%d-%d; cue=%s", v.kind().id(), v.score(),
                v.language(), v.start(), v.end(), v.cue());
    }

    /** The verdict, then the policy's action, flagged, the retry's outcome and the backend retried from. */
    public static String header(RefusalVerdict v, RefusalHandling h) {
        var sb = new StringBuilder(header(v)).append("; action=").append(h.action());
        if (h.flagged()) {
            sb.append("; flagged");
        }
        if (h.retry() != null) {
            sb.append("; retry=").append(h.retry());
        }
        for (RefusalHandling.Attempt a : h.earlier()) {
            if (a.route() != null) {
                sb.append("; retried_from=").append(a.route().backendId());
            }
        }
        return sb.toString();
    }

    public static Map<String, Object> extension(RefusalVerdict v) {
        Map<String, Object> m = v.fields();
        m.put("source", "model");
        return m;
    }

    public static Map<String, Object> extension(RefusalVerdict v, RefusalHandling h) {
        Map<String, Object> m = extension(v);
        m.put("action", h.action());
        m.put("flagged", h.flagged());
        if (h.flagged()) {
            m.put("notice", notice(v));
        }
        if (h.retry() != null) {
            Map<String, Object> retry = new LinkedHashMap<>();
            retry.put("outcome", h.retry());
            retry.put("earlier", h.earlier().stream().map(RefusalSummary::attempt).toList());
            m.put("retry", retry);
        }
        return m;
    }

    /** Said to the caller of a flagged answer: who declined, so nobody mistakes it for the tenant's filter. */
    static String notice(RefusalVerdict v) {
        return switch (v.kind()) {
            case CONTENT_FILTER -> "The model's server filtered this answer (finish_reason content_filter); "
                    + "this was not your organisation's content filter.";
            case EMPTY_CUTOFF -> "The model ended without an answer; this was not your organisation's content filter.";
            default -> "The model itself declined to answer (" + v.kind().id()
                    + "); this is the model's own behaviour, not your organisation's content filter.";
        };
    }

    private static Map<String, Object> attempt(RefusalHandling.Attempt a) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("backend", a.route() == null ? null : a.route().backendId());
        m.put("region", a.route() == null ? null : a.route().region());
        m.put("kind", a.verdict().kind().id());
        m.put("score", a.verdict().score());
        m.put("language", a.verdict().language());
        m.put("cue", a.verdict().cue());
        return m;
    }
}
