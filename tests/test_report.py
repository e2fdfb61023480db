"""The report a reader looks at first, in real headless Chromium: one card per model, then charts, then tables.

Three real models on three runtimes (the demo AST through transformers, the DS-CNN as TorchScript, the
wave CNN as TFLite) on three bundled clips, with the causal attack, two frequency baselines, HopSkipJump and
a few corruptions: enough for every card field, every chart and every collapsible table to appear.
"""

import json

import pytest
import yaml

from freqrex_bench import load_suite, run_suite
from freqrex_bench.reports.html import number, rate, verdicts
from freqrex_bench.reports.summary import paired_snr

from .browser import view_page
from .support import DATA, ROOT

MODELS = ROOT / "examples" / "models"
DIGITS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
CLIPS = [DATA / "fsdd" / name for name in ("3_theo_7.wav", "5_theo_1.wav", "8_theo_2.wav")]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("report")
    suite = {
        "name": "glance",
        "targets": [
            {"kind": "hf", "name": "fsdd-ast", "path": str(MODELS / "fsdd-ast")},
            {"kind": "torchscript", "name": "fsdd-dscnn", "path": str(MODELS / "fsdd-dscnn" / "model.pt"),
             "labels": DIGITS, "sample_rate": 8000, "output": "logits"},
            {"kind": "tflite", "name": "fsdd-wavcnn", "path": str(MODELS / "fsdd-wavcnn" / "model.tflite"),
             "labels": DIGITS, "sample_rate": 8000, "output": "logits"},
        ],
        "data": {"paths": [str(clip) for clip in CLIPS], "labels": "prefix",
                 "label_map": {str(i): name for i, name in enumerate(DIGITS)}},
        "strategies": ["causal", "fourier", "largest-magnitude", "kenansville",
                       {"hopskipjump": {"max_queries": 300}},
                       {"corruptions": {"corruptions": ["gaussian-noise", "low-pass", "mp3"],
                                        "severities": [1, 3, 5]}}],
        "checks": [{"strategy": "corruptions", "metric": "corruption_flip_rate", "max": 0.99},
                   {"target": "fsdd-dscnn", "strategy": "causal", "metric": "error_rate", "max": 0}],
    }
    path = folder / "suite.yaml"
    path.write_text(yaml.safe_dump(suite))
    outcome = run_suite(load_suite(path), folder / "run", progress=False, log=lambda line: None)
    assert outcome.errors == []
    shot = folder / "top.png"
    return folder / "run", json.loads((folder / "run" / "summary.json").read_text()), view_page(
        folder / "run" / "report.html", screenshot=shot), shot


def test_the_page_loads_everything_it_shows_without_errors(run):
    _, _, page, shot = run
    assert page.console_errors == [] and page.script_count == 0
    assert page.images and all(loaded for _, loaded in page.images), page.images
    assert {"success rate against SNR floor per strategy", "corruption flip rate by corruption and severity"} <= {
        alt for alt, _ in page.images}
    assert page.audio_durations and all(0.1 < d < 3 for d in page.audio_durations)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and int.from_bytes(shot.read_bytes()[16:20], "big") == 1200


def test_each_card_shows_the_numbers_of_summary_json(run):
    _, summary, page, _ = run
    assert list(page.cards) == ["fsdd-ast", "fsdd-dscnn", "fsdd-wavcnn"]
    for target, shown in page.cards.items():
        card = summary["targets"][target]["card"]
        assert card["accuracy"] == summary["targets"][target]["accuracy"]
        assert shown["accuracy"] == (repr(card["accuracy"]), rate(card["accuracy"]))
        for floor in ("20", "30"):
            share = card["flipped_at_snr"][floor]
            assert shown[f"flipped_at_{floor}"] == (repr(share), f"{rate(share)} of {card['attacked_clips']}")
        assert shown["corruption_flip_rate"][1] == rate(card["corruption_flip_rate"])
        assert float(shown["corruption_flip_rate"][0]) == card["corruption_flip_rate"]
        assert shown["checks"][0] == f"{card['checks']['passed']}/{card['checks']['total']}"
        best = card["least_audible"]
        assert best is not None, target  # every model here has some attack that flips a clip
        assert float(shown["least_audible"][0]) == best["snr_db"]
        assert shown["least_audible"][1].startswith(f"{best['strategy']}, SNR {number(best['snr_db'], 1)} dB")
    checks = summary["targets"]["fsdd-dscnn"]["card"]["checks"]
    assert checks["total"] == 2 and summary["targets"]["fsdd-ast"]["card"]["checks"]["total"] == 1


def test_the_least_audible_attack_and_flip_shares_come_from_the_records(run):
    folder, summary, _, _ = run
    records = [json.loads(line) for line in (folder / "results.jsonl").read_text().splitlines()]
    for target, figures in summary["targets"].items():
        flips = [(r["record"]["snr_db"], r["strategy"], r["clip"]) for r in records if r["target"] == target
                 and r["ok"] and r["strategy"] not in ("causal", "corruptions") and r["record"]["success"]]
        best = max(flips)
        assert (figures["card"]["least_audible"]["snr_db"], figures["card"]["least_audible"]["strategy"]) == best[:2]
        at_20 = {clip for snr, _, clip in flips if snr >= 20}
        assert figures["card"]["flipped_at_snr"]["20"] == len(at_20) / len(CLIPS)


def test_cards_come_first_then_charts_then_tables_and_long_tables_are_collapsed(run):
    _, _, page, _ = run
    text = page.text
    first_target = text.index("Does knowing the causes beat loudness?")
    chart = text.index("Success vs SNR floor", first_target)
    corruption_chart = text.index("Corruption robustness", first_target)
    table = text.index("Strategies vs baselines", first_target)
    assert text.index("least audible successful attack") < first_target < chart < corruption_chart < table
    assert "Causal discovery per target" in page.closed_details
    collapsed = [summary for summary in page.closed_details if summary.startswith("Corruption flip rate, accuracy")]
    assert len(collapsed) == 3  # one per model
    assert "hopskipjump" in text[first_target:chart]  # the verdicts weigh the peer attack too


def test_the_verdicts_say_plainly_where_another_attack_does_better():
    """Known answer from a hand-made summary: the causal attack beats loudness at 20 dB but a peer and the
    white-box reference beat it; every loss is said in words."""
    def attack(at_20, at_30):
        return {"success_at_snr": {"20": at_20, "30": at_30}}

    figures = {"strategies": {"fourier": attack(0.5, 0.1), "largest-magnitude": attack(0.0, 0.0),
                              "hopskipjump": attack(0.7, 0.1), "gradient": attack(1.0, 0.0)},
               "faithfulness": {}}
    said = verdicts(figures)
    assert "At a 20 dB SNR floor the causal attack flipped 50.0% of clips, largest-magnitude 0.0%: the causal " \
           "attack wins." in said
    assert "At a 20 dB SNR floor the causal attack flipped 50.0% of clips, hopskipjump 70.0%: the causal attack " \
           "LOSES." in said
    assert "At a 30 dB SNR floor the causal attack flipped 10.0% of clips, hopskipjump 10.0%: the causal attack " \
           "ties." in said
    assert "At a 20 dB SNR floor gradient flipped 100.0% of clips, more than the causal attack's 50.0%." in said
    assert not any("30 dB SNR floor gradient" in sentence for sentence in said)  # it did worse there


def test_the_verdicts_name_every_ranking_that_collapses_the_decision_sooner():
    """Known answer: freqrex-ns beats loudness and random under deletion, FreqRISE beats freqrex-ns, the paper
    method does not; only FreqRISE's win is added, in words."""
    figures = {"strategies": {}, "faithfulness": {name: {"deletion_auc": auc} for name, auc in (
        ("freqrex-ns", 0.50), ("paper", 0.53), ("freqrise", 0.45), ("loudest", 0.55), ("random", 0.70))}}
    said = verdicts(figures)
    assert "Deletion AUC 0.500 for freqrex-ns against 0.550 for loudest: the causal ranking collapses the decision " \
           "sooner." in said
    assert "Deletion AUC 0.450 for freqrise, lower than freqrex-ns's 0.500: freqrise collapses the decision sooner " \
           "than the suite's causal ranking." in said
    assert not any("for paper" in sentence for sentence in said)


def _flip(clip, snr_db):
    return {"clip": clip, "ok": True, "record": {"success": snr_db is not None, "snr_db": snr_db}}


def test_paired_snr_compares_only_clips_both_attacks_flip():
    """Known answer: the causal attack flips c0..c4 at 20, 20, 20, 5, 25 dB; Kenansville flips c2..c6 at 10,
    30, 10, 30, 30 dB (c5 and c6 only it: easy clips that lift its own median to 30 dB). On the shared c2,
    c3 and c4 the gains are +10, -25 and +15 dB: median +10, and Kenansville is the quieter on one. An
    attack that flips nothing shares no clip; a suite without the causal attack has nothing to pair."""
    ours = [20.0, 20.0, 20.0, 5.0, 25.0, None, None]
    theirs = [None, None, 10.0, 30.0, 10.0, 30.0, 30.0]
    attacks = {"fourier": [_flip(f"c{i}", snr) for i, snr in enumerate(ours)],
               "kenansville": [_flip(f"c{i}", snr) for i, snr in enumerate(theirs)],
               "largest-magnitude": [_flip(f"c{i}", None) for i in range(7)]}
    paired = paired_snr(attacks)
    assert paired["kenansville"] == {"clips": 3, "median_gain_db": 10.0, "other_quieter": 1}
    assert paired["largest-magnitude"] == {"clips": 0, "median_gain_db": None, "other_quieter": 0}
    assert "fourier" not in paired
    assert paired_snr({"kenansville": attacks["kenansville"]}) == {}


def test_the_verdicts_say_where_a_baseline_flips_more_quietly_on_the_same_clips():
    """Known answer from a hand-made summary: on shared clips the causal flips are 5.4 dB quieter than
    Kenansville's (which is the quieter on 5 of 13) and 2.0 dB louder than HopSkipJump's; a baseline with no
    shared clip gets no sentence."""
    ours = {"success_at_snr": {"20": 0.5, "30": 0.1}}
    figures = {"strategies": {"fourier": ours}, "faithfulness": {}, "paired_snr": {
        "kenansville": {"clips": 13, "median_gain_db": 5.4, "other_quieter": 5},
        "hopskipjump": {"clips": 3, "median_gain_db": -2.0, "other_quieter": 2},
        "largest-magnitude": {"clips": 4, "median_gain_db": 12.0, "other_quieter": 0},
        "random-frequencies": {"clips": 0, "median_gain_db": None, "other_quieter": 0}}}
    said = verdicts(figures)
    assert "On the 13 clips both flipped, the causal attack's flip is a median 5.4 dB quieter than kenansville's; " \
           "kenansville's is the quieter on 5 of them." in said
    assert "On the 3 clips both flipped, the causal attack's flip is a median 2.0 dB LOUDER than hopskipjump's; " \
           "hopskipjump's is the quieter on 2 of them." in said
    assert "On the 4 clips both flipped, the causal attack's flip is a median 12.0 dB quieter than " \
           "largest-magnitude's; largest-magnitude's is the quieter on none of them." in said
    assert not any("random-frequencies" in sentence for sentence in said)
