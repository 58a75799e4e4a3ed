"""Web basics: security headers, rate limits, request size limits, safe redirects, clear errors."""

from __future__ import annotations

import io

from archive.models import ConsentLevel, Role
from tests.conftest import csrf_token, join_as_participant, sign_in_staff


def test_every_response_carries_security_headers(client):
    for path in ("/", "/join", "/staff/sign-in", "/no-such-page", "/api/health"):
        response = client.get(path)
        csp = response.headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert "geolocation=()" in response.headers["Permissions-Policy"]


def test_pages_load_nothing_from_other_sites(client):
    for path in ("/", "/join", "/staff/sign-in"):
        html = client.get(path).text
        assert "http://" not in html.replace("http://www.w3.org/2000/svg", "") and "https://" not in html
        assert "<script>" not in html  # no inline scripts: the CSP would block them anyway


def test_sign_in_is_rate_limited(app, client, make):
    app.config["RATELIMIT_ENABLED"] = True
    from archive.web.extensions import limiter

    limiter.reset()
    user = make.staff(make.programme(), Role.FACILITATOR)
    statuses = [sign_in_staff(client, user.email, "wrong password!!").status_code for _ in range(11)]
    assert statuses[:10] == [400] * 10 and statuses[10] == 429
    assert "Too many tries" in sign_in_staff(client, user.email).text
    limiter.reset()


def test_unknown_and_known_emails_get_the_same_answer(client, make):
    user = make.staff(make.programme(), Role.FACILITATOR)
    known = sign_in_staff(client, user.email, "not the password")
    unknown = sign_in_staff(client, "nobody@example.org", "not the password")
    assert known.status_code == unknown.status_code == 400
    assert "email address or password is not right" in known.text and "email address or password is not right" in unknown.text


def test_sign_in_redirects_only_to_local_paths(client, make):
    user = make.staff(make.programme(), Role.FACILITATOR)
    page = client.get("/staff/sign-in")
    for target, expected in (("https://evil.example/", "/staff/"), ("//evil.example", "/staff/"), ("/staff/", "/staff/")):
        client.post("/staff/sign-out")
        response = client.post(f"/staff/sign-in?next={target}",
                               data={"email": user.email, "password": "correct horse battery staple",
                                     "csrf_token": csrf_token(page.text)})
        assert response.status_code == 302 and response.headers["Location"] == expected


def test_oversized_requests_are_refused_before_anything_is_stored(app, client, make, services):
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024
    session = make.session(make.programme())
    join_as_participant(client, session.join_code, alias="Big File")
    page = client.get("/share/photo")
    response = client.post("/share/photo", data={
        "csrf_token": csrf_token(page.text), "upload_id": "abcdefgh12345678",
        "media": (io.BytesIO(b"\xff\xd8" + b"0" * 200_000), "huge.jpg"),
    }, content_type="multipart/form-data")
    assert response.status_code == 413 and "too big" in response.text
    assert not [p for p in services.settings.media_dir.rglob("*") if p.is_file()]


def test_too_many_form_parts_are_refused(client, make):
    session = make.session(make.programme())
    join_as_participant(client, session.join_code, alias="Many Parts")
    data = {f"field{i}": "x" for i in range(500)}
    assert client.post("/consent", data=data, content_type="multipart/form-data").status_code == 413


def test_restricted_media_are_not_cached_and_unknown_ids_look_like_missing_ones(app, client, make, db, services):
    from archive.models import Derivative

    programme = make.programme()
    item = make.shared(ConsentLevel.TEAM, programme=programme, content=b"photo")
    stored = services.storage.put(f"{item.storage_prefix}derivatives/thumbnail", io.BytesIO(b"thumb bytes"))
    db.add(Derivative(artefact_id=item.id, kind="thumbnail", object_key=stored.key, sha256=stored.sha256,
                      size_bytes=stored.size, media_type="image/jpeg"))
    db.commit()
    sign_in_staff(client, make.staff(programme, Role.FACILITATOR).email)
    response = client.get(f"/media/{item.id}/thumbnail")
    assert response.status_code == 200 and response.data == b"thumb bytes"
    assert response.headers["Cache-Control"] == "private, no-store"
    other = app.test_client()
    assert other.get(f"/media/{item.id}/thumbnail").status_code == 404
    assert other.get("/media/00000000-0000-0000-0000-000000000000/thumbnail").status_code == 404
