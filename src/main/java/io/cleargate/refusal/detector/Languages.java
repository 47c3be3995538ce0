package io.cleargate.refusal.detector;

import java.util.List;
import java.util.Set;

/**
 * Tells the six languages apart cheaply: kana means Japanese, Han without kana Chinese; Latin
 * text is scored by its commonest function words and by letters only one of the languages uses.
 * Reads at most the first {@value #SAMPLE} characters.
 */
final class Languages {

    static final String UNKNOWN = "und";
    private static final int SAMPLE = 800;

    private static final Set<String> EN = Set.of("the", "and", "is", "to", "of", "that", "you", "i", "it", "with", "this",
            "for", "are", "can't", "i'm", "what", "be", "not", "on", "your", "my", "was", "have");
    private static final Set<String> DE = Set.of("der", "die", "das", "und", "ist", "nicht", "ich", "zu", "sie", "es", "mit",
            "den", "dich", "dir", "kann", "ein", "eine", "über", "auf", "du", "ihnen", "wir", "sich", "auch", "dass");
    private static final Set<String> FR = Set.of("le", "la", "les", "et", "est", "je", "vous", "pas", "ne", "que", "une",
            "un", "des", "pour", "sur", "ce", "d'autre", "du", "au", "avec", "il", "elle", "nous", "mais", "c'est", "n'est");
    private static final Set<String> ES = Set.of("el", "la", "los", "las", "y", "es", "que", "no", "puedo", "un", "una",
            "para", "por", "con", "lo", "se", "te", "del", "eso", "esta", "este", "pero", "como", "mi", "más");

    /** Every function word, and per word the languages (bit 0 en, 1 de, 2 fr, 3 es) whose list has it. */
    private static final char[][] WORDS;
    private static final int[] LANGUAGES;
    /** Open addressing over {@link #WORDS} by {@link #hash} (index + 1; 0 is empty), so a word is looked up without a String. */
    private static final int[] TABLE = new int[512];

    static {
        java.util.Map<String, Integer> languages = new java.util.LinkedHashMap<>();
        List<Set<String>> lists = List.of(EN, DE, FR, ES);
        for (int l = 0; l < lists.size(); l++) {
            for (String w : lists.get(l)) {
                languages.merge(w, 1 << l, (a, b) -> a | b);
            }
        }
        WORDS = languages.keySet().stream().map(String::toCharArray).toArray(char[][]::new);
        LANGUAGES = languages.values().stream().mapToInt(Integer::intValue).toArray();
        for (int w = 0; w < WORDS.length; w++) {
            int slot = hash(WORDS[w], 0, WORDS[w].length) & (TABLE.length - 1);
            while (TABLE[slot] != 0) {
                slot = (slot + 1) & (TABLE.length - 1);
            }
            TABLE[slot] = w + 1;
        }
    }

    private Languages() {}

    private static int hash(char[] s, int start, int end) {
        int h = 0;
        for (int i = start; i < end; i++) {
            h = 31 * h + s[i];
        }
        return h ^ (h >>> 9);
    }

    /** The languages whose lists have the word {@code s[start, end)} (0 for none). */
    private static int languagesOf(char[] s, int start, int end) {
        for (int slot = hash(s, start, end) & (TABLE.length - 1); TABLE[slot] != 0; slot = (slot + 1) & (TABLE.length - 1)) {
            char[] w = WORDS[TABLE[slot] - 1];
            if (java.util.Arrays.equals(s, start, end, w, 0, w.length)) {
                return LANGUAGES[TABLE[slot] - 1];
            }
        }
        return 0;
    }

    static String detect(char[] lowered, int limit) {
        int n = Math.min(limit, SAMPLE);
        int kana = 0;
        int han = 0;
        int latin = 0;
        int[] votes = new int[4]; // en, de, fr, es
        for (int i = 0; i < n; i++) {
            char c = lowered[i];
            if (c >= 0x3040 && c <= 0x30ff) {
                kana++;
            } else if (c >= 0x4e00 && c <= 0x9fff) {
                han++;
            } else if (Character.isLetter(c)) {
                latin++;
                voteForLetter(c, votes);
            }
        }
        if (kana >= 2 && kana * 10 >= han) {
            return "ja";
        }
        if (han > latin) {
            return "zh";
        }
        if (latin == 0) {
            return han > 0 ? "zh" : UNKNOWN;
        }
        voteForWords(lowered, n, votes);
        int best = 0;
        for (int i = 1; i < votes.length; i++) {
            if (votes[i] > votes[best]) {
                best = i;
            }
        }
        return votes[best] == 0 ? UNKNOWN : new String[] {"en", "de", "fr", "es"}[best];
    }

    private static void voteForLetter(char c, int[] votes) {
        switch (c) {
            case 'ß', 'ä', 'ö', 'ü' -> votes[1] += 2;
            case 'ç', 'è', 'ê', 'à', 'â', 'î', 'ô', 'û', 'œ', 'ù', 'ë' -> votes[2] += 2;
            case 'ñ', '¿', '¡', 'á', 'í', 'ó', 'ú' -> votes[3] += 2;
            default -> { }
        }
    }

    private static void voteForWords(char[] s, int n, int[] votes) {
        int i = 0;
        while (i < n) {
            while (i < n && !isWordChar(s[i])) {
                i++;
            }
            int start = i;
            while (i < n && isWordChar(s[i])) {
                i++;
            }
            if (i > start) {
                int in = languagesOf(s, start, i);
                votes[0] += in & 1;
                votes[1] += (in >> 1) & 1;
                votes[2] += (in >> 2) & 1;
                votes[3] += (in >> 3) & 1;
            }
        }
    }

    private static boolean isWordChar(char c) {
        return Character.isLetter(c) || c == '\'';
    }
}
