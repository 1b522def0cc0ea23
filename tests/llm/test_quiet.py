"""Nothing on the terminal and no key in the log: litellm imported fresh in a subprocess,
a stream and two failures, with DEBUG logging on; plus the in-process redaction filter."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from magray_tui.llm.runtime import KeyRedactor, redact
from tests.llm.helpers import USER, run, text_of
from tests.llm_server import closed_port

SECRET = "sk-magraytest-" + "Zq8" * 12

SCRIPT = textwrap.dedent(
    """
    import sys
    from magray_tui.config import load_settings
    from magray_tui.logs import setup_logging
    from magray_tui.llm.client import LLMClient
    from magray_tui.llm.events import LLMError

    url, dead = sys.argv[1], sys.argv[2]
    settings = load_settings(log_level="DEBUG")
    setup_logging(settings)
    settings.llm.model = "openai/test-model"
    settings.llm.api_base = url
    settings.llm.offline_model = False
    settings.llm.max_retries = 0
    client = LLMClient(settings, local_servers=())
    hi = [{"role": "user", "content": "hi"}]
    text = "".join(getattr(e, "text", "") for e in client.stream(hi))
    failures = []
    try:
        list(client.stream([{"role": "user", "content": "hi"}]))  # scripted 401
    except LLMError as exc:
        failures.append(str(exc))
    settings.llm.api_base = dead
    try:
        list(LLMClient(settings, local_servers=()).stream([{"role": "user", "content": "hi"}]))
    except LLMError as exc:
        failures.append(str(exc))
    with open(sys.argv[3], "w") as out:
        out.write(text + "\\n" + "\\n".join(failures))
    """
)


def test_no_terminal_output_and_no_key_in_the_log(home: Path, llm_server, tmp_path):
    llm_server.text("quiet ", "reply")
    llm_server.error(401, f"Incorrect API key provided: {SECRET}")
    result_file = tmp_path / "result.txt"
    env = dict(os.environ, MAGRAY_HOME=str(home), OPENAI_API_KEY=SECRET, PYTHONPATH=os.getcwd())
    env.pop("LITELLM_LOG", None)
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, llm_server.url, f"http://127.0.0.1:{closed_port()}/v1",
         str(result_file)],
        env=env, capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout == "" and proc.stderr == ""

    text, auth, refused = result_file.read_text().splitlines()
    assert text == "quiet reply"
    assert "rejected the API key" in auth and SECRET not in auth
    assert "refused the connection" in refused
    # The key really went out (so the log had a chance to leak it)...
    assert llm_server.chat_requests[0].headers["Authorization"] == f"Bearer {SECRET}"
    # ...and the DEBUG log, which holds litellm's records, never has it.
    log_text = (home / "state" / "logs" / "magray.log").read_text()
    assert "LiteLLM" in log_text and "refused the connection" in log_text
    assert SECRET not in log_text


def test_capfd_stream_and_error_in_process(client, llm_server, capfd):
    llm_server.text("a", "b")
    llm_server.error(500, "x")
    llm_server.error(500, "x")
    llm_server.error(500, "x")
    events, error = run(client.stream(USER))
    assert text_of(events) == "ab" and error is None
    _, error = run(client.stream(USER))
    assert error is not None
    out, err = capfd.readouterr()
    assert out == "" and err == ""


def test_redaction_masks_env_keys_and_key_shapes(monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "ant-" + "k" * 30)
    text = f"key ant-{'k' * 30} and header Authorization: Bearer abcdefghijkl and sk-live12345678"
    clean = redact(text)
    assert "k" * 30 not in clean and "abcdefghijkl" not in clean and "sk-live" not in clean
    assert clean.count("***") == 3

    record = logging.LogRecord("LiteLLM", logging.ERROR, __file__, 1, "sent %s", (SECRET,), None)
    try:
        raise RuntimeError(f"request failed with {SECRET}")
    except RuntimeError:
        record.exc_info = sys.exc_info()
    KeyRedactor().filter(record)
    formatted = logging.Formatter().format(record)
    assert SECRET not in formatted and "request failed with ***" in formatted


def test_importing_the_client_loads_no_heavy_library():
    code = (
        "import sys, magray_tui.llm.client, magray_tui.llm.events;"
        "heavy = {'litellm', 'llama_cpp', 'tiktoken', 'openai'} & set(sys.modules);"
        "assert not heavy, heavy"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
