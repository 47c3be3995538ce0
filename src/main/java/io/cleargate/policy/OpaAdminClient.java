package io.cleargate.policy;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * OPA's policy and data write API, used only by policy administration with its own token (the
 * gateway's query token may not write; see policies/system/authz).
 */
public final class OpaAdminClient {

    /** OPA refused a module; carries OPA's located compile errors. */
    public static final class Rejected extends RuntimeException {
        private final transient List<OpaCli.CompileError> errors;

        Rejected(String message, List<OpaCli.CompileError> errors) {
            super(message);
            this.errors = List.copyOf(errors);
        }

        public List<OpaCli.CompileError> errors() {
            return errors;
        }
    }

    private final HttpClient http;
    private final String base;
    private final String token;
    private final ObjectMapper json;

    public OpaAdminClient(String baseUrl, String token, ObjectMapper json) {
        this.base = baseUrl.endsWith("/") ? baseUrl.substring(0, baseUrl.length() - 1) : baseUrl;
        this.token = token;
        this.json = json;
        this.http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    }

    /** Ids of the loaded modules (OPA names modules loaded from disk by their file path). */
    @SuppressWarnings("unchecked")
    public List<String> moduleIds() {
        HttpResponse<String> r = send("GET", "/v1/policies", null, null);
        expect(r, 200, "list policies");
        try {
            Map<String, Object> body = json.readValue(r.body(), Map.class);
            List<String> ids = new ArrayList<>();
            for (Object p : (List<Object>) body.get("result")) {
                ids.add(String.valueOf(((Map<String, Object>) p).get("id")));
            }
            return ids;
        } catch (IOException | RuntimeException e) {
            throw new IllegalStateException("OPA listed policies in an unexpected shape", e);
        }
    }

    public void putModule(String id, String rego) {
        HttpResponse<String> r = send("PUT", "/v1/policies/" + id, "text/plain", rego);
        if (r.statusCode() == 400) {
            throw new Rejected("OPA rejected module " + id, errors(r.body()));
        }
        expect(r, 200, "put policy " + id);
    }

    public void deleteModule(String id) {
        HttpResponse<String> r = send("DELETE", "/v1/policies/" + id, null, null);
        if (r.statusCode() != 404) {
            expect(r, 200, "delete policy " + id);
        }
    }

    /** Replaces the data document at {@code path} (slash-separated, under data.). */
    public void putData(String path, String jsonDocument) {
        HttpResponse<String> r = send("PUT", "/v1/data/" + path, "application/json", jsonDocument);
        expect(r, 204, "put data " + path);
    }

    public void deleteData(String path) {
        HttpResponse<String> r = send("DELETE", "/v1/data/" + path, null, null);
        if (r.statusCode() != 404) {
            expect(r, 204, "delete data " + path);
        }
    }

    private HttpResponse<String> send(String method, String path, String contentType, String body) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(10))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body));
        if (contentType != null) {
            b.header("Content-Type", contentType);
        }
        if (token != null && !token.isBlank()) {
            b.header("Authorization", "Bearer " + token);
        }
        try {
            return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new IllegalStateException("OPA is unreachable at " + base + " (" + e.getClass().getSimpleName() + ")", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while calling OPA", e);
        }
    }

    private static void expect(HttpResponse<String> r, int status, String what) {
        if (r.statusCode() != status) {
            throw new IllegalStateException("OPA refused to " + what + ": status " + r.statusCode());
        }
    }

    private List<OpaCli.CompileError> errors(String body) {
        List<OpaCli.CompileError> out = new ArrayList<>();
        try {
            Map<?, ?> parsed = json.readValue(body, Map.class);
            for (Object o : (List<?>) parsed.get("errors")) {
                Map<?, ?> e = (Map<?, ?>) o;
                Map<?, ?> loc = e.get("location") instanceof Map<?, ?> m ? m : Map.of();
                out.add(new OpaCli.CompileError(String.valueOf(loc.get("file")),
                        loc.get("row") instanceof Number n ? n.intValue() : 0,
                        loc.get("col") instanceof Number n ? n.intValue() : 0,
                        String.valueOf(e.get("code")), String.valueOf(e.get("message"))));
            }
        } catch (IOException | RuntimeException e) {
            out.add(new OpaCli.CompileError(null, 0, 0, "opa_rejected", "OPA rejected the module"));
        }
        return out;
    }
}
