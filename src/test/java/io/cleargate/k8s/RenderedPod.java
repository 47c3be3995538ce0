package io.cleargate.k8s;

import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The gateway pod of a rendered overlay brought to this machine: each volume becomes a directory
 * holding what the kubelet would mount (ConfigMaps, Secrets, projected sources, empty dirs), and a
 * container's arguments and environment are taken from the manifests as they are, with two kinds of
 * change only: a path under a volume mount points into that volume's directory, and a network
 * address the pod would reach (a Service, a database host, the pod's own ports) is replaced by the
 * local stand-in given in {@code addresses}. Every change made is kept in {@link #changes()}.
 */
final class RenderedPod {

    private final Rendered rendered;
    private final List<JsonNode> operatorObjects;
    private final JsonNode deployment;
    private final Path root;
    private final Map<String, String> addresses;
    private final Map<String, Path> volumes = new LinkedHashMap<>();
    private final List<String> changes = new ArrayList<>();

    /**
     * @param operatorObjects Secrets the operator creates by hand (k8s/README.md, step 3), for the
     *                        overlays that do not generate them
     * @param addresses       pod-side address (as written in the manifests) to local address
     */
    RenderedPod(Rendered rendered, List<JsonNode> operatorObjects, Path root, Map<String, String> addresses) {
        this.rendered = rendered;
        this.operatorObjects = operatorObjects;
        this.deployment = rendered.gatewayDeployment();
        this.root = root;
        this.addresses = addresses;
    }

    JsonNode container(String section, String name) {
        return rendered.container(deployment, section, name);
    }

    List<String> changes() {
        return changes;
    }

    /** The container's arguments, relocated. */
    List<String> arguments(JsonNode container) {
        List<String> args = new ArrayList<>();
        for (JsonNode arg : container.path("args")) {
            args.add(relocate(container, arg.asText()));
        }
        return args;
    }

    /**
     * The container's environment as the kubelet builds it: every {@code envFrom} source in order,
     * then each {@code env} entry (literal, or from a Secret or ConfigMap key), relocated.
     */
    Map<String, String> environment(JsonNode container) {
        Map<String, String> env = new LinkedHashMap<>();
        for (JsonNode from : container.path("envFrom")) {
            boolean secret = from.has("secretRef");
            JsonNode ref = secret ? from.path("secretRef") : from.path("configMapRef");
            JsonNode object = find(secret ? "Secret" : "ConfigMap", ref.path("name").asText());
            if (object == null) {
                if (ref.path("optional").asBoolean(false)) {
                    continue;
                }
                fail(rendered.overlay() + ": envFrom names a missing " + ref);
            }
            object.path("data").properties().forEach(e -> env.put(e.getKey(), value(object, e.getValue())));
        }
        for (JsonNode variable : container.path("env")) {
            String name = variable.path("name").asText();
            if (variable.has("value")) {
                env.put(name, variable.path("value").asText());
                continue;
            }
            JsonNode from = variable.path("valueFrom");
            boolean secret = from.has("secretKeyRef");
            JsonNode ref = secret ? from.path("secretKeyRef") : from.path("configMapKeyRef");
            JsonNode object = find(secret ? "Secret" : "ConfigMap", ref.path("name").asText());
            JsonNode data = object == null ? null : object.path("data").get(ref.path("key").asText());
            if (data == null) {
                if (ref.path("optional").asBoolean(false)) {
                    continue;
                }
                fail(rendered.overlay() + ": " + name + " comes from a missing " + ref);
            }
            env.put(name, value(object, data));
        }
        env.replaceAll((name, value) -> relocate(container, value));
        return env;
    }

    /** The object of that kind and name, rendered or created by the operator; null when none exists. */
    JsonNode find(String kind, String name) {
        List<JsonNode> all = new ArrayList<>(rendered.documents());
        all.addAll(operatorObjects);
        return all.stream().filter(o -> kind.equals(o.path("kind").asText()))
                .filter(o -> name.equals(o.path("metadata").path("name").asText()))
                .findFirst().orElse(null);
    }

    /**
     * The object of that kind named {@code name} exactly, or generated from that name (kustomize
     * appends a content hash: {@code name-<10 characters>}); null when none exists.
     */
    JsonNode findGenerated(String kind, String name) {
        JsonNode exact = find(kind, name);
        if (exact != null) {
            return exact;
        }
        Pattern generated = Pattern.compile(Pattern.quote(name) + "-[a-z0-9]{10}");
        return rendered.documents().stream().filter(o -> kind.equals(o.path("kind").asText()))
                .filter(o -> generated.matcher(o.path("metadata").path("name").asText()).matches())
                .findFirst().orElse(null);
    }

    /** The directory holding what volume {@code name} would show in the pod, written on first use. */
    Path volume(String name) {
        return volumes.computeIfAbsent(name, n -> {
            Path directory = root.resolve("volumes").resolve(n);
            try {
                materialise(volumeSpec(n), directory);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return directory;
        });
    }

    /**
     * A value as this machine must see it: addresses swapped for their stand-ins and every path under
     * one of the container's mounts moved into that volume's directory, in one pass over the value
     * (longest first), so that nothing put in is moved again: a stand-in is a path on this machine,
     * which may itself lie under a mount's path (a checkout under /tmp, where the pod mounts a volume).
     */
    String relocate(JsonNode container, String value) {
        Map<String, String> volumeOfMount = new LinkedHashMap<>();
        container.path("volumeMounts").forEach(m -> volumeOfMount.put(m.path("mountPath").asText(), m.path("name").asText()));
        List<String> keys = new ArrayList<>(addresses.keySet());
        keys.addAll(volumeOfMount.keySet());
        if (keys.isEmpty()) {
            return value;
        }
        keys.sort(Comparator.comparingInt(String::length).reversed());
        // An address is swapped wherever it stands; a mount path only as a whole path segment.
        String alternatives = String.join("|", keys.stream()
                .map(k -> addresses.containsKey(k) ? Pattern.quote(k) : Pattern.quote(k) + "(?=/|$|[^A-Za-z0-9._/-])")
                .toList());
        Matcher m = Pattern.compile(alternatives).matcher(value);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String found = m.group();
            String replacement = addresses.containsKey(found) ? addresses.get(found) : volume(volumeOfMount.get(found)).toString();
            m.appendReplacement(out, Matcher.quoteReplacement(replacement));
        }
        m.appendTail(out);
        String relocated = out.toString();
        if (!relocated.equals(value)) {
            changes.add(value + " -> " + relocated);
        }
        return relocated;
    }

    private JsonNode volumeSpec(String name) {
        for (JsonNode volume : deployment.path("spec").path("template").path("spec").path("volumes")) {
            if (name.equals(volume.path("name").asText())) {
                return volume;
            }
        }
        return fail(rendered.overlay() + ": no volume " + name);
    }

    private void materialise(JsonNode volume, Path directory) throws IOException {
        Files.createDirectories(directory);
        if (volume.has("emptyDir")) {
            return;
        }
        if (volume.has("configMap")) {
            writeAll(require("ConfigMap", volume.path("configMap").path("name").asText()), volume.path("configMap").path("items"),
                    directory);
        } else if (volume.has("secret")) {
            writeAll(require("Secret", volume.path("secret").path("secretName").asText()), volume.path("secret").path("items"),
                    directory);
        } else if (volume.has("projected")) {
            for (JsonNode source : volume.path("projected").path("sources")) {
                String kind = source.has("secret") ? "Secret" : "ConfigMap";
                JsonNode ref = source.has("secret") ? source.path("secret") : source.path("configMap");
                JsonNode object = find(kind, ref.path("name").asText());
                if (object == null && ref.path("optional").asBoolean(false)) {
                    // The kubelet skips an optional source that does not exist.
                    changes.add(rendered.overlay() + ": optional " + kind + " " + ref.path("name").asText() + " absent, skipped");
                    continue;
                }
                writeAll(object != null ? object : require(kind, ref.path("name").asText()), ref.path("items"), directory);
            }
        } else {
            fail("unsupported volume " + volume);
        }
    }

    private JsonNode require(String kind, String name) {
        JsonNode object = find(kind, name);
        return object != null ? object : fail(rendered.overlay() + ": no " + kind + " " + name);
    }

    private void writeAll(JsonNode object, JsonNode items, Path directory) throws IOException {
        boolean secret = "Secret".equals(object.path("kind").asText());
        for (String section : List.of("data", "binaryData")) {
            Iterator<Map.Entry<String, JsonNode>> entries = object.path(section).properties().iterator();
            while (entries.hasNext()) {
                Map.Entry<String, JsonNode> entry = entries.next();
                String path = itemPath(items, entry.getKey());
                if (path == null) {
                    continue;
                }
                byte[] content;
                if (section.equals("binaryData")) {
                    content = Base64.getMimeDecoder().decode(entry.getValue().asText());
                } else {
                    String text = secret ? new String(Base64.getMimeDecoder().decode(entry.getValue().asText()),
                            StandardCharsets.UTF_8) : entry.getValue().asText();
                    String moved = text;
                    for (var address : addresses.entrySet()) {
                        moved = moved.replace(address.getKey(), address.getValue());
                    }
                    if (!moved.equals(text)) {
                        changes.add(object.path("metadata").path("name").asText() + "/" + entry.getKey()
                                + ": addresses moved to their local stand-ins");
                    }
                    content = moved.getBytes(StandardCharsets.UTF_8);
                }
                Path file = directory.resolve(path);
                Files.createDirectories(file.getParent());
                Files.write(file, content);
            }
        }
    }

    /** Where a key lands: its item's path when items are listed (others are not projected), else the key. */
    private static String itemPath(JsonNode items, String key) {
        if (items == null || items.isMissingNode() || items.isEmpty()) {
            return key;
        }
        for (JsonNode item : items) {
            if (key.equals(item.path("key").asText())) {
                return item.path("path").asText();
            }
        }
        return null;
    }

    private static String value(JsonNode object, JsonNode data) {
        return "Secret".equals(object.path("kind").asText())
                ? new String(Base64.getMimeDecoder().decode(data.asText()), StandardCharsets.UTF_8)
                : data.asText();
    }
}
