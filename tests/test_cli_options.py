"""The options shared by several commands (tts/cli/options.py): one definition, one check."""

import pytest

from tts.cli.main import main

COMMANDS = {  # each command with a shared numeric option, the arguments it needs to parse, its options
    "batch": (["items.jsonl", "--out-dir", "out"], ["--threads", "--batch-size"]),
    "audiobook": (["book.txt", "--voice", "v.wav"], ["--threads", "--batch-size"]),
    "eval": (["--manifest", "cuts.jsonl.gz", "--out", "out"], ["--threads", "--batch-size"]),
    "serve": ([], ["--threads"]),
}
CASES = [(command, option) for command, (_, options) in COMMANDS.items() for option in options]


@pytest.mark.parametrize("command, option", CASES)
@pytest.mark.parametrize("bad", ["0", "-1", "two", "1.5"])
def test_counts_must_be_whole_numbers_of_at_least_one(command, option, bad, capsys):
    with pytest.raises(SystemExit) as exit_:
        main([command, *COMMANDS[command][0], option, bad])
    assert exit_.value.code == 2
    assert f"argument {option}: must be a whole number of at least 1, got '{bad}'" in capsys.readouterr().err


def test_the_recipe_scripts_share_the_options(capsys):
    from recipes.librispeech import extract, score, synthesize

    synth = ["--ckpt", "c", "--manifest", "m", "--out", "o"]
    extract_args = ["--manifest", "m", "--vae", "v", "--out", "o", "--threads"]
    for script, args in ((score, ["--eval-dir", "e", "--threads"]), (synthesize, [*synth, "--threads"]),
                         (synthesize, [*synth, "--batch-size"]), (extract, extract_args)):  # fmt: skip
        with pytest.raises(SystemExit) as exit_:
            script.main([*args, "0"])
        assert exit_.value.code == 2 and "must be a whole number of at least 1" in capsys.readouterr().err
