package io.cleargate.moderation;

import static io.cleargate.moderation.PatternDetector.contextBefore;
import static io.cleargate.moderation.PatternDetector.prefixed;
import static io.cleargate.moderation.PatternDetector.probe;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.regex.Pattern;

/** The built-in pattern detectors that need no configuration. */
final class BuiltinDetectors {

    private BuiltinDetectors() {}

    /** The chars of an e-mail address's local part. */
    static final String EMAIL_LOCAL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._%+-";

    static Detector email() {
        // A space around "@" or a dot ("jane.doe @ example . com") is tolerated: it is a common
        // way to slip an address past filters and still be read by people.
        String local = "(?<![A-Za-z0-9._%+\\-])[A-Za-z0-9][A-Za-z0-9._%+\\-]{0,63}";
        String label = "[A-Za-z0-9](?:[A-Za-z0-9\\-]{0,61}[A-Za-z0-9])?";
        String domain = " ?@ ?(?:" + label + " ?\\. ?){1,8}[A-Za-z]{2,24}(?![A-Za-z0-9\\-])";
        // A match is a run of local-part chars (none before it), maybe a space, then "@": the
        // scan tries only the one start each "@" allows, and reads the match without the regex.
        var pattern = CharClasses.compile(local + domain);
        var finder = new EmailAddresses(new OpenMatch(pattern), Starts.runBefore('@', Starts.chars(EMAIL_LOCAL), 64));
        var gate = PatternDetector.anyOf("@");
        return new PatternDetector("email", "pii.email", "EMAIL", "local@domain.tld (RFC 5322 subset)",
                List.of(new PatternDetector.Probe("clean", finder, 1.0, gate),
                        new PatternDetector.Probe("compact", finder, 0.75, gate, new SqueezedLocalPart())),
                (candidate, text, s, e) -> candidate.indexOf(' ') >= 0 ? 0.8 : 0.95);
    }

    static Detector ssn() {
        var pattern = "(?<![0-9])([0-9]{3})([\\- ]?)([0-9]{2})\\2([0-9]{4})(?![0-9])";
        var compiled = CharClasses.compile(pattern);
        return new PatternDetector("ssn", "pii.ssn", "SSN", "US SSN AAA-GG-SSSS with validity rules",
                List.of(new PatternDetector.Probe("clean", PatternDetector.Finder.of(compiled, Starts.digitRuns(BuiltinDetectors::ssnShape)),
                        1.0, PatternDetector.ANY_TEXT)),
                (candidate, text, s, e) -> {
                    var m = compiled.matcher(candidate);
                    if (!m.matches() || !Checksums.ssnValid(m.group(1), m.group(3), m.group(4))) {
                        return -1;
                    }
                    boolean context = contextBefore(text, s, 40, "ssn", "social security", "social-security", "tin");
                    String separator = m.group(2);
                    double base = separator.equals("-") ? 0.85 : separator.equals(" ") ? 0.6 : 0.35;
                    return context ? Math.min(1.0, base + 0.4) : base;
                });
    }

    static Detector ipAddress() {
        String octet = "(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])";
        String v4 = "(?<![0-9.])(?:" + octet + "\\.){3}" + octet + "(?![0-9]|\\.[0-9])";
        String v6 = "(?<![0-9A-Fa-f:])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{1,4}|(?:[0-9]{1,3}\\.){3}[0-9]{1,3})?"
                + "(?![0-9A-Fa-f:])";
        return new PatternDetector("ip", "pii.ip_address", "IP_ADDRESS", "IPv4 dotted quad or IPv6 (RFC 4291 text forms)",
                // v4 starts with a digit; v6's first ":" stands at most 4 hex digits after its start
                List.of(probe("clean", v4, 1.0, Starts.digitRuns(BuiltinDetectors::dottedQuadShape), PatternDetector.ANY_TEXT),
                        probe("clean", v6, 1.0, Starts.where(Starts.anchored(":", 4), BuiltinDetectors::ipv6Shape), PatternDetector.ANY_TEXT)),
                (candidate, text, s, e) -> {
                    if (candidate.indexOf(':') >= 0) {
                        return validIpv6(candidate) ? 0.85 : -1;
                    }
                    if (contextBefore(text, s, 12, "version", "v", "release", "build")) {
                        return 0.3;
                    }
                    return 0.85;
                });
    }

    /**
     * Whether an SSN can begin at the first digit of run {@code k}: three digits, maybe "-" or " ",
     * two digits, the same separator, four digits and no digit after them (the whole pattern,
     * without its groups). Read from the runs, which are whole: nine digits, or runs of three, two
     * and four digits with one separator char between them. Most runs (dates, ids, counters) are
     * turned away by their length alone.
     */
    static boolean ssnShape(String t, DigitRuns runs, int k) {
        int s = runs.start(k);
        int e = runs.end(k);
        if (e - s == 9) {
            return true;
        }
        if (e - s != 3 || k + 2 >= runs.count()) {
            return false;
        }
        char separator = t.charAt(e);
        return (separator == '-' || separator == ' ') && runs.start(k + 1) == e + 1 && runs.end(k + 1) == e + 3
                && t.charAt(e + 3) == separator && runs.start(k + 2) == e + 4 && runs.end(k + 2) == e + 8;
    }

    /**
     * Whether a dotted quad can begin at the first digit of run {@code k}: no "." before it, then
     * one to three digits and a dot, three times, then a digit. Each octet is one to three digits
     * followed by a dot, so it is a whole run of at most three digits, and the next run begins
     * right after the dot.
     */
    static boolean dottedQuadShape(String t, DigitRuns runs, int k) {
        int s = runs.start(k);
        if (s > 0 && t.charAt(s - 1) == '.' || k + 3 >= runs.count()) {
            return false;
        }
        for (int j = k; j < k + 3; j++) {
            int e = runs.end(j);
            if (e - runs.start(j) > 3 || t.charAt(e) != '.' || runs.start(j + 1) != e + 1) {
                return false;
            }
        }
        return true;
    }

    /**
     * Whether an IPv6 address can begin at {@code s}: at most four hex digits and a ":", twice
     * (every match opens with at least two of the pattern's "hex digits and a colon" groups).
     * Most colons in prose, code and logs ("key: value", "http://") are turned away here, before
     * an attempt of the regex.
     */
    static boolean ipv6Shape(String t, int s) {
        int i = s;
        for (int group = 0; group < 2; group++) {
            int start = i;
            while (i < t.length() && i - start <= 4 && isHex(t.charAt(i))) {
                i++;
            }
            if (i - start > 4 || i >= t.length() || t.charAt(i) != ':') {
                return false;
            }
            i++;
        }
        return true;
    }

    private static boolean isHex(char c) {
        return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F';
    }

    static boolean validIpv6(String s) {
        if (s.indexOf('.') < 0 && s.indexOf("::") < 0 && colons(s) != 7) {
            // Without "::" or a dotted tail every group is counted and eight are needed, seven
            // colons: times of day in logs ("10:11:41") are turned away here, before the splitting.
            return false;
        }
        String v4tail = null;
        int lastColon = s.lastIndexOf(':');
        if (s.indexOf('.') >= 0) {
            v4tail = s.substring(lastColon + 1);
            s = s.substring(0, lastColon + 1) + "0:0";
            if (!v4tail.matches("(?:(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])")) {
                return false;
            }
        }
        int dc = s.indexOf("::");
        if (dc >= 0 && s.indexOf("::", dc + 1) >= 0) {
            return false;
        }
        if (dc < 0 && (s.startsWith(":") || s.endsWith(":"))) {
            return false;
        }
        String[] groups = s.replace("::", ":Z:").split(":", -1);
        int count = 0;
        boolean compressed = false;
        for (String g : groups) {
            if (g.equals("Z")) {
                compressed = true;
                continue;
            }
            if (g.isEmpty()) {
                if (dc >= 0) {
                    continue; // the empty group next to a leading or trailing "::"
                }
                return false;
            }
            if (g.length() > 4) {
                return false;
            }
            count++;
        }
        // "::" alone or a bare "a::" are too weak to call an address; require at least two groups.
        return compressed ? count >= 2 && count <= 7 : count == 8;
    }

    private static int colons(String s) {
        int count = 0;
        for (int i = 0; i < s.length(); i++) {
            count += s.charAt(i) == ':' ? 1 : 0;
        }
        return count;
    }

    static Detector cloudKey() {
        String aws = "(?<![A-Za-z0-9])(?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[A-Z0-9]{16}(?![A-Za-z0-9])";
        String gcpKey = "(?<![A-Za-z0-9_\\-])AIza[0-9A-Za-z_\\-]{35}(?![A-Za-z0-9_\\-])";
        // The rest of the run it sits in goes with it: a token glued to more token characters
        // (or to copies of itself) is redacted whole, never in part.
        String gcpOauth = "(?<![A-Za-z0-9_\\-])ya29\\.[0-9A-Za-z_\\-]{20,}+(?:[0-9A-Za-z_\\-]|\\.(?=[0-9A-Za-z_\\-]))*+";
        // With the spaces squeezed out there are no word boundaries left; fixed-length forms only.
        String awsGlued = "(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}";
        String gcpGlued = "AIza[0-9A-Za-z_\\-]{35}";
        return new PatternDetector("cloud_key", "secret.cloud_key", "SECRET",
                "AWS access key id (AKIA/ASIA...), Google API key (AIza...), Google OAuth token (ya29.)",
                List.of(prefixed("clean", aws, 1.0, "AKIA", "ASIA", "ABIA", "ACCA", "A3T"),
                        prefixed("compact", awsGlued, 0.9, "AKIA", "ASIA", "ABIA", "ACCA"),
                        prefixed("clean", gcpKey, 1.0, "AIza"), prefixed("compact", gcpGlued, 0.9, "AIza"),
                        prefixed("clean", gcpOauth, 1.0, "ya29.")),
                (candidate, text, s, e) -> 0.95);
    }

    /** Every way the token pattern's alternatives begin. */
    static final List<String> TOKEN_PREFIXES = List.of("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_", "glpat-",
            "gldt-", "glrt-", "glptt-", "glft-", "xoxa-", "xoxb-", "xoxp-", "xoxo-", "xoxs-", "xoxr-", "sk_live_", "rk_live_",
            "sk-", "hf_", "npm_");

    /** The chars of an entropy candidate's run. */
    static final String TOKEN_RUN = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/_-";

    static Detector token() {
        // A token is recognised by its prefix at the start of a run of token characters, and the
        // match takes the whole run: a token glued to more token characters, or to copies of
        // itself, is redacted whole. (An upper bound and a "not followed by a token character"
        // check used to make a glued run match nowhere, so only the rules that happened to see
        // a copy acted, and the rest of the run was released.) Possessive throughout: linear.
        String tokens = "(?<![A-Za-z0-9_\\-])(?:"
                + "gh[pousr]_[A-Za-z0-9]{36}"
                + "|github_pat_[A-Za-z0-9_]{22}"
                + "|gl(?:pat|dt|rt|ptt|ft)-[A-Za-z0-9_\\-]{20}"
                + "|xox[abposr]-[A-Za-z0-9\\-]{10}"
                + "|(?:sk|rk)_live_[0-9A-Za-z]{24}"
                + "|sk-(?:proj-|ant-)?[A-Za-z0-9_\\-]{32}"
                + "|hf_[A-Za-z0-9]{34}"
                + "|npm_[A-Za-z0-9]{36}"
                + ")[A-Za-z0-9_\\-]*+";
        String tokensGlued = "gh[pousr]_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59}|npm_[A-Za-z0-9]{36}";
        String slackHook = "https://hooks\\.slack\\.com/services/T[A-Z0-9]{6,12}/B[A-Z0-9]{6,12}/[A-Za-z0-9]{16,32}";
        return new PatternDetector("token", "secret.token", "SECRET",
                "API tokens: GitHub (ghp_, github_pat_), GitLab (glpat-), Slack (xox?-, webhooks), Stripe, OpenAI-style sk-, npm, Hugging Face",
                List.of(prefixed("clean", tokens, 1.0, TOKEN_PREFIXES.toArray(String[]::new)),
                        prefixed("compact", tokensGlued, 0.9, "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_", "npm_"),
                        prefixed("clean", slackHook, 1.0, "https://hooks.slack.com/services/T")),
                (candidate, text, s, e) -> 0.95);
    }

    static Detector privateKey() {
        // A header alone is enough to fire; the match runs to the END line or, while that has not
        // arrived, to the end of the text, so a stream holds the whole block back. A hand-written
        // scanner, because the equivalent regex backtracks quadratically over runs of dashes.
        var block = new PatternDetector.Probe("clean", PrivateKeyScanner.FINDER, 1.0, t -> t.contains(PrivateKeyScanner.DASHES));
        var glued = new PatternDetector.Probe("compact", PrivateKeyScanner.FINDER, 1.0, t -> t.contains(PrivateKeyScanner.DASHES));
        return new PatternDetector("private_key", "secret.private_key", "PRIVATE_KEY",
                "PEM/OpenSSH/PGP private key block (-----BEGIN ... PRIVATE KEY-----)", List.of(block, glued),
                (candidate, text, s, e) -> 1.0);
    }

    static Detector jwt() {
        // The rest of the run (inner dots included, not a full stop) goes with it, so copies
        // glued together are one match.
        String jwt = "(?<![A-Za-z0-9_\\-])eyJ[A-Za-z0-9_\\-]{10,}+\\.eyJ[A-Za-z0-9_\\-]{10,}+\\.(?:[A-Za-z0-9_\\-]|\\.(?=[A-Za-z0-9_\\-]))*+";
        return new PatternDetector("jwt", "secret.jwt", "JWT", "JSON Web Token (eyJ...header.eyJ...payload.signature)",
                List.of(prefixed("clean", jwt, 1.0, "eyJ"), prefixed("compact", jwt, 1.0, "eyJ")),
                (candidate, text, s, e) -> {
                    String header = candidate.substring(0, candidate.indexOf('.'));
                    try {
                        String json = new String(Base64.getUrlDecoder().decode(stripPadding(header)), StandardCharsets.UTF_8);
                        return json.contains("\"alg\"") || json.contains("\"typ\"") ? 0.95 : 0.7;
                    } catch (IllegalArgumentException notBase64) {
                        return 0.7;
                    }
                });
    }

    private static String stripPadding(String s) {
        int cut = s.length() % 4 == 1 ? s.length() - 1 : s.length();
        return s.substring(0, cut);
    }

    private static final Pattern HEX = CharClasses.compile("[0-9a-fA-F]+");

    /** An entropy candidate: a whole run of 24 or more token chars, and up to two "=" of padding closing it. */
    static final String ENTROPY_CANDIDATE = "(?<![A-Za-z0-9+/_\\-])[A-Za-z0-9+/_\\-]{24,}+={0,2}(?![A-Za-z0-9+/=_\\-])";

    static Detector entropy() {
        return new PatternDetector("entropy", "secret.high_entropy", "SECRET",
                "token of 24+ chars with high Shannon entropy and mixed character classes",
                List.of(new PatternDetector.Probe("clean", new TokenRuns(new OpenMatch(CharClasses.compile(ENTROPY_CANDIDATE))), 1.0,
                        PatternDetector.ANY_TEXT)),
                BuiltinDetectors::entropyScore);
    }

    /**
     * The spans {@link #ENTROPY_CANDIDATE}'s {@code Matcher.find()} reports, found without the regex
     * engine (entering it at every long run was most of this detector's search): a candidate is a
     * whole run of token chars at least 24 long (its look-behind and possessive run), then as many
     * "=" as follow it, when that is at most two and neither a token char nor a third "=" comes
     * next; a run followed by anything else is no candidate, since the possessive run gives
     * nothing back and fewer "=" leave a "=" next. Hold-back still asks the regex where a candidate
     * could still grow. {@code StartsFindTest} compares the spans with the regex's.
     */
    record TokenRuns(OpenMatch open) implements PatternDetector.Finder {
        private static final boolean[] RUN = Starts.chars(TOKEN_RUN);
        private static final Starts LONG_RUNS = Starts.runs(RUN, 24);

        @Override
        public void find(String text, int from, PrivateKeyScanner.Sink sink) {
            int n = text.length();
            Starts.Cursor runs = LONG_RUNS.open(text);
            int s = from;
            while (s < n) {
                s = runs.next(s);
                if (s < 0 || s >= n) {
                    return;
                }
                int e = s;
                while (e < n && inRun(text.charAt(e))) {
                    e++;
                }
                int end = e;
                while (end < n && end - e < 2 && text.charAt(end) == '=') {
                    end++;
                }
                boolean closed = end == n || !inRun(text.charAt(end)) && text.charAt(end) != '=';
                if (e - s >= 24 && (s == 0 || !inRun(text.charAt(s - 1))) && closed) {
                    sink.accept(s, end);
                    s = end;
                } else {
                    s++;
                }
            }
        }

        private static boolean inRun(char c) {
            return c < 128 && RUN[c];
        }

        @Override
        public int openFrom(String text, int from) {
            return open.from(text, from);
        }
    }

    /** Whether {@code s} is a UUID's text: hex digit groups of 8, 4, 4, 4 and 12 chars joined by "-". */
    static boolean isUuid(String s) {
        if (s.length() != 36) {
            return false;
        }
        for (int i = 0; i < 36; i++) {
            char c = s.charAt(i);
            boolean hyphen = i == 8 || i == 13 || i == 18 || i == 23;
            if (hyphen ? c != '-' : !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F')) {
                return false;
            }
        }
        return true;
    }

    static double entropyScore(String candidate, String text, int s, int e) {
        // The char classes first: a run without a digit or of one class (paths, identifiers: most
        // long runs in code and prose) is rejected whatever the two regexes say, so they run only after.
        int lower = 0;
        int upper = 0;
        int digit = 0;
        int symbol = 0;
        for (int i = 0; i < candidate.length(); i++) {
            char c = candidate.charAt(i);
            if (c >= 'a' && c <= 'z') {
                lower++;
            } else if (c >= 'A' && c <= 'Z') {
                upper++;
            } else if (c >= '0' && c <= '9') {
                digit++;
            } else {
                symbol++;
            }
        }
        int classes = (lower > 0 ? 1 : 0) + (upper > 0 ? 1 : 0) + (digit > 0 ? 1 : 0);
        if (digit == 0 || classes < 2) {
            return -1;
        }
        // A candidate here has a digit, so it is never letter runs and separators alone (a path or
        // an identifier, which the check above turns away); a UUID is read by hand: the request ids of
        // every log line are such candidates, and the regex was a third of this detector's samples on
        // the mixed corpus.
        if (isUuid(candidate)) {
            return -1;
        }
        double h = Checksums.entropy(candidate);
        double score;
        if (h >= 4.2) {
            score = 0.75;
        } else if (h >= 3.6) {
            score = 0.55;
        } else {
            return -1;
        }
        if (classes == 3) {
            score += 0.1;
        }
        boolean hex = HEX.matcher(candidate).matches();
        boolean context = contextBefore(text, s, 32, "key", "secret", "token", "password", "passwd", "pwd", "bearer",
                "credential", "auth");
        if (hex && !context) {
            score -= 0.3; // commit ids and digests are everywhere in technical text
        }
        if (context) {
            score += 0.2;
        }
        return Math.max(0, Math.min(1.0, score));
    }
}
