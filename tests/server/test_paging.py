"""Paging through a user's meshes and batches: ``limit`` and the ``before`` cursor, on both backends."""

from __future__ import annotations

from support.clients import Api


async def pages(api: Api, path: str, key: str, **params: object) -> list[list[int]]:
    found, before = [], None
    while True:
        query = {**params, **({"before": before} if before else {})}
        response = await api.http.get(f"meshprogress/api/v1/{path}", params=query)
        assert response.status_code == 200, response.text
        body = response.json()
        found.append([record["id"] for record in body[key]])
        before = body["next_before"]
        if before is None:
            return found


async def test_pages_cover_every_job_once_newest_first(alice: Api, bob: Api) -> None:
    mine = [(await alice.create_mesh(name=f"page-{i}"))["id"] for i in range(7)]
    await bob.create_mesh(name="not alice's")
    listed = await pages(alice, "meshes", "meshes", limit=3)
    flat = [i for page in listed for i in page]
    assert all(len(page) <= 3 for page in listed) and len(flat) == len(set(flat))
    assert [i for i in flat if i in mine] == sorted(mine, reverse=True)
    assert flat == sorted(flat, reverse=True)

    batches = [(await alice.create_batch(["a.png"], name=f"b{i}"))["id"] for i in range(3)]
    listed = await pages(alice, "batches", "batches", limit=2)
    flat = [i for page in listed for i in page]
    assert [i for i in flat if i in batches] == sorted(batches, reverse=True)


async def test_bad_list_arguments_are_422(alice: Api) -> None:
    for params in (
        {"limit": 0},
        {"limit": 201},
        {"limit": "x"},
        {"before": "-1"},
        {"before": "0"},
        {"status": ""},
        {"status": "exploded"},
    ):
        response = await alice.http.get("meshprogress/api/v1/meshes", params=params)
        assert response.status_code == 422, (params, response.text)
        assert response.json()["field"] in params
    response = await alice.http.get("meshprogress/api/v1/batches", params={"limit": 101})
    assert response.status_code == 422
