package io.cleargate.refusal.detector;

/**
 * One phrase of the lexicon and what it means when found.
 *
 * @param language the language the phrase belongs to
 * @param role     what the phrase signals
 * @param weight   how strongly it signals it, in [0, 1]
 */
record Cue(String language, Role role, double weight) {

    enum Role {
        /** The model declines: "I can't help with", "无法回答". */
        REFUSE,
        /** The model switches the topic or says it is out of scope: "let's talk about something else". */
        DEFLECT,
        /** A known canned deflection, decisive on its own. */
        CANNED,
        /** An offer that typically closes a refusal: "if you have other questions". */
        OFFER,
        /** An apology or regret: "I'm sorry", "leider". */
        APOLOGY,
        /** A reference to rules: "against my guidelines". */
        POLICY,
        /** A turn towards an answer after declining: "but", "however", "不过". */
        PIVOT,
        /** An idiom that looks like a refusal but is not: "can't help but", "can't stress enough". */
        IDIOM
    }

    /** The id reported as evidence, for example "en.refuse". */
    String id() {
        return language + "." + role.name().toLowerCase(java.util.Locale.ROOT);
    }
}
