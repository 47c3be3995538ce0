"""The official openai Python SDK is the compatibility contract: it must parse everything we send.

Runs against a packaged gateway started by `bin/cleargate test` (CLEARGATE_URL, CLEARGATE_KEY).
"""
import os

import openai
import pytest

BASE = os.environ["CLEARGATE_URL"].rstrip("/") + "/v1"
KEY = os.environ.get("CLEARGATE_KEY", "no-key-needed-without-identity")
MODEL = os.environ.get("CLEARGATE_MODEL", "mock")


@pytest.fixture
def client():
    return openai.OpenAI(base_url=BASE, api_key=KEY, max_retries=0, timeout=60)


def test_non_streaming_completion_is_parsed(client):
    completion = client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "hello"}], max_tokens=32)
    assert completion.object == "chat.completion"
    assert completion.choices[0].message.role == "assistant"
    assert completion.choices[0].message.content
    assert completion.choices[0].finish_reason in ("stop", "length")
    assert completion.usage.total_tokens >= completion.usage.completion_tokens > 0


def test_streaming_completion_yields_text_then_usage(client):
    stream = client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "hello"}], stream=True,
        stream_options={"include_usage": True})
    text, finish, usage = [], None, None
    for chunk in stream:
        if chunk.usage is not None:
            usage = chunk.usage
        for choice in chunk.choices:
            if choice.delta.content:
                text.append(choice.delta.content)
            if choice.finish_reason:
                finish = choice.finish_reason
    assert "".join(text)
    assert finish in ("stop", "length")
    assert usage is not None and usage.completion_tokens > 0


def test_raw_response_carries_request_id(client):
    raw = client.chat.completions.with_raw_response.create(
        model=MODEL, messages=[{"role": "user", "content": "hi"}])
    assert raw.headers.get("x-request-id")
    assert raw.parse().choices[0].message.content


def test_unsupported_option_raises_bad_request(client):
    with pytest.raises(openai.BadRequestError) as error:
        client.chat.completions.create(model=MODEL, prediction={"type": "content", "content": "x"},
                                       messages=[{"role": "user", "content": "x"}])
    assert error.value.status_code == 400
    assert error.value.body["param"] == "prediction"


def test_unknown_model_raises_not_found(client):
    with pytest.raises(openai.NotFoundError) as error:
        client.chat.completions.create(model="no-such-model", messages=[{"role": "user", "content": "x"}])
    assert error.value.body["code"] == "model_not_found"


def test_models_are_listed_and_retrieved(client):
    ids = [m.id for m in client.models.list()]
    assert MODEL in ids
    assert client.models.retrieve(MODEL).id == MODEL
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("no-such-model")


def test_secret_in_prompt_raises_bad_request_with_content_filter_code(client):
    with pytest.raises(openai.BadRequestError) as error:
        client.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": "my key is AKIAIOSFODNN7EXAMPLE"}])
    assert error.value.body["code"] == "content_filter"
    assert "AKIAIOSFODNN7EXAMPLE" not in str(error.value.body)


def test_bad_key_raises_authentication_error():
    bad = openai.OpenAI(base_url=BASE, api_key="cg_00000000_" + "ab" * 32, max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        bad.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "x"}])
