package io.cleargate.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.cleargate.pipeline.GatewayError;
import io.cleargate.pipeline.GatewayException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Turns a /v1/embeddings body into an {@link Embeddings} request. Inputs must be text: token-id
 * inputs are refused, because the content filter cannot read them. Every failure is a 400 naming
 * the field.
 */
final class EmbeddingsParser {

    static final int MAX_INPUTS = 2048;
    private static final Set<String> KNOWN = Set.of("model", "input", "encoding_format", "dimensions", "user");

    private final ObjectMapper json;

    EmbeddingsParser(ObjectMapper json) {
        this.json = json;
    }

    /** A validated embeddings request; {@code base64} when the caller asked for base64-encoded vectors. */
    record Embeddings(String model, List<String> inputs, boolean base64, Integer dimensions, String user,
            Map<String, Object> parameters) {}

    Embeddings parse(byte[] body) {
        JsonNode root;
        try {
            root = json.readTree(body);
        } catch (JsonProcessingException e) {
            throw new GatewayException(GatewayError.malformedJson("The request body is not valid JSON (line "
                    + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr() + ")."));
        } catch (java.io.IOException e) {
            throw new GatewayException(GatewayError.malformedJson("The request body could not be read."));
        }
        if (root == null || !root.isObject()) {
            throw new GatewayException(GatewayError.malformedJson("The request body must be a JSON object."));
        }
        for (Iterator<String> names = root.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!KNOWN.contains(name)) {
                throw new GatewayException(GatewayError.unsupported(ClientStrings.shortened(name),
                        ClientStrings.quoted(name) + " is not supported by this gateway's embeddings endpoint."));
            }
        }
        JsonNode model = root.get("model");
        if (model == null || !model.isTextual() || model.asText().isBlank()) {
            throw bad("model", "'model' is required and must be a non-empty string.");
        }
        String modelId = ClientStrings.model(model.asText());
        List<String> inputs = inputs(root.get("input"));
        boolean base64 = encoding(root.get("encoding_format"));
        Integer dimensions = null;
        JsonNode d = root.get("dimensions");
        if (d != null && !d.isNull()) {
            if (!d.isIntegralNumber() || d.asInt() < 1 || d.asInt() > 65536) {
                throw bad("dimensions", "'dimensions' must be a positive integer.");
            }
            dimensions = d.asInt();
        }
        JsonNode user = root.get("user");
        if (user != null && !user.isNull() && !user.isTextual()) {
            throw bad("user", "'user' must be a string.");
        }
        String userId = ClientStrings.user(user == null || user.isNull() ? null : user.asText());
        var parameters = new LinkedHashMap<String, Object>();
        parameters.put("input_count", inputs.size());
        parameters.put("encoding_format", base64 ? "base64" : "float");
        parameters.put("dimensions", dimensions);
        parameters.put("user", userId);
        return new Embeddings(modelId, inputs, base64, dimensions, userId, parameters);
    }

    private static List<String> inputs(JsonNode node) {
        if (node == null || node.isNull()) {
            throw bad("input", "'input' is required.");
        }
        if (node.isTextual()) {
            return List.of(nonEmpty(node.asText(), "input"));
        }
        if (!node.isArray() || node.isEmpty()) {
            throw bad("input", "'input' must be a string or a non-empty array of strings.");
        }
        if (node.size() > MAX_INPUTS) {
            throw bad("input", "At most " + MAX_INPUTS + " inputs are accepted.");
        }
        var out = new ArrayList<String>(node.size());
        for (int i = 0; i < node.size(); i++) {
            JsonNode item = node.get(i);
            if (item.isNumber() || item.isArray()) {
                throw new GatewayException(GatewayError.unsupported("input",
                        "Token-id inputs are not accepted: the content filter reads text, so send the text."));
            }
            if (!item.isTextual()) {
                throw bad("input[" + i + "]", "input[" + i + "] must be a string.");
            }
            out.add(nonEmpty(item.asText(), "input[" + i + "]"));
        }
        return out;
    }

    private static String nonEmpty(String text, String path) {
        if (text.isEmpty()) {
            throw bad(path, path + " must not be empty.");
        }
        return text;
    }

    private static boolean encoding(JsonNode node) {
        if (node == null || node.isNull()) {
            return false;
        }
        if (node.isTextual() && node.asText().equals("float")) {
            return false;
        }
        if (node.isTextual() && node.asText().equals("base64")) {
            return true;
        }
        throw bad("encoding_format", "'encoding_format' must be float or base64.");
    }

    private static GatewayException bad(String param, String message) {
        return new GatewayException(GatewayError.invalidRequest(param, message));
    }
}
