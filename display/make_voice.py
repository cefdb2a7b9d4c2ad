"""Build the hall screen's offline voice: one small Ogg/Opus clip for each piece of a call.

    python -m display.make_voice [--hall config/demo-hall.yaml] [--counters 40]

A browser without a Chinese voice (headless Chromium, many Linux hall PCs) plays these clips
in order instead of speaking the call's `speech` text (`请 A 零 二 三 号 到 三楼10 号窗口办理`,
SPEC §5): 请, the letters A–Z, the digits 零…九, 号, 到, the counters' locations of the hall
file (三楼), the counter numbers 1…N (read as 一…十一…) and 窗口办理. docs/screens.md says
more.

Made at build time with espeak-ng's Mandarin voice and opus-tools (`apt-get install
espeak-ng opus-tools`); the clips and their `manifest.json` are committed, so a hall server
needs neither. Run it again after adding counters or locations to the hall file.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import tempfile
import wave
from array import array
from pathlib import Path

import yaml

OUTPUT = Path(__file__).resolve().parent / "static" / "voice"
DEFAULT_HALL = Path(__file__).resolve().parent.parent / "config" / "demo-hall.yaml"
DIGITS = "零一二三四五六七八九"
WORDS = {"请": "qing", "号": "hao", "到": "dao", "窗口办理": "chuangkou-banli"}
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"  # the cmn voice reads them as in English, as halls do
SPEED_WPM = 175
BITRATE_KBPS = 16
SILENCE = 400  # of 32767: quieter samples at either end of a clip are cut off
PAD_S = 0.04  # kept around the sound, so the pieces join like words, not syllables


def chinese_number(value: int) -> str:
    """1…99 as said aloud: 五, 十, 十一, 二十, 二十三."""
    if not 0 < value < 100:
        raise ValueError(f"counter numbers run from 1 to 99, not {value}")
    tens, ones = divmod(value, 10)
    if tens == 0:
        return DIGITS[ones]
    spoken = ("" if tens == 1 else DIGITS[tens]) + "十"
    return spoken + (DIGITS[ones] if ones else "")


def hall_pieces(hall_file: Path, at_least: int) -> tuple[int, list[str]]:
    """The highest counter number (at least `at_least`) and the locations of a hall file."""
    hall = yaml.safe_load(hall_file.read_text(encoding="utf-8")) or {}
    numbers = [at_least]
    locations: list[str] = []
    for site in hall.get("sites", []):
        for counter in site.get("counters", []):
            numbers.append(int(counter["number"]))
            location = counter.get("location")
            if location and location not in locations:
                locations.append(location)
    return max(numbers), locations


def clips_wanted(counters: int, locations: list[str]) -> dict[str, tuple[str, str]]:
    """key in the speech text -> (file stem, what espeak-ng says)."""
    wanted: dict[str, tuple[str, str]] = {}
    for word, stem in WORDS.items():
        wanted[word] = (stem, word)
    for digit, word in enumerate(DIGITS):
        wanted[word] = (f"digit-{digit}", word)
    for letter in LETTERS:
        wanted[letter] = (f"letter-{letter.lower()}", letter)
    for number in range(1, counters + 1):
        wanted[str(number)] = (f"counter-{number}", chinese_number(number))
    for index, location in enumerate(locations, start=1):
        wanted[location] = (f"location-{index}", location)
    return wanted


def program(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise SystemExit(f"{name} is missing: apt-get install espeak-ng opus-tools")
    return path


def trim_silence(wav: Path) -> None:
    """espeak-ng leaves ≈0.3 s of silence around each word: a call of 11 pieces would last
    twice as long as spoken. Cut it down to PAD_S either side (16-bit mono PCM)."""
    with wave.open(str(wav), "rb") as source:
        params = source.getparams()
        samples = array("h", source.readframes(params.nframes))
    loud = [index for index, sample in enumerate(samples) if abs(sample) > SILENCE]
    if not loud:
        return
    pad = int(PAD_S * params.framerate)
    kept = samples[max(0, loud[0] - pad) : loud[-1] + pad]
    with wave.open(str(wav), "wb") as target:
        target.setparams(params)
        target.writeframes(kept.tobytes())


def make_clip(text: str, target: Path, workdir: Path) -> None:
    wav = workdir / (target.stem + ".wav")
    subprocess.run(  # noqa: S603 - fixed programs, our own words
        [program("espeak-ng"), "-v", "cmn", "-s", str(SPEED_WPM), "-w", str(wav), text],
        check=True,
    )
    trim_silence(wav)
    subprocess.run(  # noqa: S603
        [
            program("opusenc"),
            "--quiet",
            "--downmix-mono",
            "--bitrate",
            str(BITRATE_KBPS),
            "--comp",
            "10",
            str(wav),
            str(target),
        ],
        check=True,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--hall", type=Path, default=DEFAULT_HALL, help="hall file (YAML)")
    parser.add_argument("--counters", type=int, default=40, help="clips for counters 1…N")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    for name in ("espeak-ng", "opusenc"):
        program(name)
    counters, locations = hall_pieces(args.hall, args.counters)
    wanted = clips_wanted(counters, locations)
    args.output.mkdir(parents=True, exist_ok=True)
    for old in args.output.glob("*.ogg"):
        old.unlink()
    with tempfile.TemporaryDirectory() as workdir:
        for stem, said in wanted.values():
            make_clip(said, args.output / f"{stem}.ogg", Path(workdir))
    manifest = {
        "made_by": "python -m display.make_voice (espeak-ng cmn, Ogg/Opus)",
        "clips": {key: f"{stem}.ogg" for key, (stem, _) in wanted.items()},
    }
    (args.output / "manifest.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
    print(f"{len(wanted)} clips in {args.output}")


if __name__ == "__main__":
    main()
