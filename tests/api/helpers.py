"""Mini program helpers: mint codes on the fake WeChat server, log in, bind."""

from tests.helpers import ApiClient


def login_code(fake, openid):
    with fake.lock:
        return fake.mint(fake.login_codes, openid)


def phone_code(fake, phone):
    with fake.lock:
        return fake.mint(fake.phone_codes, phone)


def login(api_app, fake, openid="o-test-openid"):
    client = ApiClient(api_app)
    tokens = client.post("/v1/auth/login", json={"code": login_code(fake, openid)}, expect=200).get_json()
    client.token = tokens["access_token"]
    client.tokens = tokens
    return client


def bound_client(api_app, fake, veteran, openid=None):
    client = login(api_app, fake, openid or f"o-{veteran.id}")
    client.post(
        "/v1/auth/bind",
        json={"name": veteran.name, "id_number": veteran.id_number, "phone_code": phone_code(fake, veteran.phone)},
        expect=200,
    )
    return client
