package io.cleargate.moderation;

import com.google.i18n.phonenumbers.PhoneNumberMatch;
import com.google.i18n.phonenumbers.PhoneNumberUtil;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Phone numbers found and validated by libphonenumber (leniency VALID) for each configured
 * default region; numbers written with a + country code are found whatever the region. A bare
 * digit string without formatting or a nearby word like "phone" scores low, because order and
 * account numbers look just like it.
 */
final class PhoneDetector implements Detector {

    private static final PhoneNumberUtil UTIL = PhoneNumberUtil.getInstance();

    /**
     * Dotted quads, dates, card-shaped 4-4-4-4 groups and SSN-shaped 3-2-4 groups that
     * libphonenumber would otherwise accept as numbers.
     */
    private static final java.util.regex.Pattern NOT_A_PHONE = java.util.regex.Pattern.compile(
            "[0-9]{1,3}(?:\\.[0-9]{1,3}){3}|[0-9]{4}[-/.][0-9]{1,2}[-/.][0-9]{1,2}.*|[0-9]{1,2}[-/.][0-9]{1,2}[-/.][0-9]{2,4}"
                    + "|[0-9]{4}([ \\-])[0-9]{4}\\1[0-9]{4}\\1[0-9]{1,4}|[0-9]{3}-[0-9]{2}-[0-9]{4}");

    private final List<String> regions;

    PhoneDetector(List<String> regions) {
        this.regions = List.copyOf(regions);
        for (String r : regions) {
            if (!UTIL.getSupportedRegions().contains(r)) {
                throw new IllegalArgumentException("unknown phone region '" + r + "' (use ISO 3166 codes such as US, GB, DE)");
            }
        }
    }

    @Override
    public String type() {
        return "phone";
    }

    @Override
    public String defaultCategory() {
        return "pii.phone";
    }

    @Override
    public String placeholder() {
        return "PHONE";
    }

    @Override
    public int maxSpan() {
        return 32;
    }

    @Override
    public void scan(NormalizedText text, Consumer<Match> sink) {
        View view = text.clean;
        Set<Long> seen = new HashSet<>();
        for (String region : regions) {
            for (PhoneNumberMatch m : UTIL.findNumbers(view.text, region, PhoneNumberUtil.Leniency.VALID, Long.MAX_VALUE)) {
                int s = m.start();
                int e = m.end();
                if (!seen.add(((long) s << 32) | e)) {
                    continue;
                }
                String raw = m.rawString();
                if (NOT_A_PHONE.matcher(raw).matches()) {
                    continue;
                }
                boolean formatted = raw.startsWith("+") || raw.startsWith("(") || raw.matches(".*[0-9][ \\-.)][0-9].*");
                boolean context = PatternDetector.contextBefore(view.text, s, 32, "phone", "tel", "call", "mobile",
                        "cell", "fax", "whatsapp", "sms", "contact", "ruf", "téléphone", "telefon", "handy");
                double score = formatted ? 0.85 : 0.45;
                if (context) {
                    score += 0.3;
                }
                sink.accept(new Match(view.originalStart(s), view.originalEnd(e - 1), Math.min(1.0, score), view.name,
                        "libphonenumber VALID number, regions " + regions, "+" + m.number().getCountryCode()
                                + m.number().getNationalNumber()));
            }
        }
    }
}
