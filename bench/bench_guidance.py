"""Guidance benchmarks (R-12): synthesis time and the audio endpoint Twilio fetches.

Prints:
  * median time to make a voice file's audio from a 40-character Japanese sentence (normalise, Open JTalk,
    8 kHz resample, WAV encode), next to pyopenjtalk.tts alone on the same sentence (the engine's own floor);
    and pyttsx3 (espeak-ng) on an English sentence;
  * the /audio/<hash>.wav endpoint over real HTTP: uncached (200 with the file) and revalidated (304 on
    If-None-Match), next to a bare Flask endpoint served the same way in the same run.
"""
from __future__ import annotations

import http.client
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("OPEN_JTALK_DICT_DIR", "/var/lib/mecab/dic/open-jtalk/naist-jdic")

SENTENCE = "お電話ありがとうございます。ご用件の番号を押してください。受付は朝9時からです。"
ENGLISH = "Thank you for calling. Please press one for sales, or two for support."
SYNTH_RUNS = 15
REQUESTS = 400


def median_ms(func, runs: int) -> tuple[float, float]:
    """(median, 95th percentile) in milliseconds of `runs` calls after one warm-up call."""
    func()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        func()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1]


def interleaved_medians(funcs, runs: int) -> list[tuple[float, float]]:
    """Like median_ms for several functions, called in turn so that a busy machine slows them alike."""
    for func in funcs:
        func()
    times = [[] for _ in funcs]
    for _ in range(runs):
        for func, bucket in zip(funcs, times):
            started = time.perf_counter()
            func()
            bucket.append((time.perf_counter() - started) * 1000)
    out = []
    for bucket in times:
        bucket.sort()
        out.append((statistics.median(bucket), bucket[int(len(bucket) * 0.95) - 1]))
    return out


def bench_synthesis(dict_dir: str) -> None:
    import pyopenjtalk

    from guidance import audio
    from guidance.tts import get_engine

    assert len(SENTENCE) == 40, len(SENTENCE)
    jtalk = get_engine("openjtalk")
    espeak = get_engine("pyttsx3")

    def voice_file_audio():
        speech = jtalk.synthesize(jtalk.prepare_text(SENTENCE), "mei_normal", 1.0, dict_dir)
        return audio.telephone_wav(speech, 1.0, "pcm16")

    def english_audio():
        return audio.telephone_wav(espeak.synthesize(ENGLISH, "en", 1.0), 1.0, "pcm16")

    seconds = voice_file_audio()[1] / 1000
    (ours, ours_p95), (floor, _) = interleaved_medians([voice_file_audio, lambda: pyopenjtalk.tts(SENTENCE)],
                                                       SYNTH_RUNS)
    english, _ = median_ms(english_audio, SYNTH_RUNS)
    print(f"synthesis, 40-character Japanese sentence ({seconds:.1f} s of audio), {SYNTH_RUNS} runs:")
    print(f"  voice file audio (normalise + Open JTalk + 8 kHz WAV)  median {ours:7.1f} ms   p95 {ours_p95:7.1f} ms")
    print(f"  baseline pyopenjtalk.tts alone (48 kHz, no file)     median {floor:7.1f} ms")
    print(f"  real-time factor {ours / 1000 / seconds:.3f} (audio seconds made per second: {seconds * 1000 / ours:.0f})")
    print(f"  pyttsx3/espeak-ng English sentence, 8 kHz WAV         median {english:7.1f} ms")


def serve(app) -> tuple[object, int]:
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)  # HTTP/1.1 keep-alive
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, server.server_port


def timed_requests(port: int, path: str, headers: dict, expect: int) -> tuple[float, float]:
    connection = http.client.HTTPConnection("127.0.0.1", port)

    def one():
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        response.read()
        assert response.status == expect, (path, response.status)

    try:
        return median_ms(one, REQUESTS)
    finally:
        connection.close()


def bench_endpoint(dict_dir: str, workdir: Path) -> None:
    from flask import Flask

    from core.db import database
    from guidance.forms import VoiceFileInput
    from guidance.service import save_voice_file
    from web import create_app

    app = create_app({"database.url": f"sqlite:///{workdir / 'bench.db'}", "web.secret_key": "bench",
                      "twilio.auth_token": "bench", "guidance.audio_dir": str(workdir / "audio"),
                      "guidance.openjtalk_dict_dir": dict_dir})
    with app.app_context(), database.connection_context():
        vf = save_voice_file(None, VoiceFileInput(name="bench", text=SENTENCE, engine="openjtalk", voice="mei_normal"))
    size_kb = (workdir / "audio" / f"{vf.audio_hash}.wav").stat().st_size / 1024
    bare = Flask("bare")
    bare.add_url_rule("/ping", "ping", lambda: "ok")

    app_server, app_port = serve(app)
    bare_server, bare_port = serve(bare)
    try:
        path = f"/audio/{vf.audio_hash}.wav"
        full, full_p95 = timed_requests(app_port, path, {}, 200)
        cached, cached_p95 = timed_requests(app_port, path, {"If-None-Match": f'"{vf.audio_hash}"'}, 304)
        baseline, baseline_p95 = timed_requests(bare_port, "/ping", {}, 200)
    finally:
        app_server.shutdown()
        bare_server.shutdown()
    print(f"audio endpoint over HTTP (keep-alive, one client, {REQUESTS} requests each; file {size_kb:.0f} KB):")
    print(f"  uncached GET /audio/<hash>.wav -> 200       median {full:6.2f} ms   p95 {full_p95:6.2f} ms")
    print(f"  revalidated (If-None-Match) -> 304          median {cached:6.2f} ms   p95 {cached_p95:6.2f} ms")
    print(f"  baseline: bare Flask endpoint -> 200 'ok'   median {baseline:6.2f} ms   p95 {baseline_p95:6.2f} ms")


def main() -> int:
    import logging

    logging.disable(logging.INFO)
    dict_dir = os.environ["OPEN_JTALK_DICT_DIR"]
    bench_synthesis(dict_dir)
    with tempfile.TemporaryDirectory(prefix="bench-guidance-") as tmp:
        bench_endpoint(dict_dir, Path(tmp))
    return 0


if __name__ == "__main__":
    sys.exit(main())
