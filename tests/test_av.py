"""media.av and media.ffmpeg against real recordings made here with the ffmpeg binary.

Canaries (a location, an artist, a stream title, a chapter, a subtitle, a cover picture) are
planted in every place a phone or editor writes them; the oracle is a byte search of the
master and every derivative. Forged headers are made by editing the real boxes of a real
file. Rows refer to the bad-inputs table in shared/design/reliability.md.
"""

from __future__ import annotations

import io
import os
import random
import socket
import struct
import time
import uuid
import wave
from dataclasses import replace
from pathlib import Path

import pytest
from PIL import Image, PngImagePlugin

from media import av
from media.av import MediaError, MediaRejected, MediaTimeout, NoAudio, Probe
from media.ffmpeg import ffmpeg_exe, readable_error, run_ffmpeg, with_whitelist

LOCATION = "+51.5074-000.1278/"
ISO6709 = "+51.5074-000.1278+000.000/"
# ffmpeg also writes the location as a 3GPP "loci" box: 16.16 fixed-point, no text to grep.
LOCI_LATITUDE = struct.pack(">i", int(51.5074 * 65536))
CANARIES = [
    b"51.5074",
    LOCI_LATITUDE,
    b"CanaryArtist",
    b"CanaryStreamTitle",
    b"CanaryChapter",
    b"CanarySubtitle",
    b"CanaryCover",
    b"CanaryCreation",
]
SECRET = b"CHORUS-SECRET-DO-NOT-LEAK-7f3a"

SINE = ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100:duration=2"]
SMALL_VIDEO = ["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25:duration=2"]
X264 = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]


def make(out: Path, *args: str) -> Path:
    run_ffmpeg([*args, "-y", str(out)], timeout=60, memory_mb=av.TRANSCODE_MEMORY_MB)
    return out


def canaries_in(path: Path) -> list[bytes]:
    data = path.read_bytes()
    return [c for c in CANARIES if c in data]


def listing(path: Path) -> str:
    """ffmpeg's own description of a file, for checks the Probe does not carry."""
    return run_ffmpeg(["-i", str(path)], timeout=30, memory_mb=512, check=False, loglevel="info").stderr


# --- fixtures: real files ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def media(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("av")
    files = {
        "voice": _voice_note(d),
        "diary_mov": _diary(d, "diary.mov", "mov"),
        "diary_mp4": _diary(d, "diary.mp4", "mp4"),
        "hd": make(d / "hd.mp4", "-f", "lavfi", "-i", "testsrc2=size=1920x1080:rate=30:duration=1",
                   *SINE, *X264, "-c:a", "aac", "-shortest"),
        "silent_video": make(d / "silent.mp4", *SMALL_VIDEO, *X264),
        "silence": make(d / "silence.m4a", "-f", "lavfi", "-i", "anullsrc=r=44100:cl=mono", "-t", "2",
                        "-c:a", "aac"),
        "streamed_webm": make(d / "streamed.webm", *SINE, "-c:a", "libopus", "-f", "webm", "-write_crc32", "0",
                              "-live", "1", "-cluster_time_limit", "500"),
    }  # fmt: skip
    files["rotated"] = make(d / "rotated.mp4", "-display_rotation", "90", "-i", str(files["hd"]), "-c", "copy")
    (d / "secret.txt").write_bytes(SECRET + b"\n")
    return files


def _cover_png(path: Path) -> Path:
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "CanaryCover")
    Image.new("RGB", (64, 64), (10, 120, 200)).save(path, pnginfo=info)
    return path


def _voice_note(d: Path) -> Path:
    """An m4a as phones share it: location, artist, creation time and cover art."""
    return make(
        d / "voice.m4a", *SINE, "-i", str(_cover_png(d / "cover.png")),
        "-map", "0:a", "-map", "1:v", "-c:a", "aac", "-c:v", "copy", "-disposition:v", "attached_pic",
        "-metadata", f"location={LOCATION}", "-metadata", "artist=CanaryArtist",
        "-metadata", "comment=CanaryCreation", "-f", "ipod",
    )  # fmt: skip


def _diary(d: Path, name: str, fmt: str) -> Path:
    """A video diary with an iPhone-style ISO6709 location, a stream title, a chapter and subtitles."""
    meta = d / f"{name}.ffmeta"
    meta.write_text(
        ";FFMETADATA1\ntitle=CanaryCreation\n[CHAPTER]\nTIMEBASE=1/1000\nSTART=0\nEND=1000\ntitle=CanaryChapter\n"
    )
    subs = d / f"{name}.srt"
    subs.write_text("1\n00:00:00,000 --> 00:00:01,500\nCanarySubtitle at home\n")
    return make(
        d / name, *SMALL_VIDEO, *SINE, "-i", str(subs), "-f", "ffmetadata", "-i", str(meta),
        "-map", "0:v", "-map", "1:a", "-map", "2:s", "-map_metadata", "3", "-map_chapters", "3",
        *X264, "-c:a", "aac", "-c:s", "mov_text",
        "-metadata", f"location={LOCATION}", "-metadata", f"com.apple.quicktime.location.ISO6709={ISO6709}",
        "-metadata", "artist=CanaryArtist", "-metadata:s:v:0", "title=CanaryStreamTitle",
        "-movflags", "use_metadata_tags", "-f", fmt,
    )  # fmt: skip


def test_canaries_are_planted(media):
    assert set(canaries_in(media["voice"])) >= {LOCI_LATITUDE, b"CanaryArtist", b"CanaryCover", b"CanaryCreation"}
    for name in ("diary_mov", "diary_mp4"):
        assert set(canaries_in(media[name])) >= {
            b"51.5074", LOCI_LATITUDE, b"CanaryArtist", b"CanaryStreamTitle", b"CanaryChapter", b"CanarySubtitle"
        }, name
    assert ISO6709.encode() in media["diary_mov"].read_bytes()


# --- probe -----------------------------------------------------------------------------------------------


def test_probe_reads_a_video_diary(media):
    found = av.probe(media["diary_mov"])
    assert found == Probe(
        container="mov", duration=pytest.approx(2.0, abs=0.1), has_audio=True, has_video=True, width=320,
        height=240, fps=25.0, audio_codec="aac", video_codec="h264", media_type="video/quicktime",
    )  # fmt: skip
    assert found.kind == "video"


def test_probe_reads_a_voice_note_and_ignores_its_cover_art(media):
    found = av.probe(media["voice"])
    assert (found.has_audio, found.has_video, found.kind) == (True, False, "audio")
    assert found.media_type == "audio/mp4" and found.audio_codec == "aac"


def test_probe_measures_a_streamed_webm_without_a_duration_header(media):
    assert "Duration: N/A" in listing(media["streamed_webm"])
    found = av.probe(media["streamed_webm"])
    assert found.duration == pytest.approx(2.0, abs=0.1)
    assert (found.container, found.audio_codec) == ("matroska", "opus")


def _claim_duration(data: bytes, seconds: int) -> bytes:
    """Rewrite every duration a one-track MP4 carries: mvhd, tkhd, elst, mdhd and stts.

    ffmpeg trusts the sample times (stts) over the header boxes and the edit list (elst) over
    both, so all of them must agree for the lie to be believed, as in a crafted file.
    """
    out = bytearray(data)
    movie_scale = struct.unpack_from(">I", out, out.find(b"mvhd") + 16)[0]
    track_scale = struct.unpack_from(">I", out, out.find(b"mdhd") + 16)[0]
    struct.pack_into(">I", out, out.find(b"mvhd") + 20, movie_scale * seconds)
    struct.pack_into(">I", out, out.find(b"tkhd") + 24, movie_scale * seconds)
    struct.pack_into(">I", out, out.find(b"elst") + 12, movie_scale * seconds)
    struct.pack_into(">I", out, out.find(b"mdhd") + 20, track_scale * seconds)
    stts = out.find(b"stts")
    entries = struct.unpack_from(">I", out, stts + 8)[0]
    samples = sum(struct.unpack_from(">I", out, stts + 12 + 8 * k)[0] for k in range(entries))
    for k in range(entries):
        struct.pack_into(">I", out, stts + 16 + 8 * k, track_scale * seconds // samples)
    return bytes(out)


def test_a_video_whose_header_claims_ten_hours_is_refused_at_probe(media, tmp_path):
    forged = tmp_path / "ten-hours.mp4"
    forged.write_bytes(_claim_duration(media["silent_video"].read_bytes(), 10 * 3600))
    assert "Duration: 10:00:00" in listing(forged)  # ffmpeg itself believes the header
    started = time.monotonic()
    with pytest.raises(MediaRejected, match="10 hours long; a video can be at most 5 minutes"):
        av.probe(forged)
    assert time.monotonic() - started < 5


def test_tags_that_forge_lines_of_the_listing_are_refused(tmp_path):
    # An MP4 metadata key may hold newlines, and ffmpeg prints keys as they are.
    forged_key = (
        "a\n  Duration: 00:00:01.00, start: 0.000000, bitrate: 1 kb/s"
        "\n  Stream #0:0[0x1]: Video: h264, yuv420p, 64x48, 1 fps\nx"
    )
    video = make(tmp_path / "forged.mov", "-f", "lavfi", "-i", "testsrc=size=64x48:rate=1:duration=400",
                 "-c:v", "mjpeg", "-movflags", "use_metadata_tags", "-metadata", f"{forged_key}=v", "-f", "mov")
    assert "Duration: 00:00:01.00" in listing(video) and "Duration: 00:06:40" in listing(video)
    with pytest.raises(MediaRejected, match="describes itself in a confusing way"):
        av.probe(video)


def test_a_zero_duration_header_is_refused(media, tmp_path):
    forged = tmp_path / "zero.mp4"
    forged.write_bytes(_claim_duration(media["silent_video"].read_bytes(), 0))
    with pytest.raises(MediaRejected, match="can't tell how long"):
        av.probe(forged)


def test_an_over_long_voice_note_is_refused(media, monkeypatch):
    monkeypatch.setattr(av, "VOICE_NOTE_MAX_SECONDS", 1)
    monkeypatch.setattr(av, "DURATION_GRACE_SECONDS", 0)
    with pytest.raises(MediaRejected, match="recording is 2 seconds long; a recording can be at most 1 second"):
        av.probe(media["voice"])


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("color=c=navy:size=7680x4320:rate=25:duration=0.04", "7680×4320 pixels, bigger than 4K"),
        ("testsrc=size=64x48:rate=240:duration=0.2", "240 frames a second"),
    ],
)
def test_absurd_pictures_are_refused(tmp_path, source, message):
    video = make(tmp_path / "odd.mov", "-f", "lavfi", "-i", source, "-c:v", "mjpeg", "-f", "mov")
    with pytest.raises(MediaRejected, match=message):
        av.probe(video)


def test_a_file_with_no_sound_or_pictures_is_refused(media, tmp_path):
    subs_only = make(tmp_path / "subs.mp4", "-i", str(media["diary_mp4"]), "-map", "0:s", "-c", "copy")
    with pytest.raises(MediaRejected, match="no sound or pictures"):
        av.probe(subs_only)


def test_a_truncated_mp4_is_a_media_error_not_a_hang(media, tmp_path):
    # ffmpeg writes the index (moov) last unless told otherwise, so half a file has none.
    data = media["hd"].read_bytes()
    assert data.find(b"moov") > data.find(b"mdat")
    truncated = tmp_path / "truncated.mp4"
    truncated.write_bytes(data[: len(data) // 2])
    started = time.monotonic()
    with pytest.raises(MediaError, match="moov atom not found") as caught:
        av.probe(truncated)
    assert not isinstance(caught.value, MediaRejected)
    assert str(tmp_path) not in str(caught.value)
    assert time.monotonic() - started < 5


def test_a_damaged_video_fails_cleanly_or_plays(media, tmp_path):
    data = bytearray(media["silent_video"].read_bytes())
    start = data.find(b"mdat") + 64
    data[start : start + 4000] = random.Random(15).randbytes(4000)
    damaged = tmp_path / "damaged.mp4"
    damaged.write_bytes(bytes(data))
    try:
        found = av.probe(damaged)
        av.make_proxy(damaged, tmp_path / "proxy.mp4", found)
    except MediaError:
        assert not (tmp_path / "proxy.mp4").exists()
    assert not list(tmp_path.glob(".*.part"))


# --- playlists, concat lists and other containers (rows 12, 13) -----------------------------------


def _playlist(target: str) -> bytes:
    return f"#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\n{target}\n#EXT-X-ENDLIST\n".encode()


def test_a_playlist_named_mp4_is_refused_and_leaks_nothing(media, tmp_path):
    playlist = tmp_path / "diary.mp4"
    playlist.write_bytes(_playlist(str(media["voice"].parent / "secret.txt")))
    with pytest.raises(MediaRejected, match="playlist"):
        av.probe(playlist)
    # Even handed a Probe that says "mov", ffmpeg is forced to the MP4 demuxer and reads nothing.
    lying = Probe("mov", 10.0, True, True, 320, 240, 25.0, "aac", "h264", "video/mp4")
    for step in (av.strip_metadata, av.make_proxy, av.make_poster):
        with pytest.raises(MediaError):
            step(playlist, tmp_path / f"{step.__name__}.out", lying)
    with pytest.raises(MediaError):
        av.extract_audio_16k(playlist, tmp_path / "audio.wav", lying)
    leaked = [p.name for p in tmp_path.iterdir() if p != playlist and SECRET in p.read_bytes()]
    assert leaked == [] and sorted(p.name for p in tmp_path.iterdir()) == ["diary.mp4"]


def test_a_probe_naming_a_playlist_demuxer_is_refused_before_ffmpeg_runs(media, tmp_path):
    hls = replace(av.probe(media["silent_video"]), container="hls")
    with pytest.raises(MediaRejected):
        av.make_proxy(media["silent_video"], tmp_path / "proxy.mp4", hls)


@pytest.mark.parametrize(
    "body",
    [
        b"ffconcat version 1.0\nfile 'SECRET'\n",
        b"file 'SECRET'\nfile 'SECRET'\n",
    ],
)
def test_a_concat_list_named_mp4_is_refused(media, tmp_path, body):
    concat = tmp_path / "diary.mp4"
    concat.write_bytes(body.replace(b"SECRET", str(media["voice"].parent / "secret.txt").encode()))
    with pytest.raises(MediaRejected, match="playlist"):
        av.probe(concat)


def test_a_picture_is_not_a_recording(tmp_path):
    photo = tmp_path / "voice.m4a"
    Image.new("RGB", (16, 16)).save(photo, "JPEG")
    with pytest.raises(MediaRejected, match="picture, not a sound recording or video"):
        av.probe(photo)


def test_avi_is_refused(tmp_path):
    # The GAB2-subtitle file-read trick (row 12) lives in AVI, which Chorus does not take.
    avi = make(tmp_path / "diary.mp4", *SMALL_VIDEO, "-t", "0.2", "-c:v", "mpeg4", "-f", "avi")
    with pytest.raises(MediaRejected, match="AVI"):
        av.probe(avi)


def test_whitelist_blocks_network_even_for_a_forced_hls_demuxer(tmp_path):
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        server.setblocking(False)
        port = server.getsockname()[1]
        playlist = tmp_path / "list.m3u8"
        playlist.write_bytes(_playlist(f"http://127.0.0.1:{port}/segment.ts"))
        with pytest.raises(MediaError):
            run_ffmpeg(["-f", "hls", "-i", str(playlist), "-f", "null", "-"], timeout=20, memory_mb=512)
        with pytest.raises(BlockingIOError):
            server.accept()  # nobody connected


def test_whitelist_goes_before_every_input():
    args = with_whitelist(["-f", "mov", "-i", "a", "-i", "b", "out"])
    assert args == ["-f", "mov", "-protocol_whitelist", "file,pipe", "-i", "a",
                    "-protocol_whitelist", "file,pipe", "-i", "b", "out"]  # fmt: skip


# --- the master: metadata stripped (row 11) ---------------------------------------------------------


@pytest.mark.parametrize("name", ["voice", "diary_mov", "diary_mp4"])
def test_strip_metadata_removes_every_canary(media, tmp_path, name):
    found = av.probe(media[name])
    master = tmp_path / f"master{media[name].suffix}"
    av.strip_metadata(media[name], master, found)
    assert canaries_in(master) == []
    again = av.probe(master)
    assert (again.has_audio, again.has_video, again.media_type) == (found.has_audio, found.has_video, found.media_type)
    assert again.duration == pytest.approx(found.duration, abs=0.05)
    assert "Subtitle:" not in listing(master) and "attached pic" not in listing(master)


# Other containers people send: each tagged with an artist, which the master must lose.
TAGGED = {
    "mp3": (["-c:a", "libmp3lame", "-b:a", "64k"], "mp3", "audio/mpeg"),
    "opus": (["-c:a", "libopus"], "ogg", "audio/ogg"),
    "flac": (["-c:a", "flac"], "flac", "audio/flac"),
    "wav": (["-c:a", "pcm_s16le"], "wav", "audio/wav"),
    "amr_3gp": (["-ar", "8000", "-ac", "1", "-c:a", "libopencore_amrnb", "-b:a", "12.2k"], "3gp", "video/3gpp"),
    "webm": (["-map", "0:v", "-map", "1:a", "-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8",
              "-c:a", "libopus"], "webm", "video/webm"),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(TAGGED))
def test_other_containers_are_stripped_and_still_play(tmp_path, name):
    codec_args, fmt, media_type = TAGGED[name]
    inputs = [*SMALL_VIDEO, *SINE] if name == "webm" else SINE
    upload = make(tmp_path / "upload", *inputs, "-t", "1", *codec_args,
                  "-metadata", "artist=CanaryArtist", "-f", fmt)  # fmt: skip
    assert b"CanaryArtist" in upload.read_bytes()
    found = av.probe(upload)
    assert found.media_type == media_type and found.has_audio
    master = tmp_path / "master"
    av.strip_metadata(upload, master, found)
    assert canaries_in(master) == []
    assert av.probe(master).media_type == media_type
    av.make_proxy(master, tmp_path / "proxy", found)
    av.extract_audio_16k(master, tmp_path / "audio.wav", found)
    assert av.probe(tmp_path / "proxy").audio_codec == "aac"


def test_strip_metadata_is_a_copy_and_repeatable(media, tmp_path):
    found = av.probe(media["diary_mov"])
    first, second = tmp_path / "a.mov", tmp_path / "b.mov"
    av.strip_metadata(media["diary_mov"], first, found)
    av.strip_metadata(media["diary_mov"], second, found)
    assert first.read_bytes() == second.read_bytes()  # same input, same checksum
    assert "Video: h264" in listing(first)


# --- audio for Whisper and the waveform --------------------------------------------------------------


def _wav_params(path: Path) -> tuple[int, int, int]:
    with wave.open(str(path)) as wav:
        return wav.getnchannels(), wav.getsampwidth(), wav.getframerate()


def test_extract_audio_16k_gives_whisper_its_format(media, tmp_path):
    out = tmp_path / "audio.wav"
    av.extract_audio_16k(media["diary_mov"], out)
    assert _wav_params(out) == (1, 2, 16000)
    assert av.probe(out).duration == pytest.approx(2.0, abs=0.1)
    assert canaries_in(out) == []


def test_a_video_without_sound_raises_no_audio(media, tmp_path):
    with pytest.raises(NoAudio):
        av.extract_audio_16k(media["silent_video"], tmp_path / "audio.wav")
    assert not isinstance(NoAudio("x"), MediaRejected)
    assert list(tmp_path.iterdir()) == []


def test_pure_silence_extracts_and_draws_a_flat_line(media, tmp_path):
    out = tmp_path / "audio.wav"
    av.extract_audio_16k(media["silence"], out)
    peaks = av.waveform_peaks(out)
    assert len(peaks) == 800 and max(peaks) == 0.0


def test_waveform_peaks_have_the_right_length_and_range(media, tmp_path):
    out = tmp_path / "audio.wav"
    av.extract_audio_16k(media["voice"], out)
    peaks = av.waveform_peaks(out)
    assert len(peaks) == 800
    assert all(0.0 <= p <= 1.0 for p in peaks)
    # lavfi's sine is at 1/8 of full scale.
    assert max(peaks) == pytest.approx(0.125, abs=0.01)
    assert len(av.waveform_peaks(out, buckets=10)) == 10


def test_waveform_of_a_clip_shorter_than_the_bucket_count(tmp_path):
    tiny = tmp_path / "tiny.wav"
    with wave.open(str(tiny), "wb") as wav:
        wav.setnchannels(1), wav.setsampwidth(2), wav.setframerate(16000)
        wav.writeframes(struct.pack("<3h", 0, 32767, -32768))
    peaks = av.waveform_peaks(tiny, buckets=8)
    assert len(peaks) == 8 and max(peaks) == 1.0 and min(peaks) == 0.0


# --- what the browser plays -----------------------------------------------------------------------------


def test_proxy_of_1080p_is_720p_h264_aac_faststart(media, tmp_path):
    proxy = tmp_path / "proxy.mp4"
    av.make_proxy(media["hd"], proxy, av.probe(media["hd"]))
    found = av.probe(proxy)
    assert (found.video_codec, found.audio_codec, found.width, found.height) == ("h264", "aac", 1280, 720)
    assert "(High)" in listing(proxy) and "yuv420p" in listing(proxy)
    data = proxy.read_bytes()
    assert data.find(b"moov") < data.find(b"mdat")  # playable before it has all downloaded


def test_master_keeps_phone_rotation_and_proxy_turns_portrait(media, tmp_path):
    master, proxy, poster = tmp_path / "master.mp4", tmp_path / "proxy.mp4", tmp_path / "poster.jpg"
    found = av.probe(media["rotated"])
    av.strip_metadata(media["rotated"], master, found)
    assert "rotation of 90.00 degrees" in listing(master)  # orientation is display data, not a tag
    av.make_proxy(master, proxy, found)
    assert (av.probe(proxy).width, av.probe(proxy).height) == (720, 1280)
    av.make_poster(master, poster, found)
    with Image.open(poster) as img:
        assert img.size == (720, 1280)


def test_proxy_never_enlarges_and_carries_no_canary(media, tmp_path):
    proxy = tmp_path / "proxy.mp4"
    av.make_proxy(media["diary_mov"], proxy, av.probe(media["diary_mov"]))
    found = av.probe(proxy)
    assert (found.width, found.height, found.has_audio) == (320, 240, True)
    assert canaries_in(proxy) == []


def test_proxy_of_a_silent_video_has_no_audio_track(media, tmp_path):
    proxy = tmp_path / "proxy.mp4"
    av.make_proxy(media["silent_video"], proxy, av.probe(media["silent_video"]))
    assert (av.probe(proxy).has_audio, av.probe(proxy).video_codec) == (False, "h264")


def test_audio_proxy_is_aac_in_m4a(media, tmp_path):
    proxy = tmp_path / "proxy.m4a"
    av.make_proxy(media["voice"], proxy, av.probe(media["voice"]))
    found = av.probe(proxy)
    assert (found.media_type, found.audio_codec, found.has_video) == ("audio/mp4", "aac", False)
    assert canaries_in(proxy) == []


def test_poster_is_a_real_jpeg_within_1280(media, tmp_path):
    poster = tmp_path / "poster.jpg"
    av.make_poster(media["hd"], poster, av.probe(media["hd"]))
    with Image.open(io.BytesIO(poster.read_bytes())) as img:
        img.load()
        assert img.format == "JPEG" and img.size == (1280, 720)
    assert canaries_in(poster) == []


def test_poster_needs_a_video(media, tmp_path):
    with pytest.raises(ValueError):
        av.make_poster(media["voice"], tmp_path / "poster.jpg", av.probe(media["voice"]))


# --- the sandbox: timeout, memory, process group (row 15) -------------------------------------------


def _processes_mentioning(marker: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and marker.encode() in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
        except OSError:
            continue  # the process ended while we looked
    return found


def test_timeout_kills_the_process_group_and_leaves_no_zombie():
    marker = f"chorus-test-{uuid.uuid4()}"
    started = time.monotonic()
    with pytest.raises(MediaTimeout) as caught:
        run_ffmpeg(
            ["-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30:duration=3600", *X264,
             "-metadata", f"comment={marker}", "-f", "null", "-"],
            timeout=0.5, memory_mb=av.TRANSCODE_MEMORY_MB,
        )  # fmt: skip
    assert time.monotonic() - started < 5
    pid = caught.value.pid
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # a zombie would still answer: it was reaped
    with pytest.raises(ProcessLookupError):
        os.killpg(pid, 0)  # and nothing else is left in its group
    assert _processes_mentioning(marker) == []


def test_a_step_that_times_out_leaves_no_partial_file(media, tmp_path, monkeypatch):
    monkeypatch.setattr(av, "TRANSCODE_TIMEOUT_S", 0.01)
    found = av.probe(media["hd"])
    with pytest.raises(MediaTimeout):
        av.make_proxy(media["hd"], tmp_path / "proxy.mp4", found)
    assert list(tmp_path.iterdir()) == []


def test_memory_limit_stops_ffmpeg_not_the_worker():
    with pytest.raises(MediaError) as caught:
        run_ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=1920x1080:duration=1", *X264, "-f", "null", "-"],
                   timeout=30, memory_mb=100)  # fmt: skip
    assert not isinstance(caught.value, MediaTimeout)


def test_errors_are_one_readable_line_without_our_paths(tmp_path):
    missing = tmp_path / "nothing-here.mp4"
    with pytest.raises(MediaError) as caught:
        run_ffmpeg(["-f", "mov", "-i", f"file:{missing}", "-f", "null", "-"], timeout=10, memory_mb=512)
    message = str(caught.value)
    assert "\n" not in message and str(tmp_path) not in message and "0x" not in message
    assert "No such file or directory" in message
    assert str(missing) in caught.value.stderr  # the full log is kept for the job log


def test_readable_error_prefers_the_cause_and_names_files_by_basename():
    log = (
        "[mov,mp4,m4a,3gp,3g2,mj2 @ 0x55d5c0a0e040] /data/jobs/x1/upload.mp4: stsz atom truncated\n"
        "[in#0 @ 0x55d5c0a0d000] Error opening input: Invalid data found when processing input\n"
        "Error opening input file file:/data/jobs/x1/upload.mp4.\n"
        "Error opening input files: Invalid data found when processing input\n"
    )
    args = ["-f", "mov", "-i", "file:/data/jobs/x1/upload.mp4"]
    assert readable_error(log, args, 1) == "ffmpeg: upload.mp4: stsz atom truncated"
    assert "signal 9" in readable_error(log, args, -9)
    assert readable_error("", args, 1) == "ffmpeg failed with exit code 1"


def test_the_binary_is_imageio_ffmpegs():
    import imageio_ffmpeg

    assert ffmpeg_exe() == imageio_ffmpeg.get_ffmpeg_exe()
