package io.cleargate.moderation;

import io.cleargate.moderation.Verdict.Action;
import io.cleargate.moderation.Verdict.Direction;
import java.util.Objects;

/**
 * One rule of a profile: a detector with a category, a description users can read, an action per
 * direction (null means the rule is off in that direction) and a score threshold.
 */
record Rule(String id, String category, String description, Detector detector, Action input, Action output,
        double threshold, String placeholder) {

    Rule {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(detector, "detector");
    }

    Action action(Direction direction) {
        return direction == Direction.INPUT ? input : output;
    }

    Rule withAction(Direction direction, Action action) {
        return direction == Direction.INPUT
                ? new Rule(id, category, description, detector, action, output, threshold, placeholder)
                : new Rule(id, category, description, detector, input, action, threshold, placeholder);
    }
}
