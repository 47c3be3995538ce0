package io.cleargate.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.cleargate.domain.ChatMessage;
import io.cleargate.domain.RequestOptions;
import io.cleargate.domain.ToolCall;
import io.cleargate.pipeline.GatewayError;
import io.cleargate.pipeline.GatewayException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Turns a /v1/chat/completions body into a {@link ChatCompletion}, rejecting anything the gateway
 * would otherwise have to ignore silently. Every failure is a 400 naming the offending field.
 */
final class ChatCompletionParser {

    /** Options accepted only at their neutral value (so SDK defaults pass, real use is refused). */
    private static final Set<String> NEUTRAL_ONLY = Set.of("store", "service_tier", "metadata");

    /** Fields that would let a caller choose the upstream: refused outright (see LiteLLM CVE-2024-6587). */
    private static final Set<String> UPSTREAM_CHOOSERS = Set.of("base_url", "api_base", "api_key", "custom_host",
            "upstream", "endpoint", "backend", "provider", "api_version", "organization");

    private static final Set<String> KNOWN = Set.of("model", "messages", "max_tokens", "max_completion_tokens",
            "temperature", "top_p", "stop", "seed", "stream", "stream_options", "user", "tools", "tool_choice",
            "parallel_tool_calls", "response_format", "logprobs", "top_logprobs", "presence_penalty",
            "frequency_penalty", "n", "logit_bias");

    private final ObjectMapper json;
    private final int defaultMaxTokens;
    private final int maxTokensCeiling;
    private final int maxMessages;
    private final OptionsParser options;

    ChatCompletionParser(ObjectMapper json, int defaultMaxTokens, int maxTokensCeiling, int maxMessages) {
        this.json = json;
        this.options = new OptionsParser(json);
        this.defaultMaxTokens = defaultMaxTokens;
        this.maxTokensCeiling = maxTokensCeiling;
        this.maxMessages = maxMessages;
    }

    ChatCompletion parse(byte[] body) {
        JsonNode root;
        try {
            root = json.readTree(body);
        } catch (JsonProcessingException e) {
            throw new GatewayException(malformed(e));
        } catch (java.io.IOException e) {
            throw new GatewayException(GatewayError.malformedJson("The request body could not be read."));
        }
        if (root == null || !root.isObject()) {
            throw new GatewayException(GatewayError.malformedJson("The request body must be a JSON object."));
        }
        rejectUnsupported(root);
        String model = ClientStrings.model(requiredString(root, "model"));
        List<ChatMessage> messages = messages(root.get("messages"));
        OptionsParser.checkToolConversation(messages);
        RequestOptions requestOptions = options.parse(root);
        Integer maxTokens = maxTokens(root);
        Double temperature = number(root, "temperature", 0.0, 2.0);
        Double topP = number(root, "top_p", 0.0, 1.0);
        if (topP != null && topP == 0.0) {
            throw bad("top_p", "top_p must be greater than 0.");
        }
        List<String> stop = stop(root.get("stop"));
        Long seed = seed(root.get("seed"));
        boolean stream = bool(root, "stream");
        boolean includeUsage = streamOptions(root, stream);
        String user = ClientStrings.user(optionalString(root, "user"));

        var parameters = new LinkedHashMap<String, Object>();
        parameters.put("max_tokens", maxTokens);
        parameters.put("temperature", temperature);
        parameters.put("top_p", topP);
        parameters.put("stop_count", stop.size());
        parameters.put("seed", seed);
        parameters.put("stream", stream);
        parameters.put("include_usage", includeUsage);
        parameters.put("user", user);
        parameters.put("message_count", messages.size());
        parameters.putAll(OptionsParser.describe(requestOptions, messages));
        return new ChatCompletion(model, messages, maxTokens == null ? defaultMaxTokens : maxTokens,
                maxTokens != null, temperature, topP, stop, seed, stream, includeUsage, user, requestOptions, parameters);
    }

    /** The 400 for a body the JSON reader refused; a reader limit (nesting depth, length) can come without a location. */
    static GatewayError malformed(JsonProcessingException e) {
        return GatewayError.malformedJson(e.getLocation() == null
                ? "The request body exceeds a JSON reader limit (nesting depth, number or string length)."
                : "The request body is not valid JSON (line " + e.getLocation().getLineNr() + ", column "
                        + e.getLocation().getColumnNr() + ").");
    }

    private void rejectUnsupported(JsonNode root) {
        for (Iterator<String> names = root.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (UPSTREAM_CHOOSERS.contains(name)) {
                throw new GatewayException(GatewayError.invalidRequest(name,
                        "'" + name + "' cannot be set by a request: backends are chosen by the gateway's configuration and the tenant's policy."));
            }
            if (KNOWN.contains(name)) {
                continue;
            }
            if (NEUTRAL_ONLY.contains(name) && isNeutral(name, root.get(name))) {
                continue;
            }
            throw new GatewayException(GatewayError.unsupported(ClientStrings.shortened(name),
                    ClientStrings.quoted(name) + " is not supported by this gateway."));
        }
    }

    private static boolean isNeutral(String name, JsonNode value) {
        if (value == null || value.isNull()) {
            return true;
        }
        return switch (name) {
            case "store" -> value.isBoolean() && !value.asBoolean();
            case "service_tier" -> value.isTextual() && Set.of("auto", "default").contains(value.asText());
            case "metadata" -> value.isObject() && value.isEmpty();
            default -> false;
        };
    }

    private List<ChatMessage> messages(JsonNode node) {
        if (node == null || node.isNull()) {
            throw bad("messages", "'messages' is required.");
        }
        if (!node.isArray() || node.isEmpty()) {
            throw bad("messages", "'messages' must be a non-empty array.");
        }
        if (node.size() > maxMessages) {
            throw bad("messages", "At most " + maxMessages + " messages are accepted.");
        }
        var result = new ArrayList<ChatMessage>(node.size());
        for (int i = 0; i < node.size(); i++) {
            result.add(message(node.get(i), "messages[" + i + "]"));
        }
        return result;
    }

    private ChatMessage message(JsonNode node, String path) {
        if (!node.isObject()) {
            throw bad(path, path + " must be an object.");
        }
        for (Iterator<String> names = node.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!Set.of("role", "content", "name", "tool_calls", "tool_call_id", "refusal").contains(name)) {
                throw new GatewayException(GatewayError.unsupported(path + "." + ClientStrings.shortened(name),
                        ClientStrings.quoted(name) + " in messages is not supported (use tool_calls and tool messages for functions)."));
            }
        }
        JsonNode roleNode = node.get("role");
        if (roleNode == null || !roleNode.isTextual()) {
            throw bad(path + ".role", path + ".role is required.");
        }
        ChatMessage.Role role = switch (roleNode.asText()) {
            case "system", "developer" -> ChatMessage.Role.SYSTEM;
            case "user" -> ChatMessage.Role.USER;
            case "assistant" -> ChatMessage.Role.ASSISTANT;
            case "tool" -> ChatMessage.Role.TOOL;
            default -> throw new GatewayException(GatewayError.unsupported(path + ".role",
                    "Role " + ClientStrings.quoted(roleNode.asText()) + " is not supported; use system, developer, user, assistant or tool."));
        };
        List<ToolCall> calls = options.toolCalls(node.get("tool_calls"), path + ".tool_calls");
        if (!calls.isEmpty() && role != ChatMessage.Role.ASSISTANT) {
            throw bad(path + ".tool_calls", "Only assistant messages carry tool_calls.");
        }
        String toolCallId = null;
        if (role == ChatMessage.Role.TOOL) {
            JsonNode id = node.get("tool_call_id");
            if (id == null || !id.isTextual() || id.asText().isBlank()) {
                throw bad(path + ".tool_call_id", "A tool message needs the 'tool_call_id' of the call it answers.");
            }
            toolCallId = id.asText();
        } else if (node.hasNonNull("tool_call_id")) {
            throw bad(path + ".tool_call_id", "Only tool messages carry a tool_call_id.");
        }
        JsonNode content = node.get("content");
        boolean contentOptional = role == ChatMessage.Role.ASSISTANT && !calls.isEmpty();
        String text = contentOptional && (content == null || content.isNull()) ? "" : content(content, path + ".content");
        return new ChatMessage(role, text, calls, toolCallId);
    }

    private static String content(JsonNode node, String path) {
        if (node == null || node.isNull()) {
            throw bad(path, path + " is required.");
        }
        if (node.isTextual()) {
            return node.asText();
        }
        if (!node.isArray()) {
            throw bad(path, path + " must be a string or an array of text parts.");
        }
        var text = new StringBuilder();
        for (int i = 0; i < node.size(); i++) {
            JsonNode part = node.get(i);
            String type = part.path("type").asText("");
            if (!type.equals("text")) {
                throw new GatewayException(GatewayError.unsupported(path + "[" + i + "].type",
                        "Content part type " + ClientStrings.quoted(type) + " is not supported; only text parts are."));
            }
            JsonNode partText = part.get("text");
            if (partText == null || !partText.isTextual()) {
                throw bad(path + "[" + i + "].text", "A text part needs a string 'text'.");
            }
            text.append(partText.asText());
        }
        return text.toString();
    }

    private Integer maxTokens(JsonNode root) {
        Integer a = positiveInt(root, "max_tokens");
        Integer b = positiveInt(root, "max_completion_tokens");
        if (a != null && b != null && !a.equals(b)) {
            throw bad("max_completion_tokens", "max_tokens and max_completion_tokens disagree; send one of them.");
        }
        Integer value = b != null ? b : a;
        if (value != null && value > maxTokensCeiling) {
            throw bad(b != null ? "max_completion_tokens" : "max_tokens",
                    "max tokens must be at most " + maxTokensCeiling + ".");
        }
        return value;
    }

    private static Integer positiveInt(JsonNode root, String field) {
        JsonNode node = root.get(field);
        if (node == null || node.isNull()) {
            return null;
        }
        if (!node.isIntegralNumber() || node.asLong() < 1 || node.asLong() > Integer.MAX_VALUE) {
            throw bad(field, "'" + field + "' must be a positive integer.");
        }
        return node.asInt();
    }

    private static Double number(JsonNode root, String field, double min, double max) {
        JsonNode node = root.get(field);
        if (node == null || node.isNull()) {
            return null;
        }
        if (!node.isNumber() || node.asDouble() < min || node.asDouble() > max || Double.isNaN(node.asDouble())) {
            throw bad(field, "'" + field + "' must be a number between " + min + " and " + max + ".");
        }
        return node.asDouble();
    }

    private static List<String> stop(JsonNode node) {
        if (node == null || node.isNull()) {
            return List.of();
        }
        if (node.isTextual()) {
            return nonEmpty(List.of(node.asText()));
        }
        if (!node.isArray() || node.size() > 4) {
            throw bad("stop", "'stop' must be a string or an array of at most 4 strings.");
        }
        var result = new ArrayList<String>();
        for (JsonNode s : node) {
            if (!s.isTextual()) {
                throw bad("stop", "'stop' must contain only strings.");
            }
            result.add(s.asText());
        }
        return nonEmpty(result);
    }

    private static List<String> nonEmpty(List<String> stops) {
        if (stops.stream().anyMatch(String::isEmpty)) {
            throw bad("stop", "Stop sequences must not be empty.");
        }
        return stops;
    }

    private static Long seed(JsonNode node) {
        if (node == null || node.isNull()) {
            return null;
        }
        if (!node.isIntegralNumber() || !node.canConvertToLong()) {
            throw bad("seed", "'seed' must be an integer.");
        }
        return node.asLong();
    }

    private static boolean bool(JsonNode root, String field) {
        JsonNode node = root.get(field);
        if (node == null || node.isNull()) {
            return false;
        }
        if (!node.isBoolean()) {
            throw bad(field, "'" + field + "' must be a boolean.");
        }
        return node.asBoolean();
    }

    private static boolean streamOptions(JsonNode root, boolean stream) {
        JsonNode node = root.get("stream_options");
        if (node == null || node.isNull()) {
            return false;
        }
        if (!stream) {
            throw bad("stream_options", "'stream_options' is only allowed when 'stream' is true.");
        }
        if (!node.isObject()) {
            throw bad("stream_options", "'stream_options' must be an object.");
        }
        for (Iterator<String> names = node.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!name.equals("include_usage")) {
                throw new GatewayException(GatewayError.unsupported("stream_options." + ClientStrings.shortened(name),
                        ClientStrings.quoted("stream_options." + name) + " is not supported."));
            }
        }
        return bool(node, "include_usage");
    }

    private static String requiredString(JsonNode root, String field) {
        JsonNode node = root.get(field);
        if (node == null || node.isNull()) {
            throw bad(field, "'" + field + "' is required.");
        }
        if (!node.isTextual() || node.asText().isBlank()) {
            throw bad(field, "'" + field + "' must be a non-empty string.");
        }
        return node.asText();
    }

    private static String optionalString(JsonNode root, String field) {
        JsonNode node = root.get(field);
        if (node == null || node.isNull()) {
            return null;
        }
        if (!node.isTextual()) {
            throw bad(field, "'" + field + "' must be a string.");
        }
        return node.asText();
    }

    static GatewayException bad(String param, String message) {
        return new GatewayException(GatewayError.invalidRequest(param, message));
    }

    /** A validated chat completion request. */
    record ChatCompletion(String model, List<ChatMessage> messages, int maxTokens, boolean maxTokensExplicit,
            Double temperature, Double topP, List<String> stop, Long seed, boolean stream, boolean includeUsage,
            String user, RequestOptions options, Map<String, Object> parameters) {}
}
