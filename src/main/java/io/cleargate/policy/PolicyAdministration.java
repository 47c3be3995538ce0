package io.cleargate.policy;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import io.cleargate.identity.AdminEvents;
import io.cleargate.identity.Principal;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Instance;
import jakarta.inject.Inject;
import jakarta.persistence.EntityManager;
import io.quarkus.narayana.jta.QuarkusTransaction;
import java.nio.file.Path;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.locks.ReentrantLock;
import org.jboss.logging.Logger;

/**
 * Policy administration: validate, test and what-if a draft on a temporary copy, activate it (OPA
 * first, then the policies/ directory, with a history row committed only when OPA accepted it),
 * list the history and roll back. Changes are serialised; every change is an admin event.
 */
@ApplicationScoped
public class PolicyAdministration {

    private static final Logger LOG = Logger.getLogger(PolicyAdministration.class);

    /**
     * A proposed edit: new contents by path (under cleargate/), paths to delete, and why.
     */
    public record Draft(Map<String, String> files, List<String> deleted, String message) {
        public Draft {
            files = files == null ? Map.of() : new LinkedHashMap<>(files);
            deleted = deleted == null ? List.of() : List.copyOf(deleted);
        }

        Map<String, String> changes() {
            Map<String, String> changes = new LinkedHashMap<>(files);
            deleted.forEach(path -> changes.put(path, null));
            return changes;
        }
    }

    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record Validation(boolean valid, List<OpaCli.CompileError> errors) {}

    /** One replayed request whose decision the draft would change. */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record ChangedDecision(int index, Object tenant, Object endpoint, Object model, Map<String, Object> before,
            Map<String, Object> after, List<String> changedMembers) {}

    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record WhatIf(int evaluated, int changed, List<ChangedDecision> decisions, Map<String, Object> effects) {}

    /**
     * A recorded change. {@code delivery} is {@code live} when OPA and the directory already run it,
     * {@code bundle} in GitOps mode: approved, live once shipped as the bundle of that revision.
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record Activation(long historyId, String revision, String previousRevision, List<String> files,
            String delivery) {}

    /** The files a recorded change wrote, for GitOps delivery. */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record ApprovedChange(long historyId, String action, String revision, String previousRevision,
            Map<String, String> files) {}

    /** A draft that names a file outside the administrator's scope: refused (403) before anything runs. */
    public static final class OutOfScope extends RuntimeException {
        OutOfScope(String message) {
            super(message);
        }
    }

    /** A draft that failed validation or its tests: nothing was changed. */
    public static final class DraftRejected extends RuntimeException {
        private final transient Validation validation;
        private final transient OpaCli.TestReport tests;

        DraftRejected(String message, Validation validation, OpaCli.TestReport tests) {
            super(message);
            this.validation = validation;
            this.tests = tests;
        }

        public Validation validation() {
            return validation;
        }

        public OpaCli.TestReport tests() {
            return tests;
        }
    }

    /** Recorded inputs per tenant whose decisions an activation checks, besides the probes. */
    private static final int RECENT_PER_TENANT_ON_ACTIVATION = 20;

    private static final List<String> COMPARED = List.of("allow", "reasons", "regions", "limits", "moderation", "audit",
            "jurisdiction");

    private final PolicyTree tree;
    private final OpaCli cli;
    private final OpaAdminClient opa;
    private final PolicyDecisions decisions;
    private final DecisionInputs inputs;
    private final AdminEvents events;
    private final EntityManager em;
    private final ObjectMapper json;
    private final int defaultWhatIf;
    /** GitOps mode: a change is approved here and delivered as a signed bundle (see PolicyConfig.Admin#mode). */
    private final boolean gitops;
    private final ReentrantLock changeLock = new ReentrantLock();
    private final List<DraftReview> reviews;
    /** Tenants by tree revision, a few trees back (see {@link #tenants}). */
    private final Map<String, Object> tenantsByRevision = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Object> eldest) {
            return size() > 8;
        }
    };

    @Inject
    public PolicyAdministration(PolicyConfig config, PolicyDecisions decisions, DecisionInputs inputs,
            AdminEvents events, EntityManager em, ObjectMapper json, Instance<DraftReview> reviews) {
        this.reviews = reviews.stream().toList();
        this.tree = new PolicyTree(Path.of(config.admin().directory()));
        this.cli = new OpaCli(Path.of(config.admin().opaBinary()), config.admin().commandTimeout(), json);
        this.opa = new OpaAdminClient(config.url(),
                PolicyBeans.secret(config.admin().opaToken(), config.admin().opaTokenFile(), "cleargate.policy.admin.opa-token"),
                json);
        this.decisions = decisions;
        this.inputs = inputs;
        this.events = events;
        this.em = em;
        this.json = json;
        this.defaultWhatIf = config.admin().whatIfDefaultRequests();
        this.gitops = switch (config.admin().mode().toLowerCase(java.util.Locale.ROOT)) {
            case "opa" -> false;
            case "gitops" -> true;
            default -> throw new IllegalArgumentException("cleargate.policy.admin.mode must be opa or gitops, was '"
                    + config.admin().mode() + "'");
        };
    }

    public Map<String, String> files() {
        return tree.snapshot();
    }

    public String revision() {
        return PolicyTree.revision(tree.snapshot());
    }

    public Validation validate(PolicyScope scope, Draft draft) {
        requireInScope(scope, draft);
        List<OpaCli.CompileError> pathErrors = pathErrors(draft);
        if (!pathErrors.isEmpty()) {
            return new Validation(false, pathErrors);
        }
        Map<String, String> draftTree = PolicyTree.apply(tree.snapshot(), draft.changes());
        List<OpaCli.CompileError> errors = cli.check(draftTree);
        if (errors.isEmpty()) {
            errors = evaluate(draftTree, List.of()).problems();
        }
        return new Validation(errors.isEmpty(), errors);
    }

    public OpaCli.TestReport test(PolicyScope scope, Draft draft) {
        requireEditable(scope, draft);
        Map<String, String> draftTree = PolicyTree.apply(tree.snapshot(), draft.changes());
        if (!cli.check(draftTree).isEmpty()) {
            return cli.test(draftTree); // reports the compile errors
        }
        return testAll(draftTree, evaluate(draftTree, List.of()).byTenant());
    }

    /**
     * Replays recent audited decision inputs of {@code tenant} against the active tree and the
     * draft. The caller has already confined {@code tenant} to the administrator's own.
     */
    public WhatIf whatIf(PolicyScope scope, Draft draft, String tenant, Integer n) {
        requireEditable(scope, draft);
        if (tenant == null || (!scope.isPlatform() && !scope.tenant().equals(tenant))) {
            throw new OutOfScope("A what-if replays the requests of the administrator's own tenant only.");
        }
        int count = n == null || n <= 0 ? defaultWhatIf : Math.min(n, 10_000);
        List<Map<String, Object>> recent = inputs.recentPolicyInputs(tenant, count);
        Map<String, String> current = tree.snapshot();
        Map<String, String> draftTree = PolicyTree.apply(current, draft.changes());
        Evaluated evaluated = requireWellFormed(draftTree, recent);
        Map<String, Object> effects = effects(tenant, current, draftTree, evaluated);
        if (recent.isEmpty()) {
            return new WhatIf(0, 0, List.of(), effects);
        }
        List<Map<String, Object>> after = evaluated.recorded();
        List<Map<String, Object>> before = cli.decide(current, recent);
        List<ChangedDecision> changed = new ArrayList<>();
        for (int i = 0; i < recent.size(); i++) {
            List<String> members = differing(before.get(i), after.get(i));
            if (!members.isEmpty()) {
                Map<String, Object> in = recent.get(i);
                Map<?, ?> request = in.get("request") instanceof Map<?, ?> r ? r : Map.of();
                changed.add(new ChangedDecision(i, in.get("tenant"), request.get("endpoint"), request.get("model"),
                        summary(before.get(i)), summary(after.get(i)), members));
            }
        }
        return new WhatIf(recent.size(), changed.size(), changed, effects);
    }

    /**
     * Checks the draft (compile, every decision it makes, tests, format) and then, in one short
     * transaction, records and applies it. The checks run outside any transaction: they hold the
     * change lock, not a database connection.
     */
    public Activation activate(Principal admin, PolicyScope scope, Draft draft) {
        requireEditable(scope, draft);
        changeLock.lock();
        try {
            long started = System.nanoTime();
            Map<String, String> before = tree.snapshot();
            Map<String, String> after = PolicyTree.apply(before, draft.changes());
            Map<String, String> changes = PolicyTree.changes(before, after);
            if (changes.isEmpty()) {
                throw new DraftRejected("The draft changes nothing.", new Validation(true, List.of()), null);
            }
            Validation validation = new Validation(true, cli.check(after));
            if (!validation.errors().isEmpty()) {
                throw new DraftRejected("The draft does not compile.", new Validation(false, validation.errors()), null);
            }
            Evaluated evaluated = requireWellFormed(after, recentOfEveryTenant(before, after));
            OpaCli.TestReport tests = testAll(after, evaluated.byTenant());
            if (!tests.passed()) {
                throw new DraftRejected("The policy tests fail on the draft.", validation, tests);
            }
            Map<String, String> formatted = cli.format(after);
            if (PolicyTree.changes(before, formatted).isEmpty()) {
                throw new DraftRejected("The draft changes nothing once formatted.", validation, tests);
            }
            long checked = System.nanoTime() - started;
            return QuarkusTransaction.requiringNew().call(() -> apply(admin, "activate", draft.message(), before,
                    formatted, PolicyTree.changes(before, formatted), checked));
        } finally {
            changeLock.unlock();
        }
    }

    /** Restores the tree as it was before history entry {@code id} (undoing it and everything after). */
    public Activation rollback(Principal admin, PolicyScope scope, long id) {
        PolicyChange target = change(scope, id);
        if (target == null) {
            throw new IllegalArgumentException("no policy change #" + id);
        }
        changeLock.lock();
        try {
            long started = System.nanoTime();
            Map<String, String> before = tree.snapshot();
            // A tenant's administrator restores only its own files, never what others changed since.
            Map<String, String> restored = PolicyTree.apply(before,
                    scope.restrict(PolicyTree.changes(before, readSnapshot(target.snapshotBefore))));
            Map<String, String> changes = PolicyTree.changes(before, restored);
            if (changes.isEmpty()) {
                throw new DraftRejected("The policies already are as they were before change #" + id + ".",
                        new Validation(true, List.of()), null);
            }
            List<OpaCli.CompileError> errors = cli.check(restored);
            if (!errors.isEmpty()) {
                throw new DraftRejected("The restored policies do not compile.", new Validation(false, errors), null);
            }
            requireWellFormed(restored, recentOfEveryTenant(before, restored));
            long checked = System.nanoTime() - started;
            return QuarkusTransaction.requiringNew().call(() -> apply(admin, "rollback", "rollback of change #" + id,
                    before, restored, changes, checked));
        } finally {
            changeLock.unlock();
        }
    }

    /** The files change {@code id} wrote, when this administrator may see it; null otherwise. */
    public ApprovedChange approved(PolicyScope scope, long id) {
        PolicyChange c = change(scope, id);
        if (c == null) {
            return null;
        }
        if (c.changes == null) {
            throw new IllegalArgumentException("policy change #" + id + " was recorded before its files were kept");
        }
        Map<String, String> files = readSnapshot(c.changes);
        return new ApprovedChange(c.id, c.action, c.revision, c.previousRevision, files);
    }

    /** The latest changes this administrator may see (a tenant's: those that touched only its files). */
    public List<PolicyChange> history(PolicyScope scope, int limit) {
        int max = Math.max(1, Math.min(limit, 1000));
        List<PolicyChange> rows = em.createQuery("select c from PolicyChange c order by c.id desc", PolicyChange.class)
                .setMaxResults(scope.isPlatform() ? max : 10 * max)
                .getResultList();
        return rows.stream().filter(c -> scope.maySee(files(c))).limit(max).toList();
    }

    /** A change this administrator may see, or null. */
    public PolicyChange change(PolicyScope scope, long id) {
        PolicyChange c = em.find(PolicyChange.class, id);
        return c != null && scope.maySee(files(c)) ? c : null;
    }

    private static List<String> files(PolicyChange c) {
        return c.files == null || c.files.isEmpty() ? List.of() : List.of(c.files.split(","));
    }

    private Activation apply(Principal admin, String action, String message, Map<String, String> before,
            Map<String, String> after, Map<String, String> changes, long checkedNanos) {
        long started = System.nanoTime();
        String previous = PolicyTree.revision(before);
        String revision = PolicyTree.revision(after);
        PolicyChange row = new PolicyChange();
        row.changedAt = OffsetDateTime.now(ZoneOffset.UTC);
        row.author = admin.subject();
        row.authorTenant = admin.tenant();
        row.action = action;
        row.message = message == null ? null : truncate(message, 1000);
        row.revision = revision;
        row.previousRevision = previous;
        row.files = truncate(String.join(",", changes.keySet()), 4000);
        row.diff = LineDiff.of(restrict(before, changes), restrict(after, changes));
        row.snapshotBefore = writeSnapshot(before);
        row.changes = toJson(new java.util.TreeMap<>(changes));
        if (gitops) {
            // Approved, not applied: the bundle owns OPA's policy, and this tree is the bundle's.
            row.action = "approve-" + action;
        }
        em.persist(row);
        em.flush(); // the row commits with the method, so only when OPA and the files took the change

        if (!gitops) {
            push(changes, before, revision);
            tree.writeChanges(changes);
            decisions.policyChanged();
            reviews.forEach(r -> r.activated(after));
        }

        List<String> files = List.copyOf(changes.keySet());
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("history_id", row.id);
        details.put("revision", revision);
        details.put("previous_revision", previous);
        details.put("files", files);
        if (message != null) {
            details.put("message", row.message);
        }
        if (gitops) {
            details.put("action", action);
            details.put("delivery", "bundle");
        }
        events.record(admin.tenant(), admin.subject(), gitops ? "policy.approve" : "policy." + action, details);
        LOG.infof("policy %s by %s: revision %s -> %s, files %s (checked in %d ms, applied in %d ms)", action,
                admin.subject(), previous, revision, files, checkedNanos / 1_000_000,
                (System.nanoTime() - started) / 1_000_000);
        return new Activation(row.id, revision, previous, files, gitops ? "bundle" : "live");
    }

    /**
     * Sends the changes to OPA. Modules are retried in rounds because OPA compiles each PUT against
     * the others; on failure everything already sent is put back as it was.
     */
    private void push(Map<String, String> changes, Map<String, String> before, String revision) {
        List<String> ids = opa.moduleIds();
        List<String> done = new ArrayList<>();
        try {
            List<String> pending = new ArrayList<>();
            for (String path : changes.keySet()) {
                if (path.endsWith(".rego") && !path.endsWith("_test.rego")) {
                    pending.add(path);
                }
            }
            RuntimeException last = null;
            while (!pending.isEmpty()) {
                List<String> next = new ArrayList<>();
                for (String path : pending) {
                    try {
                        pushModule(ids, path, changes.get(path));
                        done.add(path);
                    } catch (OpaAdminClient.Rejected e) {
                        last = e;
                        next.add(path);
                    }
                }
                if (next.size() == pending.size()) {
                    throw last;
                }
                pending = next;
            }
            for (String path : changes.keySet()) {
                if (path.endsWith("/data.json")) {
                    pushData(path, changes.get(path));
                    done.add(path);
                }
            }
            opa.putData("cleargate/meta", toJson(Map.of("revision", revision)));
        } catch (RuntimeException e) {
            restore(done, ids, before);
            throw e;
        }
    }

    private void restore(List<String> done, List<String> ids, Map<String, String> before) {
        for (String path : done.reversed()) {
            try {
                if (path.endsWith(".rego")) {
                    pushModule(ids, path, before.get(path));
                } else {
                    pushData(path, before.get(path));
                }
            } catch (RuntimeException e) {
                LOG.errorf("could not restore %s in OPA after a failed activation: %s", path, e.getMessage());
            }
        }
    }

    private void pushModule(List<String> ids, String path, String content) {
        String id = ids.stream().filter(i -> i.equals(path) || i.endsWith("/" + path)).findFirst()
                .orElseGet(() -> stripLeadingSlash(tree.root().resolve(path).toString()));
        if (content == null) {
            opa.deleteModule(id);
        } else {
            opa.putModule(id, content);
        }
    }

    private void pushData(String path, String content) {
        String dataPath = path.substring(0, path.length() - "/data.json".length());
        if (content == null) {
            opa.deleteData(dataPath);
        } else {
            opa.putData(dataPath, content);
        }
    }

    /**
     * What a tree decides: for {@code recorded} (in order), the allowing decision of each tenant's
     * chat probe, and every problem found by running all of them through the gateway's own
     * {@link DecisionParser} and by each feature's {@link DraftReview}.
     */
    private record Evaluated(List<Map<String, Object>> recorded, Map<String, PolicyDecision> byTenant,
            List<DecisionCheck.Malformed> malformed, List<OpaCli.CompileError> problems) {}

    private Evaluated evaluate(Map<String, String> draftTree, List<Map<String, Object>> recorded) {
        List<Map<String, Object>> probes = DecisionCheck.probes(tenants(draftTree), Instant.now());
        List<Map<String, Object>> all = new ArrayList<>(recorded);
        all.addAll(probes);
        List<String> sources = new ArrayList<>(all.size());
        recorded.forEach(i -> sources.add("recorded"));
        probes.forEach(i -> sources.add("probe"));
        List<Map<String, Object>> decided = cli.decide(draftTree, all);
        List<DecisionCheck.Malformed> malformed = DecisionCheck.malformed(all, decided, sources);
        List<OpaCli.CompileError> problems = new ArrayList<>(malformed.stream().limit(50)
                .map(m -> new OpaCli.CompileError(null, 0, 0, "malformed_decision", "tenant " + m.tenant() + " "
                        + m.endpoint() + (m.model() == null ? "" : " model " + m.model()) + " (" + m.source()
                        + " input): " + m.problem()))
                .toList());
        Map<String, PolicyDecision> byTenant = DecisionCheck.allowedByTenant(probes,
                decided.subList(recorded.size(), decided.size()));
        reviews.forEach(r -> problems.addAll(r.problems(draftTree, byTenant)));
        return new Evaluated(decided.subList(0, recorded.size()), byTenant, malformed, problems);
    }

    /**
     * {@code data.cleargate.tenants} of a tree, remembered by the tree's revision: an activation
     * asks for the tenants of the tree in force and of the draft, and the draft of one activation
     * is the tree in force of the next, so most of these lookups need no opa run.
     */
    private Object tenants(Map<String, String> tree) {
        String revision = PolicyTree.revision(tree);
        synchronized (tenantsByRevision) {
            if (tenantsByRevision.containsKey(revision)) {
                return tenantsByRevision.get(revision);
            }
        }
        Object tenants = cli.data(tree, "data.cleargate.tenants");
        synchronized (tenantsByRevision) {
            tenantsByRevision.put(revision, tenants);
        }
        return tenants;
    }

    /** {@link #evaluate}, throwing {@link DraftRejected} that names every problem. */
    private Evaluated requireWellFormed(Map<String, String> draftTree, List<Map<String, Object>> recorded) {
        Evaluated e = evaluate(draftTree, recorded);
        if (!e.problems().isEmpty()) {
            String message = e.malformed().isEmpty()
                    ? "The draft is invalid: " + e.problems().getFirst().message()
                            + (e.problems().size() > 1 ? " (and " + (e.problems().size() - 1) + " more)" : "")
                    : DecisionCheck.describe(e.malformed());
            throw new DraftRejected(message, new Validation(false, e.problems()), null);
        }
        return e;
    }

    /** The Rego tests and every feature's fixtures. */
    private OpaCli.TestReport testAll(Map<String, String> draftTree, Map<String, PolicyDecision> byTenant) {
        OpaCli.TestReport rego = cli.test(draftTree);
        int total = rego.total();
        List<OpaCli.TestFailure> failures = new ArrayList<>(rego.failures());
        for (DraftReview review : reviews) {
            DraftReview.Fixtures fixtures = review.test(draftTree, byTenant);
            total += fixtures.total();
            failures.addAll(fixtures.failures());
        }
        return new OpaCli.TestReport(rego.passed() && failures.size() == rego.failures().size(), total, failures,
                rego.diagnostics());
    }

    /** Each feature's what-if for the tenant (empty without a tenant or when the tenant is unknown to both trees). */
    private Map<String, Object> effects(String tenant, Map<String, String> current, Map<String, String> draftTree,
            Evaluated draft) {
        Map<String, Object> effects = new LinkedHashMap<>();
        if (tenant == null || reviews.isEmpty()) {
            return effects;
        }
        PolicyDecision before = evaluate(current, List.of()).byTenant().get(tenant);
        PolicyDecision after = draft.byTenant().get(tenant);
        reviews.forEach(r -> effects.putAll(r.whatIf(current, before, draftTree, after)));
        return effects;
    }

    /** Recent recorded inputs of every tenant either tree knows, a few each, for the activation check. */
    private List<Map<String, Object>> recentOfEveryTenant(Map<String, String> before, Map<String, String> after) {
        java.util.Set<String> tenants = new java.util.TreeSet<>();
        for (Map<String, String> t : List.of(before, after)) {
            if (tenants(t) instanceof Map<?, ?> byId) {
                byId.keySet().forEach(id -> tenants.add(String.valueOf(id)));
            }
        }
        List<Map<String, Object>> recent = new ArrayList<>();
        for (String tenant : tenants) {
            recent.addAll(inputs.recentPolicyInputs(tenant, RECENT_PER_TENANT_ON_ACTIVATION));
        }
        return recent;
    }

    private void requireEditable(PolicyScope scope, Draft draft) {
        requireInScope(scope, draft);
        List<OpaCli.CompileError> errors = pathErrors(draft);
        if (!errors.isEmpty()) {
            throw new DraftRejected("The draft touches files it may not.", new Validation(false, errors), null);
        }
    }

    /**
     * Every file of the draft must be the administrator's to edit, and a tenant's administrator
     * changes neither the tenant list nor a tenant's jurisdiction or suspension (residency and
     * suspension would mean nothing if the tenant could undo them); otherwise nothing runs.
     */
    private void requireInScope(PolicyScope scope, Draft draft) {
        for (String path : draft.changes().keySet()) {
            if (PolicyTree.isEditablePath(path) && !scope.mayEdit(path)) {
                throw new OutOfScope("'" + path + "' is outside your policy scope: "
                        + (scope.isPlatform() ? "" : "a tenant's policy administrator edits only cleargate/tenants/"
                        + scope.tenant() + "/."));
            }
        }
        if (!scope.isPlatform()) {
            Map<String, String> before = tree.snapshot();
            String refusal = PolicyTenants.platformChange(json, before, PolicyTree.apply(before, draft.changes()));
            if (refusal != null) {
                throw new OutOfScope(refusal + ".");
            }
        }
    }

    private List<OpaCli.CompileError> pathErrors(Draft draft) {
        List<OpaCli.CompileError> errors = new ArrayList<>();
        if (draft.changes().isEmpty()) {
            errors.add(new OpaCli.CompileError(null, 0, 0, "empty_draft", "The draft names no files."));
        }
        draft.changes().forEach((path, content) -> {
            try {
                PolicyTree.checkEditable(path, content);
                if (content != null && path.endsWith(".json")) {
                    json.readTree(content);
                }
                if (content != null && path.endsWith(".rego")) {
                    OpaCli.ModuleFacts facts = cli.inspect(path, content);
                    String refusal = facts == null ? null : PolicyScope.refusal(path, facts);
                    if (refusal != null) {
                        errors.add(new OpaCli.CompileError(path, 0, 0, "invalid_module", refusal));
                    }
                }
            } catch (IllegalArgumentException e) {
                errors.add(new OpaCli.CompileError(path, 0, 0, "invalid_path", e.getMessage()));
            } catch (JsonProcessingException e) {
                int line = e.getLocation() == null ? 0 : e.getLocation().getLineNr();
                int col = e.getLocation() == null ? 0 : e.getLocation().getColumnNr();
                errors.add(new OpaCli.CompileError(path, line, col, "invalid_json", e.getOriginalMessage()));
            }
        });
        return errors;
    }

    private static List<String> differing(Map<String, Object> before, Map<String, Object> after) {
        if (before == null || after == null) {
            return Objects.equals(before, after) ? List.of() : List.of("defined");
        }
        List<String> members = new ArrayList<>();
        for (String m : COMPARED) {
            if (!Objects.equals(before.get(m), after.get(m))) {
                members.add(m);
            }
        }
        return members;
    }

    private static Map<String, Object> summary(Map<String, Object> decision) {
        Map<String, Object> s = new LinkedHashMap<>();
        if (decision == null) {
            s.put("defined", false);
            return s;
        }
        s.put("allow", decision.get("allow"));
        s.put("reasons", decision.get("reasons"));
        s.put("limits", decision.get("limits"));
        s.put("regions", decision.get("regions"));
        return s;
    }

    private static Map<String, String> restrict(Map<String, String> tree, Map<String, String> changes) {
        Map<String, String> out = new LinkedHashMap<>();
        changes.keySet().forEach(p -> {
            if (tree.get(p) != null) {
                out.put(p, tree.get(p));
            }
        });
        return out;
    }

    private String writeSnapshot(Map<String, String> snapshot) {
        return toJson(snapshot);
    }

    private Map<String, String> readSnapshot(String text) {
        try {
            return json.readValue(text, new TypeReference<Map<String, String>>() {});
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("stored policy snapshot is unreadable", e);
        }
    }

    private String toJson(Object value) {
        try {
            return json.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String truncate(String s, int max) {
        return s.length() <= max ? s : s.substring(0, max);
    }

    private static String stripLeadingSlash(String s) {
        return s.startsWith("/") ? s.substring(1) : s;
    }
}
