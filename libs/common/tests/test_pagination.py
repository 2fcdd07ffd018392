import base64
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel, ConfigDict
from sqlalchemy import DateTime, Integer, String, Uuid, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.pool import StaticPool

from wayfare_common.pagination import (
    MAX_LIMIT,
    Page,
    PageParams,
    PageParamsDep,
    decode_cursor,
    encode_cursor,
    paginate,
)
from wayfare_common.problems import Problem, install_problem_handlers


def test_cursor_round_trip():
    values = (
        "Zürich",
        42,
        -7,
        uuid.UUID("0b6f6c1e-6a8e-4f57-9a43-2f0c1d5e7a10"),
        datetime(2025, 6, 1, 10, 0, 0, 123456, tzinfo=UTC),
        datetime(2025, 6, 1, 10, 0),
        date(2025, 6, 1),
        Decimal("123.4500"),
    )
    cursor = encode_cursor(values)
    assert cursor.isascii() and "=" not in cursor and "/" not in cursor and "+" not in cursor
    decoded = decode_cursor(cursor)
    assert decoded == values
    assert [type(v) for v in decoded] == [type(v) for v in values]
    assert str(decoded[-1]) == "123.4500"


@pytest.mark.parametrize("value", [1.5, True, None, b"bytes"])
def test_cursor_refuses_values_it_cannot_bring_back(value):
    with pytest.raises(TypeError):
        encode_cursor([value])


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "not a cursor!",
        "%%%%",
        _b64(b"not json"),
        _b64(b'{"a": 1}'),
        _b64(b"7"),
        _b64(b"[1.5]"),
        _b64(b"[true]"),
        _b64(b"[null]"),
        _b64(b'[{"x": "1"}]'),
        _b64(b'[{"u": "not-a-uuid"}]'),
        _b64(b'[{"t": "yesterday"}]'),
        _b64(b'[{"d": "abc"}]'),
        _b64(b'[{"u": 5}]'),
        encode_cursor([1])[:-2] + "!!",
        "A" * 5000,
    ],
)
def test_garbage_or_tampered_cursor_is_a_400_problem(cursor):
    with pytest.raises(Problem) as caught:
        decode_cursor(cursor)
    assert caught.value.status == 400
    assert caught.value.code == "invalid_cursor"


def test_page_params_cap_and_floor():
    assert PageParams().limit == 20
    assert PageParams(limit=500).limit == MAX_LIMIT
    with pytest.raises(ValueError):
        PageParams(limit=0)


# Keyset pagination over a real (in-memory SQLite) table.


class Base(DeclarativeBase):
    pass


class Item(Base):
    __tablename__ = "items"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    # Deliberately not unique: the id breaks ties.
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    name: Mapped[str] = mapped_column(String(40), nullable=False)


T0 = datetime(2025, 1, 1, tzinfo=UTC)


@pytest.fixture
async def sessions():
    engine = create_async_engine("sqlite+aiosqlite://", poolclass=StaticPool)
    async with engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
    yield async_sessionmaker(engine, expire_on_commit=False)
    await engine.dispose()


async def add_items(sessions, positions) -> list[Item]:
    items = [
        Item(position=p, created_at=T0 + timedelta(minutes=p), name=f"item {p}") for p in positions
    ]
    async with sessions() as session, session.begin():
        session.add_all(items)
    return items


def key(item) -> tuple:
    return (item.position, item.id)


async def walk(session: AsyncSession, stmt, order_by, limit: int, **kwargs) -> list[list]:
    pages, cursor = [], None
    while True:
        page = await paginate(session, stmt, order_by, PageParams(limit, cursor), **kwargs)
        pages.append(page.data)
        if page.next_cursor is None:
            return pages
        cursor = page.next_cursor


@pytest.mark.parametrize("descending", [False, True])
async def test_walking_all_pages_yields_every_row_once_in_order(sessions, descending):
    # Duplicated positions, so that pages break inside a run of equal positions.
    await add_items(sessions, [p // 3 for p in range(50)])
    async with sessions() as session:
        order_by = [Item.position, Item.id]
        pages = await walk(session, select(Item), order_by, 7, descending=descending)
        expected = sorted((await session.scalars(select(Item))).all(), key=key, reverse=descending)
    assert [len(page) for page in pages] == [7] * 7 + [1]
    assert [key(item) for page in pages for item in page] == [key(item) for item in expected]


async def test_an_exact_multiple_of_the_limit_ends_with_a_null_cursor(sessions):
    await add_items(sessions, range(6))
    async with sessions() as session:
        pages = await walk(session, select(Item), [Item.position, Item.id], 3)
    assert [len(page) for page in pages] == [3, 3]


async def test_inserts_during_the_walk_neither_repeat_nor_skip_rows(sessions):
    originals = await add_items(sessions, range(0, 100, 10))  # 0, 10, ..., 90
    order_by = [Item.created_at, Item.id]
    async with sessions() as session:
        first = await paginate(session, select(Item), order_by, PageParams(4))
    assert [item.position for item in first.data] == [0, 10, 20, 30]

    # Rows land before the cursor (already walked past) and after it.
    behind = await add_items(sessions, [5, 15, 25])
    ahead = await add_items(sessions, [35, 95])

    async with sessions() as session:
        cursor = first.next_cursor
        rest = []
        while cursor:
            page = await paginate(session, select(Item), order_by, PageParams(4, cursor))
            rest.extend(page.data)
            cursor = page.next_cursor

    seen = [item.id for item in first.data + rest]
    assert len(seen) == len(set(seen)), "a row came twice"
    assert {item.id for item in originals} <= set(seen), "a row was skipped"
    assert not {item.id for item in behind} & set(seen)
    assert {item.id for item in ahead} <= set(seen)
    positions = [item.position for item in first.data + rest]
    assert positions == [0, 10, 20, 30, 35, 40, 50, 60, 70, 80, 90, 95]


async def test_core_selects_page_rows(sessions):
    await add_items(sessions, range(5))
    table = Item.__table__
    async with sessions() as session:
        stmt = select(table.c.id, table.c.name, table.c.position)
        pages = await walk(session, stmt, [table.c.position, table.c.id], 2, descending=True)
    assert [row.name for page in pages for row in page] == [f"item {p}" for p in (4, 3, 2, 1, 0)]


async def test_existing_ordering_is_replaced(sessions):
    await add_items(sessions, range(5))
    async with sessions() as session:
        stmt = select(Item).order_by(Item.name.desc())
        page = await paginate(session, stmt, [Item.position, Item.id], PageParams(10))
    assert [item.position for item in page.data] == [0, 1, 2, 3, 4]


@pytest.mark.parametrize(
    "values",
    [
        (1,),  # too few values
        (1, uuid.uuid4(), 3),  # too many
        ("one", uuid.uuid4()),  # a str where the column is an int
        (1, "not a uuid"),
    ],
)
async def test_a_cursor_that_does_not_fit_the_list_is_a_400_problem(sessions, values):
    async with sessions() as session:
        with pytest.raises(Problem) as caught:
            await paginate(
                session,
                select(Item),
                [Item.position, Item.id],
                PageParams(5, encode_cursor(values)),
            )
    assert caught.value.code == "invalid_cursor"


# Through HTTP: the query parameters and the response shape.


class ItemOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str


@pytest.fixture
async def client(sessions):
    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/items")
    async def list_items(page: PageParamsDep) -> Page[ItemOut]:
        async with sessions() as session:
            result = await paginate(session, select(Item), [Item.position, Item.id], page)
        return result.map(ItemOut.model_validate)

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


async def test_http_default_limit_and_next_cursor(sessions, client):
    await add_items(sessions, range(25))
    first = await client.get("/items")
    assert first.status_code == 200
    body = first.json()
    assert set(body) == {"data", "next_cursor"}
    assert len(body["data"]) == 20 and set(body["data"][0]) == {"id", "name"}
    second = (await client.get("/items", params={"cursor": body["next_cursor"]})).json()
    assert [item["name"] for item in second["data"]] == [f"item {p}" for p in range(20, 25)]
    assert second["next_cursor"] is None


async def test_http_limit_is_capped_at_100(sessions, client):
    await add_items(sessions, range(120))
    body = (await client.get("/items", params={"limit": 1000})).json()
    assert len(body["data"]) == 100 and body["next_cursor"] is not None


@pytest.mark.parametrize("limit", ["0", "-1", "many"])
async def test_http_limit_below_one_is_a_422_problem(client, limit):
    response = await client.get("/items", params={"limit": limit})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "validation_error"
    assert response.json()["errors"][0]["field"] == "query.limit"


async def test_http_garbage_cursor_is_a_400_problem(client):
    response = await client.get("/items", params={"cursor": "garbage"})
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "invalid_cursor"


async def test_openapi_documents_the_parameters_and_the_page(client):
    spec = (await client.get("/openapi.json")).json()
    params = {p["name"]: p for p in spec["paths"]["/items"]["get"]["parameters"]}
    assert params["limit"]["schema"]["default"] == 20
    assert params["limit"]["schema"]["minimum"] == 1
    assert params["cursor"]["required"] is False
    page = spec["components"]["schemas"]["Page_ItemOut_"]
    assert set(page["properties"]) == {"data", "next_cursor"}
