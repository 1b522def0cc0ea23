"""One Settings object: defaults < config.toml < environment MAGRAY_* < command-line flags.

`MAGRAY_HOME` (or `magray --home DIR`) puts data, config, cache and logs under one folder;
otherwise the platform's folders (platformdirs) are used.
"""

from __future__ import annotations

import difflib
import json
import os
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
)

from magray_tui.errors import MagrayError
from magray_tui.paths import ENV_PREFIX, Paths  # Paths: also imported from here
from magray_tui.regular_file import read_regular
from magray_tui.toml_text import parse_toml

MAX_CONFIG_BYTES = 4 * 1024 * 1024


class ConfigError(MagrayError):
    """A config file or variable that cannot be used; the message is one readable line."""


_NAMESPACE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class EmbeddingSettings(_Section):
    # int8 kernels built from the original weights; "all-minilm-l6-v2-int8" is the packaged one.
    model: str = Field("all-minilm-l6-v2-qint8", description="model id from `magray models list`")
    device: Literal["auto", "cpu", "cuda"] = "auto"
    batch_size: int = Field(32, ge=1, le=4096, description="texts per batch, at most")
    batch_tokens: int = Field(
        1024, ge=64, le=1 << 20, description="padded tokens per batch, at most (bounds memory)"
    )
    intra_op_threads: int = Field(
        0, ge=0, le=256, description="threads for every job; 0: decide by job (see below)"
    )
    batch_threads: int = Field(0, ge=0, le=256, description="ingest, import, reindex; 0: all cores")
    interactive_threads: int = Field(
        0, ge=0, le=256, description="the TUI and one-off commands; 0: all cores but one"
    )
    max_length: int = Field(256, ge=8, le=32768, description="tokens per text before truncation")
    cache_size: int = Field(20_000, ge=0, description="entries in the LRU embedding cache, at most")
    cache_mb: float = Field(32.0, ge=0, description="memory the embedding cache may hold, at most")
    # Not a setting: the job this process embeds for (ai.runtime.mark_batch_job).
    _job: str = "interactive"


class ResourceSettings(_Section):
    """What one magray process may take from a desktop it shares (docs/memory-footprint.md)."""

    duckdb_memory_mb: int = Field(
        256, ge=16, description="DuckDB's buffer pool, at most (DuckDB's own default: 80% of RAM)"
    )
    duckdb_threads: int = Field(0, ge=0, le=256, description="0: decide (half the cores, 1-4)")

    def duckdb_config(self) -> dict[str, Any]:
        """The `config` for `duckdb.connect`."""
        threads = self.duckdb_threads or min(4, max(1, (os.cpu_count() or 2) // 2))
        return {"memory_limit": f"{self.duckdb_memory_mb}MB", "threads": threads}


class StoreSettings(_Section):
    """Where the memory lives: empty `url` is this home's DuckDB file; a PostgreSQL URL puts
    records, vectors and history on a server shared by every magray pointing at it."""

    url: str = Field("", description="postgresql://user:pw@host/db; empty: this home's file")
    namespace: str = Field("magray", description="schema on the server keeping teams apart")
    connect_timeout_s: float = Field(5.0, gt=0, le=300, description="to reach the server")

    @field_validator("url")
    @classmethod
    def _check_url(cls, v: str) -> str:
        v = v.strip()
        if v and not v.startswith(("postgresql://", "postgres://")):
            raise ValueError("must start with postgresql:// (or be empty: the local store)")
        return v

    @field_validator("namespace")
    @classmethod
    def _check_namespace(cls, v: str) -> str:
        if not _NAMESPACE.match(v):
            raise ValueError("1-40 lowercase letters, digits or _, starting with a letter")
        return v


class MemorySettings(_Section):
    ttl_interact_hours: float = Field(24.0, gt=0)
    ttl_insights_days: float = Field(90.0, gt=0)
    tombstone_grace_days: float = Field(7.0, ge=0)
    hnsw_m: int = Field(16, ge=4, le=128)
    hnsw_ef_construction: int = Field(200, ge=16, le=2000)
    hnsw_ef_search: int = Field(64, ge=10, le=2000)
    rrf_k: int = Field(10, ge=1)
    keyword_weight: float = Field(1.25, ge=0, description="weight of the BM25 list in fusion")
    max_text_bytes: int = Field(1_000_000, ge=1_000, description="longer texts are truncated")
    superseded_penalty: float = Field(
        0.8, ge=0, le=1, description="search score factor of a record a newer one superseded"
    )


class PromotionSettings(_Section):
    """The default promotion policy: thresholds on a transparent score (see docs/promotion.md)."""

    to_insights: float = Field(0.5, ge=0, le=1, description="score to move Interact -> Insights")
    to_assets: float = Field(0.7, ge=0, le=1, description="score to move Insights -> Assets")
    keep_insights: float = Field(0.3, ge=0, le=1, description="below this, expired Insights go")
    min_hours_interact: float = Field(1.0, ge=0, description="time in Interact before a move")
    min_days_insights: float = Field(7.0, ge=0, description="time in Insights before a move")
    max_moves_per_day: int = Field(1, ge=1, description="policy moves of one record per day")
    merge_similarity: float = Field(
        0.95, gt=0, le=1, description="cosine at which a promotion with the same content merges"
    )
    supersede_similarity: float = Field(
        0.80, gt=0, le=1, description="cosine at which a promotion that changes a value supersedes"
    )
    learned_min_examples: int = Field(20, ge=4, description="user decisions before learning")
    cycle_minutes: float = Field(60.0, ge=1, description="how often the TUI runs a cycle")


class LLMSettings(_Section):
    """Owned by magray_tui.llm. API keys are never settings: they come from the environment."""

    model: str = Field("", description="litellm model, e.g. openai/gpt-4o-mini; empty: resolve")
    api_base: str = Field("", description="an OpenAI-compatible server URL (vLLM, LM Studio...)")
    fallbacks: list[str] = Field(default_factory=list, description="models tried in turn")
    timeout_s: float = Field(60.0, gt=0, description="per request")
    max_retries: int = Field(2, ge=0, le=10)
    temperature: float = Field(0.3, ge=0, le=2)
    max_tokens: int = Field(1024, ge=1)
    retry_backoff_s: float = Field(0.5, ge=0, description="first retry delay; doubles per retry")
    breaker_failures: int = Field(3, ge=1, description="failures in a row that pause a provider")
    breaker_cooldown_s: float = Field(30.0, ge=0, description="how long a provider is paused")
    tool_calling: Literal["auto", "on", "off"] = Field(
        "auto", description="send tools to the model; auto: where litellm or the server allows"
    )
    offline_model: bool = Field(True, description="use the embedded small model as last resort")
    offline_threads: int = Field(1, ge=1, le=64, description="CPU threads of the offline model")


class AgentSettings(_Section):
    """Owned by magray_tui.agent."""

    memory_budget_tokens: int = Field(1200, ge=0, description="memories put into a prompt")
    memory_top_k: int = Field(8, ge=0, le=100)
    history_budget_tokens: int = Field(3000, ge=0, description="earlier turns kept in a prompt")
    distil: bool = Field(True, description="distil stated facts into Insights in the background")


class ToolSettings(_Section):
    """Owned by magray_tui.tools."""

    workspace_roots: list[Path] = Field(
        default_factory=list, description="folders file tools may touch; empty: the cwd"
    )
    shell: bool = Field(False, description="allow the shell tool at all")
    shell_timeout_s: float = Field(20.0, gt=0)
    output_cap_bytes: int = Field(64_000, ge=1_000, description="tool output kept per call")
    policy: dict[str, Literal["allow", "ask", "deny"]] = Field(
        default_factory=dict, description='tool or "tool:glob" -> allow | ask | deny'
    )

    @field_validator("policy", mode="before")
    @classmethod
    def _lower_actions(cls, rules: Any) -> Any:
        if isinstance(rules, dict):
            return {k: v.strip().lower() if isinstance(v, str) else v for k, v in rules.items()}
        return rules

    @field_validator("policy")
    @classmethod
    def _check_policy_keys(cls, rules: dict[str, str]) -> dict[str, str]:
        # Checked here so a typo is a config error at start-up, not a surprise at a call.
        # The rules themselves are explained in docs/tools.md (magray_tui/tools/policy.py).
        for key in rules:
            tool, sep, glob = key.partition(":")
            if not tool.strip() or (sep and not glob):
                raise ValueError(f'policy key {key!r} must be "tool" or "tool:glob"')
        return rules


class MonitorSettings(_Section):
    """Owned by magray_tui.monitor."""

    gpu_interval_s: float = Field(1.0, ge=0.25, description="seconds between NVML samples")
    history_points: int = Field(300, ge=10, le=100_000, description="samples kept per metric")
    # Bar colours in the GPU pane (theme $warning / $error); shared with the Health checks.
    gpu_warn_pct: float = Field(75.0, ge=0, le=100, description="util/VRAM/power bar: warning")
    gpu_crit_pct: float = Field(95.0, ge=0, le=100, description="util/VRAM/power bar: error")
    gpu_warn_temp_c: float = Field(85.0, ge=0, le=150, description="temperature: warning")
    gpu_crit_temp_c: float = Field(92.0, ge=0, le=150, description="temperature: error")
    process_rss_warn_mb: float = Field(
        1024.0, ge=0, description="the Health pane warns when magray's RSS exceeds this; 0: never"
    )


_NAME = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
Action = Literal["allow", "ask", "deny"]


class McpServerSettings(_Section):
    """Owned by magray_tui.mcp: what `magray mcp` lets its clients do (docs/mcp.md)."""

    policy: dict[str, Action] = Field(
        default_factory=dict, description='tool or "*" -> allow | ask | deny, for every client'
    )
    clients: dict[str, dict[str, Action]] = Field(
        default_factory=dict, description="client name (its clientInfo.name) -> its own rules"
    )
    idle_release_s: float = Field(
        30.0, ge=0, description="close the home after this long without calls; 0: never"
    )
    ask_timeout_s: float = Field(
        120.0, gt=0, le=3600, description="wait this long for a person to answer an ask"
    )


class McpServerEntry(_Section):
    """One MCP server whose tools magray's agent may use, started over stdio."""

    command: str = Field(..., min_length=1, description="the program to start")
    args: list[str] = Field(default_factory=list)
    env: list[str] = Field(
        default_factory=list, description="names of environment variables passed to it"
    )
    enabled: bool = True
    timeout_s: float = Field(30.0, gt=0, le=3600, description="per tool call")
    startup_timeout_s: float = Field(15.0, gt=0, le=600, description="start and list its tools")

    @field_validator("env")
    @classmethod
    def _check_env_names(cls, names: list[str]) -> list[str]:
        for name in names:
            if not _ENV_NAME.match(name):
                raise ValueError(f"{name!r} is not an environment variable name")
        return names


class McpSettings(_Section):
    """Owned by magray_tui.mcp: magray as an MCP server and as a client of MCP servers."""

    server: McpServerSettings = Field(default_factory=McpServerSettings)
    servers: dict[str, McpServerEntry] = Field(default_factory=dict)

    @field_validator("servers")
    @classmethod
    def _check_server_names(cls, servers: dict[str, McpServerEntry]) -> dict[str, McpServerEntry]:
        # The name prefixes the tool names the model sees (`NAME__tool`), so it must fit
        # the function-name rules of OpenAI-style APIs: letters, digits, _ and -.
        for name in servers:
            if not _NAME.match(name) or "__" in name:
                raise ValueError(
                    f"server name {name!r} must be 1-40 letters, digits, _ or - (no '__')"
                )
        return servers


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        extra="forbid",
        validate_assignment=True,
    )

    home: Path | None = Field(None, description="one folder for data, config, cache and logs")
    models_dir: Path | None = Field(None, description="an extra folder of ONNX models")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    embedding: EmbeddingSettings = Field(default_factory=EmbeddingSettings)
    memory: MemorySettings = Field(default_factory=MemorySettings)
    resources: ResourceSettings = Field(default_factory=ResourceSettings)
    promotion: PromotionSettings = Field(default_factory=PromotionSettings)
    llm: LLMSettings = Field(default_factory=LLMSettings)
    agent: AgentSettings = Field(default_factory=AgentSettings)
    tools: ToolSettings = Field(default_factory=ToolSettings)
    monitor: MonitorSettings = Field(default_factory=MonitorSettings)
    mcp: McpSettings = Field(default_factory=McpSettings)
    store: StoreSettings = Field(default_factory=StoreSettings)
    # TUI key remaps: binding id -> key (see F1 in the app); applied by the TUI itself.
    keys: dict[str, str] = Field(default_factory=dict)

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, v: Any) -> Any:
        # `log_level = "debug"` and MAGRAY_LOG_LEVEL=debug mean what they say, like --log-level.
        return v.upper() if isinstance(v, str) else v

    @field_validator("home", "models_dir")
    @classmethod
    def _expand_user(cls, v: Path | None) -> Path | None:
        return v.expanduser() if v is not None else None

    # Not a setting: where the values came from, filled by `load_settings`.
    _paths: Paths | None = None
    _config_file: Path | None = None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # A bare Settings() is kwargs over env over defaults; `load_settings` adds the file.
        return (init_settings, env_settings)

    @property
    def paths(self) -> Paths:
        return self._paths or Paths.resolve(self.home)

    @property
    def config_file(self) -> Path:
        return self._config_file or self.paths.config_file


class _Unsourced(Settings):
    """Validates exactly the values it is given: no environment. Used to check one layer."""

    @classmethod
    def settings_customise_sources(
        cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource, **_: Any
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)


def _merge(low: dict[str, Any], high: dict[str, Any]) -> dict[str, Any]:
    """`high` over `low`, table by table, so one nested env value keeps its file siblings."""
    out = dict(low)
    for key, value in high.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _split_key(dotted: str) -> list[str]:
    return [part.strip().strip("\"'") for part in dotted.split(".")]


def _line_of(text: str, loc: tuple[Any, ...]) -> int | None:
    """Best-effort line number of a (dotted) key in TOML text, for error messages."""
    want = [str(p) for p in loc]
    table: list[str] = []
    for n, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        header = re.match(r"^\[\[?\s*([^\]]+?)\s*\]", stripped)
        if header:
            table = _split_key(header.group(1))
            if table == want:  # the whole table is the problem, e.g. `[embeding]`
                return n
            continue
        assign = re.match(r"^([A-Za-z0-9_\-\.\"' ]+?)\s*=", stripped)
        if assign:
            full = table + _split_key(assign.group(1))
            # A prefix match is an inline table (`embedding = {batch_size = "x"}`).
            if full == want[: len(full)]:
                return n
    return None


def _known_keys(loc: tuple[Any, ...]) -> list[str]:
    """Valid key names in the table holding `loc`, to suggest a fix for a typo."""
    model: Any = Settings
    for part in loc[:-1]:
        field = getattr(model, "model_fields", {}).get(str(part))
        if field is None:
            return []
        model = field.annotation
    return list(getattr(model, "model_fields", {}))


def _problem(err: ValidationError) -> tuple[tuple[Any, ...], str]:
    """The first problem as (location, readable message), plus a count of the others."""
    first = err.errors()[0]
    loc = tuple(first.get("loc", ()))
    if first.get("type") == "extra_forbidden":
        msg = "unknown key"
        close = difflib.get_close_matches(str(loc[-1]), _known_keys(loc), n=1) if loc else []
        if close:
            msg += f" (did you mean {close[0]!r}?)"
    else:
        msg = first.get("msg", "invalid value")
        value = first.get("input")
        if isinstance(value, str | int | float | bool):
            msg += f" (got {value!r})"
    more = len(err.errors()) - 1
    if more:
        msg += f" (and {more} more problem{'s' * (more > 1)})"
    return loc, msg


def _dotted(loc: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in loc) or "?"


def read_config_file(path: Path) -> dict[str, Any]:
    """Parse and validate config.toml alone; raise ConfigError naming file, line and key.

    A missing file is no error (all defaults). Relative paths in it are taken from its folder.
    """
    try:
        text = read_regular(path, max_bytes=MAX_CONFIG_BYTES).decode("utf-8")
    except FileNotFoundError:
        return {}
    except UnicodeDecodeError:
        raise ConfigError(f"config error in {path}: the file is not UTF-8 text") from None
    except IsADirectoryError:
        raise ConfigError(f"config error in {path}: this is a folder, not a file") from None
    except OSError as exc:
        raise ConfigError(f"config error in {path}: cannot read it: {exc.strerror}") from None
    data = parse_toml(text, path, ConfigError, prefix="config error in ")

    def fail(loc: tuple[Any, ...], msg: str) -> ConfigError:
        line = _line_of(text, loc) if loc else None
        where = f"{path}, line {line}" if line else str(path)
        return ConfigError(f"config error in {where}: {_dotted(loc)}: {msg}")

    if "home" in data:
        # home decides where this file is, so the file cannot move it; ignoring it silently
        # would leave the user's data somewhere they did not ask for.
        raise fail(("home",), "cannot be set in the config file; use MAGRAY_HOME or --home")
    try:
        # Validate the file on its own so a bad value is blamed on the file, not on env.
        _Unsourced(**data)
    except ValidationError as exc:
        raise fail(*_problem(exc)) from None
    if isinstance(data.get("models_dir"), str):
        # Relative to the file, not to wherever magray happens to be started from.
        data["models_dir"] = str(path.parent / Path(data["models_dir"]).expanduser())
    return data


def _read_env() -> dict[str, Any]:
    """The MAGRAY_* variables as nested settings values, not yet validated."""
    try:
        return EnvSettingsSource(Settings)()
    except RecursionError:
        raise ConfigError(
            f"config error in environment variables {ENV_PREFIX}*: a JSON value nested too deeply"
        ) from None
    except SettingsError as exc:
        # pydantic-settings names the field (e.g. "embedding"), not the variable.
        m = re.search(r'field "([^"]+)"', str(exc))
        name = _env_name((m.group(1),)) if m else f"{ENV_PREFIX}*"
        raise ConfigError(
            f"config error in environment variable {name}: not a valid JSON value"
        ) from None


def _env_name(loc: tuple[Any, ...]) -> str:
    return ENV_PREFIX + "__".join(str(p).upper() for p in loc)


def _env_culprit(loc: tuple[Any, ...]) -> str:
    """The set variable behind a bad value: MAGRAY_EMBEDDING__BATCH_SIZE, or a JSON parent."""
    present = {k.upper() for k in os.environ}
    for n in range(len(loc), 0, -1):
        if _env_name(loc[:n]) in present:
            return _env_name(loc[:n])
    return _env_name(loc)


def load_settings(home: Path | str | None = None, **flags: Any) -> Settings:
    """Build the Settings for this process. `flags` are command-line overrides (highest).

    Nested flags use dicts: `load_settings(embedding={"batch_size": 64})`. Each layer is
    validated on top of the ones below it, so an error names the layer that caused it.
    """
    home = home or os.environ.get(f"{ENV_PREFIX}HOME") or None
    paths = Paths.resolve(home)
    config_file = paths.config_file
    values = read_config_file(config_file)

    values = _merge(values, _read_env())
    try:
        _Unsourced(**values)
    except ValidationError as exc:
        loc, msg = _problem(exc)
        raise ConfigError(
            f"config error in environment variable {_env_culprit(loc)}: {msg}"
        ) from None

    values = _merge(values, {k: v for k, v in flags.items() if v is not None})
    if home:
        values["home"] = Path(home).expanduser().resolve()
    try:
        settings = Settings(**values)
    except ValidationError as exc:
        loc, msg = _problem(exc)
        raise ConfigError(f"config error in option {_dotted(loc)}: {msg}") from None
    settings._paths = paths
    settings._config_file = config_file
    return settings


DEFAULT_CONFIG = """\
# magray configuration. Precedence: defaults < this file < environment MAGRAY_* < flags.
# Environment names follow the keys: MAGRAY_EMBEDDING__BATCH_SIZE=64, MAGRAY_LOG_LEVEL=DEBUG.

# log_level = "INFO"
# models_dir = "/path/to/more/models"   # model.onnx + tokenizer.json; relative to this file

[embedding]
# model = "all-minilm-l6-v2-qint8"      # see `magray models list`
# device = "auto"                       # auto | cpu | cuda
# batch_size = 32                       # texts per batch, at most ...
# batch_tokens = 1024                   # ... and padded tokens per batch (bounds memory)
# intra_op_threads = 0                  # > 0: this many threads for every job
# batch_threads = 0                     # ingest, import, reindex; 0: all cores
# interactive_threads = 0               # the TUI and one-off commands; 0: all cores but one
# max_length = 256
# cache_size = 20000                    # embedding cache: entries, at most ...
# cache_mb = 32                         # ... and megabytes, at most

[resources]
# duckdb_memory_mb = 256                # DuckDB's buffer pool (its own default: 80% of RAM)
# duckdb_threads = 0                    # 0: half the cores, 1 to 4

[memory]
# ttl_interact_hours = 24
# ttl_insights_days = 90
# tombstone_grace_days = 7
# hnsw_ef_search = 64
# rrf_k = 10
# superseded_penalty = 0.8              # search score factor of a superseded memory

[promotion]
# to_insights = 0.5                     # score that moves Interact -> Insights
# to_assets = 0.7                       # score that moves Insights -> Assets
# keep_insights = 0.3                   # expired Insights below this are forgotten
# merge_similarity = 0.95               # cosine at which a promoted duplicate merges
# supersede_similarity = 0.80           # cosine at which a changed value supersedes
# cycle_minutes = 60

[llm]
# model = ""                            # e.g. "openai/gpt-4o-mini"; keys come from the environment
# api_base = ""                         # an OpenAI-compatible server, e.g. "http://127.0.0.1:8000/v1"
# fallbacks = []                        # tried in turn, e.g. ["groq/llama-3.1-8b-instant"];
#                                       # "model@http://host:port/v1" names its own server
# timeout_s = 60                        # per request, and the longest silence mid-stream
# max_retries = 2                       # before the first token only
# retry_backoff_s = 0.5
# temperature = 0.3
# max_tokens = 1024
# breaker_failures = 3                  # failures in a row that pause a provider ...
# breaker_cooldown_s = 30               # ... for this long
# tool_calling = "auto"                 # auto | on | off
# offline_model = true                  # the embedded small model when nothing else answers
# offline_threads = 1

[agent]
# memory_budget_tokens = 1200
# memory_top_k = 8
# distil = true

[tools]
# workspace_roots = []                  # folders file tools may touch; empty: the current folder
# shell = false                         # the shell tool (no shell syntax; asks before each run)
# shell_timeout_s = 20
# output_cap_bytes = 64000              # tool output kept per call

# [tools.policy]                        # allow | ask | deny per tool or "tool:glob" (docs/tools.md)
# "read_file:*.env" = "deny"
# "write_file:docs/*" = "allow"
# "shell:git status*" = "allow"

[monitor]
# gpu_interval_s = 1.0
# history_points = 300
# gpu_warn_pct = 75                     # GPU bars turn warning / error colour at these
# gpu_crit_pct = 95
# gpu_warn_temp_c = 85
# gpu_crit_temp_c = 92
# process_rss_warn_mb = 1024            # Health warns when magray holds more memory; 0: never

[mcp.server]                            # `magray mcp`: magray as an MCP server (docs/mcp.md)
# idle_release_s = 30                   # close the home after this long without calls
# ask_timeout_s = 120                   # an "ask" waits this long for the open TUI's answer
#
# What each client may do, allow | ask | deny per tool ("*": every tool), e.g.:
#   [mcp.server.policy]                 # every client
#   memory_update = "allow"
#   [mcp.server.clients.claude-code]    # one client, by the name it gives (clientInfo.name)
#   memory_forget = "allow"
#
# MCP servers whose tools magray's agent may use (offered as NAME__tool; policy "*" = ask):
#   [mcp.servers.files]
#   command = "npx"
#   args = ["-y", "@modelcontextprotocol/server-filesystem", "/home/me/notes"]
#   env = ["GITHUB_TOKEN"]              # names of variables passed on; nothing else is
#   enabled = true
#   timeout_s = 30                      # per call
#   startup_timeout_s = 15
"""


def init_config_file(path: Path) -> bool:
    """Write a commented default config if none exists. Returns True if written."""
    if path.exists():
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".toml.tmp")
    tmp.write_text(DEFAULT_CONFIG, encoding="utf-8")
    tmp.replace(path)
    return True


def settings_as_toml(settings: Settings) -> str:
    """The effective settings, as TOML text (for `magray config show`).

    `home` is left out: the file cannot set it, and pasting this output into config.toml
    must load.
    """

    def fmt(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, int | float):
            return repr(v)  # repr of inf/nan and of 1e-05 is valid TOML too
        if isinstance(v, list):
            return "[" + ", ".join(fmt(x) for x in v) + "]"
        # JSON escapes (\\, \", \n, \uXXXX) are all valid in a TOML basic string.
        return json.dumps(str(v), ensure_ascii=False)

    def key(k: str) -> str:
        return k if re.fullmatch(r"[A-Za-z0-9_-]+", k) else json.dumps(k, ensure_ascii=False)

    def table(prefix: str, values: dict[str, Any]) -> list[str]:
        lines = [
            f"{key(k)} = {fmt(v)}" for k, v in values.items() if not isinstance(v, dict | None)
        ]
        for k, v in values.items():
            if isinstance(v, dict):
                name = f"{prefix}.{key(k)}" if prefix else key(k)
                lines += ["", f"[{name}]", *table(name, v)]
        return lines

    data = settings.model_dump(mode="json", exclude={"home"})
    return "\n".join(table("", data)).lstrip("\n") + "\n"
