package io.cleargate.k8s;

import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;

/** One rendered overlay: its documents, with look-ups by kind and name. */
record Rendered(String overlay, String yaml, List<JsonNode> documents) {

    private static final Map<String, Rendered> CACHE = new java.util.concurrent.ConcurrentHashMap<>();

    /** The overlay rendered once per test JVM (rendering is the slow part). */
    static Rendered overlay(String overlay) {
        return CACHE.computeIfAbsent(overlay, name -> {
            String yaml = K8sTools.render(name);
            return new Rendered(name, yaml, K8sTools.documents(yaml));
        });
    }

    Stream<JsonNode> ofKind(String kind) {
        return documents.stream().filter(d -> kind.equals(d.path("kind").asText()));
    }

    /** The resource of that kind whose name is {@code name}, or kustomize's hash-suffixed {@code name-xxxxx}. */
    JsonNode named(String kind, String name) {
        return ofKind(kind)
                .filter(d -> {
                    String actual = d.path("metadata").path("name").asText();
                    return actual.equals(name) || actual.matches(java.util.regex.Pattern.quote(name) + "-[a-z0-9]{10}");
                })
                .findFirst()
                .orElseGet(() -> fail(overlay + " renders no " + kind + " named " + name));
    }

    JsonNode gatewayDeployment() {
        return named("Deployment", "cleargate-gateway");
    }

    JsonNode container(JsonNode workload, String section, String name) {
        for (JsonNode container : workload.path("spec").path("template").path("spec").path(section)) {
            if (name.equals(container.path("name").asText())) {
                return container;
            }
        }
        return fail(overlay + ": no " + section + " entry named " + name);
    }

    /** The gateway's environment: the ConfigMap it loads with envFrom, then its explicit env entries. */
    Map<String, JsonNode> gatewayEnvironment() {
        Map<String, JsonNode> environment = new LinkedHashMap<>();
        named("ConfigMap", "cleargate-config").path("data").properties()
                .forEach(entry -> environment.put(entry.getKey(), entry.getValue()));
        for (JsonNode variable : container(gatewayDeployment(), "containers", "gateway").path("env")) {
            environment.put(variable.path("name").asText(), variable.has("value") ? variable.path("value") : variable.path("valueFrom"));
        }
        return environment;
    }

    /** The backends declared in the cleargate-backends ConfigMap's properties file, by id. */
    Map<String, Map<String, String>> backends() {
        String text = named("ConfigMap", "cleargate-backends").path("data").path("backends.properties").asText();
        Properties properties = new Properties();
        try {
            properties.load(new StringReader(text));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        Map<String, Map<String, String>> backends = new LinkedHashMap<>();
        for (String key : properties.stringPropertyNames()) {
            if (!key.startsWith("cleargate.backends.")) {
                fail(overlay + ": unexpected key in backends.properties: " + key);
            }
            String rest = key.substring("cleargate.backends.".length());
            int dot = rest.indexOf('.');
            backends.computeIfAbsent(rest.substring(0, dot), id -> new LinkedHashMap<>())
                    .put(rest.substring(dot + 1), properties.getProperty(key));
        }
        return backends;
    }

    /** NetworkPolicies that select the gateway pods for the given direction (Ingress or Egress). */
    List<JsonNode> gatewayPolicies(String direction) {
        List<JsonNode> selected = new ArrayList<>();
        ofKind("NetworkPolicy").forEach(policy -> {
            JsonNode spec = policy.path("spec");
            boolean selectsGateway = "cleargate-gateway".equals(
                    spec.path("podSelector").path("matchLabels").path("app.kubernetes.io/name").asText());
            boolean hasDirection = false;
            for (JsonNode type : spec.path("policyTypes")) {
                hasDirection |= direction.equals(type.asText());
            }
            if (selectsGateway && hasDirection) {
                selected.add(policy);
            }
        });
        return selected;
    }

    /** File names and contents of a gzipped tar stored in a ConfigMap's binaryData. */
    static Map<String, String> untar(String base64) {
        Map<String, String> files = new LinkedHashMap<>();
        try (InputStream in = new GZIPInputStream(new java.io.ByteArrayInputStream(Base64.getMimeDecoder().decode(base64)))) {
            byte[] header = new byte[512];
            while (in.readNBytes(header, 0, 512) == 512 && header[0] != 0) {
                String name = field(header, 0, 100);
                long size = Long.parseLong(field(header, 124, 12).trim().isEmpty() ? "0" : field(header, 124, 12).trim(), 8);
                byte[] content = in.readNBytes((int) size);
                in.readNBytes((int) ((512 - size % 512) % 512));
                if (header[156] == '0' || header[156] == 0) {
                    files.put(name.startsWith("./") ? name.substring(2) : name, new String(content, StandardCharsets.UTF_8));
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException("bundle.tar.gz is not a gzipped tar", e);
        }
        return files;
    }

    private static String field(byte[] header, int offset, int length) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int i = offset; i < offset + length && header[i] != 0; i++) {
            out.write(header[i]);
        }
        return out.toString(StandardCharsets.US_ASCII);
    }
}
