package io.cleargate.policy;

import java.util.List;
import java.util.Map;

/**
 * A feature whose settings travel in the policy tree (the moderation profiles) reviews every draft
 * with its own rules, so one administration flow covers it: its problems fail validation and
 * activation, its fixtures run with the policy tests, the what-if reports its effect, and an
 * activation makes it load the new tree at once. Implementations live in their feature's package;
 * policy administration knows only this interface, so the dependency points one way.
 *
 * <p>Every method receives the decision each tenant's probe got from the tree under review
 * ({@code decisions}, by tenant id; only allowing decisions), which is how a feature learns what
 * the tenants select without reading the tenant data's layout itself.
 */
public interface DraftReview {

    /** Results of a feature's own test fixtures. */
    record Fixtures(int total, List<OpaCli.TestFailure> failures) {}

    /** Problems of the tree, each located in its file where possible. */
    List<OpaCli.CompileError> problems(Map<String, String> tree, Map<String, PolicyDecision> decisions);

    /** Runs the feature's fixtures kept in the tree. */
    Fixtures test(Map<String, String> tree, Map<String, PolicyDecision> decisions);

    /** What changes for one tenant between the active tree and the draft; empty when nothing does. */
    Map<String, Object> whatIf(Map<String, String> before, PolicyDecision beforeDecision, Map<String, String> after,
            PolicyDecision afterDecision);

    /** The tree that is now active (already written to the policies directory). */
    void activated(Map<String, String> tree);
}
