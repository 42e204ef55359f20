"""The chat on the AI page against a scripted OpenAI-compatible server on a loopback port:
streamed as Server-Sent Events to the page's script, whole on a page without it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import StreamingResponse
from fastapi.testclient import TestClient

from api.app import create_app
from api.chat.config import load_chat_config
from api.chat.router import install_chat
from api.chat.service import ChatRuntime
from mirobody_assets.settings import Settings
from providers.registry import ProviderRegistry
from tests.support.live import free_port, serving
from tests.web.pages import Browser, web_api_settings

ANSWER = ["Your steps ", "look steady."]


def _chunk(delta: dict[str, str], finish: str | None = None) -> str:
    body = {
        "id": "c1",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": "fake",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return f"data: {json.dumps(body)}\n\n"


def fake_llm() -> FastAPI:
    """Answers every completion with ANSWER, streamed in two parts."""
    app = FastAPI()

    @app.post("/v1/chat/completions")
    async def complete(request: Request) -> StreamingResponse:
        await request.json()

        async def parts() -> AsyncIterator[str]:
            yield _chunk({"role": "assistant", "content": ""})
            for part in ANSWER:
                yield _chunk({"content": part})
            yield _chunk({}, "stop")
            yield "data: [DONE]\n\n"

        return StreamingResponse(parts(), media_type="text/event-stream")

    return app


@pytest.fixture(scope="module")
def chat_client(settings: Settings, registry: ProviderRegistry) -> Iterator[TestClient]:
    """An app whose chat has the scripted back end. One entered TestClient: one event loop
    for every request (the model client keeps its connections on the loop that made them)."""
    with serving(fake_llm(), free_port()) as llm:
        app = create_app(settings, api_settings=web_api_settings(), registry=registry)
        env = {
            "CHAT_BACKENDS": json.dumps(
                [
                    {
                        "name": "fake",
                        "base_url": f"{llm}/v1",
                        "api_key_env": "FAKE_KEY",
                        "model": "fake-model",
                        "context_window": 4096,
                        "timeout_s": 10,
                    }
                ]
            ),
            "FAKE_KEY": "k",
        }
        install_chat(app, ChatRuntime.from_config(load_chat_config(env, generate_titles=False)))
        with TestClient(app, follow_redirects=False) as client:
            yield client


def test_chat_streams_to_the_script_and_answers_on_a_page_without_it(
    chat_client: TestClient,
) -> None:
    browser = Browser(chat_client)
    browser.sign_up()
    page = browser.get("/app/ai").text
    assert 'id="chat-form"' in page and "not available" not in page

    token = browser.csrf("/app/ai")
    with browser.client.stream(
        "POST",
        "/app/ai/chat",
        data={"csrf_token": token, "message": "How are my steps?"},
        headers={"Accept": "text/event-stream"},
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        body = "".join(response.iter_text())
    events = [block.split("\n") for block in body.strip().split("\n\n")]
    names = [lines[0].removeprefix("event: ") for lines in events]
    assert names[0] == "session" and names[-1] == "message"
    deltas = [
        json.loads(lines[1].removeprefix("data: "))["text"]
        for lines in events
        if lines[0] == "event: delta"
    ]
    assert "".join(deltas) == "".join(ANSWER)

    whole = browser.submit("/app/ai", "/app/ai/chat", {"message": "And my sleep?"})
    assert whole.status_code == 200
    assert "Your steps look steady." in whole.text and "And my sleep?" in whole.text
    assert 'name="session_id" value="' in whole.text

    forged = browser.client.post(
        "/app/ai/chat",
        data={"csrf_token": "x", "message": "hi"},
        headers={"Accept": "text/event-stream"},
    )
    assert forged.status_code == 403
