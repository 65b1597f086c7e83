"""The synthetic corpus's voice catalog: append-only codes, licences, the v1/v2 mixes and their held-out voices."""

import pytest

from recipes.synthetic.engines import CATALOG, MIXES, V2_DROPPED, missing_requirement
from recipes.synthetic.speakers import plan_speakers

# The catalog the 1-, 6- and 20-hour builds were made from: codes must never move.
V1 = (
    "10 espeak:en-us, 11 espeak:en-us+f2, 12 espeak:en-us+m3, 13 espeak:en-us+f4, 14 espeak:en, 15 espeak:en+f3, "
    "16 espeak:en-gb-scotland, 17 espeak:en-gb-scotland+f1, 18 espeak:en-029, 19 espeak:en-029+f5, "
    "20 espeak:en-gb-x-rp+m5, 21 espeak:en-gb-x-rp+f2, 22 espeak:en-us-nyc+m7, 23 espeak:en-gb-x-gbclan+m2, "
    "24 espeak:en-gb-x-gbcwmd+f4, 25 espeak:en-us+klatt, 40 mbrola:us1, 41 mbrola:us2, 42 mbrola:us3, "
    "43 mbrola:en1, 50 flite:kal16, 51 flite:awb, 52 flite:rms, 53 flite:slt, 60 festival:ked_diphone, "
    "61 festival:cmu_us_slt_arctic_hts"
)


def by_key(key: str):
    return next(v for v in CATALOG if v.key == key)


def test_catalog_codes_are_append_only_and_every_voice_has_a_licence():
    codes = [v.code for v in CATALOG]
    assert len(set(codes)) == len(codes) and all(10 <= c <= 99 for c in codes)
    assert ", ".join(f"{v.code} {v.key}" for v in MIXES["v1"].voices()) == V1
    assert all(v.licence.name and v.licence.source and v.sex in "FM" for v in CATALOG)
    mbrola = [v for v in CATALOG if v.engine == "mbrola"]
    assert {v.key for v in mbrola if v.licence.commercial} == {"mbrola:en1"}  # the others: non-commercial
    assert by_key("mbrola:de1-en").mbrola_database == "de1" and by_key("mbrola:us1").mbrola_database == "us1"
    assert all(v.licence.commercial for v in MIXES["commercial"].voices())


def test_holdout_preference_grows_only_by_voices_outside_v1():
    from recipes.synthetic.speakers import HOLDOUT_PREFERENCE

    v1 = {v.key for v in MIXES["v1"].voices()}
    assert [k for k in HOLDOUT_PREFERENCE if k in v1] == [
        "flite:rms",
        "mbrola:us3",
        "festival:ked_diphone",
        "espeak:en-029+f5",
        "espeak:en-gb-x-gbcwmd+f4",
        "espeak:en-gb-scotland+f1",
    ]


def test_v1_mix_plans_the_20_hour_build_unchanged():
    """120 speakers, seed 0: the bundled model's builds hold out rms and us3 whole, 32 speakers in all."""
    speakers = plan_speakers(MIXES["v1"].voices(), 120, seed=0, n_unseen_bases=MIXES["v1"].unseen_voices)
    unseen = [s for s in speakers if s.unseen]
    assert {s.base.key for s in unseen if s.k == 0} == {"flite:rms", "mbrola:us3"}
    assert len(unseen) == 32
    assert all(s.base.code <= 61 for s in speakers)


def test_v2_mix_holds_out_a_new_real_timbre_mbrola_voice():
    v2 = MIXES["v2"].voices()
    speakers = plan_speakers(v2, 200, seed=0, n_unseen_bases=MIXES["v2"].unseen_voices)
    held = {s.base.key for s in speakers if s.unseen and s.k == 0}
    assert {"flite:rms", "mbrola:us3"} < held
    assert any(by_key(k).engine == "mbrola" and by_key(k).code >= 70 for k in held)
    assert {v.key for v in CATALOG if v.real_timbre} - {v.key for v in v2} == set(V2_DROPPED)
    assert 0 < sum(v.engine == "espeak" for v in v2) < sum(v.engine == "espeak" for v in CATALOG)
    # a model trained on v2 has never heard a speaker of the 20-hour build's frozen test-unseen
    v1 = plan_speakers(MIXES["v1"].voices(), 120, seed=0, n_unseen_bases=MIXES["v1"].unseen_voices)
    assert {s.id for s in v1 if s.unseen}.isdisjoint(s.id for s in speakers if not s.unseen)
    # the same speaker ids and warps as any other build that has these voices
    full = {s.id: s.warp for s in plan_speakers(CATALOG, 6 * len(CATALOG), seed=0)}
    assert all(full[s.id] == s.warp for s in speakers if s.id in full)


def test_data_card_command_names_the_mix(tmp_path):
    from recipes.synthetic.build import BuildConfig, parse_args
    from recipes.synthetic.card import build_command

    cfg = parse_args(["--out", str(tmp_path), "--hours", "30", "--speakers", "200", "--mix", "v2", "--no-qc"])
    assert cfg.mix == "v2" and cfg.unseen_voices == MIXES["v2"].unseen_voices
    assert parse_args(build_command(cfg).split()[3:]) == cfg
    assert "--mix" not in build_command(BuildConfig(out=tmp_path))


def test_unknown_mix_is_refused_in_one_line(tmp_path, capsys):
    from recipes.synthetic.build import BuildConfig, build

    with pytest.raises(ValueError, match="unknown voice mix 'v9'"):
        build(BuildConfig(out=tmp_path / "c", mix="v9"))
    assert not (tmp_path / "c").exists()


def test_cli_voices_names_catalog_voices_and_refuses_others(tmp_path, capsys):
    from recipes.synthetic.build import parse_args

    cfg = parse_args(["--out", str(tmp_path), "--voices", "mbrola:de2-en, flite:rms"])
    assert [v.key for v in cfg.voices] == ["mbrola:de2-en", "flite:rms"]
    with pytest.raises(SystemExit) as e:
        parse_args(["--out", str(tmp_path), "--voices", "mbrola:xx9-en"])
    assert e.value.code == 2 and "mbrola:xx9-en not in the catalog" in capsys.readouterr().err


def test_voice_wer_table_reads_back(tmp_path):
    from recipes.synthetic.voice_wer import FIELDS, markdown, read_voice_wer

    row = dict(zip(FIELDS, ["71", "mbrola:de2-en", "M", "non-commercial", "10", "0.125", "1", "3.2"]))
    path = tmp_path / "wer.tsv"
    path.write_text("\t".join(FIELDS) + "\n" + "\t".join(row.values()) + "\n")
    assert read_voice_wer(path) == {"mbrola:de2-en": row}
    assert "| 71 | mbrola:de2-en | M | non-commercial | 10 | 12.5% | 1 | 3.2 |" in markdown([row])
    assert read_voice_wer(tmp_path / "absent.tsv") == {}


ACCENTED = ("mbrola:de2-en", "mbrola:fr4-en")


@pytest.mark.skipif(
    any(missing_requirement(by_key(k)) for k in ACCENTED), reason="mbrola-de2 / mbrola-fr4 are not installed"
)
def test_accented_mbrola_voices_build_with_their_licence_in_the_data_card(tmp_path):
    from recipes.synthetic.build import BuildConfig, build

    voices = [by_key(k) for k in ("espeak:en-us", "espeak:en-029+f5", *ACCENTED)]
    cfg = BuildConfig(
        out=tmp_path, hours=0.01, speakers=4, text_sources=("bundled",), min_utts=2, n_dev=1, n_test=1,
        qc=False, similarity=False, voices=voices, unseen_voices=1,
    )  # fmt: skip
    summary = build(cfg)
    spoken = {r["base_voice"] for r in summary["records"]}
    assert set(ACCENTED) <= spoken and not summary["skipped"]
    card = (tmp_path / "DATA.md").read_text()
    assert "| 71 | mbrola:de2-en | M | non-commercial |" in card
    assert "| 10 | espeak:en-us | M | any | GPL-3.0-or-later (espeak-ng) |" in card
