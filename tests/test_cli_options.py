"""The options shared by several commands (tts/cli/options.py): one definition, one check."""

import pytest

from tts.cli.main import main

THREADED = {  # every command with --threads, and the arguments it needs to parse
    "batch": ["items.jsonl", "--out-dir", "out"],
    "audiobook": ["book.txt", "--voice", "v.wav"],
    "eval": ["--manifest", "cuts.jsonl.gz", "--out", "out"],
    "serve": [],
}


@pytest.mark.parametrize("command", THREADED)
@pytest.mark.parametrize("bad", ["0", "-1", "two", "1.5"])
def test_threads_must_be_a_whole_number_of_at_least_one(command, bad, capsys):
    with pytest.raises(SystemExit) as exit_:
        main([command, *THREADED[command], "--threads", bad])
    assert exit_.value.code == 2
    assert f"argument --threads: must be a whole number of at least 1, got '{bad}'" in capsys.readouterr().err


def test_the_recipe_scripts_share_the_threads_option(capsys):
    from recipes.librispeech import score, synthesize

    for script, args in ((score, ["--eval-dir", "e"]), (synthesize, ["--ckpt", "c", "--manifest", "m", "--out", "o"])):
        with pytest.raises(SystemExit) as exit_:
            script.main([*args, "--threads", "0"])
        assert exit_.value.code == 2 and "must be a whole number of at least 1" in capsys.readouterr().err
