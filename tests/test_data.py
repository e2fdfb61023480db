"""Finding a suite's clips (folders, globs, files, labels, sampling) and reading them to a fixed length."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile

from freqrex_bench import InvalidInputError
from freqrex_bench.data import AUDIO_SUFFIXES, ClipRef, find_clips, read_clip
from freqrex_bench.suite import DataSpec

from .support import DATA

FSDD = DATA / "fsdd"


def put(tmp_path: Path, relative: str, source: str = "3_theo_7.wav") -> Path:
    """Copy a real FSDD recording to tmp_path/relative (any folders made); returns the new path."""
    path = tmp_path / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(FSDD / source, path)
    return path


def ids(spec: DataSpec, base: Path, seed: int = 0) -> list[str]:
    return [ref.id for ref in find_clips(spec, base, seed)]


def spec(*paths: str, **settings) -> DataSpec:
    return DataSpec(paths=list(paths), **settings)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """clips/{a,b/deep}/ with three wavs (one upper-case suffix) and a non-audio file."""
    put(tmp_path, "clips/a/0_george_0.wav", "0_george_0.wav")
    put(tmp_path, "clips/a/1_theo_1.wav", "1_theo_1.wav")
    put(tmp_path, "clips/b/deep/2_lucas_2.WAV", "2_lucas_2.wav")
    (tmp_path / "clips" / "notes.txt").write_text("not audio")
    return tmp_path


# --- finding files -------------------------------------------------------------------------------


def test_folder_is_searched_recursively_for_audio_suffixes_in_any_case(tree):
    refs = find_clips(spec("clips"), tree, 0)
    assert [r.id for r in refs] == ["clips/a/0_george_0.wav", "clips/a/1_theo_1.wav", "clips/b/deep/2_lucas_2.WAV"]
    assert all(r.path.is_absolute() and r.path == tree / r.id and r.label is None for r in refs)


def test_globs_single_and_double_star(tree):
    assert ids(spec("clips/*/*.wav"), tree) == ["clips/a/0_george_0.wav", "clips/a/1_theo_1.wav"]
    assert ids(spec("clips/**/*_lucas_*"), tree) == ["clips/b/deep/2_lucas_2.WAV"]
    assert ids(spec("clips/**/1_*.wav"), tree) == ["clips/a/1_theo_1.wav"]


def test_a_glob_that_matches_a_folder_searches_it(tree):
    assert ids(spec("clips/b*"), tree) == ["clips/b/deep/2_lucas_2.WAV"]


def test_explicit_files_inside_and_outside_the_base(tree, tmp_path):
    base = tree / "clips"
    outside = put(tmp_path, "elsewhere/9_theo_9.wav", "9_theo_9.wav")
    refs = find_clips(spec("a/1_theo_1.wav", str(outside), "../clips/b/deep/2_lucas_2.WAV"), base, 0)
    assert [r.id for r in refs] == [outside.as_posix(), "a/1_theo_1.wav", "b/deep/2_lucas_2.WAV"]
    assert refs[2].path == base / "b" / "deep" / "2_lucas_2.WAV"


def test_a_literal_path_with_glob_characters_is_taken_as_written(tmp_path):
    put(tmp_path, "take [live].wav")
    put(tmp_path, "take l.wav")
    assert ids(spec("take [live].wav"), tmp_path) == ["take [live].wav"]


def test_the_same_file_named_several_ways_is_kept_once(tree):
    paths = ("clips", "clips/a/0_george_0.wav", "clips/**/*.wav", "./clips/a/../a/0_george_0.wav")
    assert ids(spec(*paths), tree) == ["clips/a/0_george_0.wav", "clips/a/1_theo_1.wav", "clips/b/deep/2_lucas_2.WAV"]


def test_a_symlinked_file_is_the_same_clip_and_keeps_the_smaller_id(tree):
    os.symlink(tree / "clips" / "a" / "1_theo_1.wav", tree / "clips" / "0_alias.wav")
    assert ids(spec("clips/a", "clips/0_alias.wav"), tree) == ["clips/0_alias.wav", "clips/a/0_george_0.wav"]


def test_symlinked_folders_are_not_entered_so_links_cannot_loop(tree, tmp_path):
    os.symlink(tree / "clips", tree / "clips" / "a" / "loop")
    put(tmp_path, "outside/4_theo_4.wav", "4_theo_4.wav")
    os.symlink(tmp_path / "outside", tree / "clips" / "b" / "linked")
    expected = ["clips/a/0_george_0.wav", "clips/a/1_theo_1.wav", "clips/b/deep/2_lucas_2.WAV"]
    assert ids(spec("clips"), tree) == expected
    assert ids(spec("clips/**/*.wav"), tree) == expected[:2]
    assert ids(spec("clips/b/linked"), tree) == ["clips/b/linked/4_theo_4.wav"]  # named directly, it is searched


def test_mixed_formats_are_found_and_read(tmp_path):
    """Every suffix is found; flac is lossless, ogg and mp3 (lossy) still hold the same recording, aligned."""
    signal, rate = soundfile.read(FSDD / "5_jackson_3.wav", dtype="float32")
    (tmp_path / "mix").mkdir()
    for suffix in AUDIO_SUFFIXES:
        soundfile.write(tmp_path / "mix" / f"5_jackson_3{suffix.upper() if suffix == '.ogg' else suffix}", signal, rate)
    refs = find_clips(spec("mix"), tmp_path, 0)
    assert [r.id for r in refs] == [f"mix/5_jackson_3{s}" for s in (".OGG", ".flac", ".mp3", ".wav")]
    clips = {r.path.suffix.lower(): read_clip(r, rate, None).signal for r in refs}
    np.testing.assert_array_equal(clips[".wav"], signal)
    np.testing.assert_allclose(clips[".flac"], signal, atol=1 / 32768)
    for lossy in (".ogg", ".mp3"):
        assert clips[lossy].shape == signal.shape, lossy
        assert np.corrcoef(clips[lossy], signal)[0, 1] > 0.95, lossy


# --- labels --------------------------------------------------------------------------------------


def test_parent_and_prefix_labels(tree):
    by_parent = {r.id: r.label for r in find_clips(spec("clips", labels="parent"), tree, 0)}
    assert by_parent == {"clips/a/0_george_0.wav": "a", "clips/a/1_theo_1.wav": "a",
                         "clips/b/deep/2_lucas_2.WAV": "deep"}
    by_prefix = [r.label for r in find_clips(spec("clips", labels="prefix"), tree, 0)]
    assert by_prefix == ["0", "1", "2"]


def test_prefix_of_a_name_without_underscore_is_the_whole_stem(tmp_path):
    put(tmp_path, "yes.wav")
    assert [r.label for r in find_clips(spec("yes.wav", labels="prefix"), tmp_path, 0)] == ["yes"]


def test_label_map_renames_and_passes_unknown_labels_through(tree):
    refs = find_clips(spec("clips", labels="prefix", label_map={"0": "zero", "2": "two"}), tree, 0)
    assert [r.label for r in refs] == ["zero", "1", "two"]


def test_csv_labels_match_the_clip_id_or_the_file_name(tree):
    (tree / "labels.csv").write_text(
        "\ufefffile, label,extra\nclips/a/0_george_0.wav,zero,x\n1_theo_1.wav, one ,y\n"
        "clips\\b\\deep\\2_lucas_2.WAV,two,z\n1_theo_1.wav,one,again\n",
        encoding="utf-8",
    )
    refs = find_clips(spec("clips", labels="parent", labels_csv="labels.csv", label_map={"one": "1"}), tree, 0)
    assert [r.label for r in refs] == ["zero", "1", "two"]


def test_csv_clip_id_wins_over_the_file_name(tree):
    (tree / "labels.csv").write_text("file,label\n0_george_0.wav,by-name\nclips/a/0_george_0.wav,by-id\n"
                                     "1_theo_1.wav,one\n2_lucas_2.WAV,two\n")
    assert [r.label for r in find_clips(spec("clips", labels_csv="labels.csv"), tree, 0)] == ["by-id", "one", "two"]


def test_csv_path_is_relative_to_the_base(tree):
    (tree / "meta").mkdir()
    (tree / "meta" / "l.csv").write_text("file,label\n0_george_0.wav,z\n1_theo_1.wav,o\n2_lucas_2.WAV,t\n")
    assert [r.label for r in find_clips(spec("clips", labels_csv="meta/l.csv"), tree, 0)] == ["z", "o", "t"]


# --- max_clips -----------------------------------------------------------------------------------


THIRTY = str(FSDD / "[0-2]_jackson_[0-9].wav")


def test_max_clips_first_takes_the_first_in_sorted_order():
    everything = ids(spec(THIRTY), Path("/"))
    assert len(everything) == 30 and everything == sorted(everything)
    assert ids(spec(THIRTY, max_clips=4), Path("/")) == everything[:4]
    assert ids(spec(THIRTY, max_clips=40), Path("/")) == everything


def test_max_clips_random_is_seeded_and_sorted():
    random = spec(THIRTY, max_clips=5, sample="random")
    pick, again, other = (ids(random, Path("/"), seed) for seed in (0, 0, 1))
    assert pick == again and len(set(pick)) == 5 and pick == sorted(pick)
    assert other != pick and other == sorted(other)
    assert pick != ids(spec(THIRTY), Path("/"))[:5]


# --- reading -------------------------------------------------------------------------------------


def ref_to(path: Path) -> ClipRef:
    return ClipRef(path.name, path, None)


def test_read_clip_crops_to_the_duration():
    source, _ = soundfile.read(FSDD / "3_theo_7.wav", dtype="float32")
    clip = read_clip(ref_to(FSDD / "3_theo_7.wav"), 8000, 0.1)
    assert clip.signal.shape == (800,) and clip.signal.dtype == np.float32 and clip.sample_rate == 8000
    np.testing.assert_array_equal(clip.signal, source[:800])


def test_read_clip_zero_pads_to_the_duration():
    source, _ = soundfile.read(FSDD / "3_theo_7.wav", dtype="float32")
    assert source.size < 12345
    clip = read_clip(ref_to(FSDD / "3_theo_7.wav"), 8000, 12345 / 8000)
    assert clip.signal.shape == (12345,)
    np.testing.assert_array_equal(clip.signal[: source.size], source)
    assert not clip.signal[source.size:].any()


def test_read_clip_resamples_8k_to_16k_then_fits():
    path = FSDD / "3_theo_7.wav"
    frames = soundfile.info(path).frames
    clip = read_clip(ref_to(path), 16000, None)
    assert (clip.signal.size, clip.sample_rate, clip.source_rate) == (2 * frames, 16000, 8000)
    assert read_clip(ref_to(path), 16000, 0.25).signal.size == 4000


# --- errors --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("paths", "message"),
    [
        (["clips", "clips/*.wav"], "data.paths[1]: 'clips/*.wav' matched no audio files (wav, flac, ogg, mp3)"),
        (["clips/notes.txt"], "data.paths[0]: 'clips/notes.txt' is not an audio file; expected a suffix in wav"),
        (["clips/missing.wav"], "data.paths[0]: 'clips/missing.wav' does not exist"),
        (["clips/b/deep", "empty"], "data.paths[1]: 'empty' matched no audio files"),
        (["clips/**x/*.wav"], "data.paths[0]: 'clips/**x/*.wav' is not a valid glob pattern"),
    ],
)
def test_bad_paths_are_named(tree, paths, message):
    (tree / "empty").mkdir()
    (tree / "empty" / "readme.md").write_text("no audio here")
    with pytest.raises(InvalidInputError, match=re.escape(message)):
        find_clips(spec(*paths), tree, 0)


def test_zero_clips_overall_is_an_error(tmp_path):
    with pytest.raises(InvalidInputError, match=r"data.paths matched no audio files"):
        find_clips(DataSpec.model_construct(paths=[]), tmp_path, 0)


@pytest.mark.parametrize(
    ("csv", "message"),
    [
        (None, "data.labels_csv: {base}/labels.csv not found"),
        ("name,label\n1_theo_1.wav,one\n", "lacks column(s) ['file']"),
        ("", "lacks column(s) ['file', 'label']"),
        ("file,label\n0_george_0.wav,zero\n2_lucas_2.WAV,two\n", "no row for clip 'clips/a/1_theo_1.wav'"),
        ("file,label\n0_george_0.wav,zero\n1_theo_1.wav,one\n2_lucas_2.WAV,two\n0_george_0.wav,nil\n",
         "lists '0_george_0.wav' with two labels: 'zero' (line 2) and 'nil' (line 5)"),
        ("file,label\n0_george_0.wav,zero\n1_theo_1.wav,\n", "line 3 has an empty file or label"),
    ],
)
def test_bad_label_csvs_are_named(tree, csv, message):
    if csv is not None:
        (tree / "labels.csv").write_text(csv)
    with pytest.raises(InvalidInputError, match=re.escape(message.format(base=tree.as_posix()))):
        find_clips(spec("clips", labels_csv="labels.csv"), tree, 0)


def test_a_csv_file_name_shared_by_two_clips_is_ambiguous(tree):
    put(tree, "clips/b/1_theo_1.wav", "1_theo_1.wav")
    (tree / "labels.csv").write_text("file,label\n0_george_0.wav,z\n1_theo_1.wav,o\n2_lucas_2.WAV,t\n")
    with pytest.raises(InvalidInputError, match=r"row '1_theo_1.wav' is ambiguous: 2 clips have that file name"):
        find_clips(spec("clips", labels_csv="labels.csv"), tree, 0)
    (tree / "labels.csv").write_text("file,label\n0_george_0.wav,z\nclips/a/1_theo_1.wav,o\n"
                                     "clips/b/1_theo_1.wav,o2\n2_lucas_2.WAV,t\n")
    assert [r.label for r in find_clips(spec("clips", labels_csv="labels.csv"), tree, 0)] == ["z", "o", "o2", "t"]


def test_an_empty_prefix_label_is_an_error(tmp_path):
    put(tmp_path, "_odd.wav")
    with pytest.raises(InvalidInputError, match=r"clip '_odd.wav': its prefix label is empty"):
        find_clips(spec("_odd.wav", labels="prefix"), tmp_path, 0)


def test_read_errors_name_the_clip(tmp_path):
    bad = tmp_path / "broken.wav"
    bad.write_bytes(b"not a wav file")
    with pytest.raises(InvalidInputError, match=r"clip 'broken.wav': cannot read .*broken.wav as audio"):
        read_clip(ref_to(bad), 8000, None)
    silent = tmp_path / "silent.wav"
    soundfile.write(silent, np.r_[np.zeros(800), 0.5 * np.ones(800)], 8000)
    with pytest.raises(InvalidInputError, match=r"clip 'silent.wav': its first 0.05 s are silent"):
        read_clip(ref_to(silent), 8000, 0.05)


@pytest.mark.parametrize("duration", [0.0001, -1.0, float("nan"), float("inf")])
def test_a_duration_shorter_than_two_samples_is_an_error(duration):
    message = r"duration must be a finite number of seconds giving at least 2 samples at 8000 Hz, got "
    with pytest.raises(InvalidInputError, match=message):
        read_clip(ref_to(FSDD / "3_theo_7.wav"), 8000, duration)
