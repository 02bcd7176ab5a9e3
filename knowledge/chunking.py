"""Splitting a document into overlapping chunks for embedding."""

import re

_PARAGRAPHS = re.compile(r"\n\s*\n")
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")


def chunk_text(*, text: str, size: int, overlap: int) -> list[str]:
    """Chunks of at most `size` characters that keep paragraphs and sentences whole where they fit,
    packed greedily; each chunk after the first starts with the last ~`overlap` characters of the
    one before (whole words), so a fact cut at a boundary is still found whole in one of them."""
    if overlap >= size:
        raise ValueError("overlap must be smaller than size")
    pieces = [piece for paragraph in _PARAGRAPHS.split(text) for piece in _fit(paragraph, size - overlap)]
    chunks: list[str] = []
    current = ""
    for piece in pieces:
        candidate = f"{current}\n\n{piece}" if current else piece
        if len(candidate) <= size:
            current = candidate
            continue
        chunks.append(current)
        current = f"{_tail(current, overlap)} {piece}".strip()
    if current:
        chunks.append(current)
    return chunks


def _fit(paragraph: str, limit: int) -> list[str]:
    """The paragraph as pieces of at most `limit` characters: by sentences, and a sentence longer
    than that by words (a single word longer than that is cut)."""
    paragraph = " ".join(paragraph.split())
    if not paragraph:
        return []
    if len(paragraph) <= limit:
        return [paragraph]
    pieces: list[str] = []
    current = ""
    for word in (w for sentence in _SENTENCE_END.split(paragraph) for w in _words(sentence, limit)):
        candidate = f"{current} {word}" if current else word
        if len(candidate) <= limit:
            current = candidate
        else:
            pieces.append(current)
            current = word
    if current:
        pieces.append(current)
    return pieces


def _words(sentence: str, limit: int) -> list[str]:
    if len(sentence) <= limit:
        return [sentence]
    return [word[i:i + limit] for word in sentence.split() for i in range(0, len(word), limit)]


def _tail(text: str, overlap: int) -> str:
    """The last `overlap` characters of `text`, starting at a word boundary."""
    if overlap <= 0:
        return ""
    tail = text[-overlap:]
    if len(text) > overlap and not text[-overlap - 1].isspace():
        tail = tail.split(" ", 1)[1] if " " in tail else ""
    return tail.strip()
