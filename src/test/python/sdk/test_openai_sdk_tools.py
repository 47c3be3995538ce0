"""Tool calling, structured output and log probabilities through the official openai Python SDK.

The mock upstream calls the first offered tool with the user's text as its "query" argument
("parallel" asks for two calls, "leak-key" and "leak-pem" put a cloud key or a private key block
into the arguments) and echoes a tool result as "Tool result: ..." (see MockUpstream.plan).
"""
import json
import os

import openai
import pytest

BASE = os.environ["CLEARGATE_URL"].rstrip("/") + "/v1"
KEY = os.environ.get("CLEARGATE_KEY", "no-key-needed-without-identity")
MODEL = os.environ.get("CLEARGATE_MODEL", "mock")

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city",
        "parameters": {"type": "object", "properties": {"query": {"type": "string"}}, "required": ["query"]},
    },
}
SEARCH = {"type": "function", "function": {"name": "search_documents", "parameters": {"type": "object"}}}


@pytest.fixture
def client():
    return openai.OpenAI(base_url=BASE, api_key=KEY, max_retries=0, timeout=60)


def collect(stream):
    """Accumulates a streamed completion: text, tool calls by index, finish reason, extras."""
    text, calls, finish, extras, logprobs = [], {}, None, {}, []
    for chunk in stream:
        extras.update(chunk.model_extra or {})
        for choice in chunk.choices:
            delta = choice.delta
            if delta.content:
                text.append(delta.content)
            for call in delta.tool_calls or []:
                slot = calls.setdefault(call.index, {"id": None, "name": None, "arguments": ""})
                if call.id:
                    slot["id"] = call.id
                if call.function and call.function.name:
                    slot["name"] = call.function.name
                if call.function and call.function.arguments:
                    slot["arguments"] += call.function.arguments
            if choice.logprobs and choice.logprobs.content:
                logprobs.extend(choice.logprobs.content)
            if choice.finish_reason:
                finish = choice.finish_reason
    return "".join(text), [calls[i] for i in sorted(calls)], finish, extras, logprobs


def test_tool_call_round_trip_without_streaming(client):
    messages = [{"role": "user", "content": "weather in Paris"}]
    first = client.chat.completions.create(model=MODEL, messages=messages, tools=[WEATHER])
    choice = first.choices[0]
    assert choice.finish_reason == "tool_calls"
    call = choice.message.tool_calls[0]
    assert call.type == "function" and call.function.name == "get_weather" and call.id
    assert json.loads(call.function.arguments) == {"query": "weather in Paris"}

    messages.append(choice.message.model_dump(exclude_none=True))
    messages.append({"role": "tool", "tool_call_id": call.id, "content": "sunny, 21 degrees"})
    second = client.chat.completions.create(model=MODEL, messages=messages, tools=[WEATHER])
    assert second.choices[0].finish_reason == "stop"
    assert second.choices[0].message.content == "Tool result: sunny, 21 degrees"


def test_tool_call_round_trip_with_streaming(client):
    messages = [{"role": "user", "content": "weather in Oslo"}]
    text, calls, finish, _, _ = collect(client.chat.completions.create(
        model=MODEL, messages=messages, tools=[WEATHER], tool_choice="auto", stream=True))
    assert finish == "tool_calls" and text == ""
    assert len(calls) == 1 and calls[0]["name"] == "get_weather" and calls[0]["id"]
    assert json.loads(calls[0]["arguments"]) == {"query": "weather in Oslo"}

    messages.append({"role": "assistant", "content": None, "tool_calls": [
        {"id": calls[0]["id"], "type": "function",
         "function": {"name": "get_weather", "arguments": calls[0]["arguments"]}}]})
    messages.append({"role": "tool", "tool_call_id": calls[0]["id"], "content": "snow"})
    text, calls, finish, _, _ = collect(client.chat.completions.create(
        model=MODEL, messages=messages, tools=[WEATHER], stream=True))
    assert text == "Tool result: snow" and finish == "stop" and calls == []


def test_parallel_tool_calls_keep_their_indexes(client):
    text, calls, finish, _, _ = collect(client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "both in parallel"}], tools=[WEATHER, SEARCH],
        parallel_tool_calls=True, stream=True))
    assert finish == "tool_calls"
    assert [c["name"] for c in calls] == ["get_weather", "search_documents"]
    assert all(json.loads(c["arguments"]) for c in calls)
    one = client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "both in parallel"}], tools=[WEATHER, SEARCH])
    assert [c.function.name for c in one.choices[0].message.tool_calls] == ["get_weather", "search_documents"]


def test_named_tool_choice_is_passed_to_the_upstream(client):
    completion = client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "find the report"}], tools=[WEATHER, SEARCH],
        tool_choice={"type": "function", "function": {"name": "search_documents"}})
    assert completion.choices[0].message.tool_calls[0].function.name == "search_documents"


@pytest.mark.parametrize("stream", [False, True])
def test_cloud_key_in_tool_arguments_is_redacted(client, stream):
    request = dict(model=MODEL, messages=[{"role": "user", "content": "weather leak-key"}], tools=[WEATHER])
    if stream:
        _, calls, finish, extras, _ = collect(client.chat.completions.create(stream=True, **request))
        arguments = calls[0]["arguments"]
    else:
        completion = client.chat.completions.create(**request)
        finish = completion.choices[0].finish_reason
        arguments = completion.choices[0].message.tool_calls[0].function.arguments
        extras = completion.model_extra
    assert finish == "tool_calls"
    assert "AKIAIOSFODNN7EXAMPLE" not in arguments
    assert json.loads(arguments)["token"].startswith("[")
    verdicts = extras["cleargate_moderation"]["verdicts"]
    assert any(v["direction"] == "output" and v["action"] == "redact" and v.get("field") == "tool_calls[0].arguments"
               for v in verdicts)


@pytest.mark.parametrize("stream", [False, True])
def test_private_key_in_tool_arguments_stops_the_response(client, stream):
    request = dict(model=MODEL, messages=[{"role": "user", "content": "weather leak-pem"}], tools=[WEATHER])
    if stream:
        _, calls, finish, extras, _ = collect(client.chat.completions.create(stream=True, **request))
        arguments = "".join(c["arguments"] for c in calls)
    else:
        completion = client.chat.completions.create(**request)
        finish = completion.choices[0].finish_reason
        arguments = "".join(c.function.arguments for c in completion.choices[0].message.tool_calls or [])
        extras = completion.model_extra
    assert finish == "content_filter"
    assert "PRIVATE KEY" not in arguments and "MIIEow" not in arguments
    assert extras["cleargate_moderation"]["blocked"] is True


def test_secret_in_a_tool_result_is_refused(client):
    messages = [
        {"role": "user", "content": "read the config"},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": "aws key AKIAIOSFODNN7EXAMPLE"},
    ]
    with pytest.raises(openai.BadRequestError) as error:
        client.chat.completions.create(model=MODEL, messages=messages, tools=[WEATHER])
    assert error.value.body["code"] == "content_filter"
    assert "AKIAIOSFODNN7EXAMPLE" not in json.dumps(error.value.body)


def test_secret_in_earlier_tool_call_arguments_is_refused(client):
    messages = [
        {"role": "user", "content": "deploy"},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_1", "type": "function",
             "function": {"name": "get_weather", "arguments": "{\"key\": \"AKIAIOSFODNN7EXAMPLE\"}"}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": "done"},
    ]
    with pytest.raises(openai.BadRequestError) as error:
        client.chat.completions.create(model=MODEL, messages=messages, tools=[WEATHER])
    assert error.value.body["code"] == "content_filter"


@pytest.mark.parametrize("tools, param", [
    ([{"type": "function", "function": {"name": "bad name!"}}], "tools[0].function.name"),
    ([{"type": "retrieval"}], "tools[0].type"),
    ([{"type": "function"}], "tools[0].function"),
    ([WEATHER, WEATHER], "tools[1].function.name"),
    ([{"type": "function", "function": {"name": "deep", "parameters": json.loads("{\"a\":" * 40 + "1" + "}" * 40)}}],
     "tools[0].function.parameters"),
    ([{"type": "function", "function": {"name": "big", "parameters": {"type": "object", "description": "x" * 40000}}}],
     "tools[0].function.parameters"),
])
def test_malformed_tool_definitions_are_refused_naming_the_field(client, tools, param):
    with pytest.raises(openai.BadRequestError) as error:
        client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "x"}], tools=tools)
    assert error.value.status_code == 400
    assert error.value.body["param"] == param


def test_deeply_nested_tool_call_arguments_are_refused(client):
    messages = [
        {"role": "user", "content": "x"},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "get_weather", "arguments": "[" * 50 + "]" * 50}}]},
        {"role": "tool", "tool_call_id": "c1", "content": "ok"},
    ]
    with pytest.raises(openai.BadRequestError) as error:
        client.chat.completions.create(model=MODEL, messages=messages, tools=[WEATHER])
    assert error.value.body["param"] == "messages[1].tool_calls[0].function.arguments"


def test_tool_message_must_answer_an_earlier_call(client):
    with pytest.raises(openai.BadRequestError) as error:
        client.chat.completions.create(model=MODEL, messages=[
            {"role": "user", "content": "x"}, {"role": "tool", "tool_call_id": "nope", "content": "y"}])
    assert error.value.body["param"] == "messages[1].tool_call_id"


def test_tool_choice_must_name_an_offered_tool(client):
    with pytest.raises(openai.BadRequestError) as error:
        client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "x"}], tools=[WEATHER],
                                       tool_choice={"type": "function", "function": {"name": "other"}})
    assert error.value.body["param"] == "tool_choice.function.name"


@pytest.mark.parametrize("stream", [False, True])
def test_json_object_mode_is_passed_to_the_upstream(client, stream):
    request = dict(model=MODEL, messages=[{"role": "user", "content": "answer in JSON"}],
                   response_format={"type": "json_object"})
    if stream:
        text = collect(client.chat.completions.create(stream=True, **request))[0]
    else:
        text = client.chat.completions.create(**request).choices[0].message.content
    assert json.loads(text) == {"answer": "mock", "format": "json_object"}


def test_json_schema_mode_is_passed_to_the_upstream(client):
    completion = client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "answer"}],
        response_format={"type": "json_schema", "json_schema": {
            "name": "answer", "strict": True,
            "schema": {"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"]}}})
    assert json.loads(completion.choices[0].message.content)["format"] == "json_schema"


def test_unknown_response_format_is_refused(client):
    with pytest.raises(openai.BadRequestError) as error:
        client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "x"}],
                                       response_format={"type": "yaml"})
    assert error.value.body["param"] == "response_format.type"


@pytest.mark.parametrize("stream", [False, True])
def test_logprobs_are_returned(client, stream):
    request = dict(model=MODEL, messages=[{"role": "user", "content": "hello"}], logprobs=True, top_logprobs=2)
    if stream:
        text, _, _, _, entries = collect(client.chat.completions.create(stream=True, **request))
    else:
        completion = client.chat.completions.create(**request)
        text = completion.choices[0].message.content
        entries = completion.choices[0].logprobs.content
    assert entries and all(len(e.top_logprobs) == 2 for e in entries)
    assert "".join(e.token for e in entries) == text


def test_top_logprobs_without_logprobs_is_refused(client):
    with pytest.raises(openai.BadRequestError) as error:
        client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "x"}], top_logprobs=2)
    assert error.value.body["param"] == "top_logprobs"


def test_penalties_are_accepted_and_range_checked(client):
    completion = client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "x"}],
                                                presence_penalty=0.5, frequency_penalty=-0.5)
    assert completion.choices[0].message.content
    with pytest.raises(openai.BadRequestError) as error:
        client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "x"}], presence_penalty=3)
    assert error.value.body["param"] == "presence_penalty"


def test_logit_biases_are_accepted_and_range_checked(client):
    completion = client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "x"}],
                                                logit_bias={"94": 50, "1": -100})
    assert completion.choices[0].message.content
    with pytest.raises(openai.BadRequestError) as error:
        client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "x"}],
                                       logit_bias={"94": 150})
    assert error.value.body["param"] == "logit_bias"


EMBED = os.environ.get("CLEARGATE_EMBEDDING_MODEL", "mock-embed")


def test_embeddings_are_returned_as_floats_and_as_base64(client):
    floats = client.embeddings.create(model=EMBED, input=["first text", "second text"], encoding_format="float")
    assert [d.index for d in floats.data] == [0, 1]
    assert all(len(d.embedding) == 8 for d in floats.data)
    assert floats.data[0].embedding != floats.data[1].embedding
    assert floats.usage.prompt_tokens > 0
    # The SDK asks for base64 by default and decodes it: the same vectors must come back.
    default = client.embeddings.create(model=EMBED, input=["first text", "second text"])
    for a, b in zip(floats.data, default.data):
        assert a.embedding == pytest.approx(b.embedding, abs=1e-6)


def test_embeddings_of_a_single_string(client):
    one = client.embeddings.create(model=EMBED, input="just one")
    assert len(one.data) == 1 and one.model == EMBED


def test_chat_model_refuses_embeddings_with_a_clear_error(client):
    with pytest.raises(openai.BadRequestError) as error:
        client.embeddings.create(model=MODEL, input="x")
    assert error.value.body["param"] == "model"


def test_unknown_embedding_model_is_not_found(client):
    with pytest.raises(openai.NotFoundError) as error:
        client.embeddings.create(model="no-such-embedder", input="x")
    assert error.value.body["code"] == "model_not_found"


def test_secret_in_embedding_input_is_refused(client):
    with pytest.raises(openai.BadRequestError) as error:
        client.embeddings.create(model=EMBED, input=["fine", "key AKIAIOSFODNN7EXAMPLE"])
    assert error.value.body["code"] == "content_filter"


def test_token_id_inputs_are_refused_because_they_cannot_be_moderated(client):
    with pytest.raises(openai.BadRequestError) as error:
        client.embeddings.create(model=EMBED, input=[[1, 2, 3]])
    assert error.value.body["param"] == "input"


def test_several_choices_come_back_with_their_indexes(client):
    completion = client.chat.completions.create(model=MODEL, n=2, messages=[{"role": "user", "content": "hello"}])
    assert [c.index for c in completion.choices] == [0, 1]
    assert all(c.message.content for c in completion.choices)
    assert all(c.finish_reason == "stop" for c in completion.choices)


def test_several_streamed_choices_each_end_with_their_own_finish_reason(client):
    texts, finishes = {}, {}
    for chunk in client.chat.completions.create(model=MODEL, n=2, stream=True,
                                                messages=[{"role": "user", "content": "hello"}]):
        for choice in chunk.choices:
            texts[choice.index] = texts.get(choice.index, "") + (choice.delta.content or "")
            if choice.finish_reason:
                assert choice.index not in finishes
                finishes[choice.index] = choice.finish_reason
    assert sorted(texts) == [0, 1]
    assert texts[0] and texts[0] == texts[1]
    assert finishes == {0: "stop", 1: "stop"}


def test_too_many_choices_are_refused_naming_n(client):
    with pytest.raises(openai.BadRequestError) as err:
        client.chat.completions.create(model=MODEL, n=9, messages=[{"role": "user", "content": "hello"}])
    assert err.value.body["param"] == "n"
