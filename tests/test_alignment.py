"""CTC alignment of generated frames to the text: spans, stop readiness, flags; word timestamps; subtitles."""

import numpy as np
import pytest

from latentlm_common.errors import InputError
from tts.alignment import REPEAT_LETTERS, CTCAligner
from tts.subtitles import cues, format_subtitles, write_subtitles
from tts.synthesis import Word, timed_words
from tts.text.split import Chunk
from tts.text.words import symbol_words

V, BLANK = 12, 0


def posteriors(symbols: list[int], sure: float = 0.9) -> np.ndarray:
    """(T, V) log posteriors that say `symbols` (0 = blank) one per CTC step."""
    p = np.full((len(symbols), V), (1 - sure) / (V - 1))
    p[np.arange(len(symbols)), symbols] = sure
    return np.log(p)


def align(labels, said, words=None, frame=2, lead=0):
    a = CTCAligner(labels, BLANK, frame, words, lead)
    lp = posteriors(said)
    for t in range(0, len(lp), frame):  # streamed one frame (two CTC steps) at a time
        a.push(lp[t : t + frame])
    return a, a.finish()


def test_clean_speech_is_aligned_in_order_and_done():
    a, out = align([5, 6, 7], [0, 5, 5, 0, 6, 0, 7, 7, 0, 0])
    assert a.done and a.consumed == 3 and out.flags == []
    assert out.spans == [(1, 2), (4, 4), (6, 7)] and (out.confidence > 0.8).all()
    assert a.quiet_frames() == 1  # the last frame (two CTC steps) was blank


def test_progress_is_known_while_streaming():
    a = CTCAligner([5, 6, 7, 8], BLANK, 2)
    lp = posteriors([0, 5, 6, 0, 7, 0, 8, 0])
    seen = []
    for t in range(0, 8, 2):
        a.push(lp[t : t + 2])
        seen.append(a.consumed)
    assert seen == sorted(seen) and seen[-1] == 4 and not CTCAligner([5], BLANK, 2).done


def test_a_word_cut_out_is_flagged_skipped():
    words = [0, 0, -1, 1, 1, -1, 2, 2]  # three words of two sounds, separated by boundaries (id 9)
    labels = [5, 6, 9, 7, 8, 9, 10, 11]
    _, clean = align(labels, [5, 6, 9, 7, 8, 9, 10, 11, 0, 0], words)
    _, cut = align(labels, [5, 6, 9, 0, 0, 9, 10, 11, 0, 0], words)
    assert clean.flags == [] and cut.flags == ["skipped"]


def test_a_continuation_may_start_past_the_sounds_read_during_its_prompt():
    """The CTC head reads ahead: a continuation's first word shows while the prompt plays, out of
    the aligner's sight. With a lead the path starts past it, and it counts as said at the start."""
    words = [0, 0, -1, 1, 1, -1, 2, 2]
    labels = [5, 6, 9, 7, 8, 9, 10, 11]
    heard = [9, 7, 7, 8, 9, 10, 11, 0, 0, 0]  # the first word's spikes fell in the prompt
    a, strict = align(labels, heard, words)
    assert strict.flags and strict.spans[:2] != [None, None]  # forced through the first word: flagged
    a, out = align(labels, heard, words, lead=3)
    assert a.done and out.flags == []
    assert out.spans[:2] == [(0, 0), (0, 0)] and out.spans[3] == (1, 2)  # said before the step of "7"
    _, clean = align(labels, [5, 6, 9, 7, 8, 9, 10, 11, 0, 0], words, lead=3)
    assert clean.flags == [] and clean.spans[0] == (0, 0) and clean.spans[3] == (3, 3)  # spoken: aligned as before


def test_a_doubled_word_is_flagged_repeated():
    labels = [5, 6, 7, 8]
    _, twice = align(labels, [5, 6, 7, 8, 0, 5, 6, 7, 8, 0])
    assert twice.inserted >= REPEAT_LETTERS and "repeated" in twice.flags


def test_speech_that_stops_early_never_reaches_the_end():
    a, out = align([5, 6, 7, 8, 10, 11], [5, 6, 0, 0])
    assert not a.done and "never reached" in out.flags and out.spans[-1] is None


def test_joined_words_get_their_own_sounds():
    owner = symbol_words(["on", "the", "sea."], "ɔnðə sˈiː.")
    sounds = [(ch, owner[i]) for i, ch in enumerate("ɔnðə sˈiː.") if owner[i] >= 0]
    assert sounds == [("ɔ", 0), ("n", 0), ("ð", 1), ("ə", 1), ("s", 2), ("i", 2)]


def test_word_times_are_moved_back_by_the_heads_lead_and_end_with_the_chunk():
    chunk = Chunk("ab cd", "ab cd")  # one symbol per letter, word boundary between
    _, out = align([1, 2, 11, 3, 4], [0, 0, 1, 2, 11, 0, 3, 4, 0, 0], frame=2)  # CTC steps 2-7
    on_time = timed_words(chunk, out, frame_rate=10.0, offset=1.0)
    assert [(w.text, w.start, w.end) for w in on_time] == [("ab", 1.0, 1.1), ("cd", 1.2, 1.3)]
    late = timed_words(chunk, out, frame_rate=10.0, offset=1.0, lead=0.2, until=1.45)
    assert [(w.start, w.end) for w in late] == pytest.approx([(1.2, 1.3), (1.4, 1.45)])


def test_subtitles_group_words_into_cues_in_both_formats(tmp_path):
    words = [Word(f"w{i}", 0.3 * i, 0.3 * i + 0.25) for i in range(9)] + [Word("after", 4.0, 4.4)]
    assert [len(text.split()) for _, _, text in cues(words)] == [7, 2, 1]  # 7 words max; a pause ends a cue
    srt = format_subtitles(words, ".srt")
    assert (
        srt.startswith("1\n00:00:00,000 --> 00:00:02,050\nw0 w1") and "3\n00:00:04,000 --> 00:00:04,400\nafter" in srt
    )
    assert format_subtitles(words, ".vtt").startswith("WEBVTT\n\n00:00:00.000 --> 00:00:02.050\n")
    assert write_subtitles(tmp_path / "a.vtt", words).read_text().count("-->") == 3
    with pytest.raises(InputError, match=".srt or .vtt"):
        write_subtitles(tmp_path / "a.txt", words)


class Progress:
    """An aligner stand-in: how far the speech got, and whether it is done."""

    def __init__(self, consumed: int, done: bool = False):
        self.consumed, self.done = consumed, done

    def quiet_frames(self) -> int:
        return 0


def test_a_refused_stop_is_granted_when_the_speech_stalls_but_not_while_it_moves_on():
    from tts.inference import STALL_FRAMES, StopState

    limits, expected = np.array([100, 100]), np.array([40.0, 40.0])
    state = StopState.empty(2)
    stalled, moving = Progress(3), Progress(3)
    state.aligners = [stalled, moving]
    active = np.ones(2, bool)
    for i in range(1, STALL_FRAMES + 2):
        moving.consumed += 1  # the second keeps getting further into the text
        active = state.update(np.array([1.0, 1.0]), i, limits, expected, active)  # the stop head fires on both
        if i <= STALL_FRAMES:
            assert active.all(), i  # refused: neither has reached its last phoneme
    assert active.tolist() == [False, True] and state.stopped.tolist() == [True, False]
    moving.done = True
    assert not state.update(np.array([1.0, 1.0]), STALL_FRAMES + 2, limits, expected, active).any()
