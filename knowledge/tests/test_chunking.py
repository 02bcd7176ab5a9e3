import pytest

from knowledge.chunking import chunk_text


def test_a_short_text_is_one_chunk():
    assert chunk_text(text="  Hola,\n  mundo.  ", size=100, overlap=20) == ["Hola, mundo."]


def test_an_empty_text_has_no_chunks():
    assert chunk_text(text=" \n\n ", size=100, overlap=20) == []


def test_chunks_respect_the_size_and_overlap_their_neighbours():
    sentences = [f"La frase número {n} habla del departamento {n} en Ñuñoa." for n in range(60)]
    text = " ".join(sentences)
    chunks = chunk_text(text=text, size=300, overlap=60)
    assert len(chunks) > 5
    assert all(len(chunk) <= 300 for chunk in chunks)
    for before, after in zip(chunks, chunks[1:], strict=False):
        head = after.split()[:3]
        assert " ".join(head) in before  # the next chunk starts with the end of the previous one
    # nothing is lost: every sentence is whole in some chunk
    assert all(any(sentence in chunk for chunk in chunks) for sentence in sentences)


def test_paragraphs_that_fit_are_kept_together_and_whole():
    text = "Horario: de 9 a 18.\n\nDirección: Providencia 1234.\n\n" + "Subsidio DS1. " * 30
    chunks = chunk_text(text=text, size=200, overlap=30)
    assert chunks[0].startswith("Horario: de 9 a 18.\n\nDirección: Providencia 1234.")


def test_a_word_longer_than_a_chunk_is_cut():
    chunks = chunk_text(text="x" * 250, size=100, overlap=10)
    assert all(len(chunk) <= 100 for chunk in chunks)
    assert "".join(chunks).count("x") >= 250


def test_overlap_must_be_smaller_than_the_size():
    with pytest.raises(ValueError):
        chunk_text(text="hola", size=10, overlap=10)
