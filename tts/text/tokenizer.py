"""Phoneme tokenizer: a fixed symbol vocabulary, stored in the checkpoint's config.json.

One token per Unicode code point of the IPA string. A diphthong (eɪ, aɪ, oʊ), an affricate
(tʃ, dʒ) or a nasal vowel (ɑ̃ = ɑ + U+0303) is therefore a sequence of tokens, and a tie bar
(U+0361) or a combining mark is a token of its own. This keeps `decode(encode(s)) == s` exact,
makes the token count of a phoneme string equal to `len(string)` (what `tts.text.split` budgets),
and leaves the pairing of symbols to the model, which sees them in context. No Unicode
normalisation is applied: espeak-ng's output is already consistent.

Ids: the special tokens come first with fixed ids (<pad> = 0, <unk> = 1, then <bos>, <voice>,
</voice>, <text>, </text>, <speech>), then the word-boundary space, punctuation, stress and
length marks, diacritics and IPA letters. The vocabulary covers every symbol espeak-ng emits
for en-us plus the rest of the common IPA chart, so other espeak voices mostly map too.
A symbol outside the vocabulary becomes <unk> and is logged once per symbol and tokenizer.
"""

from __future__ import annotations

import logging

from latentlm_common.errors import InputError

log = logging.getLogger(__name__)

SPECIALS = ("<pad>", "<unk>", "<bos>", "<voice>", "</voice>", "<text>", "</text>", "<speech>")
WORD_BOUNDARY = " "
PUNCTUATION = ';:,.!?¡¿—…"«»“”(){}[]'  # the marks `tts.text.g2p` keeps (phonemizer's default marks)
MARKS = "ˈˌːˑ"  # primary stress, secondary stress, long, half-long
# combining nasal, syllabic, tie bar, dental, voiceless, no release, extra-short; then modifier letters
DIACRITICS = "\u0303\u0329\u0361\u032a\u0325\u031a\u0306ʰʲʷˠˤⁿˡ"
LETTERS = (
    "abcdefghijklmnopqrstuvwxyz"
    "æçðøħŋœɐɑɒɓɔɕɖɗɘəɚɛɜɝɞɟɠɡɢɣɤɥɦɧɨɪɫɬɭɮɯɰɱɲɳɴɵɶɸ"
    "ɹɺɻɽɾʀʁʂʃʄʈʉʊʋʌʍʎʏʐʑʒʔʕʙʛʜʝʟʡʢβθχᵻ"
    "ʤʧʦʣ"  # affricate ligatures, used by some espeak voices
)
SYMBOLS = (WORD_BOUNDARY, *PUNCTUATION, *MARKS, *DIACRITICS, *LETTERS)


class PhonemeTokenizer:
    """Maps IPA strings to ids and back with a fixed vocabulary (see the module docstring)."""

    def __init__(self, symbols: tuple[str, ...] = SYMBOLS):
        self.tokens: list[str] = [*SPECIALS, *symbols]
        if len(set(self.tokens)) != len(self.tokens):
            raise InputError("tokenizer vocabulary has duplicate symbols")
        self._ids = {tok: i for i, tok in enumerate(self.tokens)}
        self._warned: set[str] = set()  # unknown symbols already logged by this tokenizer
        self.pad_id, self.unk_id, self.bos_id, self.voice_id = range(4)
        self.voice_end_id, self.text_id, self.text_end_id, self.speech_id = range(4, 8)

    def __len__(self) -> int:
        return len(self.tokens)

    def encode(self, phonemes: str) -> list[int]:
        """Ids of the symbols of `phonemes`, one per code point; no special tokens are added."""
        ids = [self._ids.get(ch, self.unk_id) for ch in phonemes]
        for ch, i in zip(phonemes, ids):
            if i == self.unk_id and ch not in self._warned:
                self._warned.add(ch)
                log.warning("phoneme symbol %r (U+%04X) is not in the vocabulary; encoded as <unk>", ch, ord(ch))
        return ids

    def lm_ids(self) -> dict[str, int]:
        """The `LMConfig` fields this vocabulary decides: its size and the special tokens' ids."""
        names = ("pad", "bos", "voice", "voice_end", "text", "text_end", "speech")
        return {"vocab_size": len(self), **{f"{n}_id": getattr(self, f"{n}_id") for n in names}}

    def word_index(self, ids: list[int]) -> list[int]:
        """Per id, the index of the word it is a sound of (words are separated by the word boundary);
        -1 for the boundary, punctuation, stress and length marks, and special tokens."""
        sounds = {self._ids[ch] for ch in (*LETTERS, *DIACRITICS) if ch in self._ids}
        boundary, out, word, in_word = self._ids[WORD_BOUNDARY], [], 0, False
        for i in ids:
            if i == boundary and in_word:
                word, in_word = word + 1, False
            out.append(word if i in sounds else -1)
            in_word |= i in sounds
        return out

    def decode(self, ids: list[int], skip_special: bool = False) -> str:
        """The string of `ids`; special tokens appear as their names unless `skip_special`."""
        out = []
        for i in ids:
            if not 0 <= i < len(self.tokens):
                raise ValueError(f"token id {i} is outside the vocabulary of {len(self.tokens)} tokens")
            if not (skip_special and i < len(SPECIALS)):
                out.append(self.tokens[i])
        return "".join(out)

    def to_dict(self) -> dict:
        """The vocabulary as plain JSON data, for a checkpoint's config.json."""
        return {"type": "phoneme", "tokens": list(self.tokens)}

    @classmethod
    def from_dict(cls, data: dict) -> PhonemeTokenizer:
        """Rebuild the tokenizer saved by `to_dict` (ids are the list positions)."""
        if not isinstance(data, dict) or data.get("type") != "phoneme" or not isinstance(data.get("tokens"), list):
            raise InputError(
                "checkpoint tokenizer config is not a phoneme vocabulary saved by PhonemeTokenizer.to_dict"
            )
        tokens = data["tokens"]
        if tuple(tokens[: len(SPECIALS)]) != SPECIALS:
            raise InputError(f"checkpoint tokenizer vocabulary must start with the special tokens {SPECIALS}")
        return cls(tuple(tokens[len(SPECIALS) :]))
