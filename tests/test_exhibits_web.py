"""Exhibits through the web: the builder, the public pages, captions, the IIIF manifest and the offline zip."""

from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile

import pytest

from archive.erasure import withdraw_artefact
from archive.exhibits import publishing
from archive.models import ConsentLevel, Role
from archive.principal import SYSTEM
from tests.conftest import csrf_token, sign_in_staff
from tests.test_exhibits import Gallery


@pytest.fixture
def gallery(make, db, services, portrait):  # noqa: F811
    return Gallery(make, db, services, portrait)


@pytest.fixture
def published(db, gallery):
    exhibit = gallery.exhibit(items=[gallery.blurred, gallery.credited, gallery.voiced, gallery.silent])
    publishing.publish(db, gallery.facilitator, exhibit)
    db.commit()
    return exhibit


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _post(client, path: str, page: str, **data):
    return client.post(path, data={"csrf_token": csrf_token(client.get(page).text), **data})


def test_a_facilitator_builds_and_publishes_an_exhibit_with_clear_refusals(client, db, gallery):
    sign_in_staff(client, gallery.user.email)
    index = "/exhibits/manage/"
    programme = str(gallery.programme.id)
    created = _post(client, index, index, programme=programme, title="Summer voices", slug="summer-voices",
                    intro="What you told us")
    assert created.status_code == 302
    builder = created.headers["Location"]
    clash = _post(client, index, index, programme=programme, title="Again", slug="summer-voices")
    assert clash.status_code == 400 and "Another exhibit already uses the web address summer-voices" in clash.text

    # The picker lists only what may be shown in public.
    page = client.get(builder).text
    assert "Our street" in page and "The park" in page
    for hidden in ("Only for reports", "Not reviewed", "Team only"):
        assert hidden not in page
    refused = _post(client, f"{builder}/items", builder, artefact_id=str(gallery.report_only.id))
    assert refused.status_code == 400 and "cannot be shown in public" in refused.text

    assert _post(client, f"{builder}/publish", builder).text.count("Add at least one item") == 1
    assert _post(client, f"{builder}/items", builder, artefact_id=str(gallery.blurred.id)).status_code == 302
    no_alt = _post(client, f"{builder}/publish", builder)
    assert no_alt.status_code == 400
    assert "Describe the picture in Our street for people who cannot see it" in no_alt.text
    item_id = re.search(r'id="item-(\d+)-alt"', no_alt.text).group(1)
    assert f'href="#item-{item_id}-alt"' in no_alt.text
    long = _post(client, f"{builder}/items/{item_id}", builder, alt_text="A street", caption="x" * 500)
    assert long.status_code == 400 and "The caption must be 280 characters or fewer" in long.text
    assert client.get("/exhibits/summer-voices").status_code == 404  # nothing public before publishing

    saved = _post(client, f"{builder}/items/{item_id}", builder, alt_text="Terraced houses on a wet street",
                  caption="Where I walk to school")
    assert saved.status_code == 302
    assert _post(client, f"{builder}/publish", builder).status_code == 302
    client.post("/staff/sign-out")

    public = client.get("/exhibits/summer-voices")
    assert public.status_code == 200 and public.headers["Cache-Control"] == "no-store"
    assert 'alt="Terraced houses on a wet street"' in public.text and "Where I walk to school" in public.text


def test_other_programmes_staff_cannot_open_the_builder_or_a_draft(client, db, gallery):
    exhibit = gallery.exhibit(items=[gallery.blurred])
    stranger = gallery.make.staff(gallery.make.programme(), Role.FACILITATOR)
    sign_in_staff(client, stranger.email)
    assert client.get(f"/exhibits/manage/{exhibit.id}").status_code == 404
    assert client.get(f"/exhibits/manage/{exhibit.id}/preview").status_code == 404
    assert client.get(f"/exhibits/{exhibit.slug}").status_code == 404  # a draft is not public


def test_the_public_page_shows_credit_voice_and_faces_only_as_agreed(client, db, gallery, published):
    page = client.get(f"/exhibits/{published.slug}").text
    assert "By Kestrel" in page and page.count("By ") == 1
    assert "Jamie" not in page and "my friend [name] says" in page
    assert page.count("<audio") + page.count("<video") == 1  # only the voice note whose voice may be heard
    assert "chose not to have their voice heard in public" in page

    blurred = client.get(f"/exhibits/{published.slug}/media/{gallery.blurred.id}/web_image")
    assert blurred.status_code == 200 and sha(blurred.data) != gallery.original_photo.sha256
    credited = client.get(f"/exhibits/{published.slug}/media/{gallery.credited.id}/web_image")
    assert sha(credited.data) == gallery.original_photo.sha256  # the face may be shown
    assert client.get(f"/exhibits/{published.slug}/media/{gallery.silent.id}/proxy").status_code == 404
    assert client.get(f"/exhibits/{published.slug}/media/{gallery.report_only.id}/web_image").status_code == 404


def test_a_facilitator_on_the_public_page_gets_what_the_public_gets(client, db, gallery, published):
    sign_in_staff(client, gallery.user.email)
    for path in (f"/exhibits/{published.slug}/media/{gallery.blurred.id}/web_image",
                 f"/exhibits/manage/{published.id}/preview/media/{gallery.blurred.id}/web_image"):
        assert sha(client.get(path).data) != gallery.original_photo.sha256
    preview = client.get(f"/exhibits/manage/{published.id}/preview").text
    assert "exactly as the public will see it" in preview and "Jamie" not in preview


def test_captions_come_from_the_shareable_transcript_and_only_for_live_items(client, db, gallery, published):
    captions = client.get(f"/exhibits/{published.slug}/captions/{gallery.voiced.id}.vtt")
    assert captions.status_code == 200 and captions.mimetype == "text/vtt"
    assert captions.text.startswith("WEBVTT") and "[name]" in captions.text and "Jamie" not in captions.text
    assert client.get(f"/exhibits/{published.slug}/captions/{gallery.silent.id}.vtt").status_code == 404
    assert client.get(f"/exhibits/{published.slug}/captions/not-an-id.vtt").status_code == 404
    publishing.unpublish(db, gallery.facilitator, published)
    db.commit()
    assert client.get(f"/exhibits/{published.slug}/captions/{gallery.voiced.id}.vtt").status_code == 404


def test_a_withdrawal_leaves_the_exhibit_at_once_and_the_team_is_told(client, db, gallery, published):
    withdraw_artefact(db, SYSTEM, gallery.blurred)
    db.commit()
    page = client.get(f"/exhibits/{published.slug}")
    assert page.status_code == 200 and "Our street" not in page.text and "Me at the park" in page.text
    assert client.get(f"/exhibits/{published.slug}/media/{gallery.blurred.id}/web_image").status_code == 404
    sign_in_staff(client, gallery.user.email)
    builder = client.get(f"/exhibits/manage/{published.id}").text
    assert "What changed since it was published" in builder
    assert f"{str(gallery.blurred.id)[:8]}</span>: The person who shared it took it back." in builder


def test_the_kiosk_is_a_plain_sequence_of_pages_without_javascript(client, db, gallery, published):
    first = client.get(f"/exhibits/{published.slug}/kiosk")
    assert first.status_code == 200 and "1 of 4" in first.text
    assert f'href="/exhibits/{published.slug}/kiosk/2" rel="next"' in first.text
    assert f'href="/exhibits/{published.slug}/kiosk/4" rel="prev"' in first.text  # it wraps round
    assert 'data-chorus-kiosk-pause' in first.text and 'src="/static/exhibit.js"' in first.text
    paced = client.get(f"/exhibits/{published.slug}/kiosk/2?seconds=5").text
    assert 'data-seconds="5"' in paced and f"/exhibits/{published.slug}/kiosk/3?seconds=5" in paced
    gone = client.get(f"/exhibits/{published.slug}/kiosk/9")
    assert gone.status_code == 302 and gone.headers["Location"].endswith(f"/exhibits/{published.slug}/kiosk")


def test_the_iiif_manifest_loads_back_with_canvases_and_captions(client, db, gallery, published):
    from iiif_prezi3 import Manifest

    response = client.get(f"/exhibits/{published.slug}/manifest.json")
    assert response.status_code == 200
    manifest = Manifest(**json.loads(response.data))
    assert manifest.type == "Manifest" and _plain(manifest.label) == {"en": ["Summer voices"]}
    canvases = manifest.items
    # The two photos and the voice note that may be played; the silent one has nothing to paint.
    assert len(canvases) == 3
    bodies = [c.items[0].items[0].body for c in canvases]
    assert [b.type for b in bodies] == ["Image", "Image", "Sound"]
    assert all(c.items[0].items[0].motivation == "painting" for c in canvases)
    image = canvases[0]
    assert (image.width, image.height) == (512, 512) and _plain(bodies[0].label) == {"en": ["A street with houses"]}
    assert str(_plain(bodies[0].id)).endswith(f"/exhibits/{published.slug}/media/{gallery.blurred.id}/web_image")
    sound = canvases[2]
    assert sound.duration == 11.0 and sound.annotations is not None
    (captions,) = sound.annotations[0].items
    assert captions.motivation == "supplementing" and _plain(captions.body.format) == "text/vtt"
    caption_path = str(_plain(captions.body.id)).split("localhost", 1)[1]
    assert "[name]" in client.get(caption_path).text
    assert canvases[0].annotations is None  # pictures have no captions


def _plain(value):
    """A pydantic root model's value, or the value itself where iiif-prezi3 keeps plain JSON."""
    return getattr(value, "root", value)


def _zip(client, gallery, exhibit) -> zipfile.ZipFile:
    sign_in_staff(client, gallery.user.email)
    builder = f"/exhibits/manage/{exhibit.id}"
    response = _post(client, f"{builder}/export", builder)
    assert response.status_code == 200 and response.mimetype == "application/zip"
    return zipfile.ZipFile(io.BytesIO(response.data))


def test_the_offline_copy_is_self_contained_and_holds_no_original(client, db, gallery, published):
    copy = _zip(client, gallery, published)
    names = set(copy.namelist())
    assert {"index.html", "slide-1.html", "slide-4.html", "assets/exhibit.js", "assets/exhibit.css",
            "assets/govuk/govuk-frontend.min.css", f"captions/{gallery.voiced.id}.vtt"} <= names
    index = copy.read("index.html").decode()
    # Every file a page points at is in the zip, and nothing points outside it.
    for page in [n for n in names if n.endswith(".html")]:
        html = copy.read(page).decode()
        assert not re.search(r"https?://", html), page
        for target in re.findall(r'(?:src|href|poster)="([^"#]+)"', html):
            assert target in names or target.startswith("data:"), f"{page} -> {target}"
    for name in names:
        text = copy.read(name)
        if name.endswith((".js", ".vtt")):
            assert not re.search(rb"https?://", text), name
        if name.endswith(".css"):
            assert not re.search(rb"url\(\s*['\"]?(https?:)?//", text), name
    media = {n: sha(copy.read(n)) for n in names if n.startswith("media/")}
    blurred = [n for n in media if str(gallery.blurred.id) in n]
    assert blurred == [f"media/{gallery.blurred.id}-faceless_web_image.jpg"]
    assert media[blurred[0]] != gallery.original_photo.sha256  # the unblurred original never leaves
    assert not any(str(gallery.silent.id) in n for n in media)  # a voice that may not be heard is not copied
    assert "Jamie" not in index and "[name]" in copy.read(f"captions/{gallery.voiced.id}.vtt").decode()


def test_the_staff_page_says_which_offline_copies_are_out_of_date(client, db, gallery, published):
    _zip(client, gallery, published)
    builder = f"/exhibits/manage/{published.id}"
    assert "out of date" not in client.get(builder).text
    gallery.make.consent(gallery.credited.participant, ConsentLevel.REPORT)
    page = client.get(builder).text
    assert "1 offline copy is out of date" in page and "Make a new offline copy" in page
    _zip(client, gallery, published)
    page = client.get(builder).text
    assert page.count("out of date</strong>") == 1 and page.count("up to date</strong>") == 1
