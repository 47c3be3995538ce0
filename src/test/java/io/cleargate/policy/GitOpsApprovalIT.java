package io.cleargate.policy;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import io.cleargate.identity.Roles;
import io.cleargate.testsupport.OpaServer;
import io.cleargate.testsupport.Scratch;
import io.cleargate.testsupport.TestCredentials;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.restassured.http.ContentType;
import io.restassured.path.json.JsonPath;
import jakarta.inject.Inject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The GitOps flow of k8s/README.md, end to end without a cluster: the gateway takes its policy tree
 * from a signed bundle built by {@code bin/lib/k8s.sh bundle} (as in Kubernetes), a tenant's policy
 * administrator's change is checked and approved through the API without touching OPA or the tree,
 * and the approved files, committed to a copy of the repository's policies and packed again by the
 * same script, give a bundle whose revision is the one the approval recorded.
 */
@QuarkusTest
@TestProfile(GitOpsApprovalIT.GitOpsProfile.class)
class GitOpsApprovalIT {

    private static final String TENANT_FILE = "cleargate/tenants/acme-eu/data.json";
    private static final Pattern REVISION = Pattern.compile("policy bundle revision ([0-9a-f]{16})");

    /** Policy administration in GitOps mode over the tree of a bundle built from policies/. */
    public static class GitOpsProfile extends PolicyAdminProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            try {
                Path work = Scratch.dir("cleargate-gitops-");
                Path bundle = work.resolve("bundle/bundle.tar.gz");
                pack(OpaServer.repoRoot().resolve("policies"), bundle);
                Path tree = work.resolve("policies");
                Map<String, String> config = new HashMap<>();
                config.put("cleargate.policy.admin.mode", "gitops");
                config.put("cleargate.policy.bundle", bundle.toString());
                config.put("cleargate.policy.bundle-verification-key", bundle.resolveSibling("verification-key.pem").toString());
                config.put("cleargate.policy.admin.directory", tree.toString());
                config.put("cleargate.moderation.profiles-path", tree.resolve("cleargate/moderation/profiles/data.json").toString());
                return config;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    @Inject
    RecordedAdminEvents events;

    /** Runs bin/lib/k8s.sh bundle over {@code policies} into {@code out}; returns the revision it printed. */
    static String pack(Path policies, Path out) {
        try {
            Files.createDirectories(out.getParent());
            ProcessBuilder builder = new ProcessBuilder("bash", "bin/lib/k8s.sh", "bundle")
                    .directory(OpaServer.repoRoot().toFile()).redirectErrorStream(true);
            builder.environment().put("CLEARGATE_POLICIES_DIR", policies.toString());
            builder.environment().put("CLEARGATE_BUNDLE_OUT", out.toString());
            Process p = builder.start();
            String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(300, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IllegalStateException("bin/lib/k8s.sh bundle failed:\n" + output);
            }
            Matcher m = REVISION.matcher(output);
            if (!m.find()) {
                throw new IllegalStateException("no revision in:\n" + output);
            }
            return m.group(1);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    @Test
    void anApprovedChangeBecomesTheNextBundleWithTheRevisionItWasApprovedAs() throws Exception {
        String admin = TestCredentials.bearer(Roles.POLICY_ADMIN, "acme-eu", "acme-admin");
        JsonPath files = given().header("Authorization", admin).get("/admin/policies").then().statusCode(200)
                .extract().jsonPath();
        String before = given().header("Authorization", admin).get("/admin/policies/files/" + TENANT_FILE).then()
                .statusCode(200).extract().path("content");
        String edited = before.replace("\"max_tokens\": 2048", "\"max_tokens\": 1024");
        assertNotEquals(before, edited);

        JsonPath approval = given().header("Authorization", admin).contentType(ContentType.JSON)
                .body(Map.of("files", Map.of(TENANT_FILE, edited), "message", "acme-eu: shorter answers"))
                .post("/admin/policies/activate").then().statusCode(200)
                .body("delivery", equalTo("bundle"))
                .extract().jsonPath();
        long id = approval.getLong("history_id");
        String approvedRevision = approval.getString("revision");

        // Approved, not applied: the tree in force (the bundle's) is unchanged, and so is OPA.
        given().header("Authorization", admin).get("/admin/policies/files/" + TENANT_FILE).then().statusCode(200)
                .body("content", equalTo(before));
        given().header("Authorization", admin).get("/admin/policies/history").then().statusCode(200)
                .body("[0].action", equalTo("approve-activate"));
        var event = events.last();
        assertEquals("policy.approve", event.action());
        assertEquals("acme-eu", event.tenant());
        assertEquals(approvedRevision, event.details().get("revision"));

        // What GitOps delivery commits: the approved files, against the revision they were approved on.
        JsonPath change = given().header("Authorization", admin).get("/admin/policies/history/" + id + "/changes")
                .then().statusCode(200).extract().jsonPath();
        assertEquals(approvedRevision, change.getString("revision"));
        Map<String, String> approvedFiles = change.getMap("files");
        assertEquals(List.of(TENANT_FILE), List.copyOf(approvedFiles.keySet()));

        // The repository at the previous revision, with the approved files committed, packed by the
        // same script CI runs: the bundle's revision is the approved one.
        Path repo = Scratch.dir("cleargate-gitops-repo-").resolve("policies");
        copyTree(OpaServer.repoRoot().resolve("policies"), repo);
        Path out = repo.getParent().resolve("out/bundle.tar.gz");
        assertEquals(change.getString("previous_revision"), pack(repo, out),
                "the repository is not at the revision the change was approved against");
        approvedFiles.forEach((path, content) -> {
            try {
                Files.writeString(repo.resolve(path), content);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        assertEquals(approvedRevision, pack(repo, out), "the committed change is not exactly what was approved");
        assertEquals(change.getString("previous_revision"), files.getString("revision"),
                "the gateway's tree is not the bundle's");

        // Another tenant's administrator sees none of it.
        given().header("Authorization", TestCredentials.bearer(Roles.POLICY_ADMIN, "globex-us", "globex-admin"))
                .get("/admin/policies/history/" + id + "/changes").then().statusCode(404);
    }

    private static void copyTree(Path from, Path to) throws IOException {
        try (var walk = Files.walk(from)) {
            for (Path p : walk.toList()) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(p, target);
                }
            }
        }
    }
}
