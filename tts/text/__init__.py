"""English text frontend: normalize -> split -> g2p (espeak-ng) -> phoneme ids.

Free of torch, so the ONNX runtime can use it. The usual entry points:

    tok = PhonemeTokenizer()
    ids = text_to_ids("Dr. Smith paid $5.", tok)         # one utterance
    batch = texts_to_ids(["Hello.", "Goodbye."], tok)     # many, one espeak-ng call
    chunks = split_text(book, max_phonemes=300)           # long text -> Chunk(text, phonemes)

Input handling: empty or whitespace-only text raises `InputError("text is empty")`. Emoji and
other characters with no reading are dropped with a logged warning; non-Latin scripts (CJK,
Cyrillic, Greek) are transliterated with unidecode, also with a warning. Text left with no
letter to pronounce raises `InputError`.

Every entry point takes an optional `lexicon` (`tts.text.lexicon.Lexicon`): the user's fixes,
applied before the normalizer's rules; its IPA entries reach the phoneme ids unchanged.
"""

from __future__ import annotations

from latentlm_common.errors import InputError
from tts.text.g2p import phonemize
from tts.text.lexicon import Lexicon
from tts.text.normalize import explain, normalize
from tts.text.split import DEFAULT_MAX_PHONEMES, Chunk, chunk_text, split_sentences
from tts.text.tokenizer import PhonemeTokenizer

__all__ = [
    "Chunk",
    "Lexicon",
    "PhonemeTokenizer",
    "chunk_text",
    "explain",
    "normalize",
    "phonemize",
    "prepare",
    "split_sentences",
    "split_text",
    "text_to_ids",
    "text_to_phonemes",
    "texts_to_ids",
]


def prepare(text: str, what: str = "text", lexicon: Lexicon | None = None) -> str:
    """Normalized `text`; InputError if it is empty or has nothing to pronounce."""
    if not text or not text.strip():
        raise InputError(f"{what} is empty")
    normalized = normalize(text, lexicon)
    if not any(ch.isalpha() for ch in normalized):
        raise InputError(f"{what} has nothing to pronounce after normalization: {text.strip()[:40]!r}")
    return normalized


def text_to_phonemes(text: str, lexicon: Lexicon | None = None) -> tuple[str, str]:
    """(normalized text, IPA phonemes) for one utterance."""
    normalized = prepare(text, lexicon=lexicon)
    return normalized, phonemize([normalized])[0]


def texts_to_ids(texts: list[str], tokenizer: PhonemeTokenizer, lexicon: Lexicon | None = None) -> list[list[int]]:
    """Phoneme ids (no special tokens) for each text, phonemized in one call."""
    names = ["text"] if len(texts) == 1 else [f"text {i + 1} of {len(texts)}" for i in range(len(texts))]
    normalized = [prepare(t, name, lexicon) for t, name in zip(texts, names)]
    return [tokenizer.encode(p) for p in phonemize(normalized)]


def text_to_ids(text: str, tokenizer: PhonemeTokenizer, lexicon: Lexicon | None = None) -> list[int]:
    """Phoneme ids (no special tokens) for one utterance."""
    return texts_to_ids([text], tokenizer, lexicon)[0]


def split_text(text: str, max_phonemes: int = DEFAULT_MAX_PHONEMES, lexicon: Lexicon | None = None) -> list[Chunk]:
    """Long raw text -> normalized chunks of at most `max_phonemes` phonemes (see `tts.text.split`)."""
    return chunk_text(prepare(text, lexicon=lexicon), max_phonemes)
