"""The worker callback and the bench's job set-up, as async Django views."""

from __future__ import annotations

import json
import time
import uuid

from channels.layers import get_channel_layer
from django.core import signing
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from . import store

SALT = "bench.peer.callback"


@csrf_exempt
async def jobs(request: HttpRequest) -> JsonResponse:
    n = int(request.GET.get("n", "1"))
    first = await store.redis().incrby(store.next_id_key(), n) - n + 1
    created = []
    async with store.redis().pipeline(transaction=False) as pipe:
        for mesh_id in range(first, first + n):
            job_id = uuid.uuid4().hex
            pipe.hset(
                store.key(mesh_id),
                mapping={
                    "job_id": job_id,
                    "status": "pending",
                    "progress": 0,
                    "message": "",
                    "version": 1,
                    "name": f"mesh-{mesh_id}",
                    "updated_at": time.time(),
                },
            )
            created.append(
                {
                    "mesh_id": mesh_id,
                    "job_id": job_id,
                    "token": signing.dumps({"mesh_id": mesh_id, "job_id": job_id}, salt=SALT),
                }
            )
        await pipe.execute()
    return JsonResponse({"jobs": created}, status=201)


@csrf_exempt
async def callback(request: HttpRequest) -> JsonResponse:
    try:
        claims = signing.loads(request.headers.get("X-Callback-Token", ""), salt=SALT, max_age=86400)
        data = json.loads(request.body)
    except (signing.BadSignature, ValueError):
        return JsonResponse({"error": "Invalid callback token"}, status=401)
    if data.get("job_id") != claims["job_id"]:
        return JsonResponse({"error": "Invalid callback token"}, status=401)
    mesh_id = claims["mesh_id"]
    redis = store.redis()
    fields = await redis.hgetall(store.key(mesh_id))
    if fields.get("job_id") != claims["job_id"]:
        return JsonResponse({"error": "Invalid callback token"}, status=401)
    progress = max(float(fields.get("progress") or 0), float(data.get("progress") or 0))
    fields.update(
        status="processing",
        progress=str(progress),
        message=str(data.get("message", "")),
        updated_at=str(time.time()),
        version=str(int(fields["version"]) + 1),
    )
    await redis.hset(store.key(mesh_id), mapping=fields)
    group = f"mesh_{mesh_id}"
    await get_channel_layer().group_send(
        group, {"type": "mesh.progress", "group": group, "payload": store.payload(mesh_id, fields)}
    )
    return JsonResponse({"status": "accepted", "job_id": data["job_id"], "applied": True}, status=202)
