"""Settings: defaults < ``autan.toml`` < ``AUTAN_*`` environment variables < explicit arguments.

Nested sections use ``__`` in environment variables, e.g. ``AUTAN_SANDBOX__BACKEND=bubblewrap``.
The TOML file is ``./autan.toml`` unless ``AUTAN_CONFIG`` names another one.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from autan.errors import ConfigError
from autan.settings_check import default_data_dir


class ModelSettings(BaseModel):
    """Which chat model plans, and how long it may take."""

    spec: str = "scripted:builtin"
    timeout_s: float = 120.0
    max_retries: int = 3
    temperature: float = 0.0
    max_new_tokens: int = 512
    constrained: bool = False
    force_calls: bool = True
    copy_bias: float = 2.0
    device: str = "auto"
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = "auto"
    quantization: Literal["none", "4bit", "8bit"] = "none"
    adapter: str | None = None
    tool_choice: Literal["auto", "any", "first", "once"] = "auto"
    seed: int | None = None


class PlannerSettings(BaseModel):
    """Budgets that keep the agent loop bounded."""

    max_steps: int = 12
    max_repairs: int = 2
    context_tokens: int = 8192
    max_tool_calls_per_turn: int = 8


class SandboxSettings(BaseModel):
    """How planner-written code is isolated."""

    backend: Literal["bubblewrap", "unsafe-host"] = "bubblewrap"
    timeout_s: float = 10.0
    cpu_s: int = 10
    memory_mb: int = 512
    max_processes: int = 64
    max_output_bytes: int = 1024 * 1024
    max_file_mb: int = 64
    idle_reap_s: float = 600.0
    workspace: Path | None = None
    max_open_files: int = 256
    scratch_mb: int = 256
    max_code_bytes: int = 1_000_000
    workspace_max_mb: int = 64
    python: Path | None = None
    python_paths: list[Path] = Field(default_factory=list)
    seccomp: bool = True
    run_as_uid: int = 65534


class WebSettings(BaseModel):
    """Network policy and search providers of the web tools."""

    user_agent: str = "autan/0.1 (+https://github.com/autan-ai/autan)"
    timeout_s: float = 20.0
    max_bytes: int = 5_000_000
    max_redirects: int = 5
    respect_robots: bool = True
    cache_ttl_s: float = 3600.0
    per_host_concurrency: int = 2
    per_host_rate_per_s: float = 2.0
    search_provider: Literal["searxng", "brave", "tavily", "none"] | None = None
    searxng_url: str | None = None
    brave_api_key: str | None = None
    tavily_api_key: str | None = None
    brave_url: str = "https://api.search.brave.com/res/v1/web/search"
    tavily_url: str = "https://api.tavily.com/search"
    search_results: int = 8
    connect_timeout_s: float = 5.0
    read_timeout_s: float = 10.0
    max_retries: int = 2
    retry_max_wait_s: float = 10.0
    max_text_chars: int = 20_000
    # Test only: 127.0.0.1 is reachable on these ports. A setting, never a tool argument.
    test_allow_loopback_ports: list[int] = Field(default_factory=list)


class FileToolSettings(BaseModel):
    """Limits of the workspace tools, and whether a model's edits wait for a human."""

    approve_edits: bool = True
    max_file_bytes: int = 10_000_000
    max_read_bytes: int = 100_000
    max_list: int = 1_000
    max_matches: int = 200
    max_line_chars: int = 300
    max_diff_bytes: int = 1_000_000
    grep_timeout_s: float = 10.0


class RetrievalSettings(BaseModel):
    """Where documents are indexed and how they are embedded."""

    backend: Literal["embedded", "qdrant"] = "embedded"
    collection: str = "docs"
    embedder: str = "minilm"
    qdrant_url: str | None = None
    qdrant_api_key: str | None = None
    qdrant_path: str | None = None  # qdrant-client local mode: a directory or ":memory:"
    chunk_tokens: int = 160
    chunk_overlap: int = 24
    embed_batch: int = 32
    model_cache: Path | None = None  # exported/quantised embedders; None: data_dir/models
    lock_timeout_s: float = 60.0  # how long to wait for another process using a collection


class GuardSettings(BaseModel):
    """Which guard policy runs, which of its layers are on, and where the audit log goes."""

    policy: Path | None = None
    audit: bool = True
    rails: bool = True  # false: no detection rail runs at any stage (the policy's stages)
    capabilities: bool = True  # false: the capability (information-flow) policy is off


class MemorySettings(BaseModel):
    """Durable state: checkpoints, sessions and long-term memory."""

    checkpoint_url: str | None = None
    user: str = "default"
    recall_k: int = 3
    auto_recall: bool = True
    embedder: str | None = None  # None: the retrieval embedder
    dedup_threshold: float = 0.92
    compact_at: float = 0.75  # summarise older turns past this share of planner.context_tokens


class ServerSettings(BaseModel):
    """``autan serve``: where it listens and what each API key may do."""

    host: str = "127.0.0.1"
    port: int = 8700
    require_keys: bool = False  # always true when host is not a loopback address
    rate_per_min: float = 600.0  # requests per minute and key (a token bucket)
    burst: int = 120
    max_body_bytes: int = 1_000_000
    max_upload_bytes: int = 32_000_000
    cors_origins: list[str] = Field(default_factory=list)  # empty: CORS off
    automations: Path | None = None  # folder of YAML automations the server may start


ToolEffectName = Literal["read_only", "local_write", "egress", "code"]
TrustName = Literal["user", "trusted", "untrusted"]


class CustomToolSettings(BaseModel):
    """A tool of the user's: ``module:attr`` naming a function, a LangChain tool or a factory."""

    model_config = ConfigDict(extra="forbid")
    target: str
    effect: ToolEffectName | None = None  # None: the tool's own declaration, else egress
    trust: TrustName | None = None  # None: the tool's own declaration, else untrusted
    args: dict[str, str] = Field(default_factory=dict)
    requires_approval: bool = False
    structure: list[str] | None = None  # result fields the platform sets (tools/fields.py)
    public_read: bool | None = None  # fetches public pages anonymously (tools/delegation.py)


class McpServerSettings(BaseModel):
    """An MCP server whose tools the planner may call, prefixed ``<name>__``."""

    model_config = ConfigDict(extra="forbid")
    command: list[str] | None = None  # stdio: the server process autan starts and stops
    url: str | None = None  # streamable HTTP
    env: dict[str, str] = Field(default_factory=dict)
    headers: dict[str, str] = Field(default_factory=dict)
    effect: ToolEffectName = "egress"
    requires_approval: bool = True
    timeout_s: float = Field(30.0, gt=0)
    startup_timeout_s: float = Field(15.0, gt=0)
    max_output_chars: int = Field(100_000, gt=0)
    include: list[str] | None = None  # only these tools of the server


class ToolSettings(BaseModel):
    """Tools beyond the built-ins: the user's own, and those of MCP servers."""

    model_config = ConfigDict(extra="forbid")
    custom: dict[str, str | CustomToolSettings] = Field(default_factory=dict)
    entry_points: bool = True  # load tools published under the ``autan.tools`` entry-point group
    mcp: dict[str, McpServerSettings] = Field(default_factory=dict)


class Settings(BaseSettings):
    """Every knob autan has, in one place."""

    model_config = SettingsConfigDict(
        env_prefix="AUTAN_",
        env_nested_delimiter="__",
        extra="ignore",  # unknown names draw a SettingsWarning (autan.settings_check)
        validate_default=True,
    )

    data_dir: Path = Field(default_factory=default_data_dir)
    workspace: Path = Field(default_factory=Path.cwd)
    model: ModelSettings = Field(default_factory=ModelSettings)
    planner: PlannerSettings = Field(default_factory=PlannerSettings)
    sandbox: SandboxSettings = Field(default_factory=SandboxSettings)
    web: WebSettings = Field(default_factory=WebSettings)
    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings)
    guards: GuardSettings = Field(default_factory=GuardSettings)
    memory: MemorySettings = Field(default_factory=MemorySettings)
    files: FileToolSettings = Field(default_factory=FileToolSettings)
    tools: ToolSettings = Field(default_factory=ToolSettings)
    requires_approval: list[str] = Field(default_factory=list)
    server: ServerSettings = Field(default_factory=ServerSettings)
    server_url: str | None = None  # AUTAN_SERVER_URL: the CLI talks to this server
    api_key: str | None = None  # AUTAN_API_KEY: the bearer key the CLI sends

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Explicit arguments win, then environment, then the TOML file."""
        toml_path = Path(os.environ.get("AUTAN_CONFIG", "autan.toml"))
        return (
            init_settings,
            env_settings,
            TomlConfigSettingsSource(settings_cls, toml_file=toml_path),
        )


def load_settings(**overrides: Any) -> Settings:
    """Build Settings, turning validation failures into one-line ``ConfigError``s.

    Unknown ``AUTAN_*`` variables and config keys warn (``SettingsWarning``) with the closest
    valid name; a missing ``AUTAN_CONFIG`` file, bad TOML and an unusable data dir are errors.
    """
    from pydantic_settings import SettingsError

    from autan.settings_check import check_data_dir, warn_unknown

    warn_unknown(Settings, os.environ)
    try:
        settings = Settings(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "settings"
        raise ConfigError(
            f"invalid setting {where}: {first['msg']}",
            hint="fix autan.toml or the AUTAN_* environment variable of that name",
        ) from None
    except SettingsError as exc:
        field = re.search(r'field "([^"]+)"', str(exc))
        name = f"AUTAN_{field.group(1).upper()}" if field else "an AUTAN_* variable"
        raise ConfigError(
            f"{name} is not valid JSON",
            hint="lists and tables take JSON in the environment, "
            """e.g. AUTAN_REQUIRES_APPROVAL='["python"]'""",
        ) from None
    except OSError as exc:
        raise ConfigError(f"cannot read settings file: {exc}", hint="check AUTAN_CONFIG") from None
    check_data_dir(settings.data_dir)
    return settings
