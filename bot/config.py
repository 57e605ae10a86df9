"""Settings, read once from the environment at start-up. Nothing else reads os.environ."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every knob of the service; names are `TIENGDAN_<FIELD>` (see DESIGN.md)."""

    model_config = SettingsConfigDict(env_prefix="TIENGDAN_", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///./tiengdan.db"
    redis_url: str | None = None
    host: str = "127.0.0.1"
    port: int = 8080
    public_url: str | None = None
    media_dir: Path = Path("./media")
    default_locale: Literal["vi", "en"] = "vi"

    # Conversations
    session_timeout_minutes: int = 30
    draft_ttl_hours: int = 24
    dedupe_ttl_hours: int = 48
    max_text_chars: int = 4000
    max_media_bytes: int = 20 * 1024 * 1024
    consent_policy_version: str = "2025-07"

    # Telegram
    telegram_token: SecretStr | None = None
    telegram_secret: SecretStr | None = None
    telegram_api_url: str = "https://api.telegram.org"
    telegram_rate_per_second: float = 30.0
    telegram_per_chat_per_second: float = 1.0

    # Zalo OA
    zalo_app_id: str | None = None
    zalo_oa_secret: SecretStr | None = None
    zalo_app_secret: SecretStr | None = None
    zalo_access_token: SecretStr | None = None
    zalo_refresh_token: SecretStr | None = None
    zalo_api_url: str = "https://openapi.zalo.me"
    zalo_oauth_url: str = "https://oauth.zaloapp.com"
    zalo_signature_secret: Literal["oa", "app"] = "oa"
    # Zalo retries for ~2 h with the original timestamp; msg_id de-duplication stops replays.
    zalo_signature_max_age_seconds: int = 3 * 3600
    zalo_rate_per_second: float = 60.0
    zalo_broadcasts_per_month: int = 4
    zalo_paid_notifications: bool = True  # send notifications 48 h–7 days after contact (paid)
    zalo_paid_broadcasts: bool = False  # the same for broadcasts

    # NLU
    rasa_url: str | None = None
    rasa_timeout_seconds: float = 3.0
    nlu_model_dir: Path = Path("./nlu/models")
    nlu_fallback_threshold: float = 0.45

    # Outbox sender
    outbox_batch_size: int = 100
    outbox_max_attempts: int = 8
    outbox_poll_seconds: float = 1.0

    # Open311 GeoReport v2: keys allowed to POST requests (JSON list in the environment)
    open311_api_keys: list[SecretStr] = Field(default_factory=list)

    # Deadlines (working hours, Asia/Ho_Chi_Minh)
    timezone: str = "Asia/Ho_Chi_Minh"
    sla_ack_working_hours: float = 8.0
    sla_resolve_working_hours: float = 120.0
    sla_urgent_hours: float = 4.0
    sla_category_resolve_hours: dict[str, float] = Field(default_factory=dict)
    auto_close_resolved_days: int = 7  # resolved and no "fixed?" answer: closed after this; 0 = never

    def channel_enabled(self, name: str) -> bool:
        if name == "telegram":
            return self.telegram_token is not None
        if name == "zalo":
            return self.zalo_app_id is not None and self.zalo_access_token is not None
        return True
