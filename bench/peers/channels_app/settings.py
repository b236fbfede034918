"""Minimal Django settings: no database, no sessions; Redis for state and the channel layer."""

from __future__ import annotations

import os

REDIS_URL = os.environ.get("PEER_REDIS_URL", "redis://127.0.0.1:6379/0")
PREFIX = os.environ.get("PEER_PREFIX", "bench-peer:")

SECRET_KEY = os.environ.get("PEER_SECRET", "bench-peer-secret-not-for-production")
DEBUG = False
ALLOWED_HOSTS = ["*"]
INSTALLED_APPS = ["channels"]
MIDDLEWARE: list[str] = []
ROOT_URLCONF = "channels_app.urls"
ASGI_APPLICATION = "channels_app.asgi.application"
DATABASES: dict = {}
USE_TZ = True
LOGGING_CONFIG = None
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
        "CONFIG": {"hosts": [REDIS_URL], "prefix": PREFIX + "asgi"},
    }
}
