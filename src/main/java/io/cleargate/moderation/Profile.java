package io.cleargate.moderation;

import java.util.List;

/** A named, validated set of rules, as loaded from policies/cleargate/moderation/profiles. */
record Profile(String name, String description, List<Rule> rules) {

    Profile {
        rules = List.copyOf(rules);
    }
}
