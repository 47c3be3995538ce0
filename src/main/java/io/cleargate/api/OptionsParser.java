package io.cleargate.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.cleargate.domain.ChatMessage;
import io.cleargate.domain.RequestOptions;
import io.cleargate.domain.RequestOptions.ResponseFormat;
import io.cleargate.domain.RequestOptions.ToolChoice;
import io.cleargate.domain.ToolCall;
import io.cleargate.domain.ToolDefinition;
import io.cleargate.pipeline.GatewayError;
import io.cleargate.pipeline.GatewayException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Validates the chat options beyond plain sampling (tools, tool_choice, tool calls in the
 * conversation, response_format, logprobs, penalties) into {@link RequestOptions}. Limits keep a
 * request's tool definitions and schemas small enough to forward, audit and explain: every
 * refusal is a 400 naming the field at fault.
 */
final class OptionsParser {

    static final int MAX_TOOLS = 128;
    static final int MAX_SCHEMA_BYTES = 32 * 1024;
    static final int MAX_DEPTH = 32;
    static final int MAX_ARGUMENT_CHARS = 64 * 1024;
    static final int MAX_TOP_LOGPROBS = 20;
    /** Choices per request (n): each is moderated and audited on its own. */
    static final int MAX_CHOICES = 8;
    /** Biased tokens per request, as OpenAI accepts. */
    static final int MAX_LOGIT_BIASES = 300;
    private static final int MAX_DESCRIPTION_CHARS = 4096;
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_-]{1,64}");

    private final ObjectMapper json;

    OptionsParser(ObjectMapper json) {
        this.json = json;
    }

    RequestOptions parse(JsonNode root) {
        List<ToolDefinition> tools = tools(root.get("tools"));
        ToolChoice choice = toolChoice(root.get("tool_choice"), tools);
        Boolean parallel = optionalBoolean(root, "parallel_tool_calls");
        if (parallel != null && tools.isEmpty()) {
            throw bad("parallel_tool_calls", "'parallel_tool_calls' is only allowed when 'tools' are given.");
        }
        ResponseFormat format = responseFormat(root.get("response_format"));
        Boolean logprobs = optionalBoolean(root, "logprobs");
        Integer top = topLogprobs(root.get("top_logprobs"), Boolean.TRUE.equals(logprobs));
        Double presence = penalty(root, "presence_penalty");
        Double frequency = penalty(root, "frequency_penalty");
        Integer n = choices(root.get("n"));
        return new RequestOptions(tools, choice, parallel, format, logprobs, top, n, presence, frequency, null,
                logitBias(root.get("logit_bias")));
    }

    private List<ToolDefinition> tools(JsonNode node) {
        if (node == null || node.isNull()) {
            return List.of();
        }
        if (!node.isArray()) {
            throw bad("tools", "'tools' must be an array of function definitions.");
        }
        if (node.size() > MAX_TOOLS) {
            throw bad("tools", "At most " + MAX_TOOLS + " tools are accepted.");
        }
        var tools = new ArrayList<ToolDefinition>(node.size());
        Set<String> names = new HashSet<>();
        for (int i = 0; i < node.size(); i++) {
            ToolDefinition tool = tool(node.get(i), "tools[" + i + "]");
            if (!names.add(tool.name())) {
                throw bad("tools[" + i + "].function.name", "Tool '" + tool.name() + "' is defined twice.");
            }
            tools.add(tool);
        }
        return tools;
    }

    private ToolDefinition tool(JsonNode node, String path) {
        if (node == null || !node.isObject()) {
            throw bad(path, path + " must be an object {\"type\": \"function\", \"function\": {...}}.");
        }
        onlyFields(node, path, Set.of("type", "function"));
        JsonNode type = node.get("type");
        if (type == null || !type.isTextual()) {
            throw bad(path + ".type", path + ".type is required.");
        }
        if (!type.asText().equals("function")) {
            throw new GatewayException(GatewayError.unsupported(path + ".type",
                    "Tool type '" + type.asText() + "' is not supported; only function tools are."));
        }
        JsonNode fn = node.get("function");
        if (fn == null || !fn.isObject()) {
            throw bad(path + ".function", path + ".function must be an object with a name.");
        }
        onlyFields(fn, path + ".function", Set.of("name", "description", "parameters", "strict"));
        String name = name(fn.get("name"), path + ".function.name");
        String description = null;
        JsonNode d = fn.get("description");
        if (d != null && !d.isNull()) {
            if (!d.isTextual() || d.asText().length() > MAX_DESCRIPTION_CHARS) {
                throw bad(path + ".function.description",
                        "A tool description must be a string of at most " + MAX_DESCRIPTION_CHARS + " characters.");
            }
            description = d.asText();
        }
        Map<String, Object> parameters = schema(fn.get("parameters"), path + ".function.parameters", false);
        return new ToolDefinition(name, description, parameters, optionalBoolean(fn, "strict", path + ".function.strict"));
    }

    private ToolChoice toolChoice(JsonNode node, List<ToolDefinition> tools) {
        if (node == null || node.isNull()) {
            return null;
        }
        if (tools.isEmpty()) {
            throw bad("tool_choice", "'tool_choice' is only allowed when 'tools' are given.");
        }
        if (node.isTextual()) {
            String mode = node.asText();
            if (!Set.of("none", "auto", "required").contains(mode)) {
                throw bad("tool_choice", "'tool_choice' must be none, auto, required or {\"type\": \"function\", ...}.");
            }
            return new ToolChoice(mode, null);
        }
        if (!node.isObject() || !"function".equals(node.path("type").asText())) {
            throw bad("tool_choice", "'tool_choice' must be none, auto, required or {\"type\": \"function\", ...}.");
        }
        String name = name(node.path("function").get("name"), "tool_choice.function.name");
        if (tools.stream().noneMatch(t -> t.name().equals(name))) {
            throw bad("tool_choice.function.name", "tool_choice names '" + name + "', which is not among the tools.");
        }
        return new ToolChoice("function", name);
    }

    private ResponseFormat responseFormat(JsonNode node) {
        if (node == null || node.isNull()) {
            return null;
        }
        if (!node.isObject() || !node.path("type").isTextual()) {
            throw bad("response_format", "'response_format' must be an object with a type.");
        }
        return switch (node.get("type").asText()) {
            case "text" -> null;
            case "json_object" -> {
                onlyFields(node, "response_format", Set.of("type"));
                yield new ResponseFormat("json_object", null, null, null, null);
            }
            case "json_schema" -> {
                onlyFields(node, "response_format", Set.of("type", "json_schema"));
                JsonNode spec = node.get("json_schema");
                if (spec == null || !spec.isObject()) {
                    throw bad("response_format.json_schema", "A json_schema response format needs 'json_schema': {name, schema}.");
                }
                onlyFields(spec, "response_format.json_schema", Set.of("name", "description", "schema", "strict"));
                String name = name(spec.get("name"), "response_format.json_schema.name");
                JsonNode d = spec.get("description");
                if (d != null && !d.isNull() && (!d.isTextual() || d.asText().length() > MAX_DESCRIPTION_CHARS)) {
                    throw bad("response_format.json_schema.description",
                            "The description must be a string of at most " + MAX_DESCRIPTION_CHARS + " characters.");
                }
                yield new ResponseFormat("json_schema", name, d == null || d.isNull() ? null : d.asText(),
                        schema(spec.get("schema"), "response_format.json_schema.schema", true),
                        optionalBoolean(spec, "strict", "response_format.json_schema.strict"));
            }
            default -> throw new GatewayException(GatewayError.unsupported("response_format.type",
                    "response_format type '" + node.get("type").asText() + "' is not supported; use text, json_object or json_schema."));
        };
    }

    /** A JSON schema as plain maps and lists, bounded in size and nesting. */
    @SuppressWarnings("unchecked")
    private Map<String, Object> schema(JsonNode node, String path, boolean required) {
        if (node == null || node.isNull()) {
            if (required) {
                throw bad(path, path + " is required.");
            }
            return null;
        }
        if (!node.isObject()) {
            throw bad(path, path + " must be a JSON schema object.");
        }
        int depth = depth(node);
        if (depth > MAX_DEPTH) {
            throw bad(path, path + " is nested " + depth + " levels deep; at most " + MAX_DEPTH + " are accepted.");
        }
        int size;
        try {
            size = json.writeValueAsBytes(node).length;
        } catch (java.io.IOException e) {
            throw bad(path, path + " could not be read.");
        }
        if (size > MAX_SCHEMA_BYTES) {
            throw bad(path, path + " is " + size + " bytes; at most " + MAX_SCHEMA_BYTES + " are accepted.");
        }
        return json.convertValue(node, Map.class);
    }

    private static int depth(JsonNode node) {
        int deepest = 0;
        if (node.isContainerNode()) {
            for (JsonNode child : node) {
                deepest = Math.max(deepest, depth(child));
            }
            return deepest + 1;
        }
        return 0;
    }

    /** An assistant message's tool_calls. */
    List<ToolCall> toolCalls(JsonNode node, String path) {
        if (node == null || node.isNull()) {
            return List.of();
        }
        if (!node.isArray()) {
            throw bad(path, path + " must be an array.");
        }
        if (node.size() > MAX_TOOLS) {
            throw bad(path, "At most " + MAX_TOOLS + " tool calls are accepted in one message.");
        }
        var calls = new ArrayList<ToolCall>(node.size());
        for (int i = 0; i < node.size(); i++) {
            String at = path + "[" + i + "]";
            JsonNode call = node.get(i);
            if (call == null || !call.isObject()) {
                throw bad(at, at + " must be an object.");
            }
            onlyFields(call, at, Set.of("id", "type", "function"));
            if (!"function".equals(call.path("type").asText("function"))) {
                throw new GatewayException(GatewayError.unsupported(at + ".type", "Only function tool calls are supported."));
            }
            JsonNode id = call.get("id");
            if (id == null || !id.isTextual() || id.asText().isBlank() || id.asText().length() > 128) {
                throw bad(at + ".id", at + ".id must be a non-empty string of at most 128 characters.");
            }
            JsonNode fn = call.get("function");
            if (fn == null || !fn.isObject()) {
                throw bad(at + ".function", at + ".function must be an object {name, arguments}.");
            }
            onlyFields(fn, at + ".function", Set.of("name", "arguments"));
            String name = name(fn.get("name"), at + ".function.name");
            JsonNode args = fn.get("arguments");
            if (args == null || !args.isTextual()) {
                throw bad(at + ".function.arguments", at + ".function.arguments must be a string (JSON text).");
            }
            calls.add(new ToolCall(id.asText(), name, arguments(args.asText(), at + ".function.arguments")));
        }
        return calls;
    }

    /** Bounds the arguments' length and nesting (counted on the text: they need not be valid JSON). */
    static String arguments(String text, String path) {
        if (text.length() > MAX_ARGUMENT_CHARS) {
            throw bad(path, path + " is longer than " + MAX_ARGUMENT_CHARS + " characters.");
        }
        int depth = 0;
        boolean inString = false;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (inString) {
                if (c == '\\') {
                    i++;
                } else if (c == '"') {
                    inString = false;
                }
            } else if (c == '"') {
                inString = true;
            } else if (c == '{' || c == '[') {
                if (++depth > MAX_DEPTH) {
                    throw bad(path, path + " is nested more than " + MAX_DEPTH + " levels deep.");
                }
            } else if (c == '}' || c == ']') {
                depth--;
            }
        }
        return text;
    }

    /** Every tool message answers a call made by an earlier assistant message. */
    static void checkToolConversation(List<ChatMessage> messages) {
        Set<String> called = new HashSet<>();
        for (int i = 0; i < messages.size(); i++) {
            ChatMessage m = messages.get(i);
            m.toolCalls().forEach(c -> called.add(c.id()));
            if (m.role() == ChatMessage.Role.TOOL && !called.contains(m.toolCallId())) {
                throw bad("messages[" + i + "].tool_call_id", "messages[" + i
                        + "] answers a tool call that no earlier assistant message made.");
            }
        }
    }

    /** What policy input and audit see of the options: names and modes, never schemas or arguments. */
    static Map<String, Object> describe(RequestOptions options, List<ChatMessage> messages) {
        var out = new LinkedHashMap<String, Object>();
        if (!options.tools().isEmpty()) {
            out.put("tools", options.tools().stream().map(ToolDefinition::name).toList());
        }
        List<String> called = messages.stream().flatMap(m -> m.toolCalls().stream()).map(ToolCall::name).distinct().toList();
        if (!called.isEmpty()) {
            out.put("tool_calls", called);
        }
        if (options.toolChoice() != null) {
            out.put("tool_choice", options.toolChoice().function() != null
                    ? options.toolChoice().function() : options.toolChoice().mode());
        }
        if (options.parallelToolCalls() != null) {
            out.put("parallel_tool_calls", options.parallelToolCalls());
        }
        if (options.responseFormat() != null) {
            out.put("response_format", options.responseFormat().type());
        }
        if (options.logprobs() != null) {
            out.put("logprobs", options.logprobs());
        }
        if (options.n() != null) {
            out.put("n", options.n());
        }
        if (options.topLogprobs() != null) {
            out.put("top_logprobs", options.topLogprobs());
        }
        if (options.presencePenalty() != null) {
            out.put("presence_penalty", options.presencePenalty());
        }
        if (options.frequencyPenalty() != null) {
            out.put("frequency_penalty", options.frequencyPenalty());
        }
        if (!options.logitBias().isEmpty()) {
            // How many tokens, not which: the ids are the client's and unbounded in meaning.
            out.put("logit_bias", options.logitBias().size());
        }
        return out;
    }

    private static Integer topLogprobs(JsonNode node, boolean logprobs) {
        if (node == null || node.isNull()) {
            return null;
        }
        if (!node.isIntegralNumber() || node.asInt() < 0 || node.asInt() > MAX_TOP_LOGPROBS) {
            throw bad("top_logprobs", "'top_logprobs' must be an integer between 0 and " + MAX_TOP_LOGPROBS + ".");
        }
        if (!logprobs) {
            throw bad("top_logprobs", "'top_logprobs' needs 'logprobs': true.");
        }
        return node.asInt();
    }

    /** n: null for one choice (absent, null or 1), else 2 to {@value #MAX_CHOICES}. */
    private static Integer choices(JsonNode node) {
        if (node == null || node.isNull()) {
            return null;
        }
        if (!node.isIntegralNumber() || node.asInt() < 1 || node.asInt() > MAX_CHOICES) {
            throw bad("n", "'n' must be an integer between 1 and " + MAX_CHOICES + ".");
        }
        return node.asInt() == 1 ? null : node.asInt();
    }

    /**
     * logit_bias: token ids (decimal strings, as the upstream's tokenizer numbers them) to a bias
     * between -100 and 100. The ids mean nothing to the gateway, so it checks only their shape.
     */
    private static Map<Integer, Double> logitBias(JsonNode node) {
        if (node == null || node.isNull()) {
            return Map.of();
        }
        if (!node.isObject()) {
            throw bad("logit_bias", "'logit_bias' must be an object mapping token ids to biases.");
        }
        if (node.size() > MAX_LOGIT_BIASES) {
            throw bad("logit_bias", "At most " + MAX_LOGIT_BIASES + " tokens may be biased.");
        }
        var biases = new LinkedHashMap<Integer, Double>();
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            int id;
            try {
                id = Integer.parseInt(e.getKey());
            } catch (NumberFormatException ex) {
                id = -1;
            }
            if (id < 0 || !e.getKey().equals(Integer.toString(id))) {
                throw bad("logit_bias", "'logit_bias' keys must be token ids (non-negative integers), not '"
                        + ClientStrings.shortened(e.getKey()) + "'.");
            }
            JsonNode bias = e.getValue();
            if (!bias.isNumber() || Double.isNaN(bias.asDouble()) || bias.asDouble() < -100 || bias.asDouble() > 100) {
                throw bad("logit_bias", "'logit_bias' values must be numbers between -100 and 100.");
            }
            biases.put(id, bias.asDouble());
        }
        return biases;
    }

    private static Double penalty(JsonNode root, String field) {
        JsonNode node = root.get(field);
        if (node == null || node.isNull()) {
            return null;
        }
        if (!node.isNumber() || Double.isNaN(node.asDouble()) || node.asDouble() < -2.0 || node.asDouble() > 2.0) {
            throw bad(field, "'" + field + "' must be a number between -2.0 and 2.0.");
        }
        return node.asDouble();
    }

    private static String name(JsonNode node, String path) {
        if (node == null || !node.isTextual() || !NAME.matcher(node.asText()).matches()) {
            throw bad(path, path + " must be 1 to 64 letters, digits, underscores or dashes.");
        }
        return node.asText();
    }

    private static Boolean optionalBoolean(JsonNode root, String field) {
        return optionalBoolean(root, field, field);
    }

    private static Boolean optionalBoolean(JsonNode root, String field, String path) {
        JsonNode node = root.get(field);
        if (node == null || node.isNull()) {
            return null;
        }
        if (!node.isBoolean()) {
            throw bad(path, "'" + path + "' must be a boolean.");
        }
        return node.asBoolean();
    }

    private static void onlyFields(JsonNode node, String path, Set<String> allowed) {
        for (Iterator<String> names = node.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!allowed.contains(name)) {
                throw new GatewayException(GatewayError.unsupported(path + "." + name,
                        "'" + name + "' is not supported in " + path + "."));
            }
        }
    }

    private static GatewayException bad(String param, String message) {
        return ChatCompletionParser.bad(param, message);
    }
}
