package io.cleargate.moderation;

import io.cleargate.moderation.Verdict.Action;

/** A match that passed its rule's threshold, with the action the rule takes in this direction. */
record Finding(Rule rule, Action action, Match match) {

    int start() {
        return match.start();
    }

    int end() {
        return match.end();
    }

    Finding shifted(int delta) {
        Match m = match;
        return new Finding(rule, action, new Match(m.start() + delta, m.end() + delta, m.score(), m.view(), m.pattern(),
                m.value()));
    }
}
