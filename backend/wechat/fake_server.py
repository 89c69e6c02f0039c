"""A fake WeChat server for the embedded demo and the tests (wechat.md §10).

It behaves like WeChat where our code can tell: single-use codes (40163 on reuse, 40029 when unknown), stable_token,
getuserphonenumber with a watermark, subscribe sends that need a credit (43101) and check `thing` values (47003),
64-bit msgids above 2^53, and errmsg with a ` rid:` suffix. Control endpoints live under /__fake/, a prefix WeChat
never uses: mint login and phone codes, grant credits, read what was sent, inject failures.

Subscribe sends (issue 13): `send_delay` seconds per send (a slow WeChat, for the crash test); `long_term` template ids
need a standing grant in `grants` instead of a counted credit; `send_failures` fail only sends (45009 daily quota,
-1, 45011 …); every body received is kept in `payloads` (the PII scan reads it) and every accepted send leaves a
subscribe_msg_sent_event in `events`, which `drain_events()` hands over as WeChat would push them.
"""

import json
import secrets
import threading
import time

from flask import Flask, jsonify, request

RULES = {"thing": 20, "number": 32, "letter": 32, "phrase": 5, "name": 10}
SEND_FAILURES = {
    -1: "system error",
    45009: "reach max api daily quota limit",
    45011: "api minute-quota reach limit  mustslower  retry next minute",
    47003: "argument invalid! data.thing1.value is invalid",
    43101: "user refuse to accept the msg",
}


class FakeWechat:
    def __init__(self, appid="wxdemo0000000000", secret="demo-secret"):
        self.appid, self.secret = appid, secret
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        self.login_codes, self.phone_codes, self.used = {}, {}, set()
        self.tokens = {}  # token -> expires_at
        self.stable = None
        self.credits, self.sent, self.failures = {}, [], []
        self.send_failures, self.payloads, self.events = [], [], []
        self.long_term, self.grants = set(), set()  # long-term template ids; granted (openid, template id)
        self.send_delay = 0.0
        self.token_fetches = 0
        self.issued_session_keys = []

    # --- helpers ---
    @staticmethod
    def error(errcode, errmsg):
        rid = "-".join(secrets.token_hex(4) for _ in range(3))
        return {"errcode": errcode, "errmsg": f"{errmsg} rid: {rid}"}

    def drain_events(self):
        """The subscribe_msg_sent_event pushes WeChat owes us since the last drain."""
        with self.lock:
            events, self.events = self.events, []
        return events

    def sent_event(self, openid, template_id, msgid):
        return {
            "ToUserName": "gh_fake0000000",
            "FromUserName": openid,
            "CreateTime": int(time.time()),
            "MsgType": "event",
            "Event": "subscribe_msg_sent_event",
            "List": {"TemplateId": template_id, "MsgID": str(msgid), "ErrorCode": "0", "ErrorStatus": "success"},
        }

    def injected(self):
        with self.lock:
            return self.failures.pop(0) if self.failures else None

    def check_token(self):
        token = request.args.get("access_token")
        expires = self.tokens.get(token)
        if expires is None:
            return self.error(40001, "invalid credential, access_token is invalid or not latest")
        if expires < time.time():
            return self.error(42001, "access_token expired")
        return None

    def new_token(self):
        token = secrets.token_urlsafe(24)
        self.tokens[token] = time.time() + 7200
        return token

    def mint(self, store, value):
        code = secrets.token_hex(16)
        store[code] = (value, time.time())
        return code

    def take(self, store, code, ttl=300):
        if code in self.used:
            return None, self.error(40163, "code been used")
        item = store.get(code)
        if item is None or time.time() - item[1] > ttl:
            return None, self.error(40029, "invalid code")
        self.used.add(code)
        del store[code]
        return item[0], None


def create_fake_app(fake=None):
    fake = fake or FakeWechat()
    app = Flask("fake_wechat")
    app.extensions["fake_wechat"] = fake

    def body():
        return json.loads(request.get_data() or b"{}")  # wechatpy sends no Content-Type

    @app.before_request
    def _inject():
        if request.path.startswith("/__fake/"):
            return None
        failure = fake.injected()
        if failure == "stall":
            time.sleep(15)
        elif failure is not None:
            return jsonify(fake.error(failure, "system error" if failure == -1 else "api freq out of limit"))
        return None

    @app.get("/cgi-bin/token")
    def token():
        if request.args.get("appid") != fake.appid:
            return jsonify(fake.error(40013, "invalid appid"))
        if request.args.get("secret") != fake.secret:
            return jsonify(fake.error(40001, "invalid credential"))
        fake.token_fetches += 1
        return jsonify({"access_token": fake.new_token(), "expires_in": 7200})

    @app.post("/cgi-bin/stable_token")
    def stable_token():
        data = body()
        if data.get("appid") != fake.appid:
            return jsonify(fake.error(40013, "invalid appid"))
        if data.get("secret") != fake.secret:
            return jsonify(fake.error(40001, "invalid credential"))
        fake.token_fetches += 1
        with fake.lock:
            if data.get("force_refresh") or fake.stable is None or fake.tokens.get(fake.stable, 0) < time.time():
                fake.stable = fake.new_token()
            return jsonify({"access_token": fake.stable, "expires_in": int(fake.tokens[fake.stable] - time.time())})

    @app.get("/sns/jscode2session")
    def jscode2session():
        if request.args.get("appid") != fake.appid or request.args.get("secret") != fake.secret:
            return jsonify(fake.error(40013, "invalid appid"))
        with fake.lock:
            openid, err = fake.take(fake.login_codes, request.args.get("js_code"))
        if err:
            return jsonify(err)
        session_key = secrets.token_urlsafe(16)
        fake.issued_session_keys.append(session_key)
        return jsonify({"openid": openid, "session_key": session_key})

    @app.post("/wxa/business/getuserphonenumber")
    def phone_number():
        if err := fake.check_token():
            return jsonify(err)
        with fake.lock:
            phone, err = fake.take(fake.phone_codes, body().get("code"))
        if err:
            return jsonify(err)
        return jsonify(
            {
                "errcode": 0,
                "errmsg": "ok",
                "phone_info": {
                    "phoneNumber": phone,
                    "purePhoneNumber": phone,
                    "countryCode": "86",
                    "watermark": {"timestamp": int(time.time()), "appid": fake.appid},
                },
            }
        )

    @app.post("/cgi-bin/message/subscribe/send")
    def send():
        if err := fake.check_token():
            return jsonify(err)
        data = body()
        with fake.lock:
            fake.payloads.append(data)
            failure = fake.send_failures.pop(0) if fake.send_failures else None
        if fake.send_delay:
            time.sleep(fake.send_delay)
        if failure is not None:
            return jsonify(fake.error(failure, SEND_FAILURES.get(failure, "system error")))
        if not data.get("touser"):
            return jsonify(fake.error(40003, "invalid openid"))
        if not data.get("template_id"):
            return jsonify(fake.error(40037, "invalid template_id"))
        for key, value in (data.get("data") or {}).items():
            kind = key.rstrip("0123456789")
            text = str((value or {}).get("value", ""))
            if kind in RULES and (not text or len(text) > RULES[kind]):
                return jsonify(fake.error(47003, f"argument invalid! data.{key}.value is invalid"))
        key = (data["touser"], data["template_id"])
        with fake.lock:
            if data["template_id"] in fake.long_term:
                if key not in fake.grants:
                    return jsonify(fake.error(43101, "user refuse to accept the msg"))
            elif fake.credits.get(key, 0) <= 0:
                return jsonify(fake.error(43101, "user refuse to accept the msg"))
            else:
                fake.credits[key] -= 1
            msgid = (1 << 60) + secrets.randbelow(1 << 62)
            fake.sent.append({**data, "msgid": msgid})
            fake.events.append(fake.sent_event(data["touser"], data["template_id"], msgid))
        return jsonify({"errcode": 0, "errmsg": "ok", "msgid": msgid})

    # --- control endpoints (never WeChat's) ---
    @app.post("/__fake/login-code")
    def mint_login_code():
        openid = body().get("openid") or f"o{secrets.token_hex(12)}"
        with fake.lock:
            return jsonify({"code": fake.mint(fake.login_codes, openid), "openid": openid})

    @app.post("/__fake/phone-code")
    def mint_phone_code():
        with fake.lock:
            return jsonify({"code": fake.mint(fake.phone_codes, str(body()["phone"]))})

    @app.post("/__fake/credits")
    def grant_credits():
        data = body()
        count = int(data.get("count", 1))
        with fake.lock:
            if "openids" in data:  # bench/fanout.py: one credit each for many openids in one call
                for openid in data["openids"]:
                    key = (openid, data["template_id"])
                    fake.credits[key] = fake.credits.get(key, 0) + count
                return jsonify({"granted": len(data["openids"])})
            key = (data["openid"], data["template_id"])
            fake.credits[key] = fake.credits.get(key, 0) + count
            return jsonify({"credits": fake.credits[key]})

    @app.post("/__fake/send-options")
    def send_options():
        data = body()
        with fake.lock:
            fake.send_delay = float(data.get("delay", fake.send_delay))
            fake.long_term.update(data.get("long_term", []))
            fake.send_failures.extend(data.get("failures", []))
        return jsonify({"delay": fake.send_delay})

    @app.get("/__fake/events")
    def events():
        return jsonify(fake.drain_events())

    @app.post("/__fake/fail")
    def fail_next():
        data = body()
        with fake.lock:
            fake.failures.extend([data.get("errcode", -1)] * int(data.get("times", 1)))
        return jsonify({"queued": len(fake.failures)})

    @app.get("/__fake/sent")
    def sent():
        return jsonify(fake.sent)

    @app.post("/__fake/reset")
    def reset():
        fake.reset()
        return jsonify({})

    return app


def serve_in_thread(host="127.0.0.1", port=0, fake=None):
    """Start the fake on a thread; returns (server, base_url). server.shutdown() stops it."""
    from werkzeug.serving import make_server

    server = make_server(host, port, create_fake_app(fake), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://{host}:{server.server_port}/"
