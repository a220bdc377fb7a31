"""Signed status links (`ingress.links`) and how the ingress answers them (`ingress.link_access`):
a link opens one order's page until it expires; an altered, other order's, expired or missing
token is 403 saying which; no secret on the server is 503 for links (never open), while the
bearer tokens still work for the event stream. The HTTP checks run in process (no Temporal
needed: credentials are checked before the run is asked)."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from ingress import links
from ingress.app import create_app
from ingress.settings import IngressSettings

SECRET = "test-status-secret"
NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def token(order_id: str = "ORD-1", expires: datetime = NOW + HOUR, secret: str = SECRET) -> str:
    return links.make_token(secret, order_id, expires)


def tampered(good: str) -> str:
    """The same token with the last character of its signature changed."""
    return good[:-1] + ("A" if good[-1] != "A" else "B")


def test_a_fresh_link_opens_its_order_until_it_expires() -> None:
    expires = links.check_token(SECRET, "ORD-1", token(), NOW)
    assert expires == NOW + HOUR
    assert links.check_token(SECRET, "ORD-1", token(), NOW + HOUR - timedelta(seconds=1))


@pytest.mark.parametrize(
    ("given", "order_id", "now", "says"),
    [
        pytest.param(token(), "ORD-1", NOW + HOUR, "expired", id="expired-at-its-end"),
        pytest.param(token(), "ORD-1", NOW + 2 * HOUR, "expired", id="expired"),
        pytest.param(token(), "ORD-2", NOW, "does not match", id="another-order"),
        pytest.param(token(secret="other"), "ORD-1", NOW, "does not match", id="other-secret"),
        # The expiry is signed: pushing it out breaks the signature.
        pytest.param(
            str(int((NOW + 99 * HOUR).timestamp())) + "." + token().partition(".")[2],
            "ORD-1", NOW + 2 * HOUR, "does not match", id="expiry-extended",
        ),
        pytest.param(tampered(token()), "ORD-1", NOW, "does not match", id="signature-altered"),
        pytest.param(token() + "é", "ORD-1", NOW, "does not match", id="non-ascii"),
        pytest.param("nodot", "ORD-1", NOW, "malformed", id="malformed"),
        pytest.param("-5.abc", "ORD-1", NOW, "malformed", id="negative"),
        pytest.param("", "ORD-1", NOW, "no token", id="empty"),
        pytest.param(None, "ORD-1", NOW, "no token", id="missing"),
    ],
)  # fmt: skip
def test_bad_tokens_are_refused_saying_why(
    given: str | None, order_id: str, now: datetime, says: str
) -> None:
    with pytest.raises(links.LinkError, match=says):
        links.check_token(SECRET, order_id, given, now)


def test_no_secret_signs_nothing() -> None:
    with pytest.raises(links.LinkError, match="no status-link secret"):
        links.make_token("", "ORD-1", NOW + HOUR)


def test_the_url_encodes_the_order_id_and_the_token() -> None:
    url = links.status_url("https://status.example.com/", "ORD 1/x", "123.ab-_")
    assert url == "https://status.example.com/status/ORD%201%2Fx?token=123.ab-_"


# ------------------------------------------------------------------------ answers, in process
def settings(**overrides: object) -> IngressSettings:
    values: dict[str, object] = {
        "status_link_secret": SECRET,
        "backend_token": "backend",
        "operator_token": "operator",
    }
    values.update(overrides)
    return IngressSettings.model_validate(values)


async def client_for(app_settings: IngressSettings) -> AsyncIterator[httpx.AsyncClient]:
    # No Temporal client and no lifespan: anything that gets past the credentials answers 503.
    app = create_app(app_settings)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://ingress") as http:
        yield http


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async for client in client_for(settings()):
        yield client


@pytest.fixture
async def http_without_secret() -> AsyncIterator[httpx.AsyncClient]:
    async for client in client_for(settings(status_link_secret="")):
        yield client


def live_token(order_id: str = "ORD-1", ttl: timedelta = HOUR) -> str:
    return links.make_token(SECRET, order_id, datetime.now(UTC) + ttl)


@pytest.mark.parametrize("path", ["/status/ORD-1", "/v1/upgrades/ORD-1/events"])
@pytest.mark.parametrize(
    ("make", "says"),
    [
        pytest.param(lambda: live_token(ttl=-HOUR), "expired", id="expired"),
        pytest.param(lambda: live_token("ORD-2"), "does not match", id="another-order"),
        pytest.param(lambda: tampered(live_token()), "does not match", id="tampered"),
        pytest.param(lambda: "", "no token", id="empty"),
    ],
)
async def test_bad_links_are_403_and_never_reach_the_run(
    http: httpx.AsyncClient, path: str, make: object, says: str
) -> None:
    assert callable(make)
    answer = await http.get(path, params={"token": make()})
    assert answer.status_code == 403, answer.text
    assert says in answer.text
    if path.startswith("/v1/"):
        assert answer.json()["type"] == "/problems/bad-link" and answer.json()["field"] == "token"
    else:
        assert answer.headers["content-type"].startswith("text/html")


async def test_a_good_link_gets_past_the_door(http: httpx.AsyncClient) -> None:
    # Then the run is asked: no Temporal here, so 503; the page says so without the server's
    # details (they are for its logs, not for a customer).
    stream = await http.get("/v1/upgrades/ORD-1/events", params={"token": live_token()})
    assert stream.status_code == 503 and "Temporal" in stream.text
    page = await http.get("/status/ORD-1", params={"token": live_token()})
    assert page.status_code == 503, page.text
    assert "The status cannot be read right now." in page.text and "Temporal" not in page.text


@pytest.mark.parametrize("path", ["/status/ORD-1", "/v1/upgrades/ORD-1/events"])
async def test_without_a_secret_links_are_closed(
    http_without_secret: httpx.AsyncClient, path: str
) -> None:
    answer = await http_without_secret.get(path, params={"token": live_token()})
    assert answer.status_code == 503, answer.text
    assert "UPGRADE_STATUS_LINK_SECRET is not set" in answer.text


async def test_the_event_stream_takes_the_bearer_tokens_too(
    http_without_secret: httpx.AsyncClient,
) -> None:
    path = "/v1/upgrades/ORD-1/events"
    missing = await http_without_secret.get(path)
    assert missing.status_code == 401
    wrong = await http_without_secret.get(path, headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    backend = await http_without_secret.get(path, headers={"Authorization": "Bearer backend"})
    assert backend.status_code == 503 and "Temporal" in backend.text  # past the door
