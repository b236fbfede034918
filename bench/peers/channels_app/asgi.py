"""``uvicorn channels_app.asgi:application``: Django for HTTP, the cable consumer for WebSockets."""

from __future__ import annotations

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "channels_app.settings")

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.core.asgi import get_asgi_application  # noqa: E402
from django.urls import path  # noqa: E402

http = get_asgi_application()

from .consumers import CableConsumer  # noqa: E402

application = ProtocolTypeRouter({"http": http, "websocket": URLRouter([path("cable", CableConsumer.as_asgi())])})
